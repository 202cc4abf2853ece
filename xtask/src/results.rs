//! The conformance run's results for people: `report.json` completed with its counts and scores,
//! a bounded history of runs, the self-contained results page (`index.html`), the merge of a
//! split run's parts (`cargo xtask merge-reports`) and the page's check in a real browser
//! ([`browser`]). It reads and writes the report through its types (`suite::report`), which the
//! conformance executable writes it with, so a merged run and an unsplit one go through the same
//! code.

mod browser;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use anyhow::{bail, Context};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use suite::partition::Partition;
use suite::report::{Listed, Record, Report, Scores};

pub use browser::check_page;

/// Runs kept in `history/`, the newest last.
pub const HISTORY_KEPT: usize = 20;
pub const HISTORY_DIR: &str = "history";
pub const PAGE_FILE: &str = "index.html";
/// The page's data alone, for the browser check to compare the page with.
pub const PAGE_DATA_FILE: &str = "page-data.json";
pub const SCREENSHOT_FILE: &str = "screenshot.png";

const PAGE: &str = include_str!("results/page.html");
const DATA_MARK: &str = "__CONFORMANCE_DATA__";
/// The page's lists of trials, by record kind.
const PAGE_LISTS: [(&str, &str); 3] = [
    ("case", "cases"),
    ("attack", "attacks"),
    ("other", "others"),
];

/// What `publish` wrote.
pub struct Published {
    pub page: PathBuf,
    pub page_bytes: usize,
    /// Trials whose verdict changed since the previous run in the history, if there was one.
    pub changed: Option<usize>,
}

/// Completes `report` (counts, scores, when and from which commit) and writes it as
/// `dir/report.json`, keeps its verdicts in `dir/history/` when `keep` is set, and writes the
/// page from it and the history.
pub fn publish(dir: &Path, mut report: Report, keep: bool) -> anyhow::Result<Published> {
    report.complete(commit);
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    write(&dir.join("report.json"), &report.json())?;
    let entry = Entry::of(&report);
    let history = match keep {
        true => keep_in_history(&dir.join(HISTORY_DIR), entry)?,
        false => vec![entry],
    };
    let data = page_data(&report, &history);
    let changed = data["changes"]["previous"]
        .is_string()
        .then(|| data["changes"]["trials"].as_array().map_or(0, Vec::len));
    write(&dir.join(PAGE_DATA_FILE), &pretty(&data))?;
    let page = dir.join(PAGE_FILE);
    let html = page_html(&data);
    write(&page, &html)?;
    Ok(Published {
        page,
        page_bytes: html.len(),
        changed,
    })
}

/// What the history keeps of a completed report: what [`page_data`] reads of an earlier run
/// (when, which commit and part, the scores, and each trial's verdict), a fifth of the report.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Entry {
    generated_ms: u64,
    commit: Option<String>,
    partition: Option<String>,
    trials: usize,
    scores: Scores,
    /// Each trial's name and verdict word.
    verdicts: Vec<(String, String)>,
}

impl Entry {
    fn of(report: &Report) -> Entry {
        let verdicts = report.records.iter().map(|r| {
            let verdict = r.verdict.word().to_owned();
            (r.trial.clone(), verdict)
        });
        Entry {
            generated_ms: report.completed.generated_ms.unwrap_or(0),
            commit: report.completed.commit.clone(),
            partition: report.partition.clone(),
            trials: report.completed.trials,
            scores: report.completed.scores.clone(),
            verdicts: verdicts.collect(),
        }
    }

    /// The same entry but for when it was made: a run that said what the last one said.
    fn says_the_same_as(&self, other: &Entry) -> bool {
        let when = |entry: &Entry| Entry {
            generated_ms: 0,
            ..entry.clone()
        };
        when(self) == when(other)
    }
}

/// The short hash of the checked-out commit, when this is a git checkout.
fn commit() -> Option<String> {
    let output = std::process::Command::new("git")
        .args(["rev-parse", "--short", "HEAD"])
        .current_dir(crate::project_root())
        .output()
        .ok()?;
    let hash = String::from_utf8(output.stdout).ok()?;
    (output.status.success() && !hash.trim().is_empty()).then(|| hash.trim().to_owned())
}

