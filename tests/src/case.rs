//! A conformance case: one file in `tests/cases/`, read into what a call needs.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context};
use serde::Deserialize;

use crate::protocol::{bytes, seed_store, Call, Limits, Link, LogLevel, Request, Store, Wasi};

/// A case as written in its file: one call (`export` and one `input*` key) or a sequence of
/// calls on one instance (`[[calls]]`, each with its own `export` and `input*`).
#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct CaseFile {
    /// What the case proves, kept in the snapshot's header.
    description: String,
    /// The case's own module, `.wasm` or `.wat`, relative to the case file: the case then runs
    /// once per host on it, instead of once per language on the contract's plugins.
    wasm: Option<String>,
    /// Modules linked beside the case's own module, in the manifest's order.
    links: Option<Vec<LinkFile>>,
    export: Option<String>,
    /// The input as UTF-8 text.
    input: Option<String>,
    /// The input as hex digits, for bytes that are not text.
    input_hex: Option<String>,
    /// The input as standard base64 (with `=` padding).
    input_base64: Option<String>,
    /// The input generated as `pattern` repeated `times` times.
    input_repeat: Option<Repeat>,
    /// An input of this many bytes, [`sized`]'s.
    input_size: Option<usize>,
    /// The calls, in order, on one instance, instead of `export` and `input`.
    calls: Option<Vec<CallFile>>,
    /// The host's key-value store as text. With `store-hex` or `store-repeat`, the store is
    /// every table's entries; with none of them, it is the seed's two entries.
    store: Option<BTreeMap<String, String>>,
    /// Store entries whose key and value are hex digits, for bytes that are not text.
    store_hex: Option<BTreeMap<String, String>>,
    /// Store entries whose value is generated as `pattern` repeated.
    store_repeat: Option<BTreeMap<String, Repeat>>,
    /// Store entries whose value is this many bytes, [`sized`]'s.
    store_size: Option<BTreeMap<String, usize>>,
    /// The plugin's Extism config; none by default.
    config: Option<BTreeMap<String, String>>,
    /// The host's log level: `trace`, `debug`, `info`, `warn`, `error` or `off` (the default).
    log_level: Option<String>,
    /// Host limits for this case's calls; the contract's defaults (`Limits::default()`) for any
    /// not given.
    limits: Option<LimitsFile>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct CallFile {
    export: String,
    input: Option<String>,
    input_hex: Option<String>,
    input_base64: Option<String>,
    input_repeat: Option<Repeat>,
    input_size: Option<usize>,
    /// How many times in a row this call is made (1 by default).
    times: Option<usize>,
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
struct LinkFile {
    name: String,
    /// `.wasm` or `.wat`, relative to the case file.
    wasm: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Repeat {
    pattern: String,
    times: usize,
}

#[derive(Clone)]
pub struct Case {
    /// The file stem; also the snapshot's name.
    pub name: String,
    /// The folder the case is in: what it proves.
    pub group: String,
    /// Relative to the project root, as snapshots and messages show it.
    pub file: String,
    pub description: String,
    /// The case's own module and its links, when it brings them; `request.links` is empty until
    /// they are built ([`OwnModule`]).
    pub module: Option<OwnModule>,
    /// The request's setup and calls; the calls are made in order on one instance.
    pub request: Request,
}

/// The language name a case's own module goes by in trial names, records and known failures:
/// `<case>::module@<host>`.
pub const OWN_MODULE: &str = "module";

/// A case's own module and the modules linked beside it, as files (`.wasm`, or `.wat` text the
/// harness compiles): absolute paths.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OwnModule {
    pub main: PathBuf,
    /// By name, in the manifest's order.
    pub links: Vec<(String, PathBuf)>,
}

impl OwnModule {
    /// Every file, the main module first.
    pub fn files(&self) -> impl Iterator<Item = &Path> {
        std::iter::once(self.main.as_path())
            .chain(self.links.iter().map(|(_, path)| path.as_path()))
    }
}

/// The known-failure list of someone else's directory of cases, beside its groups.
pub const KNOWN_FAILURES_FILE_NAME: &str = "known-failures.toml";

/// Where the cases live, relative to the project root: one folder per group.
pub const CASES_DIR: &str = "tests/cases";

/// The most calls a case may make: a request travels as one line.
const MAX_CALLS: usize = 100_000;

/// A case in the catalogue: its name (the file stem, unique across groups) and its group.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub name: String,
    pub group: String,
    /// The case file as messages and snapshots show it (`tests/cases/<group>/<name>.toml`).
    pub file: String,
    pub path: PathBuf,
    /// The case names its own module (`wasm = ...`): it runs once per host.
    pub own_module: bool,
}

