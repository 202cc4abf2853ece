//! The known-failure lists: `tests/known-failures.toml`, one table per host and language
//! (`[<host>.<language>]`) mapping a case to the reason it is expected to diverge; per host,
//! `fuzz_memory_get = "reason"` in `[<host>]` when its boundary fuzz is expected to fail, and
//! `[<host>.property]` mapping an export to the reason the host answers generated calls of it
//! differently from the other hosts in the property test.

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::{bail, Context};

use crate::abi::CONTRACT_EXPORTS;

/// Relative to the project root.
pub const KNOWN_FAILURES_FILE: &str = "tests/known-failures.toml";

/// The boundary fuzz's key in `[<host>]`.
pub const FUZZ: &str = "fuzz_memory_get";

/// The property test's table, `[<host>.property]`.
pub const PROPERTY: &str = "property";

/// The table of a host's cases that fail for every language, `[<host>.every-language]`: an
/// SDK's divergence is the same whatever the plugin was written in.
pub const EVERY_LANGUAGE: &str = "every-language";

/// The host key of the tables that hold for every host, `[every-host.<language>]`: a PDK's
/// divergence is the same whichever host runs the plugin.
pub const EVERY_HOST: &str = "every-host";

/// The table of a host's attacks it does not withstand as the contract says,
/// `[<host>.attacks]` of `<attack> = "reason"`, for every hostile language; one hostile
/// language's are in `[<host>.attacks-<language>]`.
pub const ATTACKS: &str = "attacks";

/// host -> language (or `property`) -> case (or export) -> reason
type Entries = BTreeMap<String, BTreeMap<String, BTreeMap<String, String>>>;

/// An entry of a host's table: the fuzz's reason, or a table of a language or the property test.
#[derive(serde::Deserialize)]
#[serde(untagged)]
enum HostEntry {
    Reason(String),
    Table(BTreeMap<String, String>),
}

#[derive(Debug, Default)]
pub struct KnownFailures {
    entries: Entries,
    /// host -> why its fuzz is expected to fail
    fuzz: BTreeMap<String, String>,
}

/// Each name of the table `table` (`<host>.<key>`) is one of `allowed` (a case, an attack or an
/// export, as `what` says) and has a reason.
fn check_listed(
    file: &str,
    table: &str,
    what: &str,
    allowed: &[&str],
    listed: &BTreeMap<String, String>,
) -> anyhow::Result<()> {
    for (name, reason) in listed {
        let entry = format!("{table}.{name}");
        if !allowed.contains(&name.as_str()) {
            match what {
                "case" => bail!("{file}: {entry}: no such case in tests/cases"),
                "attack" => bail!(
                    "{file}: {entry}: no such attack; known: {}",
                    allowed.join(", ")
                ),
                _ => bail!(
                    "{file}: {entry}: no such export; known: {}",
                    allowed.join(", ")
                ),
            }
        }
        if reason.trim().is_empty() {
            bail!("{file}: {entry}: give the reason");
        }
    }
    Ok(())
}

impl KnownFailures {
    /// Reads the file; every host, language, case and export must be one that exists, so a typo
    /// cannot silently list nothing.
    pub fn load(
        root: &Path,
        hosts: &[&str],
        languages: &[&str],
        hostile: &[&str],
        cases: &[String],
    ) -> anyhow::Result<Self> {
        let text = std::fs::read_to_string(root.join(KNOWN_FAILURES_FILE))
            .with_context(|| format!("cannot read {KNOWN_FAILURES_FILE}"))?;
        Self::parse(&text, hosts, languages, hostile, cases)
    }

    /// Reads the list at `path`, shown in messages as `shown`; a missing file is an empty list
    /// (someone else's directory of cases need not have one).
    pub fn load_file(
        path: &Path,
        shown: &str,
        hosts: &[&str],
        languages: &[&str],
        cases: &[String],
    ) -> anyhow::Result<Self> {
        let text = match std::fs::read_to_string(path) {
            Ok(text) => text,
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => String::new(),
            Err(error) => anyhow::bail!("cannot read {shown}: {error}"),
        };
        Self::parse_named(&text, shown, hosts, languages, &[], cases)
    }

    pub fn parse(
        text: &str,
        hosts: &[&str],
        languages: &[&str],
        hostile: &[&str],
        cases: &[String],
    ) -> anyhow::Result<Self> {
        Self::parse_named(text, KNOWN_FAILURES_FILE, hosts, languages, hostile, cases)
    }

