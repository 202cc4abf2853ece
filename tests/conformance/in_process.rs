//! The in-process Rust host (`host/`) behind the same [`Driver`] as every protocol host: its
//! `host::Error`s become the protocol's host-neutral failures here, and nowhere else.

use std::path::{Path, PathBuf};
use std::sync::Mutex;

use conformance::driver::Driver;
use conformance::protocol::{self, Failure, HostCall, LogLevel, LogLine, Outcome, Request};
use host::{CompiledPlugin, Error, Limits, Options, Store, Wasi};

/// Compiles each module once per set of options it is called with, and instantiates it per
/// request: compiling is most of a trial's time otherwise (a standard Go module takes seconds
/// cold, tens of milliseconds from wasmtime's cache).
pub struct InProcess {
    compiled: Mutex<Vec<(PathBuf, Options, CompiledPlugin)>>,
}

impl InProcess {
    pub fn new() -> InProcess {
        InProcess {
            compiled: Mutex::new(Vec::new()),
        }
    }

    fn compiled(&self, wasm: &Path, options: Options) -> Result<CompiledPlugin, Error> {
        let mut compiled = self.compiled.lock().unwrap_or_else(|p| p.into_inner());
        if let Some((_, _, plugin)) = compiled
            .iter()
            .find(|(path, opts, _)| path == wasm && *opts == options)
        {
            return Ok(plugin.clone());
        }
        let bytes = std::fs::read(wasm).map_err(|cause| Error::Read {
            path: wasm.to_owned(),
            cause,
        })?;
        let plugin =
            CompiledPlugin::with_options(wasm.display().to_string(), &bytes, options.clone())?;
        compiled.push((wasm.to_owned(), options, plugin.clone()));
        Ok(plugin)
    }
}

impl Driver for InProcess {
    fn run(&self, wasm: &Path, request: &Request) -> Result<Vec<Outcome>, String> {
        let options = options(request);
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
        let compiled = match self.compiled(wasm, options) {
            Ok(compiled) => compiled,
            Err(error) => return Ok(failed(error)),
        };
        let mut plugin = match compiled.instantiate(Store::from_iter(request.store.clone())) {
            Ok(plugin) => plugin,
            Err(error) => return Ok(failed(error)),
        };
        Ok(request
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
            .collect())
    }
}

/// The request's setup as the Rust host's options.
fn options(request: &Request) -> Options {
    let limits = &request.limits;
    Options {
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
            LogLevel::Trace => Some(host::LogLevel::Trace),
            LogLevel::Debug => Some(host::LogLevel::Debug),
            LogLevel::Info => Some(host::LogLevel::Info),
            LogLevel::Warn => Some(host::LogLevel::Warn),
            LogLevel::Error => Some(host::LogLevel::Error),
            LogLevel::Off => None,
        },
        ..Options::default()
    }
}

fn log_level(level: host::LogLevel) -> LogLevel {
    match level {
        host::LogLevel::Trace => LogLevel::Trace,
        host::LogLevel::Debug => LogLevel::Debug,
        host::LogLevel::Info => LogLevel::Info,
        host::LogLevel::Warn => LogLevel::Warn,
        host::LogLevel::Error => LogLevel::Error,
    }
}

/// The host-neutral failure of a Rust-host error.
fn failure(error: Error) -> Failure {
    match error {
        Error::Call { failure, .. } => match failure {
            host::Failure::Plugin { message } => Failure::Plugin { message },
            host::Failure::ReturnCode { code } => Failure::ReturnCode { code },
            host::Failure::Trap { trap } => Failure::Trap { message: trap },
            host::Failure::Exit { code } => Failure::Exit { code },
            host::Failure::HostFunction { message } => Failure::HostFunction { message },
            host::Failure::Timeout => Failure::Timeout {},
            host::Failure::OutOfMemory => Failure::OutOfMemory {},
            host::Failure::OutOfFuel => Failure::OutOfFuel {},
            host::Failure::KeyTooLong { len, max } => Failure::KeyTooLong { len, max },
            host::Failure::ValueTooLong { len, max } => Failure::ValueTooLong { len, max },
        },
        Error::MissingExport { .. } => Failure::MissingExport {},
        error @ (Error::Read { .. } | Error::Load { .. }) => Failure::Load {
            message: error.to_string(),
        },
    }
}
