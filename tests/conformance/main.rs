//! The cross-language conformance run: every case in `tests/cases/` against the plugin of every
//! language, each (case, language) pair one trial named `<case>::<language>`. All languages share
//! one snapshot per case in `tests/snapshots/`, so a language that diverges fails with a diff.
//! At the end it prints a table of the results and writes them to `target/conformance/`.

mod snapshots;

use std::collections::BTreeMap;
use std::path::Path;
use std::process::ExitCode;
use std::sync::{Arc, Mutex};

use anyhow::Context;
use conformance::abi;
use conformance::case;
use conformance::known::KnownFailures;
use conformance::report::{Record, Report};
use conformance::verdict::Verdict;
use host::CompiledPlugin;
use libtest_mimic::{Arguments, Completion, Trial};
use xtask::{build_plugins, project_root, Language};

use crate::snapshots::{ORPHAN_TRIAL, SURFACE_TRIAL};

/// Where the results go, relative to the project root.
const REPORT_DIR: &str = "target/conformance";

/// `--list` and the run must name the same trials, so both take their names from here.
fn trial_name(case: &str, language: Language) -> String {
    format!("{case}::{language}")
}

fn main() -> ExitCode {
    let args = Arguments::from_args();
    // insta reports a mismatch by panicking after it printed the diff; a backtrace would bury it.
    std::panic::set_hook(Box::new(|info| eprintln!("{info}")));
    let root = project_root();
    if args.list {
        // Listing must stay cheap: name the trials without building anything.
        return libtest_mimic::run(&args, list_only(&root)).exit_code();
    }
    let (trials, report) = match prepare(&root) {
        Ok(prepared) => prepared,
        Err(error) => {
            eprintln!("error: {error:#}");
            return ExitCode::FAILURE;
        }
    };
    let conclusion = libtest_mimic::run(&args, trials);
    let report = std::mem::take(&mut *report.lock().unwrap_or_else(|poison| poison.into_inner()));
    if let Err(error) = write_report(&root, &report) {
        eprintln!("error: {error:#}");
        return ExitCode::FAILURE;
    }
    conclusion.exit_code()
}

/// Where a language stands once the build is done.
enum Subject {
    /// Compiled without limits, and its bytes for cases that set limits.
    Ready(Arc<CompiledPlugin>, Arc<Vec<u8>>),
    /// Its toolchain is missing: its trials are reported as ignored, with this reason.
    Skipped(String),
    /// Its module breaks the contract's ABI: its trials fail with these violations, and none
    /// of its exports is ever called.
    Broken(String),
}

