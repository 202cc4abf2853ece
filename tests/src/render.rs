//! How a call's result and host-call trace are written into a snapshot. This is where the
//! contract's normalised form of a failure lives (see CONTRACT.md, "Failures").

use crate::protocol::{Call, Failure, HostCall, LogLevel, LogLine, Outcome, Request};
use sha2::{Digest, Sha256};

/// Longest text output shown whole; longer output, and non-UTF-8 output over twice
/// `SHOWN_ENDS`, is shown by its ends.
const SHOWN_WHOLE: usize = 4096;
const SHOWN_ENDS: usize = 64;

/// A request's outcomes, one per call. One call is shown as [`call`] shows it; a sequence is
/// shown call by call, each headed by its number, export and input, and a run of consecutive
/// calls with the same export, input and rendering is shown once with its range, so 10,000
/// identical calls stay a short snapshot and a single odd one out stands out.
pub fn request(request: &Request, outcomes: &[Outcome]) -> String {
    let show_logs = request.log_level != LogLevel::Off;
    if let ([call], [outcome]) = (request.calls.as_slice(), outcomes) {
        return self::call(&call.export, outcome, show_logs);
    }
    let mut blocks = vec![format!("calls: {} on one instance", outcomes.len())];
    let rendered: Vec<(&Call, String)> = request
        .calls
        .iter()
        .zip(outcomes)
        .map(|(call, outcome)| (call, self::call(&call.export, outcome, show_logs)))
        .collect();
    let mut index = 0;
    while index < rendered.len() {
        let (call, text) = &rendered[index];
        let run = rendered[index..]
            .iter()
            .take_while(|(next, next_text)| next == call && next_text == text)
            .count();
        let numbers = if run > 1 {
            format!("calls {}-{} ({run} alike)", index + 1, index + run)
        } else {
            format!("call {}", index + 1)
        };
        blocks.push(format!(
            "{numbers}: {} {}\n{text}",
            call.export,
            shown_input(&call.input)
        ));
        index += run;
    }
    blocks.join("\n")
}

/// A call's input in a call's heading: whole when short, else its length and digest.
fn shown_input(input: &[u8]) -> String {
    if input.len() <= SHOWN_ENDS {
        format!("input {}", bytes(input))
    } else {
        format!("input of {} bytes, sha256 {}", input.len(), sha256(input))
    }
}

/// The trace first, then the logs when they are shown, then the outcome: output bytes come
/// last because they may span lines. `export` is the export that was called. Logs are shown
/// when the request set a log level, and whenever a host received some anyway.
pub fn call(export: &str, outcome: &Outcome, show_logs: bool) -> String {
    let trace = match outcome.result {
        // How far a call gets before its deadline depends on the machine, not the language.
        Err(Failure::Timeout {}) => "host calls: not compared after a timeout".to_owned(),
        _ => self::trace(&outcome.trace),
    };
    let logs = match &outcome.logs {
        Some(lines) if show_logs || !lines.is_empty() => format!("\n{}", self::logs(lines)),
        None if show_logs => "\nlogs: not visible to this host".to_owned(),
        _ => String::new(),
    };
    format!("{trace}{logs}\n{}", self::outcome(export, &outcome.result))
}

/// One line per log line the host received, with its level.
fn logs(lines: &[LogLine]) -> String {
    let mut shown = vec![format!("logs: {}", lines.len())];
    for line in lines {
        shown.push(format!("  {} {}", line.level.name(), bytes(&line.text)));
    }
    shown.join("\n")
}

fn outcome(export: &str, result: &Result<Vec<u8>, Failure>) -> String {
    let failure = match result {
        Ok(output) => return format!("outcome: ok\noutput: {}", self::output(output)),
        Err(failure) => failure,
    };
    match failure {
        Failure::Plugin { message } => {
            format!("outcome: plugin error\nmessage: {}", shown_message(message))
        }
        // Compilers may end a module's panic by trapping or by a WASI exit with a non-zero
        // code (a standard Go command exits with 2). The contract only asks that the call is
        // aborted.
        Failure::Trap { .. } | Failure::Exit { .. } => "outcome: aborted".to_owned(),
        Failure::ReturnCode { code } => {
            format!("outcome: returned {code} without an error message")
        }
        Failure::HostFunction { message } => {
            format!(
                "outcome: host function error\nmessage: {}",
                shown_message(message)
            )
        }
        Failure::Timeout {} => "outcome: timed out".to_owned(),
        Failure::OutOfMemory {} => "outcome: out of memory".to_owned(),
        Failure::OutOfFuel {} => "outcome: out of fuel".to_owned(),
        Failure::KeyTooLong { len, max } => {
            format!("outcome: key too long\nkey: {len} bytes, limit {max}")
        }
        Failure::ValueTooLong { len, max } => {
            format!("outcome: value too long\nvalue: {len} bytes, limit {max}")
        }
        Failure::MissingExport {} => format!("outcome: no export {export}"),
        // The message is the SDK's own wording, never compared.
        Failure::Load { .. } => "outcome: the plugin could not be loaded".to_owned(),
    }
}

