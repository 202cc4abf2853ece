//! The conformance protocol's requests (docs/protocol.md) run on this host: [`Runner`] turns a
//! request into options, runs its calls and turns each `Error` into the protocol's host-neutral
//! failure, here and nowhere else. The conformance run drives it in process; `host serve`
//! drives it from request lines.

use std::path::{Path, PathBuf};
use std::sync::Mutex;

use suite::protocol::{self, Failure, HostCall, LogLevel, LogLine, Outcome, Request};

use crate::{read_module, CompiledPlugin, Error, Limits, Link, Options, Store, Wasi};

/// Compiles each module once per set of options it is called with, and instantiates it per
/// request: compiling is most of a trial's time otherwise (a standard Go module takes seconds
/// cold, tens of milliseconds from wasmtime's cache).
#[derive(Default)]
pub struct Runner {
    compiled: Mutex<Vec<(PathBuf, Options, CompiledPlugin)>>,
}

impl Runner {
    pub fn new() -> Runner {
        Runner::default()
    }

    fn compiled(&self, wasm: &Path, options: Options) -> Result<CompiledPlugin, Error> {
        let mut compiled = self.compiled.lock().unwrap_or_else(|p| p.into_inner());
        if let Some((_, _, plugin)) = compiled
            .iter()
            .find(|(path, opts, _)| path == wasm && *opts == options)
        {
            return Ok(plugin.clone());
        }
        let bytes = read_module(wasm)?;
        let plugin =
            CompiledPlugin::with_options(wasm.display().to_string(), &bytes, options.clone())?;
        compiled.push((wasm.to_owned(), options, plugin.clone()));
        Ok(plugin)
    }
}

impl Runner {
    /// Makes every call of `request` on one fresh instance of the plugin at `wasm` and its
    /// links: one outcome per call. A plugin that cannot be read, linked or loaded is a `load`
    /// failure of every call, as docs/protocol.md says.
    pub fn run(&self, wasm: &Path, request: &Request) -> Vec<Outcome> {
        let failed = |error: Error| {
            let failure = failure(error);
            request
                .calls
                .iter()
                .map(|_| Outcome {
                    result: Err(failure.clone()),
                    trace: Vec::new(),
                    logs: Some(Vec::new()),
                })
                .collect()
        };
        let compiled = match options(request).and_then(|options| self.compiled(wasm, options)) {
            Ok(compiled) => compiled,
            Err(error) => return failed(error),
        };
        let mut plugin = match compiled.instantiate(Store::from_iter(request.store.clone())) {
            Ok(plugin) => plugin,
            Err(error) => return failed(error),
        };
        request
            .calls
            .iter()
            .map(|call| {
                let recorded = plugin.call_recorded(&call.export, &call.input);
                Outcome {
                    result: recorded.result.map_err(failure),
                    trace: recorded
                        .trace
                        .into_iter()
                        .map(|call| HostCall {
                            function: call.function.to_owned(),
                            key: call.key,
                            value_len: call.value_len as u64,
                        })
                        .collect(),
                    logs: Some(
                        recorded
                            .logs
                            .into_iter()
                            .map(|line| LogLine {
                                level: log_level(line.level),
                                text: line.text,
                            })
                            .collect(),
                    ),
                }
            })
            .collect()
    }
}

/// The request's setup as the Rust host's options, with its linked modules read.
fn options(request: &Request) -> Result<Options, Error> {
    let limits = &request.limits;
    let mut links = Vec::new();
    for link in &request.links {
        links.push(Link {
            name: link.name.clone(),
            wasm: read_module(&link.wasm)?,
        });
    }
    Ok(Options {
        limits: Limits {
            timeout: limits.timeout_ms.map(std::time::Duration::from_millis),
            memory_max_pages: limits.memory_max_pages,
            fuel: None,
            max_key_len: limits.max_key_len.unwrap_or(u64::MAX),
            max_value_len: limits.max_value_len.unwrap_or(u64::MAX),
        },
        wasi: match request.wasi {
            protocol::Wasi::Auto => Wasi::Auto,
            protocol::Wasi::On => Wasi::On,
            protocol::Wasi::Off => Wasi::Off,
        },
        config: request.config.clone(),
        log_level: match request.log_level {
            LogLevel::Trace => Some(crate::LogLevel::Trace),
            LogLevel::Debug => Some(crate::LogLevel::Debug),
            LogLevel::Info => Some(crate::LogLevel::Info),
            LogLevel::Warn => Some(crate::LogLevel::Warn),
            LogLevel::Error => Some(crate::LogLevel::Error),
            LogLevel::Off => None,
        },
        links,
        ..Options::default()
    })
}

fn log_level(level: crate::LogLevel) -> LogLevel {
    match level {
        crate::LogLevel::Trace => LogLevel::Trace,
        crate::LogLevel::Debug => LogLevel::Debug,
        crate::LogLevel::Info => LogLevel::Info,
        crate::LogLevel::Warn => LogLevel::Warn,
        crate::LogLevel::Error => LogLevel::Error,
    }
}

/// The host-neutral failure of a Rust-host error.
pub fn failure(error: Error) -> Failure {
    match error {
        Error::Call { failure, .. } => match failure {
            crate::Failure::Plugin { message } => Failure::Plugin { message },
            crate::Failure::ReturnCode { code } => Failure::ReturnCode { code },
            crate::Failure::Trap { trap } => Failure::Trap { message: trap },
            crate::Failure::Exit { code } => Failure::Exit { code },
            crate::Failure::HostFunction { message } => Failure::HostFunction { message },
            crate::Failure::Timeout => Failure::Timeout {},
            crate::Failure::OutOfMemory => Failure::OutOfMemory {},
            crate::Failure::OutOfFuel => Failure::OutOfFuel {},
            crate::Failure::KeyTooLong { len, max } => Failure::KeyTooLong { len, max },
            crate::Failure::ValueTooLong { len, max } => Failure::ValueTooLong { len, max },
        },
        Error::MissingExport { .. } => Failure::MissingExport {},
        error @ (Error::Read { .. } | Error::Load { .. }) => Failure::Load {
            message: error.to_string(),
        },
    }
}
