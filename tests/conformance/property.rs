//! The property test, as one trial: random inputs and stores fed to every language's plugin on
//! every host, which must all agree (same host calls, same outcome, same bytes). A disagreement
//! is shrunk to a minimal input and printed as a case file ready to add to `tests/cases/`. With
//! fewer than two plugin-host pairs there is nothing to compare: a visible skip (a failure under
//! CI=true, where every pair is built).
//!
//! An export listed in a host's `[<host>.property]` table in tests/known-failures.toml is known to
//! be answered differently on that host: calls of it there are not held to the others (where
//! the host breaks the contract, its languages need not agree with each other either: a PDK's
//! harmless call, such as freeing offset 0, can meet the host's divergence); its disagreements
//! are counted and printed, not failed. Calls of any other export are compared as usual.
//! (Inputs are random, so a run in which it happened to agree proves nothing: there is no XPASS
//! here.)

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use conformance::driver::Driver;
use conformance::known::KnownFailures;
use conformance::protocol::{Limits, Request};
use conformance::render::{self, hex};
use proptest::collection::{btree_map, vec};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestRunner};

use crate::floor::{HostDriver, Subject};
use crate::judge::{Attempt, Listed};

pub const TRIAL: &str = "property::every_pair_agrees_on_generated_inputs";

/// Generated inputs per run, each to every language on every host: `PROPERTY_CASES`, by default
/// 256 under CI=true and 16 elsewhere. A local run is the edit loop's, and any edit of a plugin
/// or a host runs this trial again: each input costs about 1.5 s there, bound by a Java AoT
/// instance of the standard-Go module (the SDK compiles the module again for every instance).
fn cases() -> Result<u32, String> {
    match std::env::var("PROPERTY_CASES") {
        Ok(text) => {
            text.parse().ok().filter(|&n| n > 0).ok_or_else(|| {
                format!("PROPERTY_CASES=`{text}` is not a positive number of inputs")
            })
        }
        Err(_) if xtask::in_ci() => Ok(256),
        Err(_) => Ok(16),
    }
}

/// One generated call.
#[derive(Debug, Clone)]
struct Call {
    export: &'static str,
    input: Vec<u8>,
    store: BTreeMap<Vec<u8>, Vec<u8>>,
}

/// The exports generated calls make: those whose contract holds for any bytes, and `fail`,
/// which takes UTF-8 text only, so it gets text.
const EXPORTS: [&str; 4] = ["say_hello", "lookup", "echo", "fail"];

fn call() -> impl Strategy<Value = Call> {
    let bytes = |max| vec(any::<u8>(), 0..max);
    // Keys the plugins ask for by themselves, plus short random ones.
    let key = prop_oneof![
        Just(b"hello".to_vec()),
        Just(b"message".to_vec()),
        Just(Vec::new()),
        bytes(8),
    ];
    let store = btree_map(key, bytes(64), 0..4);
    let export = prop_oneof![
        Just(EXPORTS[0]),
        Just(EXPORTS[1]),
        Just(EXPORTS[2]),
        Just(EXPORTS[3])
    ];
    (export, bytes(300), ".{0,40}", store).prop_map(|(export, input, text, store)| Call {
        export,
        input: if export == "fail" {
            text.into_bytes()
        } else {
            input
        },
        store,
    })
}

/// One (language, host) pair that can run.
struct Pair {
    subject: String,
    host: &'static str,
    driver: Arc<dyn Driver>,
    wasm: PathBuf,
    /// The exports its host's `[<host>.property]` table lists.
    known: Vec<&'static str>,
}

type Pairs = Vec<Pair>;

