//! The run's results as files (JSON and JUnit XML) and as a table printed at the end.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use sha2::Digest as _;

use crate::verdict::Verdict;

/// One (case, language, host) trial that ran.
#[derive(Debug, Clone)]
pub struct Record {
    /// The trial's name, as `--exact` takes it.
    pub trial: String,
    pub case: String,
    /// The case's group: the folder of the catalogue it is in.
    pub group: String,
    pub language: String,
    pub host: String,
    pub verdict: Verdict,
    pub millis: u64,
    /// What this trial rendered and its diff against the snapshot, when the two differ.
    pub divergence: Option<Divergence>,
    /// The heading of the docs/findings.md entry behind its known-failure entry, if listed.
    pub finding: Option<String>,
    /// Its verdict is an earlier run's, nothing it depends on having changed (crate::reuse).
    pub reused: bool,
}

/// A rendered outcome that is not its snapshot.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Divergence {
    pub output: String,
    /// A unified diff from the snapshot to the output.
    pub diff: String,
}

/// The most of an output or a diff a report keeps: a sequence of 10,000 calls that each fail
/// differently renders to most of a megabyte, and the page holds thousands of trials.
const KEPT: usize = 16 * 1024;

impl Divergence {
    pub fn new(expected: &str, output: String) -> Divergence {
        // insta ignores trailing newlines, and so does the diff.
        let ended = |text: &str| format!("{}\n", text.trim_end_matches('\n'));
        let diff = similar::TextDiff::from_lines(&ended(expected), &ended(&output))
            .unified_diff()
            .context_radius(3)
            .header("snapshot", "this trial")
            .to_string();
        Divergence {
            output: cut(output),
            diff: cut(diff),
        }
    }
}

/// `text` up to [`KEPT`] bytes, cut at a line's end, and a last line saying how much was left out.
fn cut(text: String) -> String {
    if text.len() <= KEPT {
        return text;
    }
    let mut end = KEPT;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    let end = text[..end].rfind('\n').map_or(end, |at| at + 1);
    format!(
        "{}... {} more bytes (rerun the trial to see them all)\n",
        &text[..end],
        text.len() - end
    )
}

/// A trial that is neither a case nor an attack: a surface, the property test, a fuzz, a
/// protocol trial, a host's unit tests.
#[derive(Debug, Clone)]
pub struct OtherRecord {
    pub trial: String,
    pub verdict: Verdict,
    pub millis: u64,
    pub reused: bool,
}

impl Record {
    /// The plugin and the host it ran on, as trial names and the table's columns write them.
    pub fn subject(&self) -> String {
        subject(&self.language, &self.host)
    }
}

/// `<language>@<host>`
pub fn subject(language: &str, host: &str) -> String {
    format!("{language}@{host}")
}

/// One attack trial: a hostile plugin's attack on a host.
#[derive(Debug, Clone)]
pub struct AttackRecord {
    pub trial: String,
    pub attack: String,
    /// The hostile module's language.
    pub language: String,
    pub host: String,
    pub verdict: Verdict,
    /// What the host was seen to do, in a few words.
    pub seen: String,
    /// The attack and the honest call after it, in milliseconds.
    pub millis: u64,
    pub divergence: Option<Divergence>,
    pub finding: Option<String>,
    pub reused: bool,
}

#[derive(Debug, Default)]
pub struct Report {
    /// language or host -> the version line of the toolchain that built it, or why it was
    /// skipped.
    pub toolchains: BTreeMap<String, String>,
    /// `<language>@<host>` in the order they were listed, for the table's columns.
    pub columns: Vec<String>,
    pub records: Vec<Record>,
    pub attacks: Vec<AttackRecord>,
    pub others: Vec<OtherRecord>,
    /// The part of a split run (`hash:K/N`) these records are, if the run was split.
    pub partition: Option<String>,
    /// The whole run's list of trials, split or not, so that merged parts can be checked.
    pub listed: Listed,
    /// Each case's and attack's snapshot (`attack:<name>` for an attack), for the trials that
    /// ran: what a passing trial rendered.
    pub snapshots: BTreeMap<String, String>,
    /// The docs/findings.md entries the records name, heading -> text.
    pub findings: BTreeMap<String, String>,
    /// The rendered rerun command, with `{trial}` for the trial's name.
    pub rerun: String,
    /// Why every trial ran, if verdicts could not be reused (crate::reuse).
    pub reuse: Option<String>,
}