/// Writes `entry` into `history/` as `run-<ms>.json`, unless it says what the last kept run
/// said (the same commit, part, scores and verdicts: a run that reused every verdict, or found
/// the same again), drops the oldest beyond [`HISTORY_KEPT`], and returns the kept runs,
/// oldest first, with this one last. So the history holds the runs where something moved, and
/// a day of no-op runs does not push them out.
fn keep_in_history(history: &Path, entry: Entry) -> anyhow::Result<Vec<Entry>> {
    std::fs::create_dir_all(history)
        .with_context(|| format!("cannot create {}", history.display()))?;
    let this = history.join(format!("run-{:013}.json", entry.generated_ms));
    let mut runs = history_files(history)?;
    // Each kept run is read once: the last to compare with, and all of them for the page.
    let mut kept: Vec<(PathBuf, Entry)> = Vec::new();
    for run in runs.drain(..) {
        match read_entry(&run) {
            Some(read) => kept.push((run, read)),
            // A run that cannot be read (cut short, or of an older format) leaves the history.
            None => {
                eprintln!(
                    "note: {} is not a run of this format; removed from the history",
                    run.display()
                );
                let _ = std::fs::remove_file(&run);
            }
        }
    }
    let same = kept
        .last()
        .is_some_and(|(_, last)| last.says_the_same_as(&entry));
    if !same {
        write(&this, &serde_json::to_string(&entry)?)?;
        kept.push((this.clone(), entry.clone()));
    }
    while kept.len() > HISTORY_KEPT {
        let (oldest, _) = kept.remove(0);
        std::fs::remove_file(&oldest)
            .with_context(|| format!("cannot remove {}", oldest.display()))?;
    }
    let mut entries: Vec<Entry> = kept
        .into_iter()
        .filter(|(path, _)| *path != this)
        .map(|(_, entry)| entry)
        .collect();
    entries.push(entry);
    Ok(entries)
}

/// The history's `run-*.json` files, oldest first.
fn history_files(history: &Path) -> anyhow::Result<Vec<PathBuf>> {
    let mut runs: Vec<PathBuf> = std::fs::read_dir(history)
        .with_context(|| format!("cannot read {}", history.display()))?
        .filter_map(|entry| entry.ok().map(|entry| entry.path()))
        .filter(|path| {
            let name = path.file_name().unwrap_or_default().to_string_lossy();
            name.starts_with("run-") && name.ends_with(".json")
        })
        .collect();
    runs.sort();
    Ok(runs)
}

fn read_entry(run: &Path) -> Option<Entry> {
    serde_json::from_str(&std::fs::read_to_string(run).ok()?).ok()
}

