//! `host call`: one export of any plugin, with this workspace's host functions, like
//! `extism call`.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use clap::{Args, ValueEnum};
use host::{CompiledPlugin, HostCall, Limits, Link, Options, Store, Wasi};
use suite::cli;

use crate::exit::{stdout_result, Exit, Fatal};

#[derive(Args)]
pub struct CallArgs {
    /// The plugin: a WebAssembly module
    wasm: PathBuf,
    /// The export to call
    export: String,
    /// The input, as text
    #[arg(long, value_name = "TEXT", conflicts_with = "input_file")]
    input: Option<String>,
    /// Read the input from FILE (`-` for stdin). With neither input flag, stdin is read unless
    /// it is a terminal
    #[arg(long, value_name = "FILE")]
    input_file: Option<PathBuf>,
    /// The store behind hostMemoryGet: a JSON or TOML object of string keys to string values.
    /// Without it, the seed's two entries (hello, message)
    #[arg(long, value_name = "FILE")]
    store: Option<PathBuf>,
    /// Add or replace a store entry (repeatable)
    #[arg(long = "set", value_name = "KEY=VALUE", value_parser = cli::parse_set)]
    sets: Vec<(String, String)>,
    /// Give the plugin WASI: `auto` does when the module imports wasi_snapshot_preview1
    #[arg(long, value_name = "WHEN", value_enum, default_value_t = WasiFlag::Auto,
          num_args = 0..=1, default_missing_value = "on")]
    wasi: WasiFlag,
    /// Interrupt a call that runs longer than this (500ms, 2s, 1m) [default: 30s]
    #[arg(long, value_name = "DURATION", value_parser = cli::duration)]
    timeout: Option<Duration>,
    /// Cap the growth of the plugin's memory: pages of 64 KiB (48) or a size (3MiB)
    /// [default: 256MiB]
    #[arg(long, value_name = "SIZE", value_parser = cli::memory_pages)]
    memory_max: Option<u32>,
    /// Stop a call after this much wasmtime fuel (about one unit per wasm instruction)
    /// [default: no fuel limit]
    #[arg(long, value_name = "UNITS")]
    fuel: Option<u64>,
    /// The longest key hostMemoryGet reads (bytes, or 4KiB, 1MiB) [default: 1MiB]
    #[arg(long, value_name = "SIZE", value_parser = cli::bytes)]
    max_key_len: Option<u64>,
    /// The longest value hostMemoryGet hands out (bytes, or 4KiB, 1MiB) [default: 64MiB]
    #[arg(long, value_name = "SIZE", value_parser = cli::bytes)]
    max_value_len: Option<u64>,
    /// Lift every default limit; the limit flags above still apply. For trusted plugins only
    #[arg(long)]
    no_limits: bool,
    /// An Extism config entry the plugin can read (repeatable)
    #[arg(long = "config", value_name = "KEY=VALUE", value_parser = cli::parse_set)]
    configs: Vec<(String, String)>,
    /// Link a module beside the plugin, which imports its exports by NAME (repeatable; names
    /// are distinct, not empty and not `main`)
    #[arg(long = "link", value_name = "NAME=WASM", value_parser = cli::parse_link)]
    links: Vec<(String, PathBuf)>,
    /// Call the export N times on one instance and print the time per call on stderr; stdout
    /// gets the last call's output
    #[arg(long = "loop", value_name = "N", default_value_t = 1,
          value_parser = clap::value_parser!(u32).range(1..))]
    times: u32,
    /// Print every host function call on stderr
    #[arg(long)]
    trace: bool,
}

#[derive(Clone, Copy, ValueEnum)]
enum WasiFlag {
    Auto,
    On,
    Off,
}

impl From<WasiFlag> for Wasi {
    fn from(flag: WasiFlag) -> Wasi {
        match flag {
            WasiFlag::Auto => Wasi::Auto,
            WasiFlag::On => Wasi::On,
            WasiFlag::Off => Wasi::Off,
        }
    }
}

