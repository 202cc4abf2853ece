//! The host's integration tests in one executable (each one that links wasmtime is tens of
//! megabytes to link): `cli` runs the `host` binary as users do, `hostile` and
//! `hostile_plugins` attack it. Each trial is named `<module>::<test>`, so
//! `cargo test -p host --test integration -- hostile_plugins::` runs one module.
//! `resources.rs` is a target of its own: it measures its own process.

use libtest_mimic::{Arguments, Trial};

/// One trial per test function of the calling module, named `<module>::<function>`; a panic in
/// the function fails its trial.
macro_rules! tests {
    ($($test:ident),* $(,)?) => {
        vec![$(crate::test(crate::trial_name(module_path!(), stringify!($test)), $test)),*]
    };
}

mod cli;
mod common;
mod compile;
mod hostile;
mod hostile_plugins;

fn main() -> std::process::ExitCode {
    let args = Arguments::from_args();
    let stamp = whole_run(&args);
    if stamp
        .as_ref()
        .is_some_and(xtask::reuse::Stamp::passed_before)
    {
        return std::process::ExitCode::SUCCESS;
    }
    let mut trials = cli::trials();
    trials.extend(hostile::trials());
    // Builds the hostile plugins now, once, for the trials that will run: a build that fails
    // (under CI=true, one whose toolchain is missing too) fails the whole run.
    match hostile_plugins::trials(&args) {
        Ok(hostile_plugins) => trials.extend(hostile_plugins),
        Err(error) => {
            eprintln!("error: {error:#}");
            return std::process::ExitCode::FAILURE;
        }
    }
    let conclusion = libtest_mimic::run(&args, trials);
    if let Some(stamp) = stamp {
        match conclusion.has_failed() {
            false => stamp.pass(),
            true => stamp.forget(),
        }
    }
    conclusion.exit_code()
}

/// For a run of every trial, the stamp of its verdict: this executable, the `host` binary, and
/// every plugin and hostile module, built first so that the key names what the trials will run.
/// A filtered run is run as asked.
fn whole_run(args: &Arguments) -> Option<xtask::reuse::Stamp> {
    let filtered = args.filter.is_some() || !args.skip.is_empty() || args.list;
    if filtered || args.ignored || !xtask::reuse::allowed() {
        return None;
    }
    let sh = xshell::Shell::new().ok()?;
    use xtask::Buildable;
    let languages = xtask::LANGUAGES.iter().map(|language| language.build());
    let builds: Vec<_> = languages
        .chain(xtask::HOSTILE.iter().map(|h| h.build()))
        .collect();
    xtask::probe_toolchains(&sh, &builds);
    // A build that fails is the trials' to report.
    xtask::build_plugins(&sh, &xtask::all(xtask::LANGUAGES)).ok()?;
    xtask::build_hostile_plugins(&sh, &xtask::all(xtask::HOSTILE)).ok()?;
    let target = xtask::project_root().join("target");
    let mut inputs = vec![std::path::PathBuf::from(cli::HOST)];
    for dir in ["plugins", "hostile"] {
        inputs.extend(xtask::reuse::files_under(&target.join(dir), &["wasm"]));
    }
    xtask::reuse::Stamp::new("host-integration", &inputs).ok()
}

/// `<module>::<test>` from the calling module's `module_path!()`.
fn trial_name(module_path: &str, test: &str) -> String {
    let module = module_path.rsplit("::").next().unwrap_or(module_path);
    format!("{module}::{test}")
}

fn test(name: String, test: fn()) -> Trial {
    Trial::test(name, move || {
        test();
        Ok(())
    })
}

/// Whether the trial `name` runs with these arguments: not under `--list`, nor filtered out.
/// What only selected trials need (building plugins) is done only for them.
fn runs(args: &Arguments, name: &str) -> bool {
    !args.list && !args.is_filtered_out(&Trial::test(name, || Ok(())))
}
