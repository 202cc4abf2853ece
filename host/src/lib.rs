//! A host for Extism plugins that provides the `env.hostMemoryGet` host function.
//!
//! ```rust,ignore
//! use host::{Plugin, Store};
//!
//! let mut plugin = Plugin::from_file("target/plugins/rust/conformance.wasm", Store::seed())?;
//! let output = plugin.call("say_hello", "👋 Hello from the Go Host app 🤗".as_bytes())?;
//! ```
//!
//! The trial `cli::the_seed_call_on_every_built_plugin_prints_the_seed_output`
//! (`host/tests/integration/cli.rs`) compiles this example and runs it on every built plugin.
//!
//! # Memory ownership in `hostMemoryGet`
//!
//! `hostMemoryGet` takes the offset of a key block and returns the offset of a value block,
//! both in Extism memory:
//!
//! - The key block belongs to the plugin. The host reads it and never frees it. (The seed's Go
//!   host freed it; `extism-pdk`'s generated wrappers free it too, and a double free can release
//!   a block that the kernel has since handed out again, such as the value block.)
//! - The value block is allocated by the host and belongs to the plugin from the moment the call
//!   returns; the plugin may free it once it has read it. An empty value is offset 0, which every
//!   PDK reads as an empty block.
//! - The Extism kernel resets its allocator at the start of every call, so a block that a plugin
//!   never frees lives until the end of that call, never into the next one.

mod error;
mod failure;
mod limits;
mod logs;
mod memory_get;
mod options;
mod plugin;
pub mod protocol;
mod shadowed_memory;
mod store;
mod trace;

pub use error::Error;
pub use failure::Failure;
pub use limits::Limits;
pub use logs::{LogLevel, LogLine};
pub use memory_get::HOST_MEMORY_GET;
pub use options::{Link, Options, Wasi};
pub use plugin::{read_module, CompiledPlugin, Plugin, Recorded, MODULE_MAX_BYTES};
pub use store::Store;
pub use trace::HostCall;

#[cfg(test)]
mod tests;
