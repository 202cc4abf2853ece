//! The cross-language, cross-host conformance run: every case in `tests/cases/` against the plugin
//! of every language on every host, each one trial named `<case>::<language>@<host>`. All of them
//! share one snapshot per case in `tests/snapshots/`, so a plugin or a host that diverges fails
//! with a diff. At the end it prints a table of the results and writes them to
//! `target/conformance/`.

mod snapshots;

use std::collections::BTreeMap;
use std::path::Path;
use std::process::ExitCode;
use std::sync::{Arc, Mutex};

use anyhow::Context;
use conformance::abi;
use conformance::case;
use conformance::hosts::{Driver, Module};
use conformance::known::KnownFailures;
use conformance::report::{self, Record, Report};
use conformance::verdict::Verdict;
use libtest_mimic::{Arguments, Completion, Trial};
use xtask::{build_hosts, build_plugins, project_root, Host, Language};

use crate::snapshots::{ORPHAN_TRIAL, SURFACE_TRIAL};

/// Where the results go, relative to the project root.
const REPORT_DIR: &str = "target/conformance";

/// `--list` and the run must name the same trials, so both take their names from here.
fn trial_name(case: &str, language: Language, host: Host) -> String {
    format!("{case}::{}", report::subject(language.name(), host.name()))
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
    /// Its module, compiled for the Rust host and on file for the others.
    Ready(Arc<Module>),
    /// Its toolchain is missing: its trials are reported as ignored, with this reason.
    Skipped(String),
    /// Its module breaks the contract's ABI: its trials fail with these violations, and none
    /// of its exports is ever called.
    Broken(String),
}

/// Builds stale plugins and hosts (the same code as `cargo xtask build-plugins` and
/// `build-hosts`), lints and compiles each language's module once, and makes one trial per
/// (case, language, host) and one surface trial per language. A language or host whose toolchain
/// is missing still gets its trials, reported as ignored with the reason, so a skip is never
/// silent. Each trial adds its verdict to the report.
fn prepare(root: &Path) -> anyhow::Result<(Vec<Trial>, Arc<Mutex<Report>>)> {
    let sh = xshell::Shell::new()?;
    let built = build_plugins(&sh, Language::ALL)?;
    let hosts = build_hosts(&sh, Host::ALL)?;
    let mut report = Report::default();
    for &host in Host::ALL {
        for &language in Language::ALL {
            report
                .columns
                .push(report::subject(language.name(), host.name()));
        }
    }
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
        let module = Module::load(&artifact.wasm).with_context(|| format!("{language}"))?;
        subjects.insert(language, Subject::Ready(Arc::new(module)));
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
    // A host that cannot run gives the reason every one of its trials is ignored.
    let mut drivers: BTreeMap<Host, Result<Arc<Driver>, String>> = BTreeMap::new();
    for ready in hosts.ready {
        let host = ready.host;
        eprintln!("conformance: {host} built by {}", ready.toolchain);
        report
            .toolchains
            .insert(host.name().to_owned(), ready.toolchain);
        drivers.insert(host, Ok(Arc::new(Driver::new(ready.program))));
    }
    for (host, reason) in hosts.skipped {
        eprintln!("conformance: {host} SKIPPED: {reason}");
        report
            .toolchains
            .insert(host.name().to_owned(), format!("skipped: {reason}"));
        let why = format!("{host} toolchain missing: see `cargo xtask doctor`");
        drivers.insert(host, Err(why));
    }

    let names = case::names(root)?;
    let host_names: Vec<&str> = Host::ALL.iter().map(|h| h.name()).collect();
    let language_names: Vec<&str> = Language::ALL.iter().map(|l| l.name()).collect();
    let known = KnownFailures::load(root, &host_names, &language_names, &names)?;
    trials.push(snapshots::orphan_snapshots(root, &names));
    let report = Arc::new(Mutex::new(report));
    for name in names {
        // A malformed case fails its own trials and leaves the others running.
        let case = Arc::new(case::load(root, &name).map_err(|error| format!("{error:#}")));
        for (&host, driver) in &drivers {
            for (&language, subject) in &subjects {
                let trial = trial_name(&name, language, host);
                let subject_name = report::subject(language.name(), host.name());
                let known = known
                    .reason(host.name(), language.name(), &name)
                    .map(str::to_owned);
                let (case, report) = (Arc::clone(&case), Arc::clone(&report));
                let run: Box<dyn FnOnce() -> Verdict + Send> = match (driver, subject) {
                    (Err(why), _) | (_, Subject::Skipped(why)) => {
                        let why = why.clone();
                        Box::new(move || Verdict::Skip(why))
                    }
                    (Ok(driver), Subject::Ready(module)) => {
                        let (driver, module) = (Arc::clone(driver), Arc::clone(module));
                        let subject_name = subject_name.clone();
                        Box::new(move || {
                            let result = match case.as_ref() {
                                Ok(case) => snapshots::check(case, &subject_name, &driver, &module),
                                Err(error) => Err(error.clone()),
                            };
                            Verdict::judge(result, known.as_deref())
                        })
                    }
                    (Ok(_), Subject::Broken(why)) => {
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
                            "{subject_name} passes, but {} lists it as a known failure \
                             ({reason}): remove the entry\nrerun: {rerun}",
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
                            host: host.name().to_owned(),
                            verdict,
                        });
                    outcome
                }));
            }
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
    for (built, toolchain) in &report.toolchains {
        println!("{built}: {toolchain}");
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
        for &host in Host::ALL {
            for &language in Language::ALL {
                listed.push(trial_name(name, language, host));
            }
        }
    }
    listed
        .into_iter()
        .map(|name| Trial::test(name, || Ok(())))
        .collect()
}
