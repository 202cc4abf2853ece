//! `host serve`: the conformance protocol (docs/protocol.md, version 3) on stdin and stdout, as
//! the other hosts' adapters speak it. Each request line is read strictly (the version before
//! anything else, then every field present and none unknown) and run by
//! [`host::protocol::Runner`]; each gets one answer line, flushed, in order.
//!
//! The Rust host enforces every limit of the protocol's, so it never answers `unsupported_limit`.

use std::io::{BufRead, Write};
use std::os::fd::FromRawFd;
use std::panic::AssertUnwindSafe;
use std::path::PathBuf;

use host::protocol::Runner;
use serde_json::Value;
use suite::protocol::{
    ErrorKind, Link, Outcome, Request, WireAnswer, WireError, WireRequest, WireResult, VERSION,
};

use crate::exit::{Exit, Fatal};

/// The fields of `limits`: each may be `null`, none may be missing, which serde alone would
/// take for `null`.
const LIMIT_FIELDS: [&str; 4] = [
    "timeout_ms",
    "memory_max_pages",
    "max_key_len",
    "max_value_len",
];

pub fn run() -> Result<(), Fatal> {
    let answers = answers_out()?;
    serve(std::io::stdin().lock(), answers, &Runner::new())
}

/// A copy of stdout for the answers alone, with fd 1 then pointed at stderr: whatever else in
/// the process writes to stdout (a plugin's WASI output when `EXTISM_ENABLE_WASI_OUTPUT` is
/// set, say) lands on stderr instead of in the middle of an answer.
fn answers_out() -> Result<std::fs::File, Fatal> {
    // SAFETY: dup and dup2 on the process's own standard descriptors, before any thread uses
    // them; the duplicate is owned by the File alone.
    unsafe {
        let answers = libc::dup(1);
        if answers < 0 || libc::dup2(2, 1) < 0 {
            let error = std::io::Error::last_os_error();
            return Err(Fatal::new(
                Exit::BadFile,
                format!("cannot set stdout aside for the answers: {error}"),
            ));
        }
        Ok(std::fs::File::from_raw_fd(answers))
    }
}

/// Answers every request line of `input` on `output` until `input` ends. Only failing to read
/// the input or to write an answer ends it early, never what a request holds; a reader that
/// went away (a broken pipe) ends it quietly.
pub fn serve(
    mut input: impl BufRead,
    mut output: impl Write,
    runner: &Runner,
) -> Result<(), Fatal> {
    // A line can be megabytes of base64 (an input of several MiB), so no length limit.
    let mut line = Vec::new();
    loop {
        line.clear();
        let read = input
            .read_until(b'\n', &mut line)
            .map_err(|error| Fatal::new(Exit::BadFile, format!("cannot read stdin: {error}")))?;
        if read == 0 {
            return Ok(());
        }
        // A blank line is no request and gets no answer.
        if line.trim_ascii().is_empty() {
            continue;
        }
        let mut text = serde_json::to_vec(&answer(&line, runner))
            .expect("an answer has no map with keys that are not strings");
        text.push(b'\n');
        match output.write_all(&text).and_then(|()| output.flush()) {
            Err(error) if error.kind() == std::io::ErrorKind::BrokenPipe => return Ok(()),
            Err(error) => {
                let message = format!("cannot write to stdout: {error}");
                return Err(Fatal::new(Exit::BadFile, message));
            }
            Ok(()) => {}
        }
    }
}

/// A request the host will not act on: the answer's error, and the request's id if it could be
/// read.
#[derive(Debug)]
struct Refusal {
    id: Option<u64>,
    kind: ErrorKind,
    message: String,
}

fn malformed(id: Option<u64>, message: impl Into<String>) -> Refusal {
    Refusal {
        id,
        kind: ErrorKind::MalformedRequest,
        message: message.into(),
    }
}

