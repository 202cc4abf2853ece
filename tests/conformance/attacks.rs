//! Every attack of `plugins-hostile/` (`conformance::attacks::ATTACKS`) on every host, one trial
//! per attack, hostile language and host: `attack::<attack>::<language>@<host>`. The attack's
//! outcome must match its snapshot (`tests/snapshots/attacks/<attack>.snap`, shared by every
//! hostile language on every host), and then the same host process must still answer the seed's
//! call on the honest Rust plugin byte for byte: a host that hangs, dies, reads out of bounds or
//! lets the next call go wrong fails the trial by name. Each protocol host gets one child of its
//! own for these trials, so "the same process" is the one that met the attack.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use conformance::attacks::{Attack, ATTACKS};
use conformance::driver::Driver;
use conformance::findings::Findings;
use conformance::known::KnownFailures;
use conformance::protocol::{seed_store, Limits, Request};
use conformance::render;
use conformance::report::{AttackRecord, Divergence, Report};
use conformance::reuse::{Kept, Store};
use conformance::verdict::Verdict;
use libtest_mimic::{Completion, Trial};
use xtask::{Hostile, HOSTILE};

use crate::snapshots::matches_snapshot;
use crate::HostDriver;

/// The attacks' snapshots, one per attack.
pub const SNAPSHOTS_DIR: &str = "tests/snapshots/attacks";

/// The seed's call, the honest call made after every attack.
const SEED_INPUT: &str = "👋 Hello from the Go Host app 🤗";

/// The key of an attack's verdict by attack and hostile language; none when it cannot be reused.
pub type AttackKey<'a> = dyn Fn(&str, &str) -> Option<String> + 'a;

pub fn trial_name(attack: &Attack, language: &str, host: &str) -> String {
    format!("attack::{}::{language}@{host}", attack.name)
}

