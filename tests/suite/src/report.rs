//! report.json's types: one [`Record`] per trial, whatever its kind, and the [`Report`] of a
//! run (or of one part of a split run), with what follows from its records ([`Report::complete`]).
//! The conformance run writes it; xtask reads it back through these types to merge split runs and
//! make the results page.

mod text;

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};
use sha2::Digest as _;

use crate::verdict::Verdict;

/// One trial that ran (or was skipped), of any kind.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Record {
    /// The trial's name, as `--exact` takes it.
    pub trial: String,
    #[serde(flatten)]
    pub kind: Kind,
    #[serde(flatten)]
    pub verdict: Verdict,
    /// How long it took when it ran (a reused verdict keeps the time of the run that made it).
    pub millis: u64,
    /// What this trial rendered, when it is not its snapshot.
    pub output: Option<String>,
    /// A unified diff from the snapshot to the output.
    pub diff: Option<String>,
    /// The heading of the docs/findings.md entry behind its known-failure entry, if listed.
    pub finding: Option<String>,
    /// Its verdict is an earlier run's, nothing it depends on having changed.
    pub reused: bool,
}

/// What a trial is: a case on a plugin and host, an attack on a host, or another trial (a
/// surface, the property test, a fuzz, a protocol trial, a host's unit tests).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum Kind {
    Case {
        case: String,
        /// The case's group: the folder of the catalogue it is in.
        group: String,
        language: String,
        host: String,
    },
    Attack {
        attack: String,
        /// The hostile module's language.
        language: String,
        host: String,
        /// What the host was seen to do, in a few words.
        seen: String,
    },
    Other,
}

impl Kind {
    /// The word report.json and the page's lists use for it.
    pub fn word(&self) -> &'static str {
        match self {
            Kind::Case { .. } => "case",
            Kind::Attack { .. } => "attack",
            Kind::Other => "other",
        }
    }
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

impl Record {
    /// The plugin and the host a case ran on, as trial names and the table's columns write
    /// them; none for other kinds.
    pub fn subject(&self) -> Option<String> {
        match &self.kind {
            Kind::Case { language, host, .. } => Some(subject(language, host)),
            _ => None,
        }
    }

    /// What it rendered and its diff, when it diverged from its snapshot.
    pub fn divergence(&self) -> Option<Divergence> {
        Some(Divergence {
            output: self.output.clone()?,
            diff: self.diff.clone()?,
        })
    }

    /// Sets what it rendered and its diff.
    pub fn set_divergence(&mut self, divergence: Option<Divergence>) {
        let (output, diff) = divergence.map(|d| (d.output, d.diff)).unzip();
        (self.output, self.diff) = (output, diff);
    }
}

/// `<language>@<host>`
pub fn subject(language: &str, host: &str) -> String {
    format!("{language}@{host}")
}

/// A run's results, as report.json holds them.
#[derive(Debug, Default, Clone, PartialEq, Serialize, Deserialize)]
pub struct Report {
    /// language or host -> the version line of the toolchain that built it (a host: its SDK and
    /// engine), or why it was skipped.
    pub toolchains: BTreeMap<String, String>,
    /// The hosts and the languages of the run, in the table's order: the table's columns are
    /// each language on each host.
    pub hosts: Vec<String>,
    pub languages: Vec<String>,
    /// The part of a split run (`hash:K/N`) these records are, if the run was split.
    pub partition: Option<String>,
    /// How many parts a merged report was made of.
    #[serde(default)]
    pub merged: Option<u64>,
    /// The whole run's list of trials, split or not, so that merged parts can be checked.
    pub listed: Listed,
    /// The rerun command, with `{trial}` for the trial's name.
    pub rerun: String,
    /// Why every trial ran, if verdicts could not be reused.
    pub reuse: Option<String>,
    /// Every trial of the run (or part), sorted by name once complete.
    pub records: Vec<Record>,
    /// Each case's and attack's snapshot (`attack:<name>` for an attack), for the trials that
    /// ran: what a passing trial rendered.
    pub snapshots: BTreeMap<String, String>,
    /// The docs/findings.md entries the records name, heading -> text.
    pub findings: BTreeMap<String, String>,
    /// What follows from the records, filled in by [`Report::complete`].
    #[serde(flatten)]
    pub completed: Completed,
}

