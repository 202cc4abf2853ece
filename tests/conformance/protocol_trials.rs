//! Each protocol host checked against docs/protocol.md itself, with a module of its own and a
//! child of its own (so nothing here disturbs the case trials' pools):
//! `protocol::malformed_requests::<host>` sends lines a host must refuse, and well-formed ones it
//! must answer, `protocol::unusable_modules::<host>` names module files a host must not read,
//! and `protocol::killed_child::<host>` kills the child in the middle of a call.

use std::path::Path;
use std::time::{Duration, Instant};

use conformance::driver::{Driver, ProtocolHost};
use conformance::protocol::{
    seed_store, Call, ErrorKind, Failure, Limits, Link, Outcome, Request, WireAnswer, WireRequest,
    WireResult, MODULE_MAX_BYTES, VERSION,
};
use serde_json::{json, Value};
use xtask::Host;

use crate::floor::protocol_host;
use crate::judge::{Attempt, Listed};

const TRIALS: [&str; 3] = [
    "protocol::malformed_requests",
    "protocol::unusable_modules",
    "protocol::killed_child",
];

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
pub fn trial_names(host: &Host) -> [String; 3] {
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
    let (first, second, third) = (make(root), make(root), make(root));
    let (wasm_a, wasm_b, wasm_c) = (wasm.clone(), wasm.clone(), wasm);
    let (setup_b, setup_c) = (setup.clone(), setup.clone());
    let dir = root.join("target/protocol");
    let [malformed_name, unusable_name, killed_name] = trial_names(host);
    let malformed: Work = Box::new(move |_| {
        let result = setup.and_then(|()| malformed_requests(&first, &wasm_a));
        Attempt::result(result.map_err(|why| format!("{host}: {why}")))
    });
    let unusable: Work = Box::new(move |_| {
        let result = setup_c.and_then(|()| unusable_modules(&third, &wasm_c, &dir));
        Attempt::result(result.map_err(|why| format!("{host}: {why}")))
    });
    let killed: Work = Box::new(move |_| {
        let result = setup_b.and_then(|()| killed_child(&second, &wasm_b));
        Attempt::result(result.map_err(|why| format!("{host}: {why}")))
    });
    vec![
        (malformed_name, malformed),
        (unusable_name, unusable),
        (killed_name, killed),
    ]
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

/// A good request line with `id`, spoilt by `edit`.
fn spoil(wasm: &Path, id: u64, edit: &dyn Fn(&mut Value)) -> String {
    let mut request = good(id, wasm);
    edit(&mut request);
    request.to_string()
}

/// Lines a host must refuse: what is wrong with each, the line, the error kind and the id the
/// answer must carry.
fn spoilt_requests(wasm: &Path) -> Vec<(&'static str, String, ErrorKind, Option<u64>)> {
    let spoil = |id: u64, edit: &dyn Fn(&mut Value)| spoil(wasm, id, edit);
    let mut spoilt = vec![
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
                r.as_object_mut().expect("an object").remove("links");
            }),
            ErrorKind::UnsupportedProtocol,
            Some(10),
        ),
    ];
    spoilt.extend(spoilt_links(wasm));
    spoilt
}

/// Lines of version 3's own that a host must refuse: a line nested too deep, and bad links.
fn spoilt_links(wasm: &Path) -> Vec<(&'static str, String, ErrorKind, Option<u64>)> {
    let spoil = |id: u64, edit: &dyn Fn(&mut Value)| spoil(wasm, id, edit);
    vec![
        (
            "a line nested 200,000 arrays deep",
            format!("{}{}", "[".repeat(200_000), "]".repeat(200_000)),
            ErrorKind::MalformedRequest,
            None,
        ),
        (
            "a link with an empty name",
            spoil(11, &|r| {
                r["links"] = json!([{"name": "", "wasm": r["wasm"]}])
            }),
            ErrorKind::MalformedRequest,
            Some(11),
        ),
        (
            "a link named main",
            spoil(12, &|r| {
                r["links"] = json!([{"name": "main", "wasm": r["wasm"]}])
            }),
            ErrorKind::MalformedRequest,
            Some(12),
        ),
        (
            "two links of one name",
            spoil(13, &|r| {
                let link = json!({"name": "lib", "wasm": r["wasm"]});
                r["links"] = json!([link.clone(), link]);
            }),
            ErrorKind::MalformedRequest,
            Some(13),
        ),
        (
            "a link with an unknown field",
            spoil(14, &|r| {
                r["links"] = json!([{"name": "lib", "wasm": r["wasm"], "hash": "00"}]);
            }),
            ErrorKind::MalformedRequest,
            Some(14),
        ),
    ]
}

