//! Compile once, instantiate per store: `CompiledPlugin`, `Plugin` and their `call`,
//! `call_traced` and `call_recorded`.

use std::path::Path;
use std::sync::Arc;

use extism::{Manifest, PluginBuilder, Wasm};

use crate::logs::{self, LogLevel, LogLine};
use crate::memory_get::{self, CallContext};
use crate::options::{first_wasi_import, WASI_MODULE};
use crate::shadowed_memory;
use crate::{Error, Failure, HostCall, Limits, Options, Store};

const WASM_MAGIC: &[u8] = b"\0asm";

/// Reads the module file at `path` as [`suite::protocol::read_module_file`] does (a user may
/// hand over `/dev/zero` or a FIFO: neither is read); the error names the path.
pub fn read_module(path: &Path) -> Result<Vec<u8>, Error> {
    suite::protocol::read_module_file(path).map_err(|why| Error::Read {
        path: path.to_owned(),
        cause: std::io::Error::other(why),
    })
}

/// The largest module file [`read_module`] reads.
pub const MODULE_MAX_BYTES: u64 = suite::protocol::MODULE_MAX_BYTES;

/// A plugin compiled once, from which any number of instances can be made cheaply, each with
/// its own store.
#[derive(Clone)]
pub struct CompiledPlugin {
    name: String,
    limits: Limits,
    log_level: Option<LogLevel>,
    compiled: extism::CompiledPlugin,
}

impl CompiledPlugin {
    /// Compiles the plugin at `path`; errors name the path.
    pub fn from_file(path: impl AsRef<Path>) -> Result<Self, Error> {
        let path = path.as_ref();
        Self::from_bytes(path.display().to_string(), &read_module(path)?)
    }

    /// Compiles `wasm`, a binary WebAssembly module; `name` is how errors refer to the plugin.
    pub fn from_bytes(name: impl Into<String>, wasm: &[u8]) -> Result<Self, Error> {
        Self::with_limits(name, wasm, Limits::default())
    }

    /// Like [`CompiledPlugin::from_bytes`], with `limits` on every call of every instance.
    pub fn with_limits(
        name: impl Into<String>,
        wasm: &[u8],
        limits: Limits,
    ) -> Result<Self, Error> {
        let options = Options {
            limits,
            ..Options::default()
        };
        Self::with_options(name, wasm, options)
    }

    /// Like [`CompiledPlugin::from_bytes`], set up as `options` say.
    pub fn with_options(
        name: impl Into<String>,
        wasm: &[u8],
        options: Options,
    ) -> Result<Self, Error> {
        let name = name.into();
        // Extism would read other bytes as a manifest (JSON or TOML) or as WAT text; a plugin
        // here is a module, so anything else is refused with a message that says so.
        if !wasm.starts_with(WASM_MAGIC) {
            return Err(Error::Load {
                plugin: name,
                cause: "not a WebAssembly module (it does not start with \\0asm)".to_owned(),
            });
        }
        for link in &options.links {
            if !link.wasm.starts_with(WASM_MAGIC) {
                return Err(Error::Load {
                    plugin: name,
                    cause: format!(
                        "linked module {} is not a WebAssembly module (it does not start with \\0asm)",
                        link.name
                    ),
                });
            }
        }
        // WASI is for the plugin as a whole: any of its modules may import it.
        let wasi_import = std::iter::once(wasm)
            .chain(options.links.iter().map(|link| link.wasm.as_slice()))
            .find_map(first_wasi_import);
        let wasi = options.wasi.enabled(wasi_import.as_deref());
        if let (false, Some(import)) = (wasi, &wasi_import) {
            return Err(Error::Load {
                plugin: name,
                cause: format!("it imports {WASI_MODULE}.{import}, but WASI is off"),
            });
        }
        let Options {
            limits,
            config,
            compile_cache,
            log_level,
            links,
            ..
        } = options;
        // Extism's manifest: the linked modules by name, then the plugin itself as `main`.
        let modules = links
            .into_iter()
            .map(|link| Wasm::data(link.wasm).with_name(link.name))
            .chain([Wasm::data(wasm.to_vec()).with_name("main")]);
        let mut manifest = Manifest::new(modules).with_config(config.into_iter());
        if let Some(timeout) = limits.timeout {
            manifest = manifest.with_timeout(timeout);
        }
        if let Some(pages) = limits.memory_max_pages {
            manifest = manifest.with_memory_max(pages);
        }
        let mut engine = wasmtime::Config::new();
        shadowed_memory::configure(&mut engine);
        let mut builder = PluginBuilder::new(manifest)
            .with_wasi(wasi)
            .with_wasmtime_config(engine)
            .with_functions([memory_get::function()]);
        if let Some(fuel) = limits.fuel {
            builder = builder.with_fuel_limit(fuel);
        }
        if !compile_cache {
            builder = builder.with_cache_disabled();
        }
        match extism::CompiledPlugin::new(builder) {
            Ok(compiled) => Ok(Self {
                name,
                limits,
                log_level,
                compiled,
            }),
            Err(cause) => Err(Error::Load {
                plugin: name,
                cause: format!("{cause:#}"),
            }),
        }
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    /// The limits every call of its instances runs under.
    pub fn limits(&self) -> &Limits {
        &self.limits
    }

    /// A fresh instance whose `hostMemoryGet` reads `store`.
    pub fn instantiate(&self, store: Store) -> Result<Plugin, Error> {
        let inner =
            extism::Plugin::new_from_compiled(&self.compiled).map_err(|cause| Error::Load {
                plugin: self.name.clone(),
                cause: format!("{cause:#}"),
            })?;
        Ok(Plugin {
            name: self.name.clone(),
            limits: self.limits.clone(),
            log_level: self.log_level,
            store: Arc::new(store),
            inner,
        })
    }
}

/// An instance of a plugin, with `env.hostMemoryGet` backed by its store.
pub struct Plugin {
    name: String,
    limits: Limits,
    log_level: Option<LogLevel>,
    store: Arc<Store>,
    inner: extism::Plugin,
}

impl Plugin {
    pub fn from_file(path: impl AsRef<Path>, store: Store) -> Result<Self, Error> {
        CompiledPlugin::from_file(path)?.instantiate(store)
    }