/// What the page embeds: the report's records, each with its verdict in the last earlier run that
/// ran it when that differs (so a run of one host compares with that host's last run, whatever
/// ran in between), the scores of every run in the history, and the list of changed trials.
pub fn page_data(report: &Report, history: &[Entry]) -> Value {
    let this_ms = report.completed.generated_ms.unwrap_or(0);
    let earlier: Vec<&Entry> = history
        .iter()
        .filter(|run| run.generated_ms < this_ms)
        .collect();
    let mut before: BTreeMap<&str, &str> = BTreeMap::new();
    for run in earlier.iter().rev() {
        for (trial, verdict) in &run.verdicts {
            before.entry(trial).or_insert(verdict);
        }
    }
    let mut changed = Vec::new();
    let mut lists: BTreeMap<&str, Vec<Value>> = BTreeMap::new();
    for record in &report.records {
        let verdict = record.verdict.word();
        let was = before
            .get(record.trial.as_str())
            .filter(|was| **was != verdict);
        if let Some(was) = was {
            changed.push(json!({"trial": record.trial, "before": was, "after": verdict}));
        }
        let mut shown = serde_json::to_value(record).expect("a record is plain data");
        shown["previous"] = json!(was);
        lists.entry(record.kind.word()).or_default().push(shown);
    }
    let now: BTreeSet<&str> = report.records.iter().map(|r| r.trial.as_str()).collect();
    let previous = earlier.last().copied();
    let new = match previous {
        Some(_) => now.iter().filter(|t| !before.contains_key(*t)).count(),
        None => 0,
    };
    // Trials the previous run had and this one has not (a filtered or a split run).
    let gone = previous.map_or(0, |run| {
        let verdicts = run.verdicts.iter();
        verdicts
            .filter(|(trial, _)| !now.contains(trial.as_str()))
            .count()
    });
    let mut data = json!({
        "title": "Extism conformance",
        "generated": when(this_ms),
        "partition": match report.merged {
            Some(parts) => json!(format!("merged from {parts} parts")),
            None => json!(report.partition),
        },
        "commit": report.completed.commit,
        "toolchains": report.toolchains,
        "hosts": report.hosts,
        "languages": report.languages,
        "groups": report.cases_by_group().iter()
            .map(|(name, cases)| json!({"name": name, "cases": cases})).collect::<Vec<_>>(),
        "rerun": report.rerun,
        "reuse": report.reuse,
        "reused": report.completed.reused,
        "snapshots": report.snapshots,
        "findings": report.findings,
        "summary": report.completed.summary,
        "scores": report.completed.scores,
        "history": history.iter().map(history_row).collect::<Vec<_>>(),
        "changes": {
            "previous": previous.map(|run| when(run.generated_ms)),
            "trials": changed,
            "new": new,
            "gone": gone,
        },
    });
    for (kind, list) in PAGE_LISTS {
        data[list] = Value::Array(lists.remove(kind).unwrap_or_default());
    }
    data
}

/// One run of the history, as the page's chart and list show it.
fn history_row(run: &Entry) -> Value {
    json!({
        "id": format!("run-{:013}", run.generated_ms),
        "generated": when(run.generated_ms),
        "commit": run.commit,
        "partition": run.partition,
        "trials": run.trials,
        "scores": run.scores,
    })
}

/// The page: the template with the data in its one `<script type="application/json">`, where a
/// `<` would end the script early.
pub fn page_html(data: &Value) -> String {
    let json = serde_json::to_string(data)
        .expect("page data is plain data")
        .replace('<', "\\u003c");
    PAGE.replacen(DATA_MARK, &json, 1)
}

/// When a report was made, in UTC, to the minute: `2026-12-01 22:30 UTC`.
fn when(generated_ms: u64) -> String {
    let secs = generated_ms / 1000;
    let (days, rest) = (secs / 86_400, secs % 86_400);
    // Howard Hinnant's days-to-civil, for the proleptic Gregorian calendar.
    let z = days as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02} {:02}:{:02} UTC",
        rest / 3600,
        rest % 3600 / 60
    )
}

/// Merges the report.json of each part of a split run (`--partition hash:K/N`, K = 1..N) into the
/// report of the whole run. Fails, naming the files, when a part is missing or given twice, the
/// parts come from different runs or toolchains, or a trial is missing or in two parts.
pub fn merge(parts: &[(PathBuf, Report)]) -> anyhow::Result<Report> {
    let Some((first_path, first)) = parts.first() else {
        bail!("merge-reports: no report.json given");
    };
    let total = check_parts(parts)?;
    let mut merged = first.clone();
    let mut owner: BTreeMap<&str, &Path> = BTreeMap::new();
    let mut records: Vec<Record> = Vec::new();
    for (path, part) in parts {
        for record in &part.records {
            if let Some(other) = owner.insert(&record.trial, path) {
                bail!(
                    "trial {} is in two parts: {} and {}",
                    record.trial,
                    other.display(),
                    path.display()
                );
            }
            records.push(record.clone());
        }
    }
    let count = first.listed.count;
    if owner.len() != count {
        bail!(
            "{} of the run's {count} trials are missing from the parts (a part was cut short or \
             filtered)",
            count.saturating_sub(owner.len())
        );
    }
    let names: Vec<&str> = owner.keys().copied().collect();
    if Listed::of(&names) != first.listed {
        bail!(
            "the parts' trials are {count}, but not the run's list of trials (see {})",
            first_path.display()
        );
    }
    merged.records = records;
    for (_, part) in parts {
        merged.snapshots.extend(part.snapshots.clone());
        merged.findings.extend(part.findings.clone());
    }
    let latest = parts
        .iter()
        .filter_map(|(_, p)| p.completed.generated_ms)
        .max();
    merged.partition = None;
    merged.merged = Some(total);
    merged.completed.generated_ms = latest;
    merged.complete(|| None);
    Ok(merged)
}