/// What [`Report::complete`] adds: counts, scores, when and from which commit.
#[derive(Debug, Default, Clone, PartialEq, Serialize, Deserialize)]
pub struct Completed {
    /// Case trials by verdict.
    #[serde(default)]
    pub summary: Counts,
    /// Per group: how many cases, and their trials by verdict.
    #[serde(default)]
    pub groups: BTreeMap<String, Group>,
    #[serde(default)]
    pub scores: Scores,
    /// How many trials of any kind the report holds, and how many reused an earlier verdict.
    #[serde(default)]
    pub trials: usize,
    #[serde(default)]
    pub reused: usize,
    /// When the report was made (milliseconds since the Unix epoch), and from which commit.
    #[serde(default)]
    pub generated_ms: Option<u64>,
    #[serde(default)]
    pub commit: Option<String>,
}

/// Verdict word -> how many trials.
pub type Counts = BTreeMap<String, usize>;

#[derive(Debug, Default, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Group {
    pub cases: usize,
    pub trials: Counts,
}

/// Case trials passing and run (not skipped), per host and per language.
#[derive(Debug, Default, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Scores {
    pub hosts: BTreeMap<String, Score>,
    pub languages: BTreeMap<String, Score>,
}

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Score {
    pub pass: usize,
    pub run: usize,
}

/// How many trials the unsplit run lists, and the SHA-256 of their sorted names, one per line.
#[derive(Debug, Default, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Listed {
    pub count: usize,
    pub sha256: String,
}

impl Listed {
    pub fn of<S: AsRef<str>>(names: &[S]) -> Listed {
        let mut sorted: Vec<&str> = names.iter().map(AsRef::as_ref).collect();
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

fn counts<'a>(records: impl Iterator<Item = &'a Record>) -> Counts {
    let mut counts: Counts = Verdict::WORDS.iter().map(|w| (w.to_string(), 0)).collect();
    for record in records {
        *counts.entry(record.verdict.word().to_owned()).or_default() += 1;
    }
    counts
}

impl Report {
    /// The case records.
    pub fn cases(&self) -> impl Iterator<Item = &Record> {
        self.records
            .iter()
            .filter(|r| matches!(r.kind, Kind::Case { .. }))
    }

    /// The records of one kind (its [`Kind::word`]).
    pub fn of_kind<'a>(&'a self, kind: &'a str) -> impl Iterator<Item = &'a Record> + 'a {
        self.records.iter().filter(move |r| r.kind.word() == kind)
    }

    /// `<language>@<host>` for each language on each host: the table's columns.
    pub fn columns(&self) -> Vec<String> {
        let mut columns = Vec::new();
        for host in &self.hosts {
            columns.extend(self.languages.iter().map(|l| subject(l, host)));
        }
        columns
    }

    /// Each group's cases, as the case records name them.
    pub fn cases_by_group(&self) -> BTreeMap<&str, BTreeSet<&str>> {
        let mut groups: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
        for record in self.cases() {
            if let Kind::Case { case, group, .. } = &record.kind {
                groups.entry(group).or_default().insert(case);
            }
        }
        groups
    }

    /// Sorts the records by name and fills in what follows from them: the case trials by
    /// verdict, per group, the scores, how many trials and how many reused, and when and from
    /// which commit it was made, if not already said (`commit` is asked only then).
    pub fn complete(&mut self, commit: impl FnOnce() -> Option<String>) {
        self.records.sort_by(|a, b| a.trial.cmp(&b.trial));
        let groups = self
            .cases_by_group()
            .into_iter()
            .map(|(group, cases)| {
                let records = self.cases().filter(|r| in_group(r, group));
                let group_counts = Group {
                    cases: cases.len(),
                    trials: counts(records),
                };
                (group.to_owned(), group_counts)
            })
            .collect();
        let completed = &mut self.completed;
        completed.groups = groups;
        completed.summary = counts(self.records.iter().filter(|r| r.subject().is_some()));
        completed.scores = scores(&self.records);
        completed.trials = self.records.len();
        completed.reused = self.records.iter().filter(|r| r.reused).count();
        if completed.generated_ms.is_none() {
            let now = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_millis() as u64);
            completed.generated_ms = Some(now);
            completed.commit = commit();
        }
    }

    /// report.json's text.
    pub fn json(&self) -> String {
        let mut text = serde_json::to_string_pretty(self).expect("a report is plain data");
        text.push('\n');
        text
    }
}

