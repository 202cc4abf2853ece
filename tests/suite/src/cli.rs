//! What `host call` and `cargo xtask matrix call` both read from a command line, parsed once:
//! the input (`--input`, `--input-file`, stdin), the store (`--store FILE`, `--set KEY=VALUE`),
//! `KEY=VALUE` and `NAME=WASM` pairs, durations (`--timeout`) and sizes (`--memory-max`,
//! `--max-key-len`). Errors are one line, for the caller to print after `error: `.

use std::collections::BTreeMap;
use std::io::{IsTerminal, Read};
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::protocol::{seed_store, Store};

/// The call's input: `text`, else the file (`-` is stdin), else stdin unless it is a terminal
/// (a terminal would wait for typing nobody meant to do), else nothing.
pub fn read_input(text: Option<&str>, file: Option<&Path>) -> Result<Vec<u8>, String> {
    let from_stdin = || {
        let mut input = Vec::new();
        std::io::stdin()
            .lock()
            .read_to_end(&mut input)
            .map(|_| input)
            .map_err(|error| format!("cannot read stdin: {error}"))
    };
    match (text, file) {
        (Some(text), _) => Ok(text.as_bytes().to_vec()),
        (None, Some(path)) if path.as_os_str() == "-" => from_stdin(),
        (None, Some(path)) => std::fs::read(path)
            .map_err(|error| format!("cannot read input file {}: {error}", path.display())),
        (None, None) if std::io::stdin().is_terminal() => Ok(Vec::new()),
        (None, None) => from_stdin(),
    }
}

/// The store behind `hostMemoryGet`: the seed's (CONTRACT.md) unless `file` names a store
/// file ([`read_store_file`]), with each `--set` entry added or replaced on top.
pub fn store(file: Option<&Path>, sets: &[(String, String)]) -> Result<Store, String> {
    let mut store = match file {
        Some(path) => read_store_file(path)?
            .into_iter()
            .map(|(key, value)| (key.into_bytes(), value.into_bytes()))
            .collect(),
        None => seed_store(),
    };
    for (key, value) in sets {
        store.insert(key.as_bytes().to_vec(), value.as_bytes().to_vec());
    }
    Ok(store)
}

/// Reads a store file: an object of string keys to string values, as JSON (`.json`) or TOML
/// (`.toml`); any other name is read as JSON if it starts with `{`, else as TOML.
pub fn read_store_file(path: &Path) -> Result<BTreeMap<String, String>, String> {
    let shown = path.display();
    let text = std::fs::read_to_string(path)
        .map_err(|error| format!("cannot read store file {shown}: {error}"))?;
    let json = match path.extension().and_then(|e| e.to_str()) {
        Some("json") => true,
        Some("toml") => false,
        _ => text.trim_start().starts_with('{'),
    };
    let entries = if json {
        parse_json(&text)
    } else {
        parse_toml(&text)
    };
    entries.map_err(|error| format!("store file {shown}: {error}"))
}

fn parse_json(text: &str) -> Result<BTreeMap<String, String>, String> {
    serde_json::from_str(text)
        .map_err(|error| format!("not a JSON object of string keys to string values: {error}"))
}

fn parse_toml(text: &str) -> Result<BTreeMap<String, String>, String> {
    toml::from_str(text).map_err(|error| {
        let at = error
            .span()
            .map(|span| {
                let line = text[..span.start].matches('\n').count() + 1;
                format!(" at line {line}")
            })
            .unwrap_or_default();
        format!(
            "not a TOML table of string keys to string values{at}: {}",
            error.message().trim_end()
        )
    })
}

/// `--set KEY=VALUE`, `--config KEY=VALUE`: split at the first `=`; the key may be empty (the
/// contract's empty key), the value too.
pub fn parse_set(arg: &str) -> Result<(String, String), String> {
    arg.split_once('=')
        .map(|(key, value)| (key.to_owned(), value.to_owned()))
        .ok_or_else(|| format!("expected KEY=VALUE, got `{arg}`"))
}

