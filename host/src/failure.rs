use std::fmt;

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
    /// The module called WASI `proc_exit` with a non-zero code (a standard Go panic exits with 2).
    Exit { code: i32 },
    /// A host function refused the call, for instance `hostMemoryGet` given a bad key offset.
    HostFunction { message: String },
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
        }
    }
}

/// `extism::Plugin::call` reports a non-zero return code only in this message.
const NON_ZERO_PREFIX: &str = "Returned non-zero exit code: ";

impl Failure {
    /// Sorts an error from `extism::Plugin::call`. `host_error` is what a host function
    /// recorded, if one failed during the call.
    pub(crate) fn classify(error: &extism::Error, host_error: Option<String>) -> Failure {
        if let Some(message) = host_error {
            return Failure::HostFunction { message };
        }
        if let Some(exit) = error.downcast_ref::<wasmtime_wasi::I32Exit>() {
            return Failure::Exit { code: exit.0 };
        }
        if let Some(trap) = error.downcast_ref::<wasmtime::Trap>() {
            return Failure::Trap {
                trap: trap.to_string(),
            };
        }
        let message = error.to_string();
        if let Some(code) = message
            .strip_prefix(NON_ZERO_PREFIX)
            .and_then(|code| code.parse().ok())
        {
            return Failure::ReturnCode { code };
        }
        Failure::Plugin { message }
    }
}