/// Every case of `root`'s catalogue, sorted by name: the `*.toml` files of each folder of the
/// case directory. A file outside a group folder, or two cases of one name, is an error: the
/// name is the snapshot's and the trial's.
pub fn catalogue(root: &Path) -> anyhow::Result<Vec<Entry>> {
    catalogue_in(&root.join(CASES_DIR), CASES_DIR)
}

/// Every case of the case directory `dir`, shown in messages as `shown`, as [`catalogue`] reads
/// this repository's.
pub fn catalogue_in(dir: &Path, shown: &str) -> anyhow::Result<Vec<Entry>> {
    let mut entries: Vec<Entry> = Vec::new();
    for group in sorted_dir(dir)? {
        let group_name = group
            .file_name()
            .and_then(|name| name.to_str())
            .unwrap_or_default()
            .to_owned();
        if !group.is_dir() {
            // Beside the groups of someone else's directory: its known failures, notes.
            let toml = group.extension().is_some_and(|ext| ext == "toml");
            if !toml || group_name == KNOWN_FAILURES_FILE_NAME {
                continue;
            }
            bail!("{shown}/{group_name}: a case belongs in a group folder, {shown}/<group>/<case>.toml");
        }
        for path in sorted_dir(&group)? {
            if path.extension().is_none_or(|ext| ext != "toml") {
                continue;
            }
            let Some(stem) = path.file_stem().and_then(|stem| stem.to_str()) else {
                continue;
            };
            if let Some(other) = entries.iter().find(|entry| entry.name == stem) {
                bail!(
                    "{shown}/{group_name}/{stem}.toml: a case named `{stem}` is already in {shown}/{}/ (names are unique across groups)",
                    other.group
                );
            }
            // A file that does not parse is an ordinary case here; its trials fail on loading it.
            let own_module = std::fs::read_to_string(&path)
                .ok()
                .and_then(|text| toml::from_str::<toml::Table>(&text).ok())
                .is_some_and(|table| table.contains_key("wasm"));
            entries.push(Entry {
                name: stem.to_owned(),
                group: group_name.clone(),
                file: format!("{shown}/{group_name}/{stem}.toml"),
                path: path.clone(),
                own_module,
            });
        }
    }
    entries.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(entries)
}

fn sorted_dir(dir: &Path) -> anyhow::Result<Vec<PathBuf>> {
    let mut paths = Vec::new();
    for entry in std::fs::read_dir(dir).with_context(|| format!("cannot list {}", dir.display()))? {
        paths.push(entry?.path());
    }
    paths.sort();
    Ok(paths)
}

/// The name of every case, sorted.
pub fn names(root: &Path) -> anyhow::Result<Vec<String>> {
    Ok(catalogue(root)?
        .into_iter()
        .map(|entry| entry.name)
        .collect())
}

/// Reads the case `entry`; every error names its file.
pub fn load(entry: &Entry) -> anyhow::Result<Case> {
    let file = entry.file.clone();
    let text =
        std::fs::read_to_string(&entry.path).with_context(|| format!("cannot read {file}"))?;
    let mut parsed: CaseFile =
        toml::from_str(&text).map_err(|error| anyhow::anyhow!("{file}: {}", error.message()))?;
    let calls = calls(&file, &mut parsed)?;
    let store = store(&file, &mut parsed)?;
    let dir = entry.path.parent().unwrap_or(Path::new("."));
    let module = own_module(&file, dir, parsed.wasm.take(), parsed.links.take())?;
    let log_level = match parsed.log_level {
        None => LogLevel::Off,
        Some(name) => LogLevel::from_name(&name).with_context(|| {
            format!(
                "{file}: `log-level` is `{name}`, not one of trace, debug, info, warn, error, off"
            )
        })?,
    };
    let limits = parsed.limits.map_or_else(Limits::default, |limits| {
        let default = Limits::default();
        Limits {
            timeout_ms: limits.timeout_ms.or(default.timeout_ms),
            memory_max_pages: limits.memory_max_pages.or(default.memory_max_pages),
            max_key_len: limits.max_key_len.or(default.max_key_len),
            max_value_len: limits.max_value_len.or(default.max_value_len),
        }
    });
    Ok(Case {
        name: entry.name.clone(),
        group: entry.group.clone(),
        file,
        description: parsed.description,
        module,
        request: Request {
            links: Vec::new(),
            wasi: Wasi::Auto,
            config: parsed.config.unwrap_or_default(),
            log_level,
            store,
            limits,
            calls,
        },
    })
}

