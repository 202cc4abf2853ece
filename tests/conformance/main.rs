//! The cross-language conformance run: every case in `tests/cases/` against the plugin of every
//! language, each (case, language) pair one trial named `<case>::<language>`. All languages share
//! one snapshot per case in `tests/snapshots/`, so a language that diverges fails with a diff.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context;
use host::CompiledPlugin;
use libtest_mimic::{Arguments, Completion, Failed, Trial};
use xtask::{build_plugins, project_root, Language};

use conformance::case::{self, Case};
use conformance::{abi, render};

/// One snapshot per case, named after it and shared by every language.
const SNAPSHOTS_DIR: &str = "tests/snapshots";
/// The trial that checks every snapshot still has its case.
const ORPHAN_TRIAL: &str = "snapshots_have_cases";
/// Each language's import/export surface, one snapshot per language.
const SURFACES_DIR: &str = "tests/snapshots/surfaces";
const SURFACE_TRIAL: &str = "surface";

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

/// Where a language stands once the build is done.
enum Subject {
    Ready(Arc<CompiledPlugin>),
    /// Its toolchain is missing: its trials are reported as ignored, with this reason.
    Skipped(String),
    /// Its module breaks the contract's ABI: its trials fail with these violations, and none
    /// of its exports is ever called.
    Broken(String),
}

/// Builds stale plugins (the same code as `cargo xtask build-plugins`), lints and compiles each
/// language's module once, and makes one trial per (case, language) and one surface trial per
/// language. A language whose toolchain is missing still gets its trials, reported as ignored
/// with the reason, so a skip is never silent.
fn prepare(root: &Path) -> anyhow::Result<Vec<Trial>> {
    let sh = xshell::Shell::new()?;
    let built = build_plugins(&sh, Language::ALL)?;
    let mut subjects = BTreeMap::new();
    let mut trials = Vec::new();
    for (artifact, _) in &built.built {
        eprintln!(
            "conformance: {} built by {}",
            artifact.language, artifact.toolchain
        );
        let language = artifact.language;
        let wasm = std::fs::read(&artifact.wasm)
            .with_context(|| format!("{language}: cannot read {}", artifact.wasm.display()))?;
        let surface = abi::Surface::read(&wasm)
            .with_context(|| format!("{language}: {}", artifact.wasm.display()))?;
        let violations = surface.violations();
        trials.push(surface_trial(language, surface));
        if !violations.is_empty() {
            for violation in &violations {
                eprintln!("conformance: {language} breaks the ABI: {violation}");
            }
            let why = format!(
                "{language}: the ABI lint failed, so nothing was called: {}",
                violations.join("; ")
            );
            subjects.insert(language, Subject::Broken(why));
            continue;
        }
        let compiled = CompiledPlugin::from_bytes(artifact.wasm.display().to_string(), &wasm)?;
        subjects.insert(language, Subject::Ready(Arc::new(compiled)));
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
        subjects.insert(skipped.language, Subject::Skipped(why));
    }

    let names = case::names(root)?;
    trials.push(orphan_snapshots(root, &names));
    for name in names {
        // A malformed case fails its own trials and leaves the others running.
        let case = Arc::new(case::load(root, &name).map_err(|error| format!("{error:#}")));
        for (&language, subject) in &subjects {
            let trial_name = trial_name(&name, language);
            let compiled = match subject {
                Subject::Ready(compiled) => Arc::clone(compiled),
                Subject::Skipped(why) => {
                    let why = why.clone();
                    trials.push(Trial::ignorable_test(trial_name, move || {
                        Ok(Completion::ignored_with(why))
                    }));
                    continue;
                }
                Subject::Broken(why) => {
                    let why = why.clone();
                    trials.push(Trial::test(trial_name, move || Err(why.into())));
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

/// Each language's imports and exports, snapshotted per language: the one snapshot that is not
/// shared, because the surface is what compilers legitimately differ in (WASI imports, runtime
/// exports). The lint above decides what must agree.
fn surface_trial(language: Language, surface: abi::Surface) -> Trial {
    Trial::test(format!("{SURFACE_TRIAL}::{language}"), move || {
        let mut settings = insta::Settings::clone_current();
        settings.set_snapshot_path(project_root().join(SURFACES_DIR));
        settings.set_prepend_module_to_snapshot(false);
        settings.set_description(format!("imports and exports of the {language} plugin"));
        settings.set_omit_expression(true);
        let rendered = surface.render();
        std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            settings.bind(|| insta::assert_snapshot!(language.name(), rendered))
        }))
        .map_err(|_| {
            format!("{language}: its import/export surface differs from {SURFACES_DIR}/{language}.snap: see above").into()
        })
    })
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
    let mut listed = vec![ORPHAN_TRIAL.to_owned()];
    for &language in Language::ALL {
        listed.push(format!("{SURFACE_TRIAL}::{language}"));
    }
    for name in &names {
        for &language in Language::ALL {
            listed.push(trial_name(name, language));
        }
    }
    listed
        .into_iter()
        .map(|name| Trial::test(name, || Ok(())))
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