/// `--link NAME=WASM`: a module linked beside the plugin, which imports from it by `NAME`. The
/// names are checked together, by [`crate::protocol::Link::check_names`].
pub fn parse_link(arg: &str) -> Result<(String, PathBuf), String> {
    match arg.split_once('=') {
        Some((name, wasm)) if !wasm.is_empty() => Ok((name.to_owned(), PathBuf::from(wasm))),
        _ => Err(format!("expected NAME=WASM, got `{arg}`")),
    }
}

/// WebAssembly's page size.
const PAGE: u64 = 64 * 1024;

/// `500ms`, `2s`, `1.5s` or `1m`; a unit is required, so `500` is never a guess.
pub fn duration(text: &str) -> Result<Duration, String> {
    let split = text
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .ok_or_else(|| format!("`{text}` has no unit: write it as 500ms, 2s or 1m"))?;
    let (number, unit) = text.split_at(split);
    let number: f64 = number
        .parse()
        .map_err(|_| format!("`{text}` is not a duration such as 500ms, 2s or 1m"))?;
    let seconds = match unit {
        "ms" => number / 1000.0,
        "s" => number,
        "m" => number * 60.0,
        _ => return Err(format!("`{text}`: unknown unit `{unit}`; use ms, s or m")),
    };
    let duration =
        Duration::try_from_secs_f64(seconds).map_err(|_| format!("`{text}` is out of range"))?;
    if duration.is_zero() {
        return Err(format!("`{text}` must be longer than 0"));
    }
    Ok(duration)
}

/// A number of 64 KiB pages (`48`), or a size in KiB, MiB or GiB (`3MiB`), rounded up to pages.
pub fn memory_pages(text: &str) -> Result<u32, String> {
    let (number, unit) = number_and_unit(text)
        .ok_or_else(|| format!("`{text}` is not a page count (48) or a size (3MiB)"))?;
    let bytes_per_unit = match unit {
        "" => PAGE,
        _ => unit_bytes(unit)
            .ok_or_else(|| format!("`{text}`: unknown unit `{unit}`; use KiB, MiB or GiB"))?,
    };
    let pages = number
        .checked_mul(bytes_per_unit)
        .map(|bytes| bytes.div_ceil(PAGE))
        .and_then(|pages| u32::try_from(pages).ok())
        // 65,536 pages is all a 32-bit memory can address.
        .filter(|&pages| pages <= 65_536)
        .ok_or_else(|| format!("`{text}` is more than the 4 GiB a 32-bit memory can hold"))?;
    if pages == 0 {
        return Err(format!("`{text}` must be more than 0"));
    }
    Ok(pages)
}

/// A byte count: `100`, or a size in KiB, MiB or GiB (`4KiB`).
pub fn bytes(text: &str) -> Result<u64, String> {
    let (number, unit) = number_and_unit(text)
        .ok_or_else(|| format!("`{text}` is not a byte count (100) or a size (4KiB)"))?;
    let scale = unit_bytes(unit).ok_or_else(|| {
        format!("`{text}`: unknown unit `{unit}`; use no unit (bytes), KiB, MiB or GiB")
    })?;
    number
        .checked_mul(scale)
        .ok_or_else(|| format!("`{text}` is too large"))
}

/// The leading decimal number of `text` and the unit after it.
fn number_and_unit(text: &str) -> Option<(u64, &str)> {
    let split = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    Some((number.parse().ok()?, unit))
}