/// The property test over every ready language on every built host.
pub fn work(
    subjects: &[(&'static xtask::Language, Subject)],
    drivers: &[(&'static xtask::Host, HostDriver)],
    known: &KnownFailures,
) -> impl FnOnce(Listed) -> Attempt + Send + 'static {
    let mut pairs: Pairs = Vec::new();
    let mut missing = Vec::new();
    for (host, driver) in drivers {
        for (language, subject) in subjects {
            let name = format!("{language}@{host}");
            match (driver, subject) {
                (Ok(driver), Subject::Ready(wasm)) => pairs.push(Pair {
                    subject: name,
                    host: host.name(),
                    driver: Arc::clone(driver),
                    wasm: wasm.clone(),
                    known: EXPORTS
                        .iter()
                        .copied()
                        .filter(|export| known.property_reason(host.name(), export).is_some())
                        .collect(),
                }),
                _ => missing.push(name),
            }
        }
    }
    move |_| {
        if pairs.len() < 2 {
            let why = format!(
                "{} plugin-host pair(s) ready, so there is nothing to compare (not ready: {})",
                pairs.len(),
                missing.join(", ")
            );
            return match xtask::in_ci() {
                true => Attempt::result(Err(why)),
                false => Attempt::Skip(why),
            };
        }
        Attempt::result(run(&pairs))
    }
}

fn run(pairs: &Pairs) -> Result<(), String> {
    let cases = cases()?;
    let config = Config {
        cases,
        // Failures are reported as case files to add, not saved beside the sources.
        failure_persistence: None,
        ..Config::default()
    };
    let mut runner = TestRunner::new(config);
    // Hosts listed as known to disagree: on how many inputs each did, and the first of them.
    let disagreed: Mutex<BTreeMap<&str, (u32, Option<Call>)>> = Mutex::new(
        pairs
            .iter()
            .filter(|pair| !pair.known.is_empty())
            .map(|pair| (pair.host, (0, None)))
            .collect(),
    );
    let result = runner.run(&call(), |call| {
        let request = Request::one(
            call.export,
            &call.input,
            call.store.clone(),
            Limits::default(),
        );
        let outcomes = render_all(pairs, &call, &request)?;
        let disagree = |(a, expected): &(&Pair, String), (b, rendered): &(&Pair, String)| {
            TestCaseError::fail(format!(
                "{} and {} disagree:\n--- {}\n{expected}\n--- {}\n{rendered}",
                b.subject, a.subject, a.subject, b.subject
            ))
        };
        // Every pair against the first (the reference host's first language), except where the
        // pair's host lists the export: those are counted, once per host and input.
        let reference = &outcomes[0];
        let mut counted: Vec<&str> = Vec::new();
        for outcome in &outcomes[1..] {
            if outcome.1 == reference.1 {
                continue;
            }
            if !outcome.0.known.contains(&call.export) {
                return Err(disagree(reference, outcome));
            }
            if !counted.contains(&outcome.0.host) {
                counted.push(outcome.0.host);
                let mut disagreed = disagreed.lock().unwrap_or_else(|p| p.into_inner());
                let (count, first) = disagreed.entry(outcome.0.host).or_default();
                *count += 1;
                first.get_or_insert_with(|| call.clone());
            }
        }
        Ok(())
    });
    result.map_err(|failure| {
        let case = match &failure {
            proptest::test_runner::TestError::Fail(_, call) => case_file(call),
            proptest::test_runner::TestError::Abort(_) => String::new(),
        };
        format!("{failure}\n\nthe smallest disagreeing input, as a case file for tests/cases/<group>/:\n\n{case}")
    })?;
    let disagreed = disagreed.into_inner().unwrap_or_else(|p| p.into_inner());
    for (host, (count, first)) in disagreed {
        let first = first.map_or(String::new(), |call| {
            format!(
                "; the first: {} of input-hex \"{}\"",
                call.export,
                hex(&call.input)
            )
        });
        eprintln!(
            "{TRIAL}: {host} disagreed with the other hosts on {count} of {cases} inputs, on \
             exports {} says it may{first}",
            conformance::known::KNOWN_FAILURES_FILE
        );
    }
    Ok(())
}

/// Each pair's rendered outcome of `request`, in the pairs' order: each host's pairs in turn on
/// a thread of its own, the hosts side by side, so an input takes as long as its slowest host,
/// not the sum of them.
fn render_all<'a>(
    pairs: &'a Pairs,
    call: &Call,
    request: &Request,
) -> Result<Vec<(&'a Pair, String)>, TestCaseError> {
    let mut hosts: Vec<&str> = pairs.iter().map(|pair| pair.host).collect();
    hosts.dedup();
    let render = |(index, pair): (usize, &Pair)| {
        let outcome = pair
            .driver
            .run(&pair.wasm, request)
            .map_err(|error| TestCaseError::fail(format!("{}: {error}", pair.subject)))?;
        let text = outcome
            .iter()
            .map(|outcome| render::call(call.export, outcome, false))
            .collect::<Vec<_>>()
            .join("\n");
        Ok((index, text))
    };
    let rendered: Vec<Result<(usize, String), TestCaseError>> = std::thread::scope(|scope| {
        let threads: Vec<_> = hosts
            .iter()
            .map(|&host| {
                let of_host = pairs
                    .iter()
                    .enumerate()
                    .filter(move |(_, p)| p.host == host);
                scope.spawn(move || of_host.map(render).collect::<Vec<_>>())
            })
            .collect();
        threads
            .into_iter()
            .flat_map(|thread| thread.join().expect("a property thread panicked"))
            .collect()
    });
    let mut ordered = rendered.into_iter().collect::<Result<Vec<_>, _>>()?;
    ordered.sort_by_key(|(index, _)| *index);
    Ok(ordered
        .into_iter()
        .map(|(index, text)| (&pairs[index], text))
        .collect())
}

/// `call` as a `tests/cases/<group>/<name>.toml` file.
fn case_file(call: &Call) -> String {
    let mut text = format!(
        "description = \"found by the property test: plugins or hosts disagree\"\nexport = \"{}\"\ninput-hex = \"{}\"\n\n[store-hex]\n",
        call.export,
        hex(&call.input)
    );
    for (key, value) in &call.store {
        text += &format!("\"{}\" = \"{}\"\n", hex(key), hex(value));
    }
    text
}