fn in_group(record: &Record, wanted: &str) -> bool {
    matches!(&record.kind, Kind::Case { group, .. } if group == wanted)
}

fn scores(records: &[Record]) -> Scores {
    let mut scores = Scores::default();
    for record in records {
        let Kind::Case { language, host, .. } = &record.kind else {
            continue;
        };
        if matches!(record.verdict, Verdict::Skip(_)) {
            continue;
        }
        for (table, name) in [(&mut scores.hosts, host), (&mut scores.languages, language)] {
            let score = table.entry(name.clone()).or_default();
            score.run += 1;
            score.pass += usize::from(record.verdict == Verdict::Pass);
        }
    }
    scores
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(super) fn case(case: &str, language: &str, verdict: Verdict) -> Record {
        Record {
            trial: format!("{case}::{language}@rust-host"),
            kind: Kind::Case {
                case: case.to_owned(),
                group: if case == "echo" { "bytes" } else { "seed" }.to_owned(),
                language: language.to_owned(),
                host: "rust-host".to_owned(),
            },
            verdict,
            millis: 3,
            output: None,
            diff: None,
            finding: None,
            reused: false,
        }
    }

    pub(super) fn report() -> Report {
        Report {
            toolchains: [("go".to_owned(), "go version \"1\"".to_owned())].into(),
            hosts: vec!["rust-host".to_owned()],
            languages: vec!["rust".to_owned(), "go".to_owned()],
            records: vec![
                case("seed_call", "rust", Verdict::Pass),
                case(
                    "seed_call",
                    "go",
                    Verdict::Fail("a <diff>\nhere".to_owned()),
                ),
                case("echo", "go", Verdict::XFail("known".to_owned())),
                case("echo", "rust", Verdict::Skip("no rustc".to_owned())),
            ],
            ..Report::default()
        }
    }

    #[test]
    fn json_holds_every_record_sorted_with_its_kind_verdict_and_divergence() {
        let mut report = report();
        report.records[1].set_divergence(Some(Divergence::new("a\nb\n", "a\nc\n".to_owned())));
        report.records[1].finding = Some("go-pdk: a finding".to_owned());
        report.records.push(Record {
            trial: "surface::rust".to_owned(),
            kind: Kind::Other,
            ..case("x", "rust", Verdict::Pass)
        });
        report.complete(|| Some("abc".to_owned()));
        let json: serde_json::Value = serde_json::from_str(&report.json()).unwrap();
        assert_eq!(json["toolchains"]["go"], "go version \"1\"");
        assert_eq!(json["hosts"], serde_json::json!(["rust-host"]));
        let records = json["records"].as_array().unwrap();
        assert_eq!(records[0]["case"], "echo");
        assert_eq!(
            records[2],
            serde_json::json!({"trial": "seed_call::go@rust-host", "kind": "case",
                "case": "seed_call", "group": "seed", "language": "go", "host": "rust-host",
                "verdict": "fail", "detail": "a <diff>\nhere", "millis": 3, "output": "a\nc\n",
                "diff": "--- snapshot\n+++ this trial\n@@ -1,2 +1,2 @@\n a\n-b\n+c\n",
                "finding": "go-pdk: a finding", "reused": false})
        );
        assert_eq!(records[4]["kind"], "other");
        assert_eq!(json["summary"]["fail"], 1);
        assert_eq!(json["trials"], 5);
        assert_eq!(json["commit"], "abc");
        // And back: xtask reads what the run wrote through the same types.
        let read: Report = serde_json::from_str(&report.json()).unwrap();
        assert_eq!(read, report);
    }

    #[test]
    fn scores_count_passing_and_run_trials_and_groups_their_cases() {
        let mut report = report();
        report.complete(|| None);
        let score = report.completed.scores.hosts["rust-host"];
        assert_eq!(score, Score { pass: 1, run: 3 });
        assert_eq!(report.completed.scores.languages["go"].run, 2);
        assert_eq!(report.completed.groups["bytes"].cases, 1);
        assert_eq!(report.completed.groups["bytes"].trials["skip"], 1);
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
    fn listed_is_the_same_whatever_the_order() {
        let one = Listed::of(&["b", "a"]);
        assert_eq!(one, Listed::of(&["a", "b"]));
        assert_eq!(one.count, 2);
        assert_ne!(one, Listed::of(&["a", "c"]));
    }
}
