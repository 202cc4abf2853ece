//! `matrix call`'s command line: the module, the exports, and `host call`'s inputs and options
//! (parsed by `suite::cli`, as `host call` parses them), turned into the protocol's request.

use std::collections::BTreeMap;
use std::path::PathBuf;

use clap::{Args, ValueEnum};
use suite::cli;
use suite::protocol::{Call, Limits, LogLevel, Request, Wasi};

use crate::matrix::exit::{Exit, Fatal};

/// The most calls one request may make, as the case files allow.
const MAX_CALLS: u64 = 100_000;

#[derive(Args, Debug)]
pub struct CallArgs {
    /// The plugin: a WebAssembly module, or its text in a `.wat` file
    pub wasm: PathBuf,
    /// The exports to call, in order, on one instance of the plugin
    #[arg(required = true, value_name = "EXPORT")]
    pub exports: Vec<String>,
    /// The input of every call, as text
    #[arg(long, value_name = "TEXT", conflicts_with = "input_file")]
    input: Option<String>,
    /// Read the input from FILE (`-` for stdin). With neither input flag, stdin is read unless
    /// it is a terminal
    #[arg(long, value_name = "FILE")]
    input_file: Option<PathBuf>,
    /// An Extism config entry the plugin can read (repeatable)
    #[arg(long = "config", value_name = "KEY=VALUE", value_parser = cli::parse_set)]
    configs: Vec<(String, String)>,
    /// Give the plugin WASI: `auto` does when a module imports wasi_snapshot_preview1
    #[arg(long, value_name = "WHEN", value_enum, default_value_t = WasiFlag::Auto)]
    wasi: WasiFlag,
    /// The plugin's log lines at this level and above are part of each host's outcome:
    /// off, error, warn, info, debug or trace
    #[arg(long, value_name = "LEVEL", default_value = "off", value_parser = log_level)]
    log_level: LogLevel,
    /// The store behind env.hostMemoryGet: a JSON or TOML object of string keys to string
    /// values. Without it, the seed's two entries (hello, message)
    #[arg(long, value_name = "FILE")]
    store: Option<PathBuf>,
    /// Add or replace a store entry (repeatable)
    #[arg(long = "set", value_name = "KEY=VALUE", value_parser = cli::parse_set)]
    sets: Vec<(String, String)>,
    /// Interrupt a call that runs longer than this (500ms, 2s, 1m) [default: none, since the
    /// Node.js and Java SDKs have no timeout and refuse a request that sets one]
    #[arg(long, value_name = "DURATION", value_parser = cli::duration)]
    timeout: Option<std::time::Duration>,
    /// Cap the growth of the plugin's memory: pages of 64 KiB (48) or a size (3MiB)
    /// [default: 256MiB]
    #[arg(long, value_name = "SIZE", value_parser = cli::memory_pages)]
    memory_max: Option<u32>,
    /// The longest key hostMemoryGet reads (bytes, or 4KiB, 1MiB) [default: 1MiB]
    #[arg(long, value_name = "SIZE", value_parser = cli::bytes)]
    max_key_len: Option<u64>,
    /// The longest value hostMemoryGet hands out (bytes, or 4KiB, 1MiB) [default: 64MiB]
    #[arg(long, value_name = "SIZE", value_parser = cli::bytes)]
    max_value_len: Option<u64>,
    /// Make the calls N times over, all on the one instance
    #[arg(long, value_name = "N", default_value_t = 1,
          value_parser = clap::value_parser!(u32).range(1..))]
    times: u32,
    /// Link a module (`.wasm` or `.wat`) beside the plugin, which imports its exports by NAME
    /// (repeatable; names are distinct, not empty and not `main`)
    #[arg(long = "link", value_name = "NAME=WASM", value_parser = cli::parse_link)]
    pub links: Vec<(String, PathBuf)>,
    /// Only these of the table's hosts (repeat or comma-separate); each must run. Every --host
    /// is asked too [default: every host of the table, skipping those that cannot be built]
    #[arg(long = "hosts", value_name = "HOST", value_delimiter = ',')]
    pub only: Vec<String>,
    /// A host outside the table that speaks docs/protocol.md, run as `sh -c COMMAND` from the
    /// current directory (repeatable), e.g. mine='target/hosts/go-host/host-go serve'
    #[arg(long = "host", value_name = "NAME=COMMAND", value_parser = parse_host)]
    pub given: Vec<(String, String)>,
    /// Run the hosts as they were last built, without building stale ones first
    #[arg(long)]
    pub no_build: bool,
    /// Print each host's time from its start to its ready and its answer on stderr
    #[arg(long)]
    pub timings: bool,
    /// Print the outcome as JSON on stdout: each host's rendering or error and times, the
    /// groups, the diffs, the skipped hosts, whether every host agrees
    #[arg(long)]
    pub json: bool,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
enum WasiFlag {
    Auto,
    On,
    Off,
}

fn log_level(name: &str) -> Result<LogLevel, String> {
    LogLevel::from_name(name).ok_or_else(|| {
        let names: Vec<&str> = LogLevel::ALL.iter().map(|level| level.name()).collect();
        format!("`{name}` is not a log level: {}", names.join(", "))
    })
}

/// `--host NAME=COMMAND`: split at the first `=`; neither part may be empty.
fn parse_host(arg: &str) -> Result<(String, String), String> {
    match arg.split_once('=') {
        Some((name, command)) if !name.is_empty() && !command.trim().is_empty() => {
            Ok((name.to_owned(), command.to_owned()))
        }
        _ => Err(format!(
            "expected NAME=COMMAND (a protocol host's command line), got `{arg}`"
        )),
    }
}

impl CallArgs {
    /// The request every host is sent: the calls, N times over, with the input, config, WASI,
    /// log level, store and limits asked for. `links` are the linked modules, ready. A store or
    /// input file that cannot be read is [`Exit::BadFile`].
    pub fn request(&self, links: Vec<suite::protocol::Link>) -> Result<Request, Fatal> {
        let calls = self.exports.len() as u64 * u64::from(self.times);
        if calls > MAX_CALLS {
            let message = format!("{calls} calls in one request; at most {MAX_CALLS}");
            return Err(Fatal::new(Exit::Usage, message));
        }
        let store = cli::store(self.store.as_deref(), &self.sets)
            .map_err(|message| Fatal::new(Exit::BadFile, message))?;
        let input = cli::read_input(self.input.as_deref(), self.input_file.as_deref())
            .map_err(|message| Fatal::new(Exit::BadFile, message))?;
        let defaults = Limits::default();
        let sequence = self.exports.iter().map(|export| Call {
            export: export.clone(),
            input: input.clone(),
        });
        let sequence: Vec<Call> = sequence.collect();
        Ok(Request {
            links,
            wasi: match self.wasi {
                WasiFlag::Auto => Wasi::Auto,
                WasiFlag::On => Wasi::On,
                WasiFlag::Off => Wasi::Off,
            },
            config: self.configs.iter().cloned().collect::<BTreeMap<_, _>>(),
            log_level: self.log_level,
            store,
            limits: Limits {
                // Rounded up: a timeout under a millisecond is not no time at all.
                timeout_ms: self
                    .timeout
                    .map(|t| t.as_nanos().div_ceil(1_000_000) as u64),
                memory_max_pages: self.memory_max.or(defaults.memory_max_pages),
                max_key_len: self.max_key_len.or(defaults.max_key_len),
                max_value_len: self.max_value_len.or(defaults.max_value_len),
            },
            calls: (0..self.times).flat_map(|_| sequence.clone()).collect(),
        })
    }
}
