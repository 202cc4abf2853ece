//! The store a call runs against: the seed's, or a file's, with `--set` entries on top.

use std::collections::BTreeMap;
use std::path::Path;

use host::Store;

/// Reads a store file: an object of string keys to string values, as JSON (`.json`) or TOML
/// (`.toml`); any other name is read as JSON if it starts with `{`, else as TOML.
pub fn load(path: &Path) -> Result<Store, String> {
    let shown = path.display();
    let text = std::fs::read_to_string(path)
        .map_err(|error| format!("cannot read store file {shown}: {error}"))?;
    let extension = path.extension().and_then(|e| e.to_str());
    let json = match extension {
        Some("json") => true,
        Some("toml") => false,
        _ => text.trim_start().starts_with('{'),
    };
    let entries = if json {
        parse_json(&text)
    } else {
        parse_toml(&text)
    }
    .map_err(|error| format!("store file {shown}: {error}"))?;
    Ok(entries.into_iter().collect())
}

type Entries = BTreeMap<String, String>;

fn parse_json(text: &str) -> Result<Entries, String> {
    serde_json::from_str(text)
        .map_err(|error| format!("not a JSON object of string keys to string values: {error}"))
}

fn parse_toml(text: &str) -> Result<Entries, String> {
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

/// `--set KEY=VALUE`: split at the first `=`; the key may be empty (the contract's empty key),
/// the value too.
pub fn parse_set(arg: &str) -> Result<(String, String), String> {
    arg.split_once('=')
        .map(|(key, value)| (key.to_owned(), value.to_owned()))
        .ok_or_else(|| format!("expected KEY=VALUE, got `{arg}`"))
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
    fn malformed_files_say_what_is_wrong_on_one_line() {
        let json = parse_json(r#"{"hello": 1}"#).unwrap_err();
        assert!(json.contains("string keys to string values"), "{json}");
        assert!(!json.contains('\n'));
        let toml = parse_toml("hello = \"hi\"\nmessage = 3\n").unwrap_err();
        assert!(toml.contains("at line 2"), "{toml}");
        assert!(!toml.contains('\n'), "{toml}");
    }

    #[test]
    fn set_splits_at_the_first_equals_sign() {
        assert_eq!(parse_set("a=b=c"), Ok(("a".into(), "b=c".into())));
        assert_eq!(parse_set("=v"), Ok((String::new(), "v".into())));
        assert_eq!(parse_set("k="), Ok(("k".into(), String::new())));
        assert!(parse_set("novalue").is_err());
    }
}
