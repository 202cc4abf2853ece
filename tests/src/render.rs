//! How a call's result and host-call trace are written into a snapshot. This is where the
//! contract's normalised form of a failure lives (see CONTRACT.md, "Failures").

use crate::protocol::{Failure, HostCall, Outcome};
use sha2::{Digest, Sha256};

/// Longest text output shown whole; longer output, and non-UTF-8 output over twice
/// `SHOWN_ENDS`, is shown by its ends.
const SHOWN_WHOLE: usize = 4096;
const SHOWN_ENDS: usize = 64;

/// The trace first, then the outcome: output bytes come last because they may span lines.
/// `export` is the export that was called.
pub fn call(export: &str, outcome: &Outcome) -> String {
    let trace = match outcome.result {
        // How far a call gets before its deadline depends on the machine, not the language.
        Err(Failure::Timeout {}) => "host calls: not compared after a timeout".to_owned(),
        _ => self::trace(&outcome.trace),
    };
    format!("{trace}\n{}", self::outcome(export, &outcome.result))
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
    let digest: String = Sha256::digest(output)
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect();
    let header = format!("{} bytes, sha256 {digest}", output.len());
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
}