/// Checks that the parts are each part of one split run, every part once, made by the same
/// toolchains; returns how many parts the run was split into.
fn check_parts(parts: &[(PathBuf, Report)]) -> anyhow::Result<u64> {
    let (first_path, first) = &parts[0];
    let mut seen: BTreeMap<u64, &Path> = BTreeMap::new();
    // The first part's count of parts, which every other part must share.
    let mut total = None;
    for (path, part) in parts {
        let shown = path.display();
        let Some(partition) = &part.partition else {
            bail!("{shown}: not a part of a split run (its partition is null): run it with --partition hash:K/N");
        };
        let partition =
            Partition::parse(partition).map_err(|error| anyhow::anyhow!("{shown}: {error}"))?;
        let total = *total.get_or_insert(partition.total);
        if partition.total != total {
            bail!(
                "{shown} is part {partition}, but {} is a part of {total}",
                first_path.display()
            );
        }
        if let Some(other) = seen.insert(partition.part, path) {
            bail!(
                "part {partition} is given twice: {} and {shown}",
                other.display()
            );
        }
        if part.listed != first.listed {
            bail!(
                "{shown} and {} are parts of different runs (their lists of trials differ)",
                first_path.display()
            );
        }
        if part.toolchains != first.toolchains {
            let differs = differing(&first.toolchains, &part.toolchains);
            bail!(
                "{shown} and {} were built by different toolchains ({differs})",
                first_path.display()
            );
        }
    }
    let total = total.unwrap_or(0);
    let missing: Vec<String> = (1..=total)
        .filter(|k| !seen.contains_key(k))
        .map(|k| format!("hash:{k}/{total}"))
        .collect();
    if !missing.is_empty() {
        bail!("the parts {} are missing", missing.join(", "));
    }
    Ok(total)
}

/// The first key whose values differ, as `key: a vs b`.
fn differing(a: &BTreeMap<String, String>, b: &BTreeMap<String, String>) -> String {
    let keys: BTreeSet<&String> = a.keys().chain(b.keys()).collect();
    keys.into_iter()
        .find(|key| a.get(*key) != b.get(*key))
        .map(|key| {
            let shown = |map: &BTreeMap<String, String>| {
                map.get(key).map_or("none".to_owned(), |v| format!("{v:?}"))
            };
            format!("{key}: {} vs {}", shown(a), shown(b))
        })
        .unwrap_or_default()
}

/// `cargo xtask merge-reports`: reads the parts, merges them, and publishes the merged report
/// and its page into `out` (no history: a merge is made on a machine of its own).
pub fn merge_reports(files: &[PathBuf], out: &Path) -> anyhow::Result<Published> {
    let mut parts = Vec::new();
    for file in files {
        let text = std::fs::read_to_string(file)
            .with_context(|| format!("cannot read {}", file.display()))?;
        let part: Report = serde_json::from_str(&text)
            .with_context(|| format!("{}: not a conformance report.json", file.display()))?;
        parts.push((file.clone(), part));
    }
    let merged = merge(&parts)?;
    publish(out, merged, false)
}

fn pretty(value: &Value) -> String {
    let mut text = serde_json::to_string_pretty(value).expect("plain data");
    text.push('\n');
    text
}

fn write(path: &Path, text: &str) -> anyhow::Result<()> {
    std::fs::write(path, text).with_context(|| format!("cannot write {}", path.display()))
}

#[cfg(test)]
mod tests;