    /// Like [`KnownFailures::parse`], naming the list `file` in its messages.
    pub fn parse_named(
        text: &str,
        file: &str,
        hosts: &[&str],
        languages: &[&str],
        hostile: &[&str],
        cases: &[String],
    ) -> anyhow::Result<Self> {
        let tables: BTreeMap<String, BTreeMap<String, HostEntry>> =
            toml::from_str(text).map_err(|error| {
                anyhow::anyhow!(
                    "{file}: {} (tables are [<host>.<language>] of <case> = \"reason\", \
                     [<host>.{PROPERTY}] of <export> = \"reason\", and [<host>] with \
                     {FUZZ} = \"reason\")",
                    error.message().trim_end(),
                )
            })?;
        let mut known = KnownFailures::default();
        for (host, table) in tables {
            if !hosts.contains(&host.as_str()) && host != EVERY_HOST {
                bail!("{file}: unknown host `{host}`; known: {}", hosts.join(", "));
            }
            for (key, entry) in table {
                if host == EVERY_HOST && !languages.contains(&key.as_str()) {
                    bail!(
                        "{file}: {EVERY_HOST}.{key}: [{EVERY_HOST}] holds a table per \
                         language only; known: {}",
                        languages.join(", ")
                    );
                }
                let (allowed, what): (Vec<&str>, &str) = match (&entry, key.as_str()) {
                    (HostEntry::Reason(reason), FUZZ) => {
                        if reason.trim().is_empty() {
                            bail!("{file}: {host}.{key}: give the reason");
                        }
                        known.fuzz.insert(host.clone(), reason.clone());
                        continue;
                    }
                    (HostEntry::Reason(_), _) => bail!(
                        "{file}: {host}.{key}: only {FUZZ} takes a reason here; a \
                         language's cases go in [{host}.<language>]"
                    ),
                    (HostEntry::Table(_), PROPERTY) => (CONTRACT_EXPORTS.to_vec(), "export"),
                    (HostEntry::Table(_), table)
                        if table == ATTACKS
                            || table
                                .strip_prefix("attacks-")
                                .is_some_and(|language| hostile.contains(&language)) =>
                    {
                        (
                            crate::attacks::ATTACKS.iter().map(|a| a.name).collect(),
                            "attack",
                        )
                    }
                    (HostEntry::Table(_), table) if table.starts_with("attacks-") => bail!(
                        "{file}: {host}.{table}: no hostile plugin language `{}`; known: {}",
                        &table["attacks-".len()..],
                        hostile.join(", ")
                    ),
                    (HostEntry::Table(_), language)
                        if languages.contains(&language) || language == EVERY_LANGUAGE =>
                    {
                        (cases.iter().map(String::as_str).collect(), "case")
                    }
                    (HostEntry::Table(_), language) => bail!(
                        "{file}: {host}: unknown language `{language}`; known: {}",
                        languages.join(", ")
                    ),
                };
                let HostEntry::Table(listed) = entry else {
                    unreachable!("reasons were handled above");
                };
                check_listed(file, &format!("{host}.{key}"), what, &allowed, &listed)?;
                known
                    .entries
                    .entry(host.clone())
                    .or_default()
                    .insert(key, listed);
            }
        }
        Ok(known)
    }

    /// Why the boundary fuzz of `host` is expected to fail, if listed.
    pub fn fuzz_reason(&self, host: &str) -> Option<&str> {
        self.fuzz.get(host).map(String::as_str)
    }

    /// Why `host` answers generated calls of `export` differently from the other hosts, if
    /// listed.
    pub fn property_reason(&self, host: &str, export: &str) -> Option<&str> {
        self.entries
            .get(host)?
            .get(PROPERTY)?
            .get(export)
            .map(String::as_str)
    }

    /// Why `host` is expected not to withstand `attack` by the hostile plugin in `language` as
    /// the contract says, if listed: for that language, else for every one.
    pub fn attack_reason(&self, host: &str, language: &str, attack: &str) -> Option<&str> {
        let tables = self.entries.get(host)?;
        [format!("attacks-{language}"), ATTACKS.to_owned()]
            .iter()
            .find_map(|table| tables.get(table)?.get(attack))
            .map(String::as_str)
    }

