//! The cross-language, cross-host conformance run, in one executable: every case in
//! `tests/cases/` against the plugin of every language on every host, each one trial named
//! `<case>::<language>@<host>`, sharing one snapshot per case in `tests/snapshots/`, so a plugin
//! or a host that diverges fails with a diff. Beside them, sharing the same modules and host
//! pools: each language's surface, the orphan check, the property test, the fuzz of the
//! `hostMemoryGet` boundary on each host, the attacks, each protocol host's own protocol trials
//! and each host's unit tests. At the end it prints a table of the case results and writes them
//! to `target/conformance/`.
//!
//! The rooms, from the floor up: `floor` (the types every part needs), `judge` (the one path a
//! trial takes), the kinds' own code (`snapshots`, `attacks`, `property`, `fuzz`,
//! `protocol_trials`, `in_process`), `run` and `trials` (the run context and one method per kind
//! of trial), `listing` (names without a build) and `publish` (the report). This file only reads
//! the arguments and puts them together; no module imports from it.

mod attacks;
mod floor;
mod fuzz;
mod identities;
mod in_process;
mod judge;
mod listing;
mod modules;
mod property;
mod protocol_trials;
mod publish;
mod run;
mod snapshots;
mod trials;

use std::process::ExitCode;
use std::sync::Arc;

use conformance::partition;
use conformance::reuse::{Policy, Store};
use libtest_mimic::{Arguments, Trial};
use xtask::project_root;

fn main() -> ExitCode {
    let mut raw: Vec<String> = std::env::args().collect();
    let partition = match partition::take(&mut raw) {
        Ok(partition) => partition,
        Err(error) => {
            eprintln!("error: {error}");
            return ExitCode::FAILURE;
        }
    };
    let run_all = suite::run_all::take_flag(&mut raw);
    let args = Arguments::from_iter(raw);
    // Only this part's trials, in `--list` as in the run (the setup is the same for every part).
    let in_part = |trials: Vec<Trial>| -> Vec<Trial> {
        match partition {
            Some(partition) => trials
                .into_iter()
                .filter(|trial| partition.contains(trial.name()))
                .collect(),
            None => trials,
        }
    };
    // insta reports a mismatch by panicking after it printed the diff; a backtrace would bury it.
    std::panic::set_hook(Box::new(|info| eprintln!("{info}")));
    let root = project_root();
    let scope = match floor::Scope::from_env(&root) {
        Ok(scope) => scope,
        Err(error) => {
            eprintln!("error: {error:#}");
            return ExitCode::from(2);
        }
    };
    if args.list {
        // Listing must stay cheap: name the trials without building anything.
        return libtest_mimic::run(&args, in_part(listing::list_only(&scope))).exit_code();
    }
    // Accepting needs every host's rendering of every case: nothing is reused.
    let accepting = scope.accept.then(|| "--accept".to_owned());
    let policy = Policy::decide(
        xtask::in_ci(),
        suite::run_all::from_env().or(accepting).as_deref(),
        run_all,
        args.filter.is_some(),
    );
    let store = Arc::new(Store::load_file(
        scope.out.join("verdicts.json"),
        policy.clone(),
    ));
    let threads = args
        .test_threads
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
    let prepared = run::Run::prepare(&root, scope, threads, Arc::clone(&store));
    let (run, trials) = match prepared.and_then(|run| run.trials().map(|trials| (run, trials))) {
        Ok(made) => made,
        Err(error) => {
            eprintln!("error: {error:#}");
            return ExitCode::FAILURE;
        }
    };
    let conclusion = libtest_mimic::run(&args, in_part(trials));
    let mut report = run.report;
    report.records = run.judge.take();
    report.partition = partition.map(|partition| partition.to_string());
    report.reuse = policy.run_all();
    // The next run reuses what this one found; a store that cannot be written costs only that.
    if let Err(error) = store.save() {
        eprintln!("warning: {error:#}");
    }
    // Every trial that ran is in the report, or the page and a merge would miss it silently.
    let ran = conclusion.num_passed + conclusion.num_failed + conclusion.num_ignored;
    if ran != report.records.len() as u64 {
        eprintln!(
            "error: {ran} trials ran but the report holds {}: a trial does not go through the \
             judge (tests/conformance/judge.rs)",
            report.records.len()
        );
        return ExitCode::FAILURE;
    }
    if let Err(error) = publish::publish(&run.scope, report, &run.findings, &run.listed) {
        eprintln!("error: {error:#}");
        return ExitCode::FAILURE;
    }
    if let Some(renderings) = &run.case_snapshots.renderings {
        let renderings = std::mem::take(&mut *renderings.lock().unwrap_or_else(|p| p.into_inner()));
        match snapshots::accept(&run.case_snapshots, renderings) {
            Ok(lines) => lines.iter().for_each(|line| eprintln!("accept: {line}")),
            Err(error) => {
                eprintln!("error: {error:#}");
                return ExitCode::FAILURE;
            }
        }
    }
    conclusion.exit_code()
}
