//! A conformance case: one file in `tests/cases/`, read into what a call needs.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context};
use serde::Deserialize;

use crate::protocol::{bytes, seed_store, Limits, Store};

/// A case as written in its file. Exactly one of the `input*` keys must be set.
#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct CaseFile {
    /// What the case proves, kept in the snapshot's header.
    description: String,
    export: String,
    /// The input as UTF-8 text.
    input: Option<String>,
    /// The input as hex digits, for bytes that are not text.
    input_hex: Option<String>,
    /// The input as standard base64 (with `=` padding).
    input_base64: Option<String>,
    /// The input generated as `pattern` repeated `times` times.
    input_repeat: Option<Repeat>,
    /// The host's key-value store as text. With `store-hex`, the store is both tables' entries;
    /// with neither, it is the seed's two entries.
    store: Option<BTreeMap<String, String>>,
    /// Store entries whose key and value are hex digits, for bytes that are not text.
    store_hex: Option<BTreeMap<String, String>>,
    /// Host limits for this case's calls; the contract's defaults (`Limits::default()`) for any
    /// not given.
    limits: Option<LimitsFile>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct LimitsFile {
    timeout_ms: Option<u64>,
    memory_max_pages: Option<u32>,
    max_key_len: Option<u64>,
    max_value_len: Option<u64>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Repeat {
    pattern: String,
    times: usize,
}

pub struct Case {
    /// The file stem; also the snapshot's name.
    pub name: String,
    /// Relative to the project root, as snapshots and messages show it.
    pub file: String,
    pub description: String,
    pub export: String,
    pub input: Vec<u8>,
    pub store: Store,
    pub limits: Limits,
}

/// Where the cases live, relative to the project root.
pub const CASES_DIR: &str = "tests/cases";

/// The name of every case in `root`'s case directory, sorted: the file stems of its `*.toml`.
pub fn names(root: &Path) -> anyhow::Result<Vec<String>> {
    let dir = root.join(CASES_DIR);
    let mut names = Vec::new();
    for entry in
        std::fs::read_dir(&dir).with_context(|| format!("cannot list {}", dir.display()))?
    {
        let path: PathBuf = entry?.path();
        if path.extension().is_some_and(|ext| ext == "toml") {
            if let Some(stem) = path.file_stem().and_then(|stem| stem.to_str()) {
                names.push(stem.to_owned());
            }
        }
    }
    names.sort();
    Ok(names)
}

/// Reads the case `name`; every error names its file.
pub fn load(root: &Path, name: &str) -> anyhow::Result<Case> {
    let file = format!("{CASES_DIR}/{name}.toml");
    let text =
        std::fs::read_to_string(root.join(&file)).with_context(|| format!("cannot read {file}"))?;
    let parsed: CaseFile =
        toml::from_str(&text).map_err(|error| anyhow::anyhow!("{file}: {}", error.message()))?;
    let input = match (
        parsed.input,
        parsed.input_hex,
        parsed.input_base64,
        parsed.input_repeat,
    ) {
        (Some(text), None, None, None) => text.into_bytes(),
        (None, Some(hex), None, None) => {
            decode_hex(&hex).with_context(|| format!("{file}: bad input-hex"))?
        }
        (None, None, Some(base64), None) => {
            bytes::decode(&base64).with_context(|| format!("{file}: bad input-base64"))?
        }
        (None, None, None, Some(Repeat { pattern, times })) => pattern.repeat(times).into_bytes(),
        _ => bail!(
            "{file}: set exactly one of `input`, `input-hex`, `input-base64` and `input-repeat`"
        ),
    };
    let store = match (parsed.store, parsed.store_hex) {
        (None, None) => seed_store(),
        (text, hex) => {
            let mut entries: Vec<(Vec<u8>, Vec<u8>)> = text
                .unwrap_or_default()
                .into_iter()
                .map(|(key, value)| (key.into_bytes(), value.into_bytes()))
                .collect();
            for (key, value) in hex.unwrap_or_default() {
                let key = decode_hex(&key)
                    .with_context(|| format!("{file}: bad store-hex key `{key}`"))?;
                let value = decode_hex(&value)
                    .with_context(|| format!("{file}: bad store-hex value `{value}`"))?;
                entries.push((key, value));
            }
            Store::from_iter(entries)
        }
    };
    Ok(Case {
        name: name.to_owned(),
        file,
        description: parsed.description,
        export: parsed.export,
        input,
        store,
        limits: parsed.limits.map_or_else(Limits::default, |limits| {
            let default = Limits::default();
            Limits {
                timeout_ms: limits.timeout_ms.or(default.timeout_ms),
                memory_max_pages: limits.memory_max_pages.or(default.memory_max_pages),
                max_key_len: limits.max_key_len.or(default.max_key_len),
                max_value_len: limits.max_value_len.or(default.max_value_len),
            }
        }),
    })
}

fn decode_hex(hex: &str) -> anyhow::Result<Vec<u8>> {
    let digits: Vec<u8> = hex.bytes().filter(|b| !b.is_ascii_whitespace()).collect();
    if !digits.len().is_multiple_of(2) {
        bail!("odd number of hex digits ({})", digits.len());
    }
    digits
        .chunks(2)
        .map(|pair| {
            let pair = std::str::from_utf8(pair)?;
            u8::from_str_radix(pair, 16).with_context(|| format!("`{pair}` is not a hex byte"))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_ignores_whitespace_and_rejects_odd_digits() {
        assert_eq!(decode_hex("ff 00\nfe").unwrap(), [0xff, 0x00, 0xfe]);
        assert!(decode_hex("abc").is_err());
        assert!(decode_hex("zz").is_err());
    }
}
