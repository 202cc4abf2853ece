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
    libtest_mimic::run(&args, trials).exit_code()
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
