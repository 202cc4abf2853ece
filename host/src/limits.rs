//! The limits a plugin runs under and their safe defaults.

use std::time::Duration;

/// Limits a plugin runs under. The defaults are safe for untrusted plugins and roomy for honest
/// ones; [`Limits::none`] lifts them all.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limits {
    /// How long one export call may run before it is interrupted. Default: 30 s.
    pub timeout: Option<Duration>,
    /// How many 64 KiB pages the module's memories may grow by, all together. Default: 4096
    /// (256 MiB).
    pub memory_max_pages: Option<u32>,
    /// How many units of wasmtime fuel (roughly, wasm instructions) one call may burn. Default:
    /// none; fuel costs some speed on every call.
    pub fuel: Option<u64>,
    /// The longest key `hostMemoryGet` reads. Default: 1 MiB.
    pub max_key_len: u64,
    /// The longest value `hostMemoryGet` hands to a plugin. Default: 64 MiB.
    pub max_value_len: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            timeout: Some(Duration::from_secs(30)),
            memory_max_pages: Some(4096),
            fuel: None,
            max_key_len: 1 << 20,
            max_value_len: 64 << 20,
        }
    }
}

impl Limits {
    /// No limit at all: for trusted plugins only.
    pub fn none() -> Self {
        Limits {
            timeout: None,
            memory_max_pages: None,
            fuel: None,
            max_key_len: u64::MAX,
            max_value_len: u64::MAX,
        }
    }
}