    /// Why `case` is expected to fail for `language` on `host`, if it is listed: in the
    /// language's own table, else in the host's `every-language` table.
    pub fn reason(&self, host: &str, language: &str, case: &str) -> Option<&str> {
        [
            (host, language),
            (host, EVERY_LANGUAGE),
            (EVERY_HOST, language),
        ]
        .iter()
        .find_map(|(host, table)| self.entries.get(*host)?.get(*table)?.get(case))
        .map(String::as_str)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HOSTS: &[&str] = &["rust-host", "go-host"];
    const LANGUAGES: &[&str] = &["rust", "go"];

    fn cases() -> Vec<String> {
        vec!["seed_call".to_owned(), "echo_text".to_owned()]
    }

    #[test]
    fn entries_are_looked_up_by_host_language_and_case() {
        let text = "[go-host.go]\nseed_call = \"go differs here\"\n[rust-host.rust]\n";
        let known = KnownFailures::parse(text, HOSTS, LANGUAGES, &["rust"], &cases()).unwrap();
        assert_eq!(
            known.reason("go-host", "go", "seed_call"),
            Some("go differs here")
        );
        assert_eq!(known.reason("rust-host", "go", "seed_call"), None);
        assert_eq!(known.reason("go-host", "rust", "seed_call"), None);
        assert_eq!(known.reason("go-host", "go", "echo_text"), None);
    }

    #[test]
    fn a_host_lists_a_case_for_every_language_at_once() {
        let text = "[go-host.every-language]\necho_text = \"the sdk\"\n\
                    [go-host.go]\necho_text = \"go's own reason\"\n";
        let known = KnownFailures::parse(text, HOSTS, LANGUAGES, &["rust"], &cases()).unwrap();
        assert_eq!(
            known.reason("go-host", "rust", "echo_text"),
            Some("the sdk")
        );
        assert_eq!(
            known.reason("go-host", "go", "echo_text"),
            Some("go's own reason")
        );
        assert_eq!(known.reason("rust-host", "rust", "echo_text"), None);
        assert_eq!(known.reason("go-host", "rust", "seed_call"), None);
    }

    #[test]
    fn a_language_lists_a_case_for_every_host_at_once() {
        let text = "[every-host.go]\necho_text = \"the pdk\"\n[go-host.go]\necho_text = \"own\"\n";
        let known = KnownFailures::parse(text, HOSTS, LANGUAGES, &["rust"], &cases()).unwrap();
        assert_eq!(
            known.reason("rust-host", "go", "echo_text"),
            Some("the pdk")
        );
        assert_eq!(known.reason("go-host", "go", "echo_text"), Some("own"));
        assert_eq!(known.reason("rust-host", "rust", "echo_text"), None);
        let error = KnownFailures::parse(
            "[every-host.property]\nfail = \"x\"\n",
            HOSTS,
            LANGUAGES,
            &["rust"],
            &cases(),
        )
        .unwrap_err()
        .to_string();
        assert_eq!(error, "tests/known-failures.toml: every-host.property: [every-host] holds a table per language only; known: rust, go");
    }

    #[test]
    fn typos_and_missing_reasons_are_errors() {
        let error = |text: &str| {
            KnownFailures::parse(text, HOSTS, LANGUAGES, &["rust"], &cases())
                .unwrap_err()
                .to_string()
        };
        assert_eq!(
            error("[wasm-host.go]\n"),
            "tests/known-failures.toml: unknown host `wasm-host`; known: rust-host, go-host"
        );
        assert_eq!(
            error("[go-host.tinygoo]\n"),
            "tests/known-failures.toml: go-host: unknown language `tinygoo`; known: rust, go"
        );
        assert_eq!(
            error("[go-host.go]\nseed_cal = \"x\"\n"),
            "tests/known-failures.toml: go-host.go.seed_cal: no such case in tests/cases"
        );
        assert_eq!(
            error("[go-host.go]\nseed_call = \" \"\n"),
            "tests/known-failures.toml: go-host.go.seed_call: give the reason"
        );
        assert!(error("[go]\nseed_call = 3\n").contains("tables are [<host>.<language>]"));
        assert_eq!(
            error("[go-host]\nseed_call = \"x\"\n"),
            "tests/known-failures.toml: go-host.seed_call: only fuzz_memory_get takes a reason \
             here; a language's cases go in [go-host.<language>]"
        );
        assert_eq!(
            error("[go]\nfuzz_memory_get = \"x\"\n"),
            "tests/known-failures.toml: unknown host `go`; known: rust-host, go-host"
        );
        assert_eq!(
            error("[go-host]\nfuzz_memory_get = \"\"\n"),
            "tests/known-failures.toml: go-host.fuzz_memory_get: give the reason"
        );
        assert!(
            error("[go-host.property]\nlokup = \"x\"\n").starts_with(
                "tests/known-failures.toml: go-host.property.lokup: no such export; known: say_hello"
            ),
            "{}",
            error("[go-host.property]\nlokup = \"x\"\n")
        );
    }

    #[test]
    fn the_fuzz_and_the_property_test_are_listed_per_host() {
        let text = "[go-host]\nfuzz_memory_get = \"offsets\"\n[go-host.property]\nfail = \"nul\"\n\
                    [go-host.go]\nseed_call = \"x\"\n";
        let known = KnownFailures::parse(text, HOSTS, LANGUAGES, &["rust"], &cases()).unwrap();
        assert_eq!(known.fuzz_reason("go-host"), Some("offsets"));
        assert_eq!(known.fuzz_reason("rust-host"), None);
        assert_eq!(known.property_reason("go-host", "fail"), Some("nul"));
        assert_eq!(known.property_reason("go-host", "echo"), None);
        assert_eq!(known.property_reason("rust-host", "fail"), None);
        assert_eq!(known.reason("go-host", "go", "seed_call"), Some("x"));
    }
}
