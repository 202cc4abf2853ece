//! `host demo`: the seed's call, through every plugin given.

use std::io::Write;

use host::{Plugin, Store};

use crate::exit::{stdout_result, Fatal};

/// The seed's call: what its Go host passes to `say_hello`.
const SEED_INPUT: &str = "👋 Hello from the Go Host app 🤗";

pub fn run(plugins: &[(String, String)]) -> Result<(), Fatal> {
    let mut stdout = std::io::stdout().lock();
    for (label, path) in plugins {
        eprintln!("── {label}: {path}");
        let mut plugin = Plugin::from_file(path, Store::seed())?;
        let output = plugin.call("say_hello", SEED_INPUT.as_bytes())?;
        // The seed's host prints the output as text after "🙂 "; the bytes go out unchanged.
        let written = ["🙂 ".as_bytes(), &output[..], b"\n"]
            .iter()
            .try_for_each(|part| stdout.write_all(part))
            .and_then(|()| stdout.flush());
        stdout_result(written)?;
    }
    Ok(())
}

/// `LABEL=PATH`
pub fn parse_labelled(arg: &str) -> Result<(String, String), String> {
    match arg.split_once('=') {
        Some((label, path)) if !label.is_empty() && !path.is_empty() => {
            Ok((label.to_owned(), path.to_owned()))
        }
        _ => Err(format!("expected LABEL=PATH, got `{arg}`")),
    }
}