/// How many trials the unsplit run lists, and the SHA-256 of their sorted names, one per line.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Listed {
    pub count: usize,
    pub sha256: String,
}

impl Listed {
    pub fn of(names: &[String]) -> Listed {
        let mut sorted: Vec<&str> = names.iter().map(String::as_str).collect();
        sorted.sort_unstable();
        let mut hasher = sha2::Sha256::new();
        for name in &sorted {
            hasher.update(name.as_bytes());
            hasher.update(b"\n");
        }
        Listed {
            count: sorted.len(),
            sha256: format!("{:x}", hasher.finalize()),
        }
    }
}

const VERDICTS: [&str; 5] = ["pass", "fail", "xfail", "xpass", "skip"];

impl Report {
    fn counts(&self) -> BTreeMap<&'static str, usize> {
        counts(self.records.iter())
    }

    /// Per group: how many cases, and the verdicts of their trials.
    fn groups(&self) -> BTreeMap<&str, (usize, BTreeMap<&'static str, usize>)> {
        let mut names: BTreeMap<&str, std::collections::BTreeSet<&str>> = BTreeMap::new();
        for record in &self.records {
            names.entry(&record.group).or_default().insert(&record.case);
        }
        names
            .into_iter()
            .map(|(group, cases)| {
                let records = self.records.iter().filter(|r| r.group == group);
                (group, (cases.len(), counts(records)))
            })
            .collect()
    }

    fn sorted(&self) -> Vec<&Record> {
        let mut records: Vec<&Record> = self.records.iter().collect();
        records
            .sort_by(|a, b| (&a.case, &a.host, &a.language).cmp(&(&b.case, &b.host, &b.language)));
        records
    }

    /// report.json: every record with what the results page shows of it. The counts by verdict,
    /// group, host and language are added by `xtask::results`, which merges split runs too.
    pub fn json(&self) -> String {
        let divergence = |divergence: &Option<Divergence>| match divergence {
            Some(divergence) => (
                serde_json::json!(divergence.output),
                serde_json::json!(divergence.diff),
            ),
            None => (serde_json::Value::Null, serde_json::Value::Null),
        };
        let results: Vec<serde_json::Value> = self
            .sorted()
            .iter()
            .map(|record| {
                let (output, diff) = divergence(&record.divergence);
                serde_json::json!({
                    "trial": record.trial,
                    "case": record.case,
                    "group": record.group,
                    "language": record.language,
                    "host": record.host,
                    "verdict": record.verdict.word(),
                    "detail": record.verdict.detail(),
                    "millis": record.millis,
                    "output": output,
                    "diff": diff,
                    "finding": record.finding,
                    "reused": record.reused,
                })
            })
            .collect();
        let attacks: Vec<serde_json::Value> = self
            .sorted_attacks()
            .iter()
            .map(|record| {
                let (output, diff) = divergence(&record.divergence);
                serde_json::json!({
                    "trial": record.trial,
                    "attack": record.attack,
                    "language": record.language,
                    "host": record.host,
                    "verdict": record.verdict.word(),
                    "detail": record.verdict.detail(),
                    "seen": record.seen,
                    "millis": record.millis,
                    "output": output,
                    "diff": diff,
                    "finding": record.finding,
                    "reused": record.reused,
                })
            })
            .collect();
        let mut others: Vec<&OtherRecord> = self.others.iter().collect();
        others.sort_by(|a, b| a.trial.cmp(&b.trial));
        let others: Vec<serde_json::Value> = others
            .iter()
            .map(|record| {
                serde_json::json!({
                    "trial": record.trial,
                    "verdict": record.verdict.word(),
                    "detail": record.verdict.detail(),
                    "millis": record.millis,
                    "reused": record.reused,
                })
            })
            .collect();
        let (hosts, languages) = self.hosts_and_languages();
        let report = serde_json::json!({
            "toolchains": self.toolchains,
            "hosts": hosts,
            "languages": languages,
            "partition": self.partition,
            "listed": {"count": self.listed.count, "sha256": self.listed.sha256},
            "rerun": self.rerun,
            "reuse": self.reuse,
            "results": results,
            "attacks": attacks,
            "others": others,
            "snapshots": self.snapshots,
            "findings": self.findings,
        });
        let mut text = serde_json::to_string_pretty(&report).expect("a report is plain data");
        text.push('\n');
        text
    }

    /// The hosts and the languages of the columns, each once, in the columns' order.
    fn hosts_and_languages(&self) -> (Vec<&str>, Vec<&str>) {
        let (mut hosts, mut languages) = (Vec::new(), Vec::new());
        for column in &self.columns {
            if let Some((language, host)) = column.split_once('@') {
                if !hosts.contains(&host) {
                    hosts.push(host);
                }
                if !languages.contains(&language) {
                    languages.push(language);
                }
            }
        }
        (hosts, languages)
    }

    /// JUnit XML: one test case per (case, language, host), classname `<language>@<host>`. A known failure
    /// is reported as skipped with its reason; an unexpected pass as a failure.
    pub fn junit(&self) -> String {
        let counts = self.counts();
        let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
        let _ = writeln!(
            out,
            "<testsuites><testsuite name=\"conformance\" tests=\"{}\" failures=\"{}\" skipped=\"{}\">",
            self.records.len(),
            counts["fail"] + counts["xpass"],
            counts["skip"] + counts["xfail"]
        );
        // What each language and host was built by (a host: its SDK and engine), as JUnit's
        // suite properties, so a result read alone still says what ran.
        out += "  <properties>\n";
        for (built, toolchain) in &self.toolchains {
            let _ = writeln!(
                out,
                "    <property name=\"{}\" value=\"{}\"/>",
                xml(built),
                xml(toolchain)
            );
        }
        out += "  </properties>\n";
        for record in self.sorted() {
            let _ = write!(
                out,
                "  <testcase classname=\"{}\" name=\"{}\"",
                xml(&record.subject()),
                xml(&record.case)
            );
            let detail = xml(record.verdict.detail());
            match &record.verdict {
                Verdict::Pass => out += "/>\n",
                Verdict::Fail(_) => {
                    let _ = writeln!(out, "><failure message=\"{detail}\"/></testcase>");
                }
                Verdict::XPass(_) => {
                    let _ = writeln!(
                        out,
                        "><failure message=\"passed, but listed as a known failure: {detail}\"/></testcase>"
                    );
                }
                Verdict::XFail(_) => {
                    let _ = writeln!(
                        out,
                        "><skipped message=\"known failure: {detail}\"/></testcase>"
                    );
                }
                Verdict::Skip(_) => {
                    let _ = writeln!(out, "><skipped message=\"{detail}\"/></testcase>");
                }
            }
        }
        out += "</testsuite></testsuites>\n";
        out
    }

    fn sorted_attacks(&self) -> Vec<&AttackRecord> {
        let mut records: Vec<&AttackRecord> = self.attacks.iter().collect();
        records.sort_by(|a, b| {
            (&a.attack, &a.host, &a.language).cmp(&(&b.attack, &b.host, &b.language))
        });
        records
    }

    /// Attacks down, hosts across: each cell what the host did and the verdict, per hostile
    /// language (`rust: timed out (pass)`), the languages on one line when they agree.
    pub fn attack_table(&self) -> String {
        let mut hosts: Vec<&str> = Vec::new();
        for record in &self.attacks {
            if !hosts.contains(&record.host.as_str()) {
                hosts.push(&record.host);
            }
        }
        let sorted = self.sorted_attacks();
        let mut out = String::new();
        let mut attacks: Vec<&str> = sorted.iter().map(|r| r.attack.as_str()).collect();
        attacks.dedup();
        for attack in attacks {
            let _ = writeln!(out, "{attack}");
            for host in &hosts {
                let cells: Vec<(&str, String)> = sorted
                    .iter()
                    .filter(|r| r.attack == attack && r.host == *host)
                    .map(|r| {
                        let cell = format!("{} ({})", r.seen, r.verdict.word());
                        (r.language.as_str(), cell)
                    })
                    .collect();
                let shown = if cells.windows(2).all(|pair| pair[0].1 == pair[1].1) {
                    cells
                        .first()
                        .map(|(_, cell)| cell.clone())
                        .unwrap_or_default()
                } else {
                    cells
                        .iter()
                        .map(|(language, cell)| format!("{language}: {cell}"))
                        .collect::<Vec<_>>()
                        .join("; ")
                };
                let _ = writeln!(out, "  {host:<15} {shown}");
            }
        }
        out
    }

    /// Cases down, `<language>@<host>` across, then the counts.
    pub fn table(&self) -> String {
        let mut cells: BTreeMap<&str, BTreeMap<String, &'static str>> = BTreeMap::new();
        for record in &self.records {
            cells
                .entry(&record.case)
                .or_default()
                .insert(record.subject(), record.verdict.word());
        }
        let width = cells
            .keys()
            .map(|case| case.len())
            .max()
            .unwrap_or(4)
            .max(4);
        // A filtered run (`-- @go-host`) shows only the columns it ran.
        let columns: Vec<&String> = self
            .columns
            .iter()
            .filter(|column| self.records.iter().any(|r| r.subject() == **column))
            .collect();
        let widths: Vec<usize> = columns.iter().map(|c| c.len().max(5)).collect();
        let mut out = format!("{:<width$}", "case");
        for (column, width) in columns.iter().zip(&widths) {
            let _ = write!(out, "  {column:<width$}");
        }
        out = out.trim_end().to_owned() + "\n";
        for (case, row) in &cells {
            let mut line = format!("{case:<width$}");
            for (column, width) in columns.iter().zip(&widths) {
                let word = row.get(*column).copied().unwrap_or("-");
                let shown = if matches!(word, "fail" | "xpass") {
                    word.to_uppercase()
                } else {
                    word.to_owned()
                };
                let _ = write!(line, "  {shown:<width$}");
            }
            out += line.trim_end();
            out += "\n";
        }
        let counts = self.counts();
        let summary: Vec<String> = VERDICTS
            .iter()
            .map(|word| format!("{} {word}", counts[word]))
            .collect();
        let part = match &self.partition {
            Some(partition) => format!(" (part {partition} of a split run)"),
            None => String::new(),
        };
        let _ = writeln!(
            out,
            "{} cases x {} plugin-host pairs{part}: {}",
            cells.len(),
            columns.len(),
            summary.join(", ")
        );
        let groups = self.groups();
        let width = groups.keys().map(|group| group.len()).max().unwrap_or(0);
        for (group, (cases, counts)) in groups {
            let trials: usize = counts.values().sum();
            let summary: Vec<String> = VERDICTS
                .iter()
                .map(|word| format!("{} {word}", counts[word]))
                .collect();
            let _ = writeln!(
                out,
                "  {group:<width$}  {cases:>3} cases, {trials:>5} trials: {}",
                summary.join(", ")
            );
        }
        out
    }
}

