//! Each protocol host checked against docs/protocol.md itself, with a module of its own and a
//! child of its own (so nothing here disturbs the case trials' pools):
//! `protocol::malformed_requests::<host>` sends lines a host must refuse, and well-formed ones it
//! must answer, and `protocol::killed_child::<host>` kills the child in the middle of a call.

use std::path::Path;
use std::time::{Duration, Instant};

use conformance::driver::{Driver, ProtocolHost};
use conformance::protocol::{
    seed_store, Call, ErrorKind, Failure, Limits, Outcome, Request, WireAnswer, WireRequest,
    VERSION,
};
use serde_json::{json, Value};
use xtask::Host;

use crate::floor::protocol_host;
use crate::judge::{Attempt, Listed};

const TRIALS: [&str; 2] = ["protocol::malformed_requests", "protocol::killed_child"];

/// `lookup` answers the store's value for its input; `spin` never returns.
const MODULE: &str = r#"
(module
  (import "extism:host/env" "input_offset" (func $input (result i64)))
  (import "extism:host/env" "length" (func $length (param i64) (result i64)))
  (import "extism:host/env" "output_set" (func $output_set (param i64 i64)))
  (import "env" "hostMemoryGet" (func $get (param i64) (result i64)))
  (func (export "lookup") (result i32) (local $v i64)
    (local.set $v (call $get (call $input)))
    (call $output_set (local.get $v) (call $length (local.get $v)))
    (i32.const 0))
  (func (export "spin") (result i32) (loop $forever (br $forever)) (i32.const 0))
)
"#;

/// This host's protocol trials, named as `--list` and the run name them.
pub fn trial_names(host: &Host) -> [String; 2] {
    TRIALS.map(|trial| format!("{trial}::{host}"))
}

const WAIT: Duration = Duration::from_secs(60);

/// A protocol trial's work.
pub type Work = Box<dyn FnOnce(Listed) -> Attempt + Send>;

/// This host's protocol trials, by name, each with a child of its own.
pub fn works(root: &Path, host: &'static Host, artifact: &Path) -> Vec<(String, Work)> {
    let wasm = root.join("target/protocol/lookup_spin.wasm");
    let setup = (|| -> anyhow::Result<()> {
        std::fs::create_dir_all(wasm.parent().expect("a parent"))?;
        let bytes = wat::parse_str(MODULE)?;
        if std::fs::read(&wasm).ok().as_deref() != Some(&bytes[..]) {
            std::fs::write(&wasm, bytes)?;
        }
        Ok(())
    })()
    .map_err(|error| format!("cannot write {}: {error:#}", wasm.display()));
    let make = |root: &Path| protocol_host(root, host, artifact, 1);
    let (first, second) = (make(root), make(root));
    let (wasm_a, wasm_b, setup_b) = (wasm.clone(), wasm, setup.clone());
    let [malformed_name, killed_name] = trial_names(host);
    let malformed: Work = Box::new(move |_| {
        let result = setup.and_then(|()| malformed_requests(&first, &wasm_a));
        Attempt::result(result.map_err(|why| format!("{host}: {why}")))
    });
    let killed: Work = Box::new(move |_| {
        let result = setup_b.and_then(|()| killed_child(&second, &wasm_b));
        Attempt::result(result.map_err(|why| format!("{host}: {why}")))
    });
    vec![(malformed_name, malformed), (killed_name, killed)]
}

fn lookup(key: &[u8]) -> Request {
    Request::one("lookup", key, seed_store(), Limits::default())
}

/// A good request line with `id`, as JSON to spoil.
fn good(id: u64, wasm: &Path) -> Value {
    serde_json::to_value(WireRequest::new(id, wasm.to_owned(), &lookup(b"hello"))).expect("JSON")
}

fn answer(host: &ProtocolHost, line: &str) -> Result<WireAnswer, String> {
    let text = host.ask_line(line, WAIT)?;
    serde_json::from_str(&text).map_err(|error| format!("answered `{}`: {error}", text.trim_end()))
}

/// Each spoilt request gets an error answer of its kind, with its id when it had one; the
/// host goes on answering good requests correctly, including several calls on one instance.
fn malformed_requests(host: &ProtocolHost, wasm: &Path) -> Result<(), String> {
    for (what, line, kind, id) in spoilt_requests(wasm) {
        let answer = answer(host, &line).map_err(|why| format!("{what}: {why}"))?;
        let error = answer
            .error
            .as_ref()
            .ok_or_else(|| format!("{what}: answered without an error: {answer:?}"))?;
        if error.kind != kind || answer.id != id || answer.protocol != VERSION {
            return Err(format!(
                "{what}: expected a {kind:?} error with id {id:?} in protocol {VERSION}, got {answer:?}"
            ));
        }
        if answer.results.is_some() {
            return Err(format!("{what}: an error answer with results: {answer:?}"));
        }
    }
    still_answers(host, wasm)
}

