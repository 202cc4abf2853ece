//! A failed call sorted into kinds (plugin error, return code, trap, WASI exit, host function
//! error, timeout, out of memory, out of fuel, key or value too long), so callers and the
//! protocol can tell them apart.

use std::fmt;

use crate::Limits;

/// Why a call did not return output: the kinds a plugin's failure can take, so callers (and the
/// conformance contract) can compare failures without parsing messages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Failure {
    /// The plugin reported an error through its PDK (the Extism kernel's `error_set`).
    Plugin { message: String },
    /// The export returned a non-zero code without reporting an error.
    ReturnCode { code: i32 },
    /// The module trapped: `unreachable` (a Rust or TinyGo panic), out-of-bounds access, stack
    /// overflow, and the like.
    Trap { trap: String },
    /// The module called WASI `proc_exit` with a non-zero code (a standard Go command exits with 2
    /// on a panic).
    Exit { code: i32 },
    /// A host function refused the call, for instance `hostMemoryGet` given a bad key offset.
    HostFunction { message: String },
    /// The call ran past [`Limits::timeout`] and was interrupted.
    Timeout,
    /// The module's memory would have grown past [`Limits::memory_max_pages`].
    OutOfMemory,
    /// The call burnt all of [`Limits::fuel`].
    OutOfFuel,
    /// `hostMemoryGet` was given a key longer than [`Limits::max_key_len`].
    KeyTooLong { len: u64, max: u64 },
    /// The store's value for the key is longer than [`Limits::max_value_len`].
    ValueTooLong { len: u64, max: u64 },
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Failure::Plugin { message } => write!(f, "plugin error: {message}"),
            Failure::ReturnCode { code } => {
                write!(f, "returned {code} without an error message")
            }
            Failure::Trap { trap } => write!(f, "trap: {trap}"),
            Failure::Exit { code } => write!(f, "exited with code {code}"),
            Failure::HostFunction { message } => write!(f, "host function error: {message}"),
            Failure::Timeout => f.write_str("timed out"),
            Failure::OutOfMemory => f.write_str("out of memory"),
            Failure::OutOfFuel => f.write_str("out of fuel"),
            Failure::KeyTooLong { len, max } => {
                write!(
                    f,
                    "hostMemoryGet: key of {len} bytes is over the limit of {max}"
                )
            }
            Failure::ValueTooLong { len, max } => {
                write!(
                    f,
                    "hostMemoryGet: value of {len} bytes is over the limit of {max}"
                )
            }
        }
    }
}

/// How `extism::Plugin::call` reports that fuel ran out.
const OUT_OF_FUEL: &str = "plugin ran out of fuel";

/// `extism::Plugin::call` reports a non-zero return code only in this message.
const NON_ZERO_PREFIX: &str = "Returned non-zero exit code: ";

impl Failure {
    /// Sorts an error from `extism::Plugin::call`. `host_failure` is what a host function
    /// recorded, if one failed during the call; `limits` are the ones the call ran under.
    pub(crate) fn classify(
        error: &extism::Error,
        host_failure: Option<Failure>,
        limits: &Limits,
    ) -> Failure {
        if let Some(failure) = host_failure {
            return failure;
        }
        // Extism reports these two as bare messages; only a set limit makes them limits (a
        // plugin may well report an error called "timeout" itself).
        let message = error.to_string();
        if limits.timeout.is_some() && message == "timeout" {
            return Failure::Timeout;
        }
        if limits.fuel.is_some() && error.chain().any(|cause| cause.to_string() == OUT_OF_FUEL) {
            return Failure::OutOfFuel;
        }
        // The kernel's allocator reports "oom" under a context such as "failed to allocate
        // extism memory" when the input does not fit.
        if limits.memory_max_pages.is_some() && error.root_cause().to_string() == "oom" {
            return Failure::OutOfMemory;
        }
        if let Some(exit) = error.downcast_ref::<wasmtime_wasi::I32Exit>() {
            return Failure::Exit { code: exit.0 };
        }
        if let Some(trap) = error.downcast_ref::<wasmtime::Trap>() {
            return Failure::Trap {
                trap: trap.to_string(),
            };
        }
        // A kernel function that fails (`var_set` past the var limit: "Variable store is full")
        // aborts the call like a trap; wasmtime attaches the wasm backtrace to its error, which
        // an error the plugin set (a plain message) never has.
        if error.downcast_ref::<wasmtime::WasmBacktrace>().is_some() {
            return Failure::Trap {
                trap: error.root_cause().to_string(),
            };
        }
        if let Some(code) = message
            .strip_prefix(NON_ZERO_PREFIX)
            .and_then(|code| code.parse().ok())
        {
            return Failure::ReturnCode { code };
        }
        Failure::Plugin { message }
    }
}