/// The answer to one request line. A panic under it is a bug in this host, not something a
/// request may end the host with: it is answered as a request the host cannot act on.
fn answer(line: &[u8], runner: &Runner) -> WireAnswer {
    let answered = std::panic::catch_unwind(AssertUnwindSafe(|| match parse(line) {
        Ok((id, wasm, request)) => WireAnswer {
            protocol: VERSION,
            id: Some(id),
            results: Some(
                runner
                    .run(&wasm, &request)
                    .into_iter()
                    .map(result)
                    .collect(),
            ),
            error: None,
        },
        Err(refusal) => refused(refusal),
    }));
    answered.unwrap_or_else(|_| {
        refused(malformed(
            None,
            "host panicked answering the request (a bug in host; its message is on stderr)",
        ))
    })
}

fn refused(refusal: Refusal) -> WireAnswer {
    WireAnswer {
        protocol: VERSION,
        id: refusal.id,
        results: None,
        error: Some(WireError {
            kind: refusal.kind,
            message: refusal.message,
        }),
    }
}

fn result(outcome: Outcome) -> WireResult {
    let (output, failure) = match outcome.result {
        Ok(output) => (Some(output), None),
        Err(failure) => (None, Some(failure)),
    };
    WireResult {
        output,
        failure,
        trace: outcome.trace,
        logs: outcome.logs,
    }
}

/// Reads one request line: its id, the main module's path and the request. The id is read
/// first, so that every later refusal carries it, then the version, so that a request of
/// another version is refused as such whatever its fields are.
fn parse(line: &[u8]) -> Result<(u64, PathBuf, Request), Refusal> {
    // serde_json's recursion limit (128) turns a line nested 200,000 deep into an error.
    let value: Value = serde_json::from_slice(line)
        .map_err(|error| malformed(None, format!("the line is not JSON: {error}")))?;
    let Value::Object(top) = &value else {
        return Err(malformed(None, "the line is not a JSON object"));
    };
    let id = top.get("id").and_then(Value::as_u64);
    let protocol = top
        .get("protocol")
        .ok_or_else(|| malformed(id, "missing field `protocol`"))?;
    let version = protocol.as_u64().ok_or_else(|| {
        malformed(
            id,
            format!("protocol: expected a non-negative integer, got {protocol}"),
        )
    })?;
    if version != u64::from(VERSION) {
        return Err(Refusal {
            id,
            kind: ErrorKind::UnsupportedProtocol,
            message: format!("protocol {version} is not supported: host speaks protocol {VERSION}"),
        });
    }
    let missing_limit = match top.get("limits") {
        Some(Value::Object(limits)) => LIMIT_FIELDS.iter().find(|f| !limits.contains_key(**f)),
        _ => None,
    };
    let wire: WireRequest =
        serde_json::from_value(value).map_err(|error| malformed(id, error.to_string()))?;
    if let Some(field) = missing_limit {
        return Err(malformed(id, format!("missing field `limits.{field}`")));
    }
    let request = request(&wire).map_err(|why| malformed(id, why))?;
    Ok((wire.id, wire.wasm, request))
}