/// Builds stale plugins (the same code as `cargo xtask build-plugins`), lints and compiles each
/// language's module once, and makes one trial per (case, language) and one surface trial per
/// language. A language whose toolchain is missing still gets its trials, reported as ignored
/// with the reason, so a skip is never silent. Each trial adds its verdict to the report.
fn prepare(root: &Path) -> anyhow::Result<(Vec<Trial>, Arc<Mutex<Report>>)> {
    let sh = xshell::Shell::new()?;
    let built = build_plugins(&sh, Language::ALL)?;
    let mut report = Report {
        languages: Language::ALL.iter().map(|l| l.name().to_owned()).collect(),
        ..Report::default()
    };
    let mut subjects = BTreeMap::new();
    let mut trials = Vec::new();
    for (artifact, _) in &built.built {
        let language = artifact.language;
        eprintln!("conformance: {language} built by {}", artifact.toolchain);
        report
            .toolchains
            .insert(language.name().to_owned(), artifact.toolchain.clone());
        let wasm = std::fs::read(&artifact.wasm)
            .with_context(|| format!("{language}: cannot read {}", artifact.wasm.display()))?;
        let surface = abi::Surface::read(&wasm)
            .with_context(|| format!("{language}: {}", artifact.wasm.display()))?;
        let violations = surface.violations();
        trials.push(snapshots::surface_trial(language, surface));
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
        subjects.insert(language, Subject::Ready(Arc::new(compiled), Arc::new(wasm)));
    }
    for skipped in &built.skipped {
        let language = skipped.language;
        eprintln!("conformance: {language} SKIPPED: {}", skipped.reason);
        report.toolchains.insert(
            language.name().to_owned(),
            format!("skipped: {}", skipped.reason),
        );
        let why = format!("{language} toolchain missing: see `cargo xtask doctor`");
        subjects.insert(language, Subject::Skipped(why));
    }

    let names = case::names(root)?;
    let language_names: Vec<&str> = Language::ALL.iter().map(|l| l.name()).collect();
    let known = KnownFailures::load(root, &language_names, &names)?;
    trials.push(snapshots::orphan_snapshots(root, &names));
    let report = Arc::new(Mutex::new(report));
    for name in names {
        // A malformed case fails its own trials and leaves the others running.
        let case = Arc::new(case::load(root, &name).map_err(|error| format!("{error:#}")));
        for (&language, subject) in &subjects {
            let trial = trial_name(&name, language);
            let known = known.reason(language.name(), &name).map(str::to_owned);
            let (case, report) = (Arc::clone(&case), Arc::clone(&report));
            let run: Box<dyn FnOnce() -> Verdict + Send> = match subject {
                Subject::Ready(compiled, wasm) => {
                    let (compiled, wasm) = (Arc::clone(compiled), Arc::clone(wasm));
                    Box::new(move || {
                        let result = match case.as_ref() {
                            Ok(case) => snapshots::check(case, language, &compiled, &wasm),
                            Err(error) => Err(error.clone()),
                        };
                        Verdict::judge(result, known.as_deref())
                    })
                }
                Subject::Skipped(why) => {
                    let why = why.clone();
                    Box::new(move || Verdict::Skip(why))
                }
                Subject::Broken(why) => {
                    let why = why.clone();
                    Box::new(move || Verdict::judge(Err(why), known.as_deref()))
                }
            };
            let (case_name, rerun) = (name.clone(), rerun_command(&trial));
            trials.push(Trial::ignorable_test(trial, move || {
                let verdict = run();
                let outcome = match &verdict {
                    Verdict::Pass => Ok(Completion::Completed),
                    Verdict::Skip(why) => Ok(Completion::ignored_with(why)),
                    Verdict::XFail(reason) => {
                        Ok(Completion::ignored_with(format!("known failure: {reason}")))
                    }
                    Verdict::Fail(message) => Err(format!("{message}\nrerun: {rerun}").into()),
                    Verdict::XPass(reason) => Err(format!(
                        "{language} passes, but {} lists it as a known failure ({reason}): \
                         remove the entry\nrerun: {rerun}",
                        conformance::known::KNOWN_FAILURES_FILE
                    )
                    .into()),
                };
                report
                    .lock()
                    .unwrap_or_else(|poison| poison.into_inner())
                    .records
                    .push(Record {
                        case: case_name,
                        language: language.name().to_owned(),
                        verdict,
                    });
                outcome
            }));
        }
    }
    Ok((trials, report))
}

/// The command that runs one trial and nothing else.
fn rerun_command(trial: &str) -> String {
    format!("cargo test --test conformance -- --exact {trial}")
}

/// Prints the table and writes `report.json` and `junit.xml` for the trials that ran.
fn write_report(root: &Path, report: &Report) -> anyhow::Result<()> {
    if report.records.is_empty() {
        return Ok(());
    }
    let dir = root.join(REPORT_DIR);
    std::fs::create_dir_all(&dir).with_context(|| format!("cannot create {REPORT_DIR}"))?;
    for (file, text) in [
        ("report.json", report.json()),
        ("junit.xml", report.junit()),
    ] {
        std::fs::write(dir.join(file), text)
            .with_context(|| format!("cannot write {REPORT_DIR}/{file}"))?;
    }
    println!("\n{}", report.table());
    for (language, toolchain) in &report.toolchains {
        println!("{language}: {toolchain}");
    }
    println!("results: {REPORT_DIR}/report.json, {REPORT_DIR}/junit.xml");
    Ok(())
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