pub fn run(args: CallArgs) -> Result<(), Fatal> {
    let links = links(&args.links)?;
    let store = cli::store(args.store.as_deref(), &args.sets)
        .map_err(|message| Fatal::new(Exit::BadFile, message))?;
    let input = cli::read_input(args.input.as_deref(), args.input_file.as_deref())
        .map_err(|message| Fatal::new(Exit::BadFile, message))?;
    let base = if args.no_limits {
        Limits::none()
    } else {
        Limits::default()
    };
    let options = Options {
        limits: Limits {
            timeout: args.timeout.or(base.timeout),
            memory_max_pages: args.memory_max.or(base.memory_max_pages),
            fuel: args.fuel.or(base.fuel),
            max_key_len: args.max_key_len.unwrap_or(base.max_key_len),
            max_value_len: args.max_value_len.unwrap_or(base.max_value_len),
        },
        wasi: args.wasi.into(),
        config: args.configs.iter().cloned().collect::<BTreeMap<_, _>>(),
        links,
        ..Options::default()
    };
    let wasm = host::read_module(&args.wasm)?;
    let compiled = CompiledPlugin::with_options(args.wasm.display().to_string(), &wasm, options)?;
    let mut plugin = compiled.instantiate(Store::from_iter(store))?;

    let mut times = Vec::with_capacity(args.times as usize);
    let mut first_output: Option<Vec<u8>> = None;
    let mut output = Vec::new();
    for round in 1..=args.times {
        let start = Instant::now();
        let (result, trace) = if args.trace {
            plugin.call_traced(&args.export, &input)
        } else {
            (plugin.call(&args.export, &input), Vec::new())
        };
        times.push(start.elapsed());
        print_trace(&trace);
        output = result?;
        match &first_output {
            None => first_output = Some(output.clone()),
            Some(first) if *first != output => eprintln!(
                "note: call {round} of {} gave different output than the first",
                args.times
            ),
            Some(_) => {}
        }
    }
    if args.times > 1 {
        eprintln!("{}", loop_summary(&mut times));
    }
    let mut stdout = std::io::stdout().lock();
    stdout_result(stdout.write_all(&output).and_then(|()| stdout.flush()))
}

/// Each `--link`, its name checked as docs/protocol.md says (bad usage) and its module read
/// (a file that cannot be used, as the plugin's own).
fn links(links: &[(String, PathBuf)]) -> Result<Vec<Link>, Fatal> {
    let named: Vec<suite::protocol::Link> = links
        .iter()
        .map(|(name, wasm)| suite::protocol::Link {
            name: name.clone(),
            wasm: wasm.clone(),
        })
        .collect();
    suite::protocol::Link::check_names(&named)
        .map_err(|why| Fatal::new(Exit::Usage, format!("bad --link: {why}")))?;
    let mut read = Vec::with_capacity(links.len());
    for link in named {
        read.push(Link {
            wasm: host::read_module(&link.wasm)?,
            name: link.name,
        });
    }
    Ok(read)
}

fn print_trace(trace: &[HostCall]) {
    for call in trace {
        let key = match std::str::from_utf8(&call.key) {
            Ok(text) => format!("{text:?}"),
            Err(_) => format!(
                "hex {}",
                call.key
                    .iter()
                    .map(|b| format!("{b:02x}"))
                    .collect::<String>()
            ),
        };
        eprintln!(
            "trace: {} key {key} -> {} bytes",
            call.function, call.value_len
        );
    }
}

/// `loop: 1000 calls in 12.3ms, 12.3µs per call (min 10.1µs, median 11.9µs, max 80.2µs)`
fn loop_summary(times: &mut [Duration]) -> String {
    let total: Duration = times.iter().sum();
    let per_call = total / times.len() as u32;
    times.sort();
    format!(
        "loop: {} calls in {total:.1?}, {per_call:.1?} per call (min {:.1?}, median {:.1?}, max {:.1?})",
        times.len(),
        times[0],
        times[times.len() / 2],
        times[times.len() - 1],
    )
}
