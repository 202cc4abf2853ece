//! `host`: runs Extism plugins with this workspace's host functions.

mod call;
mod demo;
mod exit;
mod serve;

use std::process::ExitCode;

use clap::error::ErrorKind;
use clap::{Parser, Subcommand, ValueEnum};

use crate::exit::{Exit, EXIT_CODES_HELP};

#[derive(Parser)]
#[command(
    about = "Run Extism plugins with env.hostMemoryGet and a key-value store",
    after_help = EXIT_CODES_HELP
)]
struct Cli {
    /// Show log lines (the plugin's own and the Extism runtime's) at this level and above on stderr
    #[arg(long, global = true, value_name = "LEVEL", value_enum, default_value_t = LogLevel::Off)]
    log_level: LogLevel,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Call one export of a plugin: its output bytes go to stdout unchanged, everything else to
    /// stderr
    #[command(after_help = EXIT_CODES_HELP)]
    Call(Box<call::CallArgs>),
    /// Call `say_hello` as the seed's Go host does, once per plugin, with the seed's store;
    /// prints the seed's lines on stdout and the plugin's label on stderr
    #[command(after_help = EXIT_CODES_HELP)]
    Demo {
        /// Plugins to run, each as LABEL=PATH (for example rust=target/plugins/rust/conformance.wasm)
        #[arg(required = true, value_name = "LABEL=PATH", value_parser = demo::parse_labelled)]
        plugins: Vec<(String, String)>,
    },
    /// Speak the conformance protocol (docs/protocol.md, version 3) on stdin and stdout: one
    /// request line in, one answer line out, until stdin ends; logs go to stderr
    Serve,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum LogLevel {
    Off,
    Error,
    Warn,
    Info,
    Debug,
    Trace,
}

fn main() -> ExitCode {
    // A panic is a bug in this program; it still ends with one line, not a backtrace.
    std::panic::set_hook(Box::new(|info| {
        let info = info.to_string().replace('\n', ": ");
        eprintln!("error: internal error (please report it): {info}")
    }));
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(error) => return usage_error(error),
    };
    if let Err(message) = start_logging(cli.log_level) {
        eprintln!("error: cannot start logging: {message}");
        return Exit::Usage.into();
    }
    let result = match cli.command {
        Command::Call(args) => call::run(*args),
        Command::Demo { plugins } => demo::run(&plugins),
        Command::Serve => serve::run(),
    };
    match result {
        Ok(()) => Exit::Ok.into(),
        Err(fatal) => {
            eprintln!("error: {}", fatal.message);
            fatal.exit.into()
        }
    }
}

/// Help and version go out whole; a usage error is clap's first line and a pointer to `--help`.
fn usage_error(error: clap::Error) -> ExitCode {
    if matches!(
        error.kind(),
        ErrorKind::DisplayHelp | ErrorKind::DisplayVersion
    ) {
        let _ = error.print();
        return Exit::Ok.into();
    }
    let rendered = error.render().to_string();
    let first = rendered.lines().next().unwrap_or("error: bad usage");
    eprintln!("{first} (see --help)");
    Exit::Usage.into()
}

fn start_logging(level: LogLevel) -> Result<(), String> {
    let filter = match level {
        LogLevel::Off => return Ok(()),
        LogLevel::Error => "error",
        LogLevel::Warn => "warn",
        LogLevel::Info => "info",
        LogLevel::Debug => "debug",
        LogLevel::Trace => "trace",
    };
    extism::set_log_callback(|line: &str| eprint!("{line}"), filter).map_err(|e| e.to_string())
}
