//! The known-failure lists: `tests/known-failures.toml`, one table per host and language
//! (`[<host>.<language>]`) mapping a case to the reason it is expected to diverge.

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::{bail, Context};

/// Relative to the project root.
pub const KNOWN_FAILURES_FILE: &str = "tests/known-failures.toml";

/// host -> language -> case -> reason
type Entries = BTreeMap<String, BTreeMap<String, BTreeMap<String, String>>>;

#[derive(Debug, Default)]
pub struct KnownFailures {
    entries: Entries,
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
        let entries: Entries = toml::from_str(text).map_err(|error| {
            anyhow::anyhow!(
                "{KNOWN_FAILURES_FILE}: {} (tables are [<host>.<language>], entries <case> = \"reason\")",
                error.message().trim_end()
            )
        })?;
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
        Ok(KnownFailures { entries })
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
        assert!(error("[go]\nseed_call = \"x\"\n").contains("tables are [<host>.<language>]"));
    }
}
