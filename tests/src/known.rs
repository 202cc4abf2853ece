//! The known-failure lists: `tests/known-failures.toml`, one table per host and language
//! (`[<host>.<language>]`) mapping a case to the reason it is expected to diverge, and per host
//! (`[<host>]`) the trials of the host as a whole that are expected to fail: its boundary fuzz
//! (`fuzz_memory_get`), and its agreement with the other hosts in the property test
//! (`property`).

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::{bail, Context};

/// Relative to the project root.
pub const KNOWN_FAILURES_FILE: &str = "tests/known-failures.toml";

/// host -> language -> case -> reason
type Entries = BTreeMap<String, BTreeMap<String, BTreeMap<String, String>>>;

/// The trials of a whole host that `[<host>]` may list.
pub const HOST_TRIALS: &[&str] = &["fuzz_memory_get", "property"];

/// One host's table: languages' tables, and reasons for its host trials.
#[derive(serde::Deserialize)]
#[serde(untagged)]
enum HostEntry {
    Trial(String),
    Language(BTreeMap<String, String>),
}

#[derive(Debug, Default)]
pub struct KnownFailures {
    entries: Entries,
    /// host -> host trial -> reason
    host_trials: BTreeMap<String, BTreeMap<String, String>>,
}

impl KnownFailures {
    /// Reads the file; every host, language and case must be one that exists, so a typo cannot
    /// silently list nothing.
    pub fn load(
        root: &Path,
        hosts: &[&str],
        languages: &[&str],
        cases: &[String],
    ) -> anyhow::Result<Self> {
        let text = std::fs::read_to_string(root.join(KNOWN_FAILURES_FILE))
            .with_context(|| format!("cannot read {KNOWN_FAILURES_FILE}"))?;
        Self::parse(&text, hosts, languages, cases)
    }

    pub fn parse(
        text: &str,
        hosts: &[&str],
        languages: &[&str],
        cases: &[String],
    ) -> anyhow::Result<Self> {
        let tables: BTreeMap<String, BTreeMap<String, HostEntry>> =
            toml::from_str(text).map_err(|error| {
                anyhow::anyhow!(
                    "{KNOWN_FAILURES_FILE}: {} (tables are [<host>.<language>], entries <case> = \"reason\"; \
                     or [<host>], entries {} = \"reason\")",
                    error.message().trim_end(),
                    HOST_TRIALS.join(" or ")
                )
            })?;
        let mut entries = Entries::new();
        let mut host_trials: BTreeMap<String, BTreeMap<String, String>> = BTreeMap::new();
        for (host, table) in tables {
            for (key, entry) in table {
                match entry {
                    HostEntry::Language(listed) => {
                        entries.entry(host.clone()).or_default().insert(key, listed);
                    }
                    HostEntry::Trial(reason) => {
                        if !HOST_TRIALS.contains(&key.as_str()) {
                            bail!(
                                "{KNOWN_FAILURES_FILE}: {host}.{key}: not a trial of a whole host; \
                                 known: {}",
                                HOST_TRIALS.join(", ")
                            );
                        }
                        if reason.trim().is_empty() {
                            bail!("{KNOWN_FAILURES_FILE}: {host}.{key}: give the reason");
                        }
                        host_trials
                            .entry(host.clone())
                            .or_default()
                            .insert(key, reason);
                    }
                }
            }
            entries.entry(host).or_default();
        }
        for host in host_trials.keys() {
            if !hosts.contains(&host.as_str()) {
                bail!(
                    "{KNOWN_FAILURES_FILE}: unknown host `{host}`; known: {}",
                    hosts.join(", ")
                );
            }
        }
        for (host, languages_listed) in &entries {
            if !hosts.contains(&host.as_str()) {
                bail!(
                    "{KNOWN_FAILURES_FILE}: unknown host `{host}`; known: {}",
                    hosts.join(", ")
                );
            }
            for (language, listed) in languages_listed {
                if !languages.contains(&language.as_str()) {
                    bail!(
                        "{KNOWN_FAILURES_FILE}: {host}: unknown language `{language}`; known: {}",
                        languages.join(", ")
                    );
                }
                for (case, reason) in listed {
                    let entry = format!("{host}.{language}.{case}");
                    if !cases.contains(case) {
                        bail!("{KNOWN_FAILURES_FILE}: {entry}: no such case in tests/cases");
                    }
                    if reason.trim().is_empty() {
                        bail!("{KNOWN_FAILURES_FILE}: {entry}: give the reason");
                    }
                }
            }
        }
        Ok(KnownFailures {
            entries,
            host_trials,
        })
    }

    /// Why the trial `trial` (one of [`HOST_TRIALS`]) of `host` is expected to fail, if listed.
    pub fn host_reason(&self, host: &str, trial: &str) -> Option<&str> {
        self.host_trials.get(host)?.get(trial).map(String::as_str)
    }

    /// Why `case` is expected to fail for `language` on `host`, if it is listed.
    pub fn reason(&self, host: &str, language: &str, case: &str) -> Option<&str> {
        self.entries
            .get(host)?
            .get(language)?
            .get(case)
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
        let known = KnownFailures::parse(text, HOSTS, LANGUAGES, &cases()).unwrap();
        assert_eq!(
            known.reason("go-host", "go", "seed_call"),
            Some("go differs here")
        );
        assert_eq!(known.reason("rust-host", "go", "seed_call"), None);
        assert_eq!(known.reason("go-host", "rust", "seed_call"), None);
        assert_eq!(known.reason("go-host", "go", "echo_text"), None);
    }

    #[test]
    fn typos_and_missing_reasons_are_errors() {
        let error = |text: &str| {
            KnownFailures::parse(text, HOSTS, LANGUAGES, &cases())
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
            "tests/known-failures.toml: go-host.seed_call: not a trial of a whole host; known: \
             fuzz_memory_get, property"
        );
        assert_eq!(
            error("[go]\nproperty = \"x\"\n"),
            "tests/known-failures.toml: unknown host `go`; known: rust-host, go-host"
        );
        assert_eq!(
            error("[go-host]\nproperty = \"\"\n"),
            "tests/known-failures.toml: go-host.property: give the reason"
        );
    }

    #[test]
    fn host_trials_are_listed_beside_languages() {
        let text = "[go-host]\nfuzz_memory_get = \"offsets\"\n[go-host.go]\nseed_call = \"x\"\n";
        let known = KnownFailures::parse(text, HOSTS, LANGUAGES, &cases()).unwrap();
        assert_eq!(
            known.host_reason("go-host", "fuzz_memory_get"),
            Some("offsets")
        );
        assert_eq!(known.host_reason("go-host", "property"), None);
        assert_eq!(known.host_reason("rust-host", "fuzz_memory_get"), None);
        assert_eq!(known.reason("go-host", "go", "seed_call"), Some("x"));
    }
}