/// A message as it is, but for control characters other than newline and tab, which are
/// escaped (`\u{0}`): a snapshot stays text, and a NUL or a carriage return stays visible.
fn shown_message(message: &str) -> String {
    message
        .chars()
        .map(|c| match c {
            '\n' | '\t' => c.to_string(),
            c if c.is_control() => c.escape_default().to_string(),
            c => c.to_string(),
        })
        .collect()
}

/// One line per host call; a run of identical calls is one line with its count, so a case with
/// 10,000 calls still has a short snapshot.
fn trace(calls: &[HostCall]) -> String {
    let mut lines = vec![format!("host calls: {}", calls.len())];
    let mut index = 0;
    while index < calls.len() {
        let call = &calls[index];
        let run = calls[index..]
            .iter()
            .take_while(|next| *next == call)
            .count();
        let times = if run > 1 {
            format!(" x{run}")
        } else {
            String::new()
        };
        let key = if call.key.len() > SHOWN_ENDS {
            let head = &call.key[..SHOWN_ENDS / 2];
            let tail = &call.key[call.key.len() - SHOWN_ENDS / 2..];
            format!(
                "of {} bytes, {} ... {}",
                call.key.len(),
                bytes(head),
                bytes(tail)
            )
        } else {
            bytes(&call.key)
        };
        lines.push(format!(
            "  {} key {key} -> {} bytes{times}",
            call.function, call.value_len
        ));
        index += run;
    }
    lines.join("\n")
}

/// Text as a quoted string when it is UTF-8, otherwise hex.
fn bytes(bytes: &[u8]) -> String {
    match std::str::from_utf8(bytes) {
        Ok(text) => format!("{text:?}"),
        Err(_) => format!("hex {}", hex(bytes)),
    }
}

/// Lowercase hex digits, two per byte, as case files write bytes.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|byte| format!("{byte:02x}")).collect()
}

/// The length and SHA-256 of `output` come first: insta trims and normalises line endings when
/// it compares text, so the header is what makes the snapshot byte-exact.
fn output(output: &[u8]) -> String {
    let header = format!("{} bytes, sha256 {}", output.len(), sha256(output));
    match std::str::from_utf8(output) {
        Ok(text) if output.len() <= SHOWN_WHOLE => format!("{header}\n{text}"),
        _ if output.len() <= 2 * SHOWN_ENDS => format!("{header}\nbytes: {}", bytes(output)),
        _ => {
            let head = &output[..output.len().min(SHOWN_ENDS)];
            let tail = &output[output.len().saturating_sub(SHOWN_ENDS)..];
            format!(
                "{header}\nfirst {} bytes: {}\nlast {} bytes: {}",
                head.len(),
                bytes(head),
                tail.len(),
                bytes(tail),
            )
        }
    }
}

fn sha256(bytes: &[u8]) -> String {
    hex(&Sha256::digest(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_in_messages_are_escaped_but_newlines_and_tabs_are_not() {
        let failure = Failure::Plugin {
            message: "one\0two\r\nthree\tfour \u{1b}".to_owned(),
        };
        assert_eq!(
            outcome("fail", &Err(failure)),
            "outcome: plugin error\nmessage: one\\u{0}two\\r\nthree\tfour \\u{1b}"
        );
    }

    fn ok(output: &[u8], logs: Option<Vec<LogLine>>) -> Outcome {
        Outcome {
            result: Ok(output.to_vec()),
            trace: Vec::new(),
            logs,
        }
    }

    #[test]
    fn a_sequence_shows_runs_of_alike_calls_once_and_an_odd_one_out_alone() {
        let mut request = Request::one("var_count", b"", Default::default(), Default::default());
        request.calls = vec![request.calls[0].clone(); 4];
        let outcomes = [
            ok(b"same", Some(vec![])),
            ok(b"same", Some(vec![])),
            ok(b"odd", Some(vec![])),
            ok(b"same", Some(vec![])),
        ];
        let shown = super::request(&request, &outcomes);
        assert!(shown.starts_with("calls: 4 on one instance\ncalls 1-2 (2 alike): var_count input \"\"\nhost calls: 0\noutcome: ok"), "{shown}");
        assert!(
            shown.contains(
                "\ncall 3: var_count input \"\"\nhost calls: 0\noutcome: ok\noutput: 3 bytes"
            ),
            "{shown}"
        );
        assert!(shown.contains("\ncall 4: var_count"), "{shown}");
    }

    #[test]
    fn logs_are_shown_when_a_level_is_set_or_when_some_arrived() {
        let line = LogLine {
            level: LogLevel::Warn,
            text: b"warn: hi".to_vec(),
        };
        let shown = call("log_levels", &ok(b"", Some(vec![line.clone()])), true);
        assert!(
            shown.starts_with("host calls: 0\nlogs: 1\n  warn \"warn: hi\"\noutcome: ok"),
            "{shown}"
        );
        assert!(call("log_levels", &ok(b"", None), true).contains("logs: not visible to this host"));
        assert!(!call("log_levels", &ok(b"", None), false).contains("logs"));
        assert!(!call("log_levels", &ok(b"", Some(vec![])), false).contains("logs"));
        // A host that hands over lines nobody asked for shows them.
        assert!(call("log_levels", &ok(b"", Some(vec![line])), false).contains("logs: 1"));
    }
}
