//! The property test: random inputs and stores fed to every language's plugin on every host,
//! which must all agree (same host calls, same outcome, same bytes). A disagreement is shrunk to
//! a minimal input and printed as a case file ready to add to `tests/cases/`.

use std::collections::BTreeMap;

use conformance::hosts::{Driver, Module, Request};
use conformance::render::{self, hex};
use host::{Limits, Store};
use proptest::collection::{btree_map, vec};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestRunner};
use xtask::{build_hosts, build_plugins, Host, Language};

/// Generated inputs per `cargo test`; each goes to every language.
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

#[test]
fn every_language_and_host_agrees_on_generated_inputs() -> anyhow::Result<()> {
    let sh = xshell::Shell::new()?;
    let mut plugins = Vec::new();
    for (artifact, _) in build_plugins(&sh, Language::ALL)?.built {
        plugins.push((artifact.language, Module::load(&artifact.wasm)?));
    }
    anyhow::ensure!(!plugins.is_empty(), "no language was built");
    let mut drivers = Vec::new();
    for ready in build_hosts(&sh, Host::ALL)?.ready {
        drivers.push((ready.host, Driver::new(ready.program)));
    }

    let config = Config {
        cases: CASES,
        // Failures are reported as case files to add, not saved beside the sources.
        failure_persistence: None,
        ..Config::default()
    };
    let mut runner = TestRunner::new(config);
    let result = runner.run(&call(), |call| {
        let store = Store::from_iter(call.store.clone());
        let request = Request {
            export: call.export,
            input: &call.input,
            store: &store,
            limits: &Limits::default(),
        };
        let mut outcomes: Vec<(String, String)> = Vec::new();
        for (host, driver) in &drivers {
            for (language, module) in &plugins {
                let subject = format!("{language}@{host}");
                let (result, trace) = driver
                    .call(module, &request)
                    .map_err(|error| TestCaseError::fail(format!("{subject}: {error}")))?;
                outcomes.push((subject, render::call(&result, &trace)));
            }
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
    match result {
        Ok(()) => Ok(()),
        Err(failure) => {
            let case = match &failure {
                proptest::test_runner::TestError::Fail(_, call) => case_file(call),
                proptest::test_runner::TestError::Abort(_) => String::new(),
            };
            anyhow::bail!(
                "{failure}\n\nthe smallest disagreeing input, as a case file for tests/cases/:\n\n{case}"
            )
        }
    }
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