/// The case's own module and links, each file relative to the case's folder `dir`.
fn own_module(
    file: &str,
    dir: &Path,
    wasm: Option<String>,
    links: Option<Vec<LinkFile>>,
) -> anyhow::Result<Option<OwnModule>> {
    let Some(wasm) = wasm else {
        if links.is_some() {
            bail!("{file}: `links` needs the case's own module, `wasm = \"<file>.wasm\"`");
        }
        return Ok(None);
    };
    let path = |relative: &str, what: &str| -> anyhow::Result<PathBuf> {
        let path = dir.join(relative);
        let ext = path.extension().and_then(|ext| ext.to_str());
        if !matches!(ext, Some("wasm" | "wat")) {
            bail!("{file}: {what} `{relative}` is neither a .wasm nor a .wat file");
        }
        if !path.is_file() {
            bail!("{file}: {what} `{relative}` is not a file");
        }
        Ok(path)
    };
    let main = path(&wasm, "`wasm`")?;
    let mut named = Vec::new();
    for (index, link) in links.unwrap_or_default().into_iter().enumerate() {
        let what = format!("links[{index}]");
        named.push((link.name, path(&link.wasm, &what)?));
    }
    let as_links: Vec<Link> = named
        .iter()
        .map(|(name, wasm)| Link {
            name: name.clone(),
            wasm: wasm.clone(),
        })
        .collect();
    Link::check_names(&as_links).map_err(|error| anyhow::anyhow!("{file}: {error}"))?;
    Ok(Some(OwnModule { main, links: named }))
}

/// The calls of a case: one (`export`) or a sequence (`[[calls]]`, each `times` over).
fn calls(file: &str, parsed: &mut CaseFile) -> anyhow::Result<Vec<Call>> {
    let calls = match (parsed.export.take(), parsed.calls.take()) {
        (Some(export), None) => vec![Call {
            export,
            input: input(
                parsed.input.take(),
                parsed.input_hex.take(),
                parsed.input_base64.take(),
                parsed.input_repeat.take(),
                parsed.input_size.take(),
            )
            .with_context(|| file.to_owned())?,
        }],
        (None, Some(calls)) => {
            if parsed.input.is_some()
                || parsed.input_hex.is_some()
                || parsed.input_base64.is_some()
                || parsed.input_repeat.is_some()
                || parsed.input_size.is_some()
            {
                bail!("{file}: with `[[calls]]`, each call has its own input");
            }
            let mut expanded = Vec::new();
            for (index, call) in calls.into_iter().enumerate() {
                let input = input(
                    call.input,
                    call.input_hex,
                    call.input_base64,
                    call.input_repeat,
                    call.input_size,
                )
                .with_context(|| format!("{file}: call {}", index + 1))?;
                let times = call.times.unwrap_or(1);
                if times == 0 {
                    bail!("{file}: call {}: `times` must be at least 1", index + 1);
                }
                if expanded.len() + times > MAX_CALLS {
                    bail!("{file}: more than {MAX_CALLS} calls");
                }
                expanded.extend(std::iter::repeat_n(
                    Call {
                        export: call.export,
                        input,
                    },
                    times,
                ));
            }
            if expanded.is_empty() {
                bail!("{file}: `calls` is empty");
            }
            expanded
        }
        _ => bail!("{file}: set exactly one of `export` (one call) and `[[calls]]` (a sequence)"),
    };
    Ok(calls)
}

/// The store of a case: the seed's, or the one its `store*` tables give.
fn store(file: &str, parsed: &mut CaseFile) -> anyhow::Result<Store> {
    let store = match (
        parsed.store.take(),
        parsed.store_hex.take(),
        parsed.store_repeat.take(),
        parsed.store_size.take(),
    ) {
        (None, None, None, None) => seed_store(),
        (text, hex, repeat, size) => {
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
            for (key, Repeat { pattern, times }) in repeat.unwrap_or_default() {
                entries.push((key.into_bytes(), pattern.repeat(times).into_bytes()));
            }
            for (key, len) in size.unwrap_or_default() {
                entries.push((key.into_bytes(), sized(len)));
            }
            let mut store = Store::new();
            for (key, value) in entries {
                if store.insert(key.clone(), value).is_some() {
                    bail!(
                        "{file}: the store key `{}` is given twice",
                        String::from_utf8_lossy(&key)
                    );
                }
            }
            store
        }
    };
    Ok(store)
}

