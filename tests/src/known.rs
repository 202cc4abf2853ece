//! The known-failure lists: `tests/known-failures.toml`, one table per language mapping a case
//! to the reason it is expected to diverge.

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::{bail, Context};

/// Relative to the project root.
pub const KNOWN_FAILURES_FILE: &str = "tests/known-failures.toml";

#[derive(Debug, Default)]
pub struct KnownFailures {
    /// language -> case -> reason
    entries: BTreeMap<String, BTreeMap<String, String>>,
}

impl KnownFailures {
    /// Reads the file; every language must be one of `languages` and every case one of `cases`,
    /// so a typo cannot silently list nothing.
    pub fn load(root: &Path, languages: &[&str], cases: &[String]) -> anyhow::Result<Self> {
        let text = std::fs::read_to_string(root.join(KNOWN_FAILURES_FILE))
            .with_context(|| format!("cannot read {KNOWN_FAILURES_FILE}"))?;
        Self::parse(&text, languages, cases)
    }

    pub fn parse(text: &str, languages: &[&str], cases: &[String]) -> anyhow::Result<Self> {
        let entries: BTreeMap<String, BTreeMap<String, String>> = toml::from_str(text)
            .map_err(|error| anyhow::anyhow!("{KNOWN_FAILURES_FILE}: {}", error.message()))?;
        for (language, listed) in &entries {
            if !languages.contains(&language.as_str()) {
                bail!(
                    "{KNOWN_FAILURES_FILE}: unknown language `{language}`; known: {}",
                    languages.join(", ")
                );
            }
            for (case, reason) in listed {
                if !cases.contains(case) {
                    bail!("{KNOWN_FAILURES_FILE}: {language}.{case}: no such case in tests/cases");
                }
                if reason.trim().is_empty() {
                    bail!("{KNOWN_FAILURES_FILE}: {language}.{case}: give the reason");
                }
            }
        }
        Ok(KnownFailures { entries })
    }

    /// Why `case` is expected to fail in `language`, if it is listed.
    pub fn reason(&self, language: &str, case: &str) -> Option<&str> {
        self.entries.get(language)?.get(case).map(String::as_str)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cases() -> Vec<String> {
        vec!["seed_call".to_owned(), "echo_text".to_owned()]
    }

    #[test]
    fn entries_are_looked_up_by_language_and_case() {
        let text = "[go]\nseed_call = \"go differs here\"\n[rust]\n";
        let known = KnownFailures::parse(text, &["rust", "go"], &cases()).unwrap();
        assert_eq!(known.reason("go", "seed_call"), Some("go differs here"));
        assert_eq!(known.reason("rust", "seed_call"), None);
        assert_eq!(known.reason("go", "echo_text"), None);
    }

    #[test]
    fn typos_and_missing_reasons_are_errors() {
        let error = |text: &str| {
            KnownFailures::parse(text, &["rust", "go"], &cases())
                .unwrap_err()
                .to_string()
        };
        assert_eq!(
            error("[tinygoo]\n"),
            "tests/known-failures.toml: unknown language `tinygoo`; known: rust, go"
        );
        assert_eq!(
            error("[go]\nseed_cal = \"x\"\n"),
            "tests/known-failures.toml: go.seed_cal: no such case in tests/cases"
        );
        assert_eq!(
            error("[go]\nseed_call = \" \"\n"),
            "tests/known-failures.toml: go.seed_call: give the reason"
        );
    }
}
