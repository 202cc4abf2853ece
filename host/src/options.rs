//! How a plugin is set up beyond its module and store: limits, WASI on, off or auto, Extism
//! config, log level and linked modules.

use std::collections::BTreeMap;

use crate::{Limits, LogLevel};

/// How a plugin is set up, beyond its module and store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Options {
    pub limits: Limits,
    pub wasi: Wasi,
    /// The Extism config a plugin reads with its PDK's config functions.
    pub config: BTreeMap<String, String>,
    /// Whether compiled code goes through wasmtime's on-disk cache (its default configuration,
    /// or the file `EXTISM_CACHE_CONFIG` names; an empty `EXTISM_CACHE_CONFIG` turns it off).
    /// On by default: a module compiled once loads in a fraction of the time afterwards.
    pub compile_cache: bool,
    /// The least severe of a plugin's log lines the host keeps ([`crate::Plugin::call_recorded`]);
    /// `None` keeps none.
    pub log_level: Option<LogLevel>,
    /// Modules linked beside the plugin, which it imports from by their names.
    pub links: Vec<Link>,
}

/// A module linked beside a plugin's main one: the plugin imports its exports by `name`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Link {
    pub name: String,
    /// The module's binary.
    pub wasm: Vec<u8>,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            limits: Limits::default(),
            wasi: Wasi::default(),
            config: BTreeMap::new(),
            compile_cache: true,
            log_level: None,
            links: Vec::new(),
        }
    }
}

/// Whether a plugin gets WASI (`wasi_snapshot_preview1`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Wasi {
    /// Exactly when the module imports from `wasi_snapshot_preview1`: standard Go and TinyGo
    /// modules do, a Rust `wasm32-unknown-unknown` module does not.
    #[default]
    Auto,
    On,
    Off,
}

/// The module WASI preview 1 imports come from.
pub(crate) const WASI_MODULE: &str = "wasi_snapshot_preview1";

impl Wasi {
    /// Whether WASI is on for a module whose first WASI import (if any) is `wasi_import`.
    pub(crate) fn enabled(self, wasi_import: Option<&str>) -> bool {
        match self {
            Wasi::Auto => wasi_import.is_some(),
            Wasi::On => true,
            Wasi::Off => false,
        }
    }
}

/// The name of the module's first import from WASI, if it has one. A module that cannot be
/// parsed has none here; compiling it reports what is wrong.
pub(crate) fn first_wasi_import(wasm: &[u8]) -> Option<String> {
    for payload in wasmparser::Parser::new(0).parse_all(wasm) {
        match payload {
            Ok(wasmparser::Payload::ImportSection(section)) => {
                for import in section.into_imports().flatten() {
                    if import.module == WASI_MODULE {
                        return Some(import.name.to_owned());
                    }
                }
                return None;
            }
            Ok(_) => {}
            Err(_) => return None,
        }
    }
    None
}
