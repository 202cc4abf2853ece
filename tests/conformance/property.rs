//! The property test, as one trial: random inputs and stores fed to every language's plugin on
//! every host, which must all agree (same host calls, same outcome, same bytes). A disagreement
//! is shrunk to a minimal input and printed as a case file ready to add to `tests/cases/`. With
//! fewer than two plugin-host pairs there is nothing to compare: a visible skip (a failure under
//! CI=true, where every pair is built).

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;

use conformance::driver::Driver;
use conformance::protocol::{Limits, Request};
use conformance::render::{self, hex};
use libtest_mimic::{Completion, Trial};
use proptest::collection::{btree_map, vec};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestRunner};

use crate::{HostDriver, Subject};

pub const TRIAL: &str = "property::every_pair_agrees_on_generated_inputs";

/// Generated inputs per run; each goes to every language on every host.
const CASES: u32 = 256;

/// One generated call.
#[derive(Debug, Clone)]
struct Call {
    export: &'static str,
    input: Vec<u8>,
    store: BTreeMap<Vec<u8>, Vec<u8>>,
}

/// Exports whose contract holds for any bytes. `fail` takes UTF-8 text only, so it gets text.
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
        Just("say_hello"),
        Just("lookup"),
        Just("echo"),
        Just("fail")
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

/// Every (subject, driver, module) pair that can run.
type Pairs = Vec<(String, Arc<dyn Driver>, PathBuf)>;

pub fn trial(
    subjects: &[(&'static xtask::Language, Subject)],
    drivers: &[(&'static xtask::Host, HostDriver)],
) -> Trial {
    let mut pairs: Pairs = Vec::new();
    let mut missing = Vec::new();
    for (host, driver) in drivers {
        for (language, subject) in subjects {
            let name = format!("{language}@{host}");
            match (driver, subject) {
                (Ok(driver), Subject::Ready(wasm)) => {
                    pairs.push((name, Arc::clone(driver), wasm.clone()))
                }
                _ => missing.push(name),
            }
        }
    }
    Trial::ignorable_test(TRIAL, move || {
        if pairs.len() < 2 {
            let why = format!(
                "{} plugin-host pair(s) ready, so there is nothing to compare (not ready: {})",
                pairs.len(),
                missing.join(", ")
            );
            if xtask::in_ci() {
                return Err(why.into());
            }
            return Ok(Completion::ignored_with(why));
        }
        run(&pairs)
            .map(|()| Completion::Completed)
            .map_err(Into::into)
    })
}

fn run(pairs: &Pairs) -> Result<(), String> {
    let config = Config {
        cases: CASES,
        // Failures are reported as case files to add, not saved beside the sources.
        failure_persistence: None,
        ..Config::default()
    };
    let mut runner = TestRunner::new(config);
    let result = runner.run(&call(), |call| {
        let request = Request::one(
            call.export,
            &call.input,
            call.store.clone(),
            Limits::default(),
        );
        let mut outcomes: Vec<(&str, String)> = Vec::new();
        for (subject, driver, wasm) in pairs {
            let outcome = driver
                .run(wasm, &request)
                .map_err(|error| TestCaseError::fail(format!("{subject}: {error}")))?;
            let rendered = outcome
                .iter()
                .map(|outcome| render::call(call.export, outcome))
                .collect::<Vec<_>>()
                .join("\n");
            outcomes.push((subject, rendered));
        }
        let (first, expected) = &outcomes[0];
        for (subject, rendered) in &outcomes[1..] {
            if rendered != expected {
                return Err(TestCaseError::fail(format!(
                    "{subject} and {first} disagree:\n--- {first}\n{expected}\n--- {subject}\n{rendered}"
                )));
            }
        }
        Ok(())
    });
    result.map_err(|failure| {
        let case = match &failure {
            proptest::test_runner::TestError::Fail(_, call) => case_file(call),
            proptest::test_runner::TestError::Abort(_) => String::new(),
        };
        format!("{failure}\n\nthe smallest disagreeing input, as a case file for tests/cases/:\n\n{case}")
    })
}

/// `call` as a `tests/cases/<name>.toml` file.
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
