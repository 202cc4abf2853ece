//! Every attack of `plugins-hostile/` (`conformance::attacks::ATTACKS`) on every host, one trial
//! per attack, hostile language and host: `attack::<attack>::<language>@<host>`. The attack's
//! outcome must match its snapshot (`tests/snapshots/attacks/<attack>.snap`, shared by every
//! hostile language on every host), and then the same host process must still answer the seed's
//! call on the honest Rust plugin byte for byte: a host that hangs, dies, reads out of bounds or
//! lets the next call go wrong fails the trial by name. Each protocol host gets one child of its
//! own for these trials, so "the same process" is the one that met the attack.

use std::path::Path;

use conformance::attacks::{Attack, ATTACKS};
use conformance::driver::Driver;
use conformance::protocol::{seed_store, Limits, Request};
use conformance::render;
use conformance::report::Divergence;
use xtask::HOSTILE;

use crate::judge::Listed;
use crate::snapshots::{diff_shown, matches_snapshot};

/// The attacks' snapshots, one per attack.
pub const SNAPSHOTS_DIR: &str = "tests/snapshots/attacks";

/// The seed's call, the honest call made after every attack.
const SEED_INPUT: &str = "👋 Hello from the Go Host app 🤗";

pub fn trial_name(attack: &Attack, language: &str, host: &str) -> String {
    format!("attack::{}::{language}@{host}", attack.name)
}

/// Makes the attack and then the honest call; returns whether both went as the contract says,
/// what was seen of the attack, in a few words, for the reliability table, and how its outcome
/// diverged from the snapshot if it did.
pub fn attack_once(
    attack: &Attack,
    driver: &dyn Driver,
    wasm: &Path,
    honest: &Path,
    listed: Listed,
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
    let compared = matches_snapshot(SNAPSHOTS_DIR, attack.name, description, rendered, listed);
    if let Err(divergence) = compared {
        return (
            Err(format!(
                "the outcome of {} diverges from {SNAPSHOTS_DIR}/{}.snap{}",
                attack.name,
                attack.name,
                diff_shown(listed)
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