    pub fn from_bytes(name: impl Into<String>, wasm: &[u8], store: Store) -> Result<Self, Error> {
        CompiledPlugin::from_bytes(name, wasm)?.instantiate(store)
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn store(&self) -> &Store {
        &self.store
    }

    /// Calls `export` with `input` and returns its output bytes.
    pub fn call(&mut self, export: &str, input: &[u8]) -> Result<Vec<u8>, Error> {
        self.call_with(export, input, None).result
    }

    /// Like [`Plugin::call`], and also returns every host function call the plugin made, in
    /// order, whether the call succeeded or not.
    pub fn call_traced(
        &mut self,
        export: &str,
        input: &[u8],
    ) -> (Result<Vec<u8>, Error>, Vec<HostCall>) {
        let called = self.call_with(export, input, Some(Vec::new()));
        (called.result, called.trace.unwrap_or_default())
    }

    /// Like [`Plugin::call_traced`], and also returns the plugin's log lines at the level of
    /// [`Options::log_level`] or above, in order (none when it is `None`).
    pub fn call_recorded(&mut self, export: &str, input: &[u8]) -> Recorded {
        let called = self.call_with(export, input, Some(Vec::new()));
        Recorded {
            result: called.result,
            trace: called.trace.unwrap_or_default(),
            logs: called.logs,
        }
    }

    fn call_with(&mut self, export: &str, input: &[u8], trace: Option<Vec<HostCall>>) -> Called {
        if !self.inner.function_exists(export) {
            let missing = Error::MissingExport {
                plugin: self.name.clone(),
                export: export.to_owned(),
            };
            return Called {
                result: Err(missing),
                trace,
                logs: Vec::new(),
            };
        }
        let context = CallContext {
            store: Arc::clone(&self.store),
            trace,
            limits: self.limits.clone(),
            host_failure: None,
        };
        let inner = &mut self.inner;
        // `call`, unlike the host-context variants, reports a non-zero return code.
        let ((result, context), logs) = logs::collect(self.log_level, || {
            context.enter(|| inner.call::<&[u8], Vec<u8>>(export, input))
        });
        let result = result.map_err(|error| Error::Call {
            plugin: self.name.clone(),
            export: export.to_owned(),
            failure: Failure::classify(&error, context.host_failure, &self.limits),
        });
        Called {
            result,
            trace: context.trace,
            logs,
        }
    }
}

struct Called {
    result: Result<Vec<u8>, Error>,
    trace: Option<Vec<HostCall>>,
    logs: Vec<LogLine>,
}

/// What [`Plugin::call_recorded`] saw of a call.
#[derive(Debug)]
pub struct Recorded {
    pub result: Result<Vec<u8>, Error>,
    /// Every host function call, in order, whether the call succeeded or not.
    pub trace: Vec<HostCall>,
    /// The plugin's log lines that reached the host, in order.
    pub logs: Vec<LogLine>,
}