fn unit_bytes(unit: &str) -> Option<u64> {
    match unit {
        "" => Some(1),
        "KiB" => Some(1 << 10),
        "MiB" => Some(1 << 20),
        "GiB" => Some(1 << 30),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_and_toml_give_the_same_store() {
        let json = parse_json(r#"{"hello": "hi", "message": "m"}"#).unwrap();
        let toml = parse_toml("hello = \"hi\"\nmessage = \"m\"\n").unwrap();
        assert_eq!(json, toml);
        assert_eq!(json["hello"], "hi");
    }

    #[test]
    fn malformed_store_files_say_what_is_wrong_on_one_line() {
        let json = parse_json(r#"{"hello": 1}"#).unwrap_err();
        assert!(json.contains("string keys to string values"), "{json}");
        assert!(!json.contains('\n'));
        let toml = parse_toml("hello = \"hi\"\nmessage = 3\n").unwrap_err();
        assert!(toml.contains("at line 2"), "{toml}");
        assert!(!toml.contains('\n'), "{toml}");
        let missing = read_store_file(Path::new("no/such/store.json")).unwrap_err();
        assert!(missing.starts_with("cannot read store file no/such/store.json"));
    }

    #[test]
    fn the_store_is_the_seeds_unless_a_file_replaces_it_and_sets_go_on_top() {
        assert_eq!(store(None, &[]), Ok(seed_store()));
        let sets = [
            ("hello".to_owned(), "hi".to_owned()),
            (String::new(), "e".into()),
        ];
        let set = store(None, &sets).unwrap();
        assert_eq!(set[&b"hello"[..]], b"hi");
        assert_eq!(set[&b""[..]], b"e");
        assert_eq!(set[&b"message"[..]], seed_store()[&b"message"[..]]);
    }

    #[test]
    fn set_splits_at_the_first_equals_sign() {
        assert_eq!(parse_set("a=b=c"), Ok(("a".into(), "b=c".into())));
        assert_eq!(parse_set("=v"), Ok((String::new(), "v".into())));
        assert_eq!(parse_set("k="), Ok(("k".into(), String::new())));
        assert!(parse_set("novalue").is_err());
    }

    #[test]
    fn a_link_is_a_name_and_a_file() {
        assert_eq!(
            parse_link("lib=a=b.wasm"),
            Ok(("lib".into(), "a=b.wasm".into()))
        );
        // Empty and reserved names are the protocol's to refuse, with the other links in view.
        assert_eq!(
            parse_link("=lib.wasm"),
            Ok((String::new(), "lib.wasm".into()))
        );
        assert!(parse_link("lib").unwrap_err().contains("NAME=WASM"));
        assert!(parse_link("lib=").unwrap_err().contains("NAME=WASM"));
    }

    #[test]
    fn durations_need_a_unit() {
        assert_eq!(duration("500ms"), Ok(Duration::from_millis(500)));
        assert_eq!(duration("1.5s"), Ok(Duration::from_millis(1500)));
        assert_eq!(duration("2m"), Ok(Duration::from_secs(120)));
        assert!(duration("500").unwrap_err().contains("has no unit"));
        assert!(duration("5h").unwrap_err().contains("unknown unit `h`"));
        assert!(duration("0s").unwrap_err().contains("longer than 0"));
        assert!(duration("ms").unwrap_err().contains("not a duration"));
    }

    #[test]
    fn byte_counts_take_binary_units() {
        assert_eq!(bytes("100"), Ok(100));
        assert_eq!(bytes("4KiB"), Ok(4096));
        assert_eq!(bytes("1MiB"), Ok(1 << 20));
        assert!(bytes("1MB").unwrap_err().contains("unknown unit `MB`"));
        assert!(bytes("x").unwrap_err().contains("not a byte count"));
        assert!(bytes("99999999999GiB").unwrap_err().contains("too large"));
    }

    #[test]
    fn memory_is_pages_or_a_size() {
        assert_eq!(memory_pages("48"), Ok(48));
        assert_eq!(memory_pages("3MiB"), Ok(48));
        assert_eq!(memory_pages("1KiB"), Ok(1));
        assert_eq!(memory_pages("4GiB"), Ok(65_536));
        assert!(memory_pages("5GiB").unwrap_err().contains("4 GiB"));
        assert!(memory_pages("0").unwrap_err().contains("more than 0"));
        assert!(memory_pages("3MB")
            .unwrap_err()
            .contains("unknown unit `MB`"));
        assert!(memory_pages("-1").unwrap_err().contains("not a page count"));
    }
}