/// Every attack's trials on one host. `hostile` is each hostile language's module, or why it
/// was not built; `honest` the honest Rust plugin, or why it is missing. `key` gives the key of
/// an attack's verdict by attack and hostile language (none when it cannot be reused).
pub fn trials(
    host: &'static xtask::Host,
    driver: HostDriver,
    hostile: &[(&'static Hostile, Result<PathBuf, String>)],
    honest: &Result<PathBuf, String>,
    (known, findings): (&KnownFailures, &Findings),
    (store, key): (&Arc<Store>, &AttackKey),
    report: &Arc<Mutex<Report>>,
) -> Vec<Trial> {
    let hosts: Vec<&str> = xtask::HOSTS.iter().map(|host| host.name()).collect();
    let mut trials = Vec::new();
    for attack in ATTACKS {
        for (language, wasm) in hostile {
            let name = trial_name(attack, language.name(), host.name());
            let known = known
                .attack_reason(host.name(), language.name(), attack.name)
                .map(str::to_owned);
            let finding = known.as_ref().and_then(|_| {
                let found = findings.for_trial(attack.name, host.name(), &hosts);
                found.map(|(heading, _)| heading.to_owned())
            });
            let (driver, wasm, honest) = (driver.clone(), wasm.clone(), honest.clone());
            let report = Arc::clone(report);
            let language = language.name();
            let key = key(attack.name, language);
            // As a case's: reused only when it is, with today's known failures, a pass or an
            // expected failure.
            let kept = key
                .as_ref()
                .and_then(|key| store.reusable_judged(&name, key, known.as_deref()));
            let reused = kept.is_some();
            let store = Arc::clone(store);
            trials.push(Trial::ignorable_test(name.clone(), move || {
                let started = Instant::now();
                let (verdict, seen, divergence, millis) = match (driver, wasm, honest, kept) {
                    (_, _, _, Some(kept)) => {
                        let verdict = Verdict::judge(kept.result(), known.as_deref());
                        let seen = kept.seen.clone().unwrap_or_default();
                        (verdict, seen, kept.divergence(), kept.millis)
                    }
                    (Ok(driver), Ok(wasm), Ok(honest), None) => {
                        let (result, seen, divergence) =
                            attack_once(attack, driver.as_ref(), &wasm, &honest);
                        let result = result.map_err(|why| format!("{language}@{host}: {why}"));
                        let millis = started.elapsed().as_millis() as u64;
                        if let Some(key) = key {
                            let seen = Some(seen.clone());
                            let kept = Kept::of(key, &result, divergence.as_ref(), seen, millis);
                            store.keep(&name, kept);
                        }
                        let verdict = Verdict::judge(result, known.as_deref());
                        (verdict, seen, divergence, millis)
                    }
                    (Err(why), _, _, None) | (_, Err(why), _, None) | (_, _, Err(why), None) => {
                        let millis = started.elapsed().as_millis() as u64;
                        (Verdict::Skip(why), "not run".to_owned(), None, millis)
                    }
                };
                let outcome = match &verdict {
                    Verdict::Pass => Ok(Completion::Completed),
                    Verdict::Skip(why) => Ok(Completion::ignored_with(why)),
                    Verdict::XFail(reason) => Ok(Completion::ignored_with(format!(
                        "known failure: {reason} (seen: {seen})"
                    ))),
                    Verdict::Fail(message) => {
                        Err(format!("{message}\nrerun: {}", crate::rerun_command(&name)).into())
                    }
                    Verdict::XPass(reason) => Err(format!(
                        "{language}@{host} withstands {}, but {} lists it as a known failure \
                         ({reason}): remove the entry",
                        attack.name,
                        conformance::known::KNOWN_FAILURES_FILE
                    )
                    .into()),
                };
                report
                    .lock()
                    .unwrap_or_else(|poison| poison.into_inner())
                    .attacks
                    .push(AttackRecord {
                        trial: name.clone(),
                        attack: attack.name.to_owned(),
                        language: language.to_owned(),
                        host: host.name().to_owned(),
                        verdict,
                        seen,
                        millis,
                        divergence,
                        finding,
                        reused,
                    });
                outcome
            }));
        }
    }
    trials
}

/// Makes the attack and then the honest call; returns whether both went as the contract says,
/// what was seen of the attack, in a few words, for the reliability table, and how its outcome
/// diverged from the snapshot if it did.
fn attack_once(
    attack: &Attack,
    driver: &dyn Driver,
    wasm: &Path,
    honest: &Path,
) -> (Result<(), String>, String, Option<Divergence>) {
    let request = Request::one(
        attack.export,
        attack.input.as_bytes(),
        seed_store(),
        (attack.limits)(),
    );
    let outcomes = match driver.run(wasm, &request) {
        Ok(outcomes) => outcomes,
        Err(error) => return (Err(error.clone()), short(&error), None),
    };
    let [outcome] = outcomes.as_slice() else {
        return (
            Err(format!("{} outcomes for one call", outcomes.len())),
            "a wrong answer".to_owned(),
            None,
        );
    };
    let rendered = render::call(attack.export, outcome, false);
    // The snapshot's own words for the outcome, and the output's length.
    let shown = rendered
        .lines()
        .find_map(|line| line.strip_prefix("outcome: "))
        .unwrap_or_default();
    let seen = match &outcome.result {
        Ok(output) => format!("{shown}, {} bytes out", output.len()),
        Err(_) => shown.to_owned(),
    };
    let description = format!(
        "{}({:?}) of plugins-hostile/, stopped by {} (tests/src/attacks.rs)",
        attack.export, attack.input, attack.stopped_by
    );
    if let Err(divergence) = matches_snapshot(SNAPSHOTS_DIR, attack.name, description, rendered) {
        return (
            Err(format!(
                "the outcome of {} diverges from {SNAPSHOTS_DIR}/{}.snap: see the diff above",
                attack.name, attack.name
            )),
            seen,
            Some(divergence),
        );
    }
    if let Err(why) = still_answers(driver, honest) {
        return (
            Err(format!("after {}: {why}", attack.name)),
            format!("{seen}; then {}", short(&why)),
            None,
        );
    }
    (Ok(()), seen, None)
}

/// The seed's call on the honest plugin, on the same host: exactly the seed's output.
fn still_answers(driver: &dyn Driver, honest: &Path) -> Result<(), String> {
    let store = seed_store();
    let request = Request::one(
        "say_hello",
        SEED_INPUT.as_bytes(),
        store.clone(),
        Limits::default(),
    );
    let outcomes = driver.run(honest, &request)?;
    let mut expected = format!("👋 Hello {SEED_INPUT}").into_bytes();
    for key in ["hello", "message"] {
        expected.extend_from_slice(format!("\nkey: {key}, value: ").as_bytes());
        expected.extend_from_slice(&store[key.as_bytes()]);
    }
    match outcomes.first().map(|outcome| &outcome.result) {
        Some(Ok(output)) if *output == expected => Ok(()),
        Some(Ok(output)) => Err(format!(
            "the honest seed call answered {:?}",
            String::from_utf8_lossy(output)
        )),
        Some(Err(failure)) => Err(format!("the honest seed call failed: {failure:?}")),
        None => Err("the honest seed call got no outcome".to_owned()),
    }
}

/// The first line of an error, cut short, for a table cell.
fn short(error: &str) -> String {
    let line = error.lines().next().unwrap_or_default();
    match line.char_indices().nth(100) {
        Some((at, _)) => format!("{}...", &line[..at]),
        None => line.to_owned(),
    }
}

/// Every attack trial's name, for `--list` and for a skipped host.
pub fn trial_names(host: &xtask::Host) -> Vec<String> {
    ATTACKS
        .iter()
        .flat_map(|attack| {
            HOSTILE
                .iter()
                .map(move |language| trial_name(attack, language.name(), host.name()))
        })
        .collect()
}