/// The request's checks that serde does not make: calls, store keys and link names.
fn request(wire: &WireRequest) -> Result<Request, String> {
    if wire.calls.is_empty() {
        return Err("calls: empty; a request makes at least one call".into());
    }
    for (index, entry) in wire.store.iter().enumerate() {
        if let Some(earlier) = wire.store[..index].iter().position(|e| e.key == entry.key) {
            return Err(format!(
                "store keys must be distinct: store[{index}].key repeats store[{earlier}].key"
            ));
        }
    }
    Link::check_names(&wire.links)?;
    Ok(Request {
        links: wire.links.clone(),
        wasi: wire.wasi,
        config: wire.config.clone(),
        log_level: wire.log_level,
        store: wire
            .store
            .iter()
            .map(|entry| (entry.key.clone(), entry.value.clone()))
            .collect(),
        limits: wire.limits.clone(),
        calls: wire.calls.clone(),
    })
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use serde_json::json;
    use suite::protocol::{seed_store, Failure, Limits};

    use super::*;

    /// Every answer `serve` gives to `input`, each line parsed.
    fn answers(input: &[u8]) -> Vec<WireAnswer> {
        let mut output = Vec::new();
        serve(input, &mut output, &Runner::new()).expect("serving a byte slice cannot fail");
        let text = String::from_utf8(output).expect("answers are UTF-8");
        assert!(text.is_empty() || text.ends_with('\n'), "{text}");
        text.lines()
            .map(|line| serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}")))
            .collect()
    }

    /// A good request line for the module at `wasm`, as JSON to spoil.
    fn good(id: u64, wasm: &Path) -> Value {
        let request = Request::one("lookup", b"hello", seed_store(), Limits::default());
        serde_json::to_value(WireRequest::new(id, wasm.to_owned(), &request)).unwrap()
    }

    /// The line `edit` makes of a good request gets an error of `kind` with `id`, whose message
    /// holds `says`.
    #[track_caller]
    fn check(edit: impl Fn(&mut Value), kind: ErrorKind, id: Option<u64>, says: &str) {
        let mut request = good(7, Path::new("/nowhere.wasm"));
        edit(&mut request);
        check_line(&request.to_string(), kind, id, says);
    }

    #[track_caller]
    fn check_line(line: &str, kind: ErrorKind, id: Option<u64>, says: &str) {
        let answers = answers(format!("{line}\n").as_bytes());
        let [answer] = &answers[..] else {
            panic!("one answer expected: {answers:?}")
        };
        let error = answer.error.as_ref().expect("an error answer");
        assert_eq!(
            (answer.protocol, answer.id, error.kind),
            (VERSION, id, kind)
        );
        assert!(error.message.contains(says), "{}", error.message);
        assert!(answer.results.is_none());
    }

    #[test]
    fn every_kind_of_bad_line_gets_its_error_with_the_id_it_had() {
        use ErrorKind::{MalformedRequest as Malformed, UnsupportedProtocol as Unsupported};
        check_line("{not json", Malformed, None, "not JSON");
        check_line("[1, 2]", Malformed, None, "not a JSON object");
        check(
            |r| r["wams"] = json!("typo"),
            Malformed,
            Some(7),
            "unknown field `wams`",
        );
        let remove = |field: &'static str| {
            move |r: &mut Value| {
                r.as_object_mut().unwrap().remove(field);
            }
        };
        check(remove("links"), Malformed, Some(7), "missing field `links`");
        check(
            remove("protocol"),
            Malformed,
            Some(7),
            "missing field `protocol`",
        );
        check(remove("id"), Malformed, None, "missing field `id`");
        check(
            |r| {
                r["limits"]
                    .as_object_mut()
                    .unwrap()
                    .remove("timeout_ms")
                    .map(drop)
                    .unwrap()
            },
            Malformed,
            Some(7),
            "missing field `limits.timeout_ms`",
        );
        check(
            |r| r["limits"]["timeout_ms"] = json!("soon"),
            Malformed,
            Some(7),
            "invalid type",
        );
        check(
            |r| r["calls"][0]["input"] = json!("@@@"),
            Malformed,
            Some(7),
            "bad base64",
        );
        check(
            |r| r["calls"] = json!([]),
            Malformed,
            Some(7),
            "at least one call",
        );
        check(
            |r| r["log_level"] = json!("loud"),
            Malformed,
            Some(7),
            "unknown variant",
        );
        check(
            |r| {
                let first = r["store"][0].clone();
                r["store"].as_array_mut().unwrap().push(first);
            },
            Malformed,
            Some(7),
            "store[2].key repeats store[0].key",
        );
        check(
            |r| r["protocol"] = json!(2),
            Unsupported,
            Some(7),
            "host speaks protocol 3",
        );
        // The version is refused before the fields: a version 2 request has no `links`.
        check(
            |r| {
                r["protocol"] = json!(2);
                r.as_object_mut().unwrap().remove("links");
            },
            Unsupported,
            Some(7),
            "protocol 2",
        );
        check(
            |r| r["protocol"] = json!("3"),
            Malformed,
            Some(7),
            "protocol: expected",
        );
    }

    #[test]
    fn link_names_are_checked_as_the_protocol_says() {
        let link = |name: &str| json!({"name": name, "wasm": "/lib.wasm"});
        let malformed = ErrorKind::MalformedRequest;
        check(
            |r| r["links"] = json!([link("")]),
            malformed,
            Some(7),
            "name is empty",
        );
        check(
            |r| r["links"] = json!([link("main")]),
            malformed,
            Some(7),
            "`main`",
        );
        let twice = json!([link("lib"), link("lib")]);
        check(
            |r| r["links"] = twice.clone(),
            malformed,
            Some(7),
            "given twice",
        );
        let extra = json!([{"name": "lib", "wasm": "/lib.wasm", "hash": "00"}]);
        check(
            |r| r["links"] = extra.clone(),
            malformed,
            Some(7),
            "unknown field `hash`",
        );
    }

    #[test]
    fn a_line_nested_200000_deep_is_malformed_not_a_crash() {
        let line = format!("{}{}", "[".repeat(200_000), "]".repeat(200_000));
        check_line(&line, ErrorKind::MalformedRequest, None, "recursion limit");
        let objects = "{\"a\":".repeat(200_000);
        check_line(&objects, ErrorKind::MalformedRequest, None, "not JSON");
    }

    #[test]
    fn blank_lines_get_no_answer_and_the_end_of_input_ends_the_host() {
        assert!(answers(b"").is_empty());
        assert!(answers(b"\n  \r\n\t\n").is_empty());
        let bad = answers(b"\n{\n\n[\n");
        assert_eq!(bad.len(), 2);
    }

    fn module(name: &str, wat: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("host-serve-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join(name);
        std::fs::write(&path, wat::parse_str(wat).unwrap()).unwrap();
        path
    }

    /// `lookup` hands back the store's value for its input; `twice` calls a linked module's
    /// `double`.
    const LOOKUP: &str = r#"(module
      (import "extism:host/env" "input_offset" (func $input (result i64)))
      (import "extism:host/env" "length" (func $length (param i64) (result i64)))
      (import "extism:host/env" "output_set" (func $output_set (param i64 i64)))
      (import "env" "hostMemoryGet" (func $get (param i64) (result i64)))
      (func (export "lookup") (result i32) (local $v i64)
        (local.set $v (call $get (call $input)))
        (call $output_set (local.get $v) (call $length (local.get $v)))
        (i32.const 0)))"#;

    #[test]
    fn requests_are_run_in_order_and_each_call_answered() {
        let wasm = module("lookup.wasm", LOOKUP);
        let mut three = good(2, &wasm);
        let calls = json!([
            {"export": "lookup", "input": "aGVsbG8="},
            {"export": "lookup", "input": "bWVzc2FnZQ=="},
            {"export": "nope", "input": ""}
        ]);
        three["calls"] = calls;
        let input = format!("{}\n\n{three}", good(1, &wasm));
        let answers = answers(input.as_bytes());
        assert_eq!(
            answers.iter().map(|a| a.id).collect::<Vec<_>>(),
            [Some(1), Some(2)]
        );
        let outcomes: Vec<Outcome> = answers
            .into_iter()
            .flat_map(|answer| answer.results.expect("results"))
            .map(|result| result.into_outcome().expect("a well-formed result"))
            .collect();
        let store = seed_store();
        assert_eq!(outcomes[0].result, Ok(store[&b"hello"[..]].clone()));
        assert_eq!(outcomes[0].trace[0].key, b"hello");
        assert_eq!(outcomes[2].result, Ok(store[&b"message"[..]].clone()));
        assert_eq!(outcomes[3].result, Err(Failure::MissingExport {}));
    }

    #[test]
    fn a_module_file_that_is_not_a_regular_file_is_a_load_failure_of_every_call() {
        let wasm = module("lookup-for-links.wasm", LOOKUP);
        let mut on_dev_zero = good(1, Path::new("/dev/zero"));
        on_dev_zero["calls"] =
            json!([{"export": "lookup", "input": ""}, {"export": "lookup", "input": ""}]);
        let mut linking = good(2, &wasm);
        linking["links"] = json!([{"name": "lib", "wasm": "/dev/zero"}]);
        let input = format!("{on_dev_zero}\n{linking}\n");
        for answer in answers(input.as_bytes()) {
            let results = answer.results.expect("results");
            assert!(!results.is_empty());
            for result in results {
                match result.failure {
                    Some(Failure::Load { message }) => {
                        assert!(
                            message.contains("/dev/zero: not a regular file"),
                            "{message}"
                        )
                    }
                    other => panic!("expected a load failure, got {other:?}"),
                }
            }
        }
    }
}