impl Report {
    /// How many of the run's trials (cases, attacks and others) reused an earlier verdict, or
    /// why every one ran.
    pub fn reused_line(&self) -> String {
        let reused = self.records.iter().filter(|r| r.reused).count()
            + self.attacks.iter().filter(|r| r.reused).count()
            + self.others.iter().filter(|r| r.reused).count();
        let all = self.records.len() + self.attacks.len() + self.others.len();
        if let Some(why) = &self.reuse {
            return format!("every trial ran ({why})");
        }
        format!(
            "{reused} of {all} verdicts reused from an earlier run, nothing they depend on having \
             changed ({}=1 or --run-all runs every trial)",
            crate::run_all::ENV
        )
    }
}

fn counts<'a>(records: impl Iterator<Item = &'a Record>) -> BTreeMap<&'static str, usize> {
    let mut counts: BTreeMap<&'static str, usize> =
        VERDICTS.iter().map(|&word| (word, 0)).collect();
    for record in records {
        *counts.entry(record.verdict.word()).or_default() += 1;
    }
    counts
}

fn xml(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out += "&amp;",
            '<' => out += "&lt;",
            '>' => out += "&gt;",
            '"' => out += "&quot;",
            '\n' => out += "&#10;",
            c if (c as u32) < 0x20 && c != '\t' => {}
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn report() -> Report {
        let record = |case: &str, language: &str, verdict| Record {
            reused: false,
            trial: format!("{case}::{language}@rust-host"),
            case: case.to_owned(),
            group: if case == "echo" { "bytes" } else { "seed" }.to_owned(),
            language: language.to_owned(),
            host: "rust-host".to_owned(),
            verdict,
            millis: 3,
            divergence: None,
            finding: None,
        };
        Report {
            toolchains: [("go".to_owned(), "go version \"1\"".to_owned())].into(),
            columns: vec!["rust@rust-host".to_owned(), "go@rust-host".to_owned()],
            records: vec![
                record("seed_call", "rust", Verdict::Pass),
                record(
                    "seed_call",
                    "go",
                    Verdict::Fail("a <diff>\nhere".to_owned()),
                ),
                record("echo", "go", Verdict::XFail("known".to_owned())),
                record("echo", "rust", Verdict::Skip("no rustc".to_owned())),
            ],
            ..Report::default()
        }
    }

    #[test]
    fn table_has_a_row_per_case_and_a_column_per_plugin_and_host() {
        assert_eq!(
            report().table(),
            "case       rust@rust-host  go@rust-host\n\
             echo       skip            xfail\n\
             seed_call  pass            FAIL\n\
             2 cases x 2 plugin-host pairs: 1 pass, 1 fail, 1 xfail, 0 xpass, 1 skip\n  \
             bytes    1 cases,     2 trials: 0 pass, 0 fail, 1 xfail, 0 xpass, 1 skip\n  \
             seed     1 cases,     2 trials: 1 pass, 1 fail, 0 xfail, 0 xpass, 0 skip\n"
        );
    }

    #[test]
    fn json_holds_every_record_sorted_with_its_divergence() {
        let mut report = report();
        report.records[1].divergence = Some(Divergence::new("a\nb\n", "a\nc\n".to_owned()));
        report.records[1].finding = Some("go-pdk: a finding".to_owned());
        let json: serde_json::Value = serde_json::from_str(&report.json()).unwrap();
        assert_eq!(json["toolchains"]["go"], "go version \"1\"");
        assert_eq!(json["hosts"], serde_json::json!(["rust-host"]));
        assert_eq!(json["languages"], serde_json::json!(["rust", "go"]));
        let results = json["results"].as_array().unwrap();
        assert_eq!(results[0]["case"], "echo");
        assert_eq!(
            results[2],
            serde_json::json!({"trial": "seed_call::go@rust-host", "case": "seed_call", "group": "seed",
                "language": "go", "host": "rust-host", "verdict": "fail", "detail": "a <diff>\nhere",
                "millis": 3, "output": "a\nc\n",
                "diff": "--- snapshot\n+++ this trial\n@@ -1,2 +1,2 @@\n a\n-b\n+c\n",
                "finding": "go-pdk: a finding", "reused": false})
        );
        assert_eq!(results[3]["output"], serde_json::Value::Null);
        assert_eq!(json["reuse"], serde_json::Value::Null);
    }

    #[test]
    fn a_long_divergence_is_cut_at_a_line() {
        // Past KEPT, and small enough that the diff stays quick in a debug build.
        let output = "line\n".repeat(4_000);
        let divergence = Divergence::new("", output);
        assert!(divergence.output.len() < KEPT + 100);
        assert!(
            divergence
                .output
                .ends_with("line\n... 3620 more bytes (rerun the trial to see them all)\n"),
            "{}",
            &divergence.output[divergence.output.len() - 80..]
        );
        assert!(divergence
            .diff
            .starts_with("--- snapshot\n+++ this trial\n"));
    }

    #[test]
    fn a_column_that_ran_nothing_is_left_out_of_the_table() {
        let mut report = report();
        report.columns.push("zig@go-host".to_owned());
        let table = report.table();
        assert!(!table.contains("zig@go-host"), "{table}");
        assert!(table.contains("2 cases x 2 plugin-host pairs"), "{table}");
    }

    #[test]
    fn listed_is_the_same_whatever_the_order() {
        let names = |names: &[&str]| names.iter().map(|n| n.to_string()).collect::<Vec<_>>();
        let one = Listed::of(&names(&["b", "a"]));
        assert_eq!(one, Listed::of(&names(&["a", "b"])));
        assert_eq!(one.count, 2);
        assert_ne!(one, Listed::of(&names(&["a", "c"])));
    }

    #[test]
    fn junit_counts_and_escapes() {
        let junit = report().junit();
        assert!(
            junit.contains("tests=\"4\" failures=\"1\" skipped=\"2\""),
            "{junit}"
        );
        assert!(junit.contains("<failure message=\"a &lt;diff&gt;&#10;here\"/>"));
        assert!(junit.contains("<skipped message=\"known failure: known\"/>"));
        assert!(junit.contains("<property name=\"go\" value=\"go version &quot;1&quot;\"/>"));
    }
}
