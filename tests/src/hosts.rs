//! The hosts a plugin runs on in the conformance run: the Rust host in this process, and the Go
//! host (`host-go serve`) as a child process spoken to in JSON lines. Both give the same thing
//! back, a call's result and its host-call trace, so one renderer and one snapshot serve both.

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, MutexGuard, TryLockError};

use anyhow::Context;
use host::{CompiledPlugin, Error, Failure, HostCall, Limits, Store, HOST_MEMORY_GET};
use serde::{Deserialize, Serialize};

use crate::base64;

/// One plugin as every host needs it: the Rust host's compiled module, and the file and bytes
/// that the Go host and limited compilations start from.
pub struct Module {
    pub path: PathBuf,
    pub wasm: Vec<u8>,
    pub compiled: CompiledPlugin,
    /// Compilations with other limits than the default, made once each per run.
    limited: Mutex<Vec<CompiledPlugin>>,
}

impl Module {
    pub fn load(path: &Path) -> anyhow::Result<Module> {
        let wasm =
            std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
        let compiled = CompiledPlugin::from_bytes(path.display().to_string(), &wasm)?;
        Ok(Module {
            path: path.to_owned(),
            wasm,
            compiled,
            limited: Mutex::new(Vec::new()),
        })
    }

    /// The module compiled with `limits`, once per set of limits per run: compiling would be
    /// most of a trial's time (a standard Go module takes seconds cold, tens of milliseconds
    /// from wasmtime's cache).
    pub fn compiled_with(&self, limits: &Limits) -> Result<CompiledPlugin, Error> {
        if *limits == Limits::default() {
            return Ok(self.compiled.clone());
        }
        let mut limited = self.limited.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(compiled) = limited.iter().find(|c| c.limits() == limits) {
            return Ok(compiled.clone());
        }
        let compiled =
            CompiledPlugin::with_limits(self.compiled.name(), &self.wasm, limits.clone())?;
        limited.push(compiled.clone());
        Ok(compiled)
    }
}

/// What a call came to: its result and every host call it made.
pub type Called = (Result<Vec<u8>, Error>, Vec<HostCall>);

/// One call, as a case or a generated input describes it.
pub struct Request<'a> {
    pub export: &'a str,
    pub input: &'a [u8],
    pub store: &'a Store,
    pub limits: &'a Limits,
}

/// A host ready to take calls. The `Err` of [`Driver::call`] means the host itself could not be
/// asked (it failed to start, died, or answered nonsense), not that the plugin failed.
pub enum Driver {
    Rust,
    Go(GoHost),
}

impl Driver {
    /// The driver for a host built as `program`, or the in-process Rust host for `None` (as
    /// `xtask::build_hosts` reports them).
    pub fn new(program: Option<PathBuf>) -> Driver {
        match program {
            None => Driver::Rust,
            Some(program) => Driver::Go(GoHost::new(program)),
        }
    }

    pub fn call(&self, module: &Module, request: &Request) -> Result<Called, String> {
        match self {
            Driver::Rust => rust_call(module, request),
            Driver::Go(go) => go.call(module, request),
        }
    }
}

fn rust_call(module: &Module, request: &Request) -> Result<Called, String> {
    let compiled = module
        .compiled_with(request.limits)
        .map_err(|error| error.to_string())?;
    let mut plugin = compiled
        .instantiate(request.store.clone())
        .map_err(|error| error.to_string())?;
    Ok(plugin.call_traced(request.export, request.input))
}

/// `host-go serve`, one process per test thread (a server answers one request at a time),
/// each started at its first call and shared by every trial.
pub struct GoHost {
    program: PathBuf,
    servers: Vec<Mutex<Option<Server>>>,
    next: AtomicUsize,
}

struct Server {
    child: Child,
    stdin: ChildStdin,
    stdout: BufReader<ChildStdout>,
}

/// One line to `host-go serve`; byte fields are base64, as Go's `encoding/json` reads `[]byte`.
#[derive(Serialize)]
struct WireRequest<'a> {
    wasm: &'a Path,
    export: &'a str,
    input: String,
    store: Vec<WireEntry>,
    timeout_ms: u64,
    memory_max_pages: u32,
    /// 0 means no limit to the Go host, so a zero limit is refused before it gets there.
    max_key_len: u64,
    max_value_len: u64,
}

#[derive(Serialize)]
struct WireEntry {
    key: String,
    value: String,
}

#[derive(Deserialize)]
struct WireResponse {
    output: Option<String>,
    failure: Option<WireFailure>,
    #[serde(default)]
    trace: Vec<WireHostCall>,
}

#[derive(Deserialize)]
struct WireFailure {
    kind: String,
    #[serde(default)]
    message: String,
    #[serde(default)]
    code: i32,
    #[serde(default)]
    len: u64,
    #[serde(default)]
    max: u64,
}

#[derive(Deserialize)]
struct WireHostCall {
    function: String,
    key: Option<String>,
    value_len: usize,
}

impl GoHost {
    /// The server starts at the first call, and again after it died.
    pub fn new(program: PathBuf) -> GoHost {
        let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
        GoHost {
            program,
            servers: (0..threads).map(|_| Mutex::new(None)).collect(),
            next: AtomicUsize::new(0),
        }
    }

