//! `host call`: one export of any plugin, with this workspace's host functions, like
//! `extism call`.

use std::collections::BTreeMap;
use std::io::{IsTerminal, Read, Write};
use std::path::PathBuf;
use std::time::{Duration, Instant};

use clap::{Args, ValueEnum};
use host::{CompiledPlugin, Error, HostCall, Limits, Options, Store, Wasi};

use crate::exit::{stdout_result, Exit, Fatal};
use crate::{store_file, units};

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
    #[arg(long = "set", value_name = "KEY=VALUE", value_parser = store_file::parse_set)]
    sets: Vec<(String, String)>,
    /// Give the plugin WASI: `auto` does when the module imports wasi_snapshot_preview1
    #[arg(long, value_name = "WHEN", value_enum, default_value_t = WasiFlag::Auto,
          num_args = 0..=1, default_missing_value = "on")]
    wasi: WasiFlag,
    /// Interrupt a call that runs longer than this (500ms, 2s, 1m) [default: 30s]
    #[arg(long, value_name = "DURATION", value_parser = units::duration)]
    timeout: Option<Duration>,
    /// Cap the growth of the plugin's memory: pages of 64 KiB (48) or a size (3MiB)
    /// [default: 256MiB]
    #[arg(long, value_name = "SIZE", value_parser = units::memory_pages)]
    memory_max: Option<u32>,
    /// Stop a call after this much wasmtime fuel (about one unit per wasm instruction)
    /// [default: no fuel limit]
    #[arg(long, value_name = "UNITS")]
    fuel: Option<u64>,
    /// The longest key hostMemoryGet reads (bytes, or 4KiB, 1MiB) [default: 1MiB]
    #[arg(long, value_name = "SIZE", value_parser = units::bytes)]
    max_key_len: Option<u64>,
    /// The longest value hostMemoryGet hands out (bytes, or 4KiB, 1MiB) [default: 64MiB]
    #[arg(long, value_name = "SIZE", value_parser = units::bytes)]
    max_value_len: Option<u64>,
    /// Lift every default limit; the limit flags above still apply. For trusted plugins only
    #[arg(long)]
    no_limits: bool,
    /// An Extism config entry the plugin can read (repeatable)
    #[arg(long = "config", value_name = "KEY=VALUE", value_parser = store_file::parse_set)]
    configs: Vec<(String, String)>,
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
    let store = store(&args)?;
    let input = input(&args)?;
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
        ..Options::default()
    };
    let wasm = std::fs::read(&args.wasm).map_err(|cause| Error::Read {
        path: args.wasm.clone(),
        cause,
    })?;
    let compiled = CompiledPlugin::with_options(args.wasm.display().to_string(), &wasm, options)?;
    let mut plugin = compiled.instantiate(store)?;

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

fn store(args: &CallArgs) -> Result<Store, Fatal> {
    let mut store = match &args.store {
        Some(path) => {
            store_file::load(path).map_err(|message| Fatal::new(Exit::BadFile, message))?
        }
        None => Store::seed(),
    };
    for (key, value) in &args.sets {
        store.insert(key.as_bytes(), value.as_bytes());
    }
    Ok(store)
}

fn input(args: &CallArgs) -> Result<Vec<u8>, Fatal> {
    let from_stdin = || {
        let mut input = Vec::new();
        std::io::stdin()
            .lock()
            .read_to_end(&mut input)
            .map(|_| input)
            .map_err(|error| Fatal::new(Exit::BadFile, format!("cannot read stdin: {error}")))
    };
    match (&args.input, &args.input_file) {
        (Some(text), _) => Ok(text.as_bytes().to_vec()),
        (None, Some(path)) if path.as_os_str() == "-" => from_stdin(),
        (None, Some(path)) => std::fs::read(path).map_err(|error| {
            Fatal::new(
                Exit::BadFile,
                format!("cannot read input file {}: {error}", path.display()),
            )
        }),
        // A terminal would wait for typing that nobody meant to do.
        (None, None) if std::io::stdin().is_terminal() => Ok(Vec::new()),
        (None, None) => from_stdin(),
    }
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
