//! `host`: runs Extism plugins with this workspace's host functions.

use std::io::Write;
use std::process::ExitCode;

use anyhow::Context;
use clap::{Parser, Subcommand};
use host::{Plugin, Store};

/// The seed's call: what its Go host passes to `say_hello`.
const SEED_INPUT: &str = "👋 Hello from the Go Host app 🤗";

#[derive(Parser)]
#[command(about = "Run Extism plugins with env.hostMemoryGet")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Call `say_hello` as the seed's Go host does, once per plugin, with the seed's store;
    /// prints the seed's lines on stdout and the plugin's label on stderr
    Demo {
        /// Plugins to run, each as LABEL=PATH (for example rust=target/plugins/rust/conformance.wasm)
        #[arg(required = true, value_name = "LABEL=PATH", value_parser = parse_labelled)]
        plugins: Vec<(String, String)>,
    },
}

fn parse_labelled(arg: &str) -> Result<(String, String), String> {
    match arg.split_once('=') {
        Some((label, path)) if !label.is_empty() && !path.is_empty() => {
            Ok((label.to_owned(), path.to_owned()))
        }
        _ => Err(format!("expected LABEL=PATH, got `{arg}`")),
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Demo { plugins } => demo(&plugins),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}

fn demo(plugins: &[(String, String)]) -> anyhow::Result<()> {
    let mut stdout = std::io::stdout().lock();
    for (label, path) in plugins {
        eprintln!("── {label}: {path}");
        let mut plugin = Plugin::from_file(path, Store::seed())?;
        let output = plugin.call("say_hello", SEED_INPUT.as_bytes())?;
        // The seed's host prints the output as text after "🙂 "; the bytes go out unchanged.
        stdout.write_all("🙂 ".as_bytes())?;
        stdout.write_all(&output)?;
        stdout.write_all(b"\n")?;
        stdout.flush().context("cannot write to stdout")?;
    }
    Ok(())
}