    /// An idle server if there is one, else the next in turn once it is free.
    fn server(&self) -> MutexGuard<'_, Option<Server>> {
        for server in &self.servers {
            match server.try_lock() {
                Ok(idle) => return idle,
                Err(TryLockError::Poisoned(poison)) => return poison.into_inner(),
                Err(TryLockError::WouldBlock) => {}
            }
        }
        let turn = self.next.fetch_add(1, Ordering::Relaxed) % self.servers.len();
        self.servers[turn]
            .lock()
            .unwrap_or_else(|poison| poison.into_inner())
    }

    fn call(&self, module: &Module, request: &Request) -> Result<Called, String> {
        let line = serde_json::to_string(&WireRequest {
            wasm: &module.path,
            export: request.export,
            input: base64::encode(request.input),
            store: request
                .store
                .iter()
                .map(|(key, value)| WireEntry {
                    key: base64::encode(key),
                    value: base64::encode(value),
                })
                .collect(),
            timeout_ms: request
                .limits
                .timeout
                .map_or(0, |timeout| timeout.as_millis().max(1) as u64),
            memory_max_pages: request.limits.memory_max_pages.unwrap_or(0),
            max_key_len: nonzero(request.limits.max_key_len, "max-key-len")?,
            max_value_len: nonzero(request.limits.max_value_len, "max-value-len")?,
        })
        .map_err(|error| format!("go-host: cannot encode the request: {error}"))?;
        let mut server = self.server();
        if server.is_none() {
            *server = Some(self.start()?);
        }
        let answer = server
            .as_mut()
            .map(|running| running.ask(&line))
            .expect("the server was just started");
        let answer = match answer {
            Ok(answer) => answer,
            Err(error) => {
                // Whatever state it is in, the next call gets a fresh server.
                if let Some(mut dead) = server.take() {
                    let _ = dead.child.kill();
                    let _ = dead.child.wait();
                }
                return Err(format!("go-host ({}): {error}", self.program.display()));
            }
        };
        decode(module, request.export, &answer)
    }

    fn start(&self) -> Result<Server, String> {
        let mut child = Command::new(&self.program)
            .arg("serve")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .map_err(|error| format!("cannot start {} serve: {error}", self.program.display()))?;
        let stdin = child.stdin.take().expect("stdin is piped");
        let stdout = BufReader::new(child.stdout.take().expect("stdout is piped"));
        Ok(Server {
            child,
            stdin,
            stdout,
        })
    }
}

fn nonzero(limit: u64, name: &str) -> Result<u64, String> {
    match limit {
        0 => Err(format!(
            "go-host: a {name} of 0 cannot be sent (0 means no limit there)"
        )),
        limit => Ok(limit),
    }
}

impl Server {
    fn ask(&mut self, line: &str) -> Result<String, String> {
        writeln!(self.stdin, "{line}")
            .and_then(|()| self.stdin.flush())
            .map_err(|error| format!("cannot send the request: {error}"))?;
        let mut answer = String::new();
        match self.stdout.read_line(&mut answer) {
            Ok(0) => {
                let status = self.child.wait().map(|s| s.to_string()).unwrap_or_default();
                Err(format!("it ended without answering ({status})"))
            }
            Ok(_) => Ok(answer),
            Err(error) => Err(format!("cannot read its answer: {error}")),
        }
    }
}

impl Drop for GoHost {
    fn drop(&mut self) {
        for server in &mut self.servers {
            let server = server.get_mut().unwrap_or_else(|p| p.into_inner());
            if let Some(mut server) = server.take() {
                // End of input is the server's signal to exit.
                drop(server.stdin);
                let _ = server.child.wait();
            }
        }
    }
}

/// The answer as the Rust host would have given it, so the same renderer applies.
fn decode(module: &Module, export: &str, answer: &str) -> Result<Called, String> {
    let bad = |why: String| format!("go-host answered `{}`: {why}", answer.trim_end());
    let response: WireResponse = serde_json::from_str(answer).map_err(|e| bad(e.to_string()))?;
    let bytes = |field: Option<String>| -> Result<Vec<u8>, String> {
        field.map_or(Ok(Vec::new()), |text| {
            base64::decode(&text).map_err(|e| bad(format!("{e:#}")))
        })
    };
    let mut trace = Vec::with_capacity(response.trace.len());
    for call in response.trace {
        if call.function != HOST_MEMORY_GET {
            return Err(bad(format!("unknown host function `{}`", call.function)));
        }
        trace.push(HostCall {
            function: HOST_MEMORY_GET,
            key: bytes(call.key)?,
            value_len: call.value_len,
        });
    }
    let plugin = module.path.display().to_string();
    let Some(failure) = response.failure else {
        return Ok((Ok(bytes(response.output)?), trace));
    };
    let failed = |failure| Error::Call {
        plugin: plugin.clone(),
        export: export.to_owned(),
        failure,
    };
    let WireFailure {
        kind,
        message,
        code,
        len,
        max,
    } = failure;
    let error = match kind.as_str() {
        "plugin" => failed(Failure::Plugin { message }),
        "return_code" => failed(Failure::ReturnCode { code }),
        "trap" => failed(Failure::Trap { trap: message }),
        "exit" => failed(Failure::Exit { code }),
        "host_function" => failed(Failure::HostFunction { message }),
        "timeout" => failed(Failure::Timeout),
        "out_of_memory" => failed(Failure::OutOfMemory),
        "out_of_fuel" => failed(Failure::OutOfFuel),
        "key_too_long" => failed(Failure::KeyTooLong { len, max }),
        "value_too_long" => failed(Failure::ValueTooLong { len, max }),
        "missing_export" => Error::MissingExport {
            plugin,
            export: export.to_owned(),
        },
        "load" => Error::Load {
            plugin,
            cause: message,
        },
        _ => return Err(bad(format!("failure kind `{kind}`: {message}"))),
    };
    Ok((Err(error), trace))
}