/// Lines a host must refuse: what is wrong with each, the line, the error kind and the id the
/// answer must carry.
fn spoilt_requests(wasm: &Path) -> Vec<(&'static str, String, ErrorKind, Option<u64>)> {
    let spoil = |id: u64, edit: &dyn Fn(&mut Value)| {
        let mut request = good(id, wasm);
        edit(&mut request);
        request.to_string()
    };
    vec![
        (
            "a line that is not JSON",
            "{not json".to_owned(),
            ErrorKind::MalformedRequest,
            None,
        ),
        (
            "an unknown field",
            spoil(2, &|r| r["wams"] = json!("typo")),
            ErrorKind::MalformedRequest,
            Some(2),
        ),
        (
            "a missing field",
            spoil(3, &|r| {
                r.as_object_mut().expect("an object").remove("limits");
            }),
            ErrorKind::MalformedRequest,
            Some(3),
        ),
        (
            "bad base64",
            spoil(4, &|r| r["calls"][0]["input"] = json!("@@@")),
            ErrorKind::MalformedRequest,
            Some(4),
        ),
        (
            "no calls",
            spoil(5, &|r| r["calls"] = json!([])),
            ErrorKind::MalformedRequest,
            Some(5),
        ),
        (
            "a repeated store key",
            spoil(6, &|r| {
                let first = r["store"][0].clone();
                r["store"].as_array_mut().expect("an array").push(first);
            }),
            ErrorKind::MalformedRequest,
            Some(6),
        ),
        (
            "a limit of the wrong type",
            spoil(7, &|r| r["limits"]["timeout_ms"] = json!("soon")),
            ErrorKind::MalformedRequest,
            Some(7),
        ),
        (
            "a protocol version it does not speak",
            spoil(8, &|r| r["protocol"] = json!(VERSION + 98)),
            ErrorKind::UnsupportedProtocol,
            Some(8),
        ),
        (
            "a log level that does not exist",
            spoil(9, &|r| r["log_level"] = json!("loud")),
            ErrorKind::MalformedRequest,
            Some(9),
        ),
        (
            "a request of the previous protocol version",
            spoil(10, &|r| {
                r["protocol"] = json!(VERSION - 1);
                r.as_object_mut().expect("an object").remove("log_level");
            }),
            ErrorKind::UnsupportedProtocol,
            Some(10),
        ),
    ]
}

/// After the errors: a blank line gets no answer, the next good request gets its own, and
/// several calls on one instance (one of a missing export) are answered in order.
fn still_answers(host: &ProtocolHost, wasm: &Path) -> Result<(), String> {
    let line = format!("\n{}", good(20, wasm));
    let answer = answer(host, &line)?;
    if answer.id != Some(20) {
        return Err(format!(
            "after a blank line, the answer is not to request 20: {answer:?}"
        ));
    }
    let mut request = lookup(b"hello");
    request.calls.push(Call {
        export: "lookup".into(),
        input: b"message".to_vec(),
    });
    request.calls.push(Call {
        export: "no_such_export".into(),
        input: Vec::new(),
    });
    let outcomes = host.run(wasm, &request)?;
    let store = seed_store();
    let value = |key: &[u8]| store[key].clone();
    let expected = [
        Ok(value(b"hello")),
        Ok(value(b"message")),
        Err(Failure::MissingExport {}),
    ];
    for (index, (outcome, expected)) in outcomes.iter().zip(&expected).enumerate() {
        if &outcome.result != expected {
            return Err(format!(
                "call {index} of three on one instance: expected {expected:?}, got {:?}",
                outcome.result
            ));
        }
    }
    let traced: Vec<&[u8]> = outcomes
        .iter()
        .flat_map(|o: &Outcome| o.trace.iter().map(|call| call.key.as_slice()))
        .collect();
    if traced != [&b"hello"[..], b"message"] {
        return Err(format!(
            "the traces hold the keys {traced:?}, not hello then message"
        ));
    }
    Ok(())
}

/// A child killed in the middle of a call fails that call, naming the host, and the next call
/// gets a fresh child that answers.
fn killed_child(host: &ProtocolHost, wasm: &Path) -> Result<(), String> {
    // No timeout (the default): every host must take it, and the spin ends only by the kill.
    let spin = Request::one("spin", b"", seed_store(), Limits::default());
    let result = std::thread::scope(|scope| {
        let call = scope.spawn(|| host.run(wasm, &spin));
        let started = Instant::now();
        let pid = loop {
            if let Some(&pid) = host.started().first() {
                break pid;
            }
            if started.elapsed() > WAIT {
                return Err("no child was started".to_owned());
            }
            std::thread::sleep(Duration::from_millis(10));
        };
        // Let the request reach the child and the spin begin.
        std::thread::sleep(Duration::from_millis(300));
        let killed = std::process::Command::new("kill")
            .args(["-KILL", &pid.to_string()])
            .status()
            .map_err(|error| format!("cannot run kill: {error}"))?;
        if !killed.success() {
            return Err(format!("kill -KILL {pid} failed: {killed}"));
        }
        Ok(call.join().expect("the call does not panic"))
    })?;
    match result {
        Err(why) if why.contains(host.name()) => {}
        Err(why) => return Err(format!("the failure does not name the host: {why}")),
        Ok(outcomes) => {
            return Err(format!("a killed child still answered: {outcomes:?}"));
        }
    }
    let outcomes = host.run(wasm, &lookup(b"hello"))?;
    let expected: Result<Vec<u8>, Failure> = Ok(seed_store()[&b"hello"[..]].clone());
    if outcomes.first().map(|o| &o.result) != Some(&expected) {
        return Err(format!(
            "after the kill, the next call came to {outcomes:?}"
        ));
    }
    if host.started().len() != 2 {
        return Err(format!(
            "expected a second child after the kill, started: {:?}",
            host.started()
        ));
    }
    Ok(())
}