/// The input of one call, from exactly one of its `input*` keys.
fn input(
    text: Option<String>,
    hex: Option<String>,
    base64: Option<String>,
    repeat: Option<Repeat>,
    size: Option<usize>,
) -> anyhow::Result<Vec<u8>> {
    Ok(match (text, hex, base64, repeat, size) {
        (Some(text), None, None, None, None) => text.into_bytes(),
        (None, Some(hex), None, None, None) => decode_hex(&hex).context("bad input-hex")?,
        (None, None, Some(base64), None, None) => {
            bytes::decode(&base64).context("bad input-base64")?
        }
        (None, None, None, Some(Repeat { pattern, times }), None) => {
            pattern.repeat(times).into_bytes()
        }
        (None, None, None, None, Some(len)) => sized(len),
        _ => bail!(
            "set exactly one of `input`, `input-hex`, `input-base64`, `input-repeat` and `input-size`"
        ),
    })
}

/// `len` bytes that are not periodic in 8 (byte `i` is `32 + i % 223`, 223 being prime), so a
/// copy loop that drops, repeats or swaps an 8-byte word or a tail byte changes the digest.
/// Short ones are printable ASCII, shown as text in a snapshot; from 97 bytes on they hold
/// bytes over 0x7f, which are not UTF-8.
pub fn sized(len: usize) -> Vec<u8> {
    (0..len).map(|i| (32 + i % 223) as u8).collect()
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

    /// A catalogue in a temporary folder with one group holding `files`.
    fn catalogue_of(files: &[(&str, &str)]) -> (PathBuf, Vec<Entry>) {
        let unique = format!("cases-{}-{}", std::process::id(), files.len());
        let dir = std::env::temp_dir().join(unique);
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("own/modules")).unwrap();
        for (name, text) in files {
            std::fs::write(dir.join("own").join(name), text).unwrap();
        }
        let entries = catalogue_in(&dir, "mine").unwrap();
        (dir, entries)
    }

    #[test]
    fn a_case_with_its_own_module_reads_its_files_beside_it() {
        let case =
            "description = \"d\"\nwasm = \"modules/m.wat\"\nexport = \"run\"\ninput = \"\"\n\
                    links = [{ name = \"lib\", wasm = \"modules/l.wasm\" }]\n";
        let (dir, entries) = catalogue_of(&[
            ("a.toml", case),
            ("modules/m.wat", "(module)"),
            ("modules/l.wasm", "\0asm"),
        ]);
        assert!(entries[0].own_module);
        assert_eq!(entries[0].file, "mine/own/a.toml");
        let module = load(&entries[0]).unwrap().module.unwrap();
        assert_eq!(module.main, dir.join("own/modules/m.wat"));
        assert_eq!(
            module.links,
            [("lib".to_owned(), dir.join("own/modules/l.wasm"))]
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_bad_own_module_is_an_error_naming_the_case_file() {
        let head = "description = \"d\"\nexport = \"run\"\ninput = \"\"\n";
        let bad = [
            (
                "links = [{ name = \"lib\", wasm = \"m.wat\" }]\n",
                "needs the case's own module",
            ),
            ("wasm = \"m.txt\"\n", "neither a .wasm nor a .wat"),
            ("wasm = \"missing.wat\"\n", "is not a file"),
            (
                "wasm = \"m.wat\"\nlinks = [{ name = \"main\", wasm = \"m.wat\" }]\n",
                "`main`",
            ),
        ];
        for (extra, expected) in bad {
            let text = format!("{head}{extra}");
            let (dir, entries) = catalogue_of(&[("b.toml", &text), ("m.wat", "(module)")]);
            let error = format!("{:#}", load(&entries[0]).err().unwrap());
            assert!(error.starts_with("mine/own/b.toml: "), "{error}");
            assert!(error.contains(expected), "{extra}: {error}");
            std::fs::remove_dir_all(&dir).unwrap();
        }
    }
}
