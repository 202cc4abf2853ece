//! The cross-language conformance run: every case in `tests/cases/` against the plugin of every
//! language, each (case, language) pair one trial named `<case>::<language>`. All languages share
//! one snapshot per case in `tests/snapshots/`, so a language that diverges fails with a diff.

mod case;
mod render;

use std::collections::BTreeMap;
use std::path::Path;
use std::process::ExitCode;
use std::sync::Arc;

use host::CompiledPlugin;
use libtest_mimic::{Arguments, Completion, Failed, Trial};
use xtask::{build_plugins, project_root, Language};

use crate::case::Case;

/// One snapshot per case, named after it and shared by every language.
const SNAPSHOTS_DIR: &str = "tests/snapshots";
/// The trial that checks every snapshot still has its case.
const ORPHAN_TRIAL: &str = "snapshots_have_cases";

/// `--list` and the run must name the same trials, so both take their names from here.
fn trial_name(case: &str, language: Language) -> String {
    format!("{case}::{language}")
}

fn main() -> ExitCode {
    let args = Arguments::from_args();
    // insta reports a mismatch by panicking after it printed the diff; a backtrace would bury it.
    std::panic::set_hook(Box::new(|info| eprintln!("{info}")));
    let root = project_root();
    let trials = if args.list {
        // Listing must stay cheap: name the trials without building anything.
        list_only(&root)
    } else {
        match prepare(&root) {
            Ok(trials) => trials,
            Err(error) => {
                eprintln!("error: {error:#}");
                return ExitCode::FAILURE;
            }
        }
    };
    libtest_mimic::run(&args, trials).exit_code()
}

/// Builds stale plugins (the same code as `cargo xtask build-plugins`), compiles each language's
/// module once, and makes one trial per (case, language). A language whose toolchain is missing
/// still gets its trials, reported as ignored with the reason, so a skip is never silent.
fn prepare(root: &Path) -> anyhow::Result<Vec<Trial>> {
    let sh = xshell::Shell::new()?;
    let built = build_plugins(&sh, Language::ALL)?;
    let mut plugins = BTreeMap::new();
    for (artifact, _) in &built.built {
        eprintln!(
            "conformance: {} built by {}",
            artifact.language, artifact.toolchain
        );
        let compiled = CompiledPlugin::from_file(&artifact.wasm)?;
        plugins.insert(artifact.language, Ok(Arc::new(compiled)));
    }
    for skipped in &built.skipped {
        eprintln!(
            "conformance: {} SKIPPED: {}",
            skipped.language, skipped.reason
        );
        let why = format!(
            "{} toolchain missing: see `cargo xtask doctor`",
            skipped.language
        );
        plugins.insert(skipped.language, Err(why));
    }

    let names = case::names(root)?;
    let mut trials = vec![orphan_snapshots(root, &names)];
    for name in names {
        // A malformed case fails its own trials and leaves the others running.
        let case = Arc::new(case::load(root, &name).map_err(|error| format!("{error:#}")));
        for (&language, compiled) in &plugins {
            let trial_name = trial_name(&name, language);
            let compiled = match compiled {
                Ok(compiled) => Arc::clone(compiled),
                Err(why) => {
                    let why = why.clone();
                    trials.push(Trial::ignorable_test(trial_name, move || {
                        Ok(Completion::ignored_with(why))
                    }));
                    continue;
                }
            };
            let case = Arc::clone(&case);
            trials.push(Trial::test(trial_name, move || {
                let case = case.as_ref().as_ref().map_err(|error| error.clone())?;
                check(case, language, &compiled)
            }));
        }
    }
    Ok(trials)
}

/// A trial that fails when a snapshot has no case: a deleted or renamed case must take its
/// snapshot with it, or the snapshot would silently stop being checked.
fn orphan_snapshots(root: &Path, cases: &[String]) -> Trial {
    let dir = root.join(SNAPSHOTS_DIR);
    let cases = cases.to_vec();
    Trial::test(ORPHAN_TRIAL, move || {
        let mut orphans = Vec::new();
        for entry in std::fs::read_dir(&dir).map_err(|error| format!("{SNAPSHOTS_DIR}: {error}"))? {
            let path = entry.map_err(|error| error.to_string())?.path();
            let name = path.file_name().unwrap_or_default().to_string_lossy();
            if let Some(case) = name.strip_suffix(".snap") {
                if !cases.iter().any(|known| known == case) {
                    orphans.push(format!("{SNAPSHOTS_DIR}/{name}"));
                }
            }
        }
        if orphans.is_empty() {
            Ok(())
        } else {
            Err(format!(
                "snapshots without a case in {}: {} (delete them, or restore their cases)",
                case::CASES_DIR,
                orphans.join(", ")
            )
            .into())
        }
    })
}

/// The trials' names without building anything, for `--list`.
fn list_only(root: &Path) -> Vec<Trial> {
    let names = case::names(root).unwrap_or_default();
    let pairs = names.iter().flat_map(|name| {
        Language::ALL
            .iter()
            .map(move |&language| Trial::test(trial_name(name, language), || Ok(())))
    });
    std::iter::once(Trial::test(ORPHAN_TRIAL, || Ok(())))
        .chain(pairs)
        .collect()
}

/// Runs one case on one language and compares the output with the case's shared snapshot.
fn check(case: &Case, language: Language, compiled: &CompiledPlugin) -> Result<(), Failed> {
    let mut plugin = compiled
        .instantiate(case.store.clone())
        .map_err(|error| format!("{language}: {error}"))?;
    // A failing call is a result like any other: the snapshot says how it failed.
    let (result, trace) = plugin.call_traced(&case.export, &case.input);
    let rendered = render::call(&result, &trace);

    let mut settings = insta::Settings::clone_current();
    settings.set_snapshot_path(project_root().join(SNAPSHOTS_DIR));
    settings.set_prepend_module_to_snapshot(false);
    settings.set_description(format!("{} ({})", case.description, case.file));
    settings.set_omit_expression(true);
    // insta panics on a mismatch after printing the diff; the trial's failure names the language.
    let matched = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        settings.bind(|| insta::assert_snapshot!(case.name.as_str(), rendered))
    }));
    matched.map_err(|_| {
        format!(
            "{language} diverges from the shared snapshot of case `{}` ({}): see the diff above",
            case.name, case.file
        )
        .into()
    })
}