/// Module paths a host must check before it opens them (docs/protocol.md, "Module files"): each
/// request gets a `load` failure for each of its two calls, in time, and the host then answers
/// a good request. `dir` holds the FIFO and the oversized file this makes.
fn unusable_modules(host: &ProtocolHost, wasm: &Path, dir: &Path) -> Result<(), String> {
    let fifo = dir.join(format!("fifo-{}", host.name()));
    let sparse = dir.join(format!("over-the-cap-{}.wasm", host.name()));
    let made = (|| -> std::io::Result<()> {
        let _ = std::fs::remove_file(&fifo);
        let path = std::ffi::CString::new(fifo.as_os_str().as_encoded_bytes())?;
        // SAFETY: a NUL-terminated path; mkfifo reads it and nothing else.
        if unsafe { libc::mkfifo(path.as_ptr(), 0o600) } != 0 {
            return Err(std::io::Error::last_os_error());
        }
        // Sparse: no disk is used for the 128 MiB.
        std::fs::File::create(&sparse)?.set_len(MODULE_MAX_BYTES + 1)
    })();
    made.map_err(|error| format!("cannot make the FIFO and the oversized file: {error}"))?;
    let cases: [(&str, &Path, Option<&Path>); 7] = [
        ("/dev/zero", Path::new("/dev/zero"), None),
        ("a FIFO with no writer", &fifo, None),
        ("a directory", dir, None),
        ("a missing file", &dir.join("no-such-module.wasm"), None),
        ("a file one byte over the cap", &sparse, None),
        (
            "a good module linking /dev/zero",
            wasm,
            Some(Path::new("/dev/zero")),
        ),
        ("a good module linking a FIFO", wasm, Some(&fifo)),
    ];
    let mut result = Ok(());
    for (what, main, link) in cases {
        let mut request = lookup(b"hello");
        request.calls.push(request.calls[0].clone());
        if let Some(link) = link {
            let wasm = link.to_owned();
            request.links.push(Link {
                name: "lib".into(),
                wasm,
            });
        }
        // Asked with this trial's deadline: a host reading a device that never ends would
        // otherwise be waited for as long as any request without a timeout.
        let line = serde_json::to_string(&WireRequest::new(30, main.to_owned(), &request));
        let answer = answer(host, &line.expect("JSON")).map_err(|why| format!("{what}: {why}"));
        let loaded = answer.and_then(|answer| {
            let load = |r: &WireResult| matches!(r.failure, Some(Failure::Load { .. }));
            match &answer.results {
                Some(results) if results.len() == 2 && results.iter().all(load) => Ok(()),
                _ => Err(format!(
                    "{what}: expected a load failure of both calls, got {answer:?}"
                )),
            }
        });
        if let Err(why) = loaded {
            result = Err(why);
            break;
        }
    }
    let _ = std::fs::remove_file(&fifo);
    let _ = std::fs::remove_file(&sparse);
    result?;
    let outcomes = host.run(wasm, &lookup(b"hello"))?;
    let expected: Result<Vec<u8>, Failure> = Ok(seed_store()[&b"hello"[..]].clone());
    if outcomes.first().map(|o| &o.result) != Some(&expected) {
        return Err(format!("afterwards, a good call came to {outcomes:?}"));
    }
    Ok(())
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
