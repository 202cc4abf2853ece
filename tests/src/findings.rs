//! The entries of docs/findings.md, so a known failure on the results page can show the finding
//! behind it: what each side does, the case, a reproducer. An entry is a `###` section of
//! "Divergences caught by a case", headed `<host or PDK>: <what differs>`, and it names its cases
//! and attacks in backticks.

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::Context;

pub const FINDINGS_FILE: &str = "docs/findings.md";

/// The section whose `###` entries are findings a case catches.
const CAUGHT: &str = "## Divergences caught by a case";

pub struct Findings {
    /// Heading -> the entry's text, in the file's order.
    entries: Vec<(String, String)>,
}

impl Findings {
    pub fn load(root: &Path) -> anyhow::Result<Findings> {
        let path = root.join(FINDINGS_FILE);
        let text = std::fs::read_to_string(&path)
            .with_context(|| format!("cannot read {}", path.display()))?;
        Ok(Findings::parse(&text))
    }

    /// No findings: someone else's directory of cases has none of this repository's.
    pub fn none() -> Findings {
        Findings {
            entries: Vec::new(),
        }
    }

    pub fn parse(text: &str) -> Findings {
        let mut entries: Vec<(String, String)> = Vec::new();
        let mut in_caught = false;
        for line in text.lines() {
            if line.starts_with("## ") {
                in_caught = line.trim_end() == CAUGHT;
                continue;
            }
            if !in_caught {
                continue;
            }
            if let Some(heading) = line.strip_prefix("### ") {
                entries.push((heading.trim().to_owned(), String::new()));
            } else if let Some((_, body)) = entries.last_mut() {
                body.push_str(line);
                body.push('\n');
            }
        }
        for (_, body) in &mut entries {
            *body = body.trim().to_owned();
        }
        Findings { entries }
    }

    /// The entry behind a known failure of `name` (a case or an attack) on `host`: one that names
    /// it in backticks and whose heading names the host (`java` names both Java hosts); else one
    /// headed by a PDK, whose finding shows on every host. `hosts` are every host's names.
    pub fn for_trial(&self, name: &str, host: &str, hosts: &[&str]) -> Option<(&str, &str)> {
        let quoted = format!("`{name}`");
        let naming = || {
            self.entries
                .iter()
                .filter(|(_, body)| body.contains(&quoted))
        };
        let subject = |heading: &str| {
            heading
                .split(':')
                .next()
                .unwrap_or_default()
                .trim()
                .to_owned()
        };
        let names_host =
            |subject: &str, host: &str| host == subject || host.starts_with(&format!("{subject}-"));
        let found = naming()
            .find(|(heading, _)| names_host(&subject(heading), host))
            .or_else(|| {
                naming().find(|(heading, _)| {
                    let subject = subject(heading);
                    !hosts.iter().any(|host| names_host(&subject, host))
                })
            })?;
        Some((found.0.as_str(), found.1.as_str()))
    }

    /// Every entry the given headings name, heading -> text, for the report.
    pub fn texts<'a>(&self, headings: impl Iterator<Item = &'a str>) -> BTreeMap<String, String> {
        let mut texts = BTreeMap::new();
        for heading in headings {
            if let Some((heading, body)) = self.entries.iter().find(|(h, _)| h == heading) {
                texts.insert(heading.clone(), body.clone());
            }
        }
        texts
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEXT: &str = "# Findings\n\n## Divergences caught by a case\n\n\
        ### go-pdk: a trace line is sent at level error\n\n- **Cases**: `log_levels_at_trace`.\n\n\
        ### node-host: no memory limit\n\n- **Cases**: `echo_over_memory_limit`, the `memory_bomb` attack.\n\n\
        ### java: no timeout\n\n- **Cases**: `spin_timeout`, `log_levels_at_trace`.\n\n\
        ## Leads: seen, not yet a case\n\n### python-host: a lead\n\n`echo_over_memory_limit`\n";
    const HOSTS: [&str; 4] = ["rust-host", "node-host", "java-host", "java-aot-host"];

    #[test]
    fn a_host_finding_comes_before_a_pdk_finding() {
        let findings = Findings::parse(TEXT);
        let heading = |name, host| findings.for_trial(name, host, &HOSTS).map(|(h, _)| h);
        assert_eq!(
            heading("echo_over_memory_limit", "node-host"),
            Some("node-host: no memory limit")
        );
        assert_eq!(
            heading("memory_bomb", "node-host"),
            Some("node-host: no memory limit")
        );
        assert_eq!(
            heading("spin_timeout", "java-aot-host"),
            Some("java: no timeout")
        );
        assert_eq!(
            heading("log_levels_at_trace", "java-host"),
            Some("java: no timeout")
        );
        assert_eq!(
            heading("log_levels_at_trace", "rust-host"),
            Some("go-pdk: a trace line is sent at level error")
        );
        // A host finding of another host, and a lead, are not this trial's finding.
        assert_eq!(heading("echo_over_memory_limit", "rust-host"), None);
        assert_eq!(heading("spin", "java-host"), None);
    }

    #[test]
    fn texts_are_the_entries_bodies() {
        let findings = Findings::parse(TEXT);
        let texts = findings.texts(["java: no timeout", "missing"].into_iter());
        assert_eq!(texts.len(), 1);
        assert_eq!(
            texts["java: no timeout"],
            "- **Cases**: `spin_timeout`, `log_levels_at_trace`."
        );
    }
}
