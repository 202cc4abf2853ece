//! The conformance run's results for people: `report.json` completed with its counts and scores,
//! a bounded history of runs, the self-contained results page (`index.html`), the merge of a
//! split run's parts (`cargo xtask merge-reports`) and the page's check in a real browser. It
//! works on the report's JSON, which the conformance executable writes (tests/src/report.rs), so
//! a merged run and an unsplit one go through the same code.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use anyhow::{bail, Context};
use serde_json::{json, Map, Value};
use xshell::{cmd, Shell};

/// Runs kept in `history/`, the newest last.
pub const HISTORY_KEPT: usize = 20;
pub const HISTORY_DIR: &str = "history";
pub const PAGE_FILE: &str = "index.html";
/// The page's data alone, for the browser check to compare the page with.
pub const PAGE_DATA_FILE: &str = "page-data.json";
pub const SCREENSHOT_FILE: &str = "screenshot.png";

const PAGE: &str = include_str!("results/page.html");
const DATA_MARK: &str = "__CONFORMANCE_DATA__";
const VERDICTS: [&str; 5] = ["pass", "fail", "xfail", "xpass", "skip"];
/// The record lists of a report: cases, attacks and the other trials.
const LISTS: [&str; 3] = ["results", "attacks", "others"];

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
pub fn publish(dir: &Path, mut report: Value, keep: bool) -> anyhow::Result<Published> {
    complete(&mut report);
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    write(&dir.join("report.json"), &pretty(&report))?;
    let entry = history_entry(&report);
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
fn history_entry(report: &Value) -> Value {
    let mut entry: Map<String, Value> = ["generated_ms", "commit", "partition", "trials", "scores"]
        .iter()
        .map(|key| (key.to_string(), report[*key].clone()))
        .collect();
    for name in LISTS {
        let verdicts: Vec<Value> = list(report, name)
            .iter()
            .map(|r| json!({"trial": r["trial"], "verdict": r["verdict"]}))
            .collect();
        entry.insert(name.to_owned(), Value::Array(verdicts));
    }
    Value::Object(entry)
}

/// Adds what follows from the records: `summary` (case trials by verdict), `groups` (cases and
/// verdicts per group), `scores` (case trials passing and run, per host and per language),
/// `trials` (every trial of the report), `reused` (how many of them reused an earlier verdict),
/// and when it was made, if not already said.
pub fn complete(report: &mut Value) {
    let results = list(report, "results");
    let count = |records: &mut dyn Iterator<Item = &Value>| {
        let mut counts: BTreeMap<&str, usize> = VERDICTS.iter().map(|v| (*v, 0)).collect();
        for record in records {
            if let Some(count) = counts.get_mut(text(record, "verdict")) {
                *count += 1;
            }
        }
        json!(counts)
    };
    let groups: Map<String, Value> = cases_by_group(results)
        .iter()
        .map(|(group, cases)| {
            let mut records = results.iter().filter(|r| text(r, "group") == *group);
            let trials = count(&mut records);
            (
                group.to_string(),
                json!({"cases": cases.len(), "trials": trials}),
            )
        })
        .collect();
    let trials: usize = LISTS.iter().map(|name| list(report, name).len()).sum();
    let reused: usize = LISTS
        .iter()
        .map(|name| {
            let records = list(report, name).iter();
            records.filter(|r| r["reused"] == json!(true)).count()
        })
        .sum();
    let summary = count(&mut results.iter());
    let scores = scores(results);
    let object = report.as_object_mut().expect("a report is an object");
    object.insert("summary".into(), summary);
    object.insert("groups".into(), Value::Object(groups));
    object.insert("scores".into(), scores);
    object.insert("trials".into(), json!(trials));
    object.insert("reused".into(), json!(reused));
    if !object.contains_key("generated_ms") {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_millis() as u64);
        object.insert("generated_ms".into(), json!(now));
        object.insert("commit".into(), json!(commit()));
    }
}

/// Each group's cases, as the case records name them.
fn cases_by_group(results: &[Value]) -> BTreeMap<&str, BTreeSet<&str>> {
    let mut groups: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
    for record in results {
        groups
            .entry(text(record, "group"))
            .or_default()
            .insert(text(record, "case"));
    }
    groups
}

/// Per host and per language: case trials passing, and run (not skipped).
fn scores(results: &[Value]) -> Value {
    let mut hosts: BTreeMap<&str, (usize, usize)> = BTreeMap::new();
    let mut languages: BTreeMap<&str, (usize, usize)> = BTreeMap::new();
    for record in results {
        let verdict = text(record, "verdict");
        if verdict == "skip" {
            continue;
        }
        for (scores, key) in [(&mut hosts, "host"), (&mut languages, "language")] {
            let score = scores.entry(text(record, key)).or_default();
            score.1 += 1;
            if verdict == "pass" {
                score.0 += 1;
            }
        }
    }
    let shown = |scores: BTreeMap<&str, (usize, usize)>| -> Value {
        scores
            .into_iter()
            .map(|(name, (pass, run))| (name.to_owned(), json!({"pass": pass, "run": run})))
            .collect::<Map<_, _>>()
            .into()
    };
    json!({"hosts": shown(hosts), "languages": shown(languages)})
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
fn keep_in_history(history: &Path, entry: Value) -> anyhow::Result<Vec<Value>> {
    std::fs::create_dir_all(history)
        .with_context(|| format!("cannot create {}", history.display()))?;
    let ms = entry["generated_ms"].as_u64().unwrap_or(0);
    let this = history.join(format!("run-{ms:013}.json"));
    let mut runs = history_files(history)?;
    // The last run is read once: to compare with, and then as one of the kept.
    let mut last = runs.last().map(|run| (run.clone(), read_entry(run)));
    let said = |entry: &Value| {
        let mut entry = entry.clone();
        entry.as_object_mut().map(|e| e.remove("generated_ms"));
        entry
    };
    let same = last.as_ref().and_then(|(_, read)| read.as_ref());
    if same.is_none_or(|last| said(last) != said(&entry)) {
        write(&this, &serde_json::to_string(&entry)?)?;
        runs.push(this.clone());
        runs.sort();
    }
    while runs.len() > HISTORY_KEPT {
        let oldest = runs.remove(0);
        std::fs::remove_file(&oldest)
            .with_context(|| format!("cannot remove {}", oldest.display()))?;
    }
    let mut kept = Vec::new();
    for run in runs.iter().filter(|run| **run != this) {
        let read = match last.take_if(|(path, _)| path == run) {
            Some((_, read)) => read,
            None => read_entry(run),
        };
        match read {
            Some(old) => kept.push(old),
            // A run that cannot be read (cut short, or from an older format) is left out.
            None => eprintln!(
                "warning: {} is not a report; left out of the history",
                run.display()
            ),
        }
    }
    kept.push(entry);
    Ok(kept)
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

/// One run of the history as an entry; a whole report, as the history kept them before, is
/// rewritten as its entry.
fn read_entry(run: &Path) -> Option<Value> {
    let old: Value = serde_json::from_str(&std::fs::read_to_string(run).ok()?).ok()?;
    if old.get("snapshots").is_some() {
        let entry = history_entry(&old);
        if let Ok(text) = serde_json::to_string(&entry) {
            let _ = write(run, &text);
        }
        return Some(entry);
    }
    old.get("scores").is_some().then_some(old)
}

/// What the page embeds: the report's records, each with its verdict in the last earlier run that
/// ran it when that differs (so a run of one host compares with that host's last run, whatever
/// ran in between), the scores of every run in the history, and the list of changed trials.
pub fn page_data(report: &Value, history: &[Value]) -> Value {
    let this_ms = report["generated_ms"].as_u64();
    let earlier: Vec<&Value> = history
        .iter()
        .filter(|run| run["generated_ms"].as_u64() < this_ms)
        .collect();
    let mut before: BTreeMap<&str, &str> = BTreeMap::new();
    for run in earlier.iter().rev() {
        for record in LISTS.iter().flat_map(|name| list(run, name)) {
            before
                .entry(text(record, "trial"))
                .or_insert(text(record, "verdict"));
        }
    }
    let mut changed = Vec::new();
    let mut now: BTreeSet<&str> = BTreeSet::new();
    let mut marked: BTreeMap<&str, Vec<Value>> = BTreeMap::new();
    for name in LISTS {
        let records = list(report, name)
            .iter()
            .map(|record| {
                let (trial, verdict) = (text(record, "trial"), text(record, "verdict"));
                now.insert(trial);
                let mut record = record.clone();
                let was = before.get(trial).filter(|was| **was != verdict);
                if let Some(was) = was {
                    changed.push(json!({"trial": trial, "before": was, "after": verdict}));
                }
                record["previous"] = json!(was);
                record
            })
            .collect();
        marked.insert(name, records);
    }
    let previous = earlier.last().copied();
    let new = match previous {
        Some(_) => now.iter().filter(|t| !before.contains_key(*t)).count(),
        None => 0,
    };
    // Trials the previous run had and this one has not (a filtered or a split run).
    let gone = previous.map_or(0, |run| {
        LISTS
            .iter()
            .flat_map(|name| list(run, name))
            .filter(|record| !now.contains(text(record, "trial")))
            .count()
    });
    let groups = cases_by_group(list(report, "results"));
    let runs: Vec<Value> = history
        .iter()
        .map(|run| {
            json!({
                "id": format!("run-{:013}", run["generated_ms"].as_u64().unwrap_or(0)),
                "generated": when(run),
                "commit": run["commit"],
                "partition": run["partition"],
                "trials": run["trials"],
                "scores": run["scores"],
            })
        })
        .collect();
    let partition = match report["merged"].as_u64() {
        Some(parts) => json!(format!("merged from {parts} parts")),
        None => report["partition"].clone(),
    };
    json!({
        "title": "Extism conformance",
        "generated": when(report),
        "partition": partition,
        "commit": report["commit"],
        "toolchains": report["toolchains"],
        "hosts": report["hosts"],
        "languages": report["languages"],
        "groups": groups.iter().map(|(name, cases)| json!({"name": name, "cases": cases})).collect::<Vec<_>>(),
        "rerun": report["rerun"],
        "reuse": report["reuse"],
        "reused": report["reused"],
        "cases": marked["results"],
        "attacks": marked["attacks"],
        "others": marked["others"],
        "snapshots": report["snapshots"],
        "findings": report["findings"],
        "summary": report["summary"],
        "scores": report["scores"],
        "history": runs,
        "changes": {
            "previous": previous.map(when),
            "trials": changed,
            "new": new,
            "gone": gone,
        },
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
fn when(report: &Value) -> String {
    let secs = report["generated_ms"].as_u64().unwrap_or(0) / 1000;
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
pub fn merge(parts: &[(PathBuf, Value)]) -> anyhow::Result<Value> {
    let Some((first_path, first)) = parts.first() else {
        bail!("merge-reports: no report.json given");
    };
    let mut seen: BTreeMap<u64, &Path> = BTreeMap::new();
    let mut total = None;
    for (path, part) in parts {
        let shown = path.display();
        let Some(partition) = part["partition"].as_str() else {
            bail!("{shown}: not a part of a split run (its partition is null): run it with --partition hash:K/N");
        };
        let (k, n) = parse_partition(partition)
            .with_context(|| format!("{shown}: partition `{partition}`"))?;
        match total {
            None => total = Some(n),
            Some(total) if total != n => bail!(
                "{shown} is part {partition}, but {} is a part of {total}",
                first_path.display()
            ),
            Some(_) => {}
        }
        if let Some(other) = seen.insert(k, path) {
            bail!(
                "part {partition} is given twice: {} and {shown}",
                other.display()
            );
        }
        if part["listed"] != first["listed"] {
            bail!(
                "{shown} and {} are parts of different runs (their lists of trials differ)",
                first_path.display()
            );
        }
        if part["toolchains"] != first["toolchains"] {
            let differs = differing(&first["toolchains"], &part["toolchains"]);
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
    let mut merged = first.clone();
    let mut owner: BTreeMap<String, &Path> = BTreeMap::new();
    for name in LISTS {
        let mut records: Vec<Value> = Vec::new();
        for (path, part) in parts {
            for record in list(part, name) {
                let trial = text(record, "trial").to_owned();
                if let Some(other) = owner.insert(trial.clone(), path) {
                    bail!(
                        "trial {trial} is in two parts: {} and {}",
                        other.display(),
                        path.display()
                    );
                }
                records.push(record.clone());
            }
        }
        records.sort_by(|a, b| text(a, "trial").cmp(text(b, "trial")));
        merged[name] = Value::Array(records);
    }
    let count = first["listed"]["count"].as_u64().unwrap_or(0) as usize;
    if owner.len() != count {
        bail!(
            "{} of the run's {count} trials are missing from the parts (a part was cut short or \
             filtered)",
            count.saturating_sub(owner.len())
        );
    }
    let names: Vec<&str> = owner.keys().map(String::as_str).collect();
    if listed_sha256(&names) != text(&first["listed"], "sha256") {
        bail!("the parts' trials are {count}, but not the run's list of trials");
    }
    for map in ["snapshots", "findings"] {
        let mut union = Map::new();
        for (_, part) in parts {
            if let Some(entries) = part[map].as_object() {
                union.extend(entries.clone());
            }
        }
        merged[map] = Value::Object(union);
    }
    let latest = parts
        .iter()
        .filter_map(|(_, p)| p["generated_ms"].as_u64())
        .max();
    merged["partition"] = Value::Null;
    merged["merged"] = json!(total);
    merged["generated_ms"] = json!(latest);
    complete(&mut merged);
    Ok(merged)
}

/// The SHA-256 of sorted names, one per line, as tests/src/report.rs's `Listed` computes it.
fn listed_sha256(sorted: &[&str]) -> String {
    let mut lines = String::new();
    for name in sorted {
        lines.push_str(name);
        lines.push('\n');
    }
    use sha2::Digest as _;
    format!("{:x}", sha2::Sha256::digest(lines.as_bytes()))
}

fn parse_partition(text: &str) -> anyhow::Result<(u64, u64)> {
    let spec = text.strip_prefix("hash:").context("expected hash:K/N")?;
    let (k, n) = spec.split_once('/').context("expected hash:K/N")?;
    let (k, n): (u64, u64) = (k.parse()?, n.parse()?);
    if k == 0 || k > n {
        bail!("expected 1 <= K <= N");
    }
    Ok((k, n))
}

/// The first key whose values differ, as `key: a vs b`.
fn differing(a: &Value, b: &Value) -> String {
    let keys: BTreeSet<&String> = [a, b]
        .iter()
        .filter_map(|map| map.as_object())
        .flat_map(|map| map.keys())
        .collect();
    keys.into_iter()
        .find(|key| a.get(key.as_str()) != b.get(key.as_str()))
        .map(|key| format!("{key}: {} vs {}", a[key.as_str()], b[key.as_str()]))
        .unwrap_or_default()
}

/// `cargo xtask merge-reports`: reads the parts, merges them, and publishes the merged report
/// and its page into `out` (no history: a merge is made on a machine of its own).
pub fn merge_reports(files: &[PathBuf], out: &Path) -> anyhow::Result<Published> {
    let mut parts = Vec::new();
    for file in files {
        let text = std::fs::read_to_string(file)
            .with_context(|| format!("cannot read {}", file.display()))?;
        let part: Value =
            serde_json::from_str(&text).with_context(|| format!("{}: not JSON", file.display()))?;
        if !part.is_object() || !part["results"].is_array() {
            bail!("{}: not a conformance report.json", file.display());
        }
        parts.push((file.clone(), part));
    }
    let merged = merge(&parts)?;
    publish(out, merged, false)
}

/// What a browser check of the page in `dir` checks: the page's and the check's code, the
/// browser, and each trial's name and verdict (not its time).
fn page_check_key(dir: &Path, script: &Path, chromium: &str) -> anyhow::Result<String> {
    let data_path = dir.join(PAGE_DATA_FILE);
    let json = std::fs::read_to_string(&data_path)
        .with_context(|| format!("cannot read {}", data_path.display()))?;
    let data: Value = serde_json::from_str(&json)
        .with_context(|| format!("{}: not JSON", data_path.display()))?;
    let mut parts = vec![PAGE.to_owned(), chromium.to_owned()];
    for file in [
        script.to_path_buf(),
        script.with_file_name("package-lock.json"),
    ] {
        parts.push(
            std::fs::read_to_string(&file)
                .with_context(|| format!("cannot read {}", file.display()))?,
        );
    }
    for list in ["cases", "attacks", "others"] {
        for trial in data[list].as_array().map(Vec::as_slice).unwrap_or_default() {
            parts.push(format!(
                "{} {}",
                text(trial, "trial"),
                text(trial, "verdict")
            ));
        }
    }
    Ok(crate::fingerprint::hash_bytes(parts.join("\n").as_bytes()))
}

/// Where a passing browser check leaves what it checked, in the report's directory.
const PAGE_CHECK_STAMP: &str = "page-check.stamp";

/// Loads the page in headless Chromium (tests/page/check.mjs, Playwright's `playwright-core`) and
/// checks what a person would; returns its summary line. `Ok(None)` when the browser or the
/// check's dependencies are missing and this is not CI (under `CI=true` that is an error).
/// Unless `always` or under `CI=true`, a page whose code (the template, the check, its lock file,
/// the browser) and whose trials and verdicts are those of the last page that passed is not
/// checked again: a run that reused every verdict differs from the last one in times only.
pub fn check_page(sh: &Shell, dir: &Path, always: bool) -> anyhow::Result<Option<String>> {
    let root = crate::project_root();
    let build = &crate::table::RESULTS_PAGE;
    let chromium_version = match crate::build::probe_all(sh, build.toolchains) {
        Ok(_) => crate::toolchain::CHROMIUM.probe(sh)?,
        Err(error) => {
            if crate::in_ci() {
                return Err(error.context("the results page's browser check cannot run"));
            }
            eprintln!("warning: the results page's browser check is skipped: {error:#}");
            return Ok(None);
        }
    };
    let script = root.join(build.source_dir).join("check.mjs");
    let checked = page_check_key(dir, &script, &chromium_version)?;
    let stamp = dir.join(PAGE_CHECK_STAMP);
    if !always && !crate::in_ci() && std::fs::read_to_string(&stamp).is_ok_and(|s| s == checked) {
        return Ok(Some(
            "page: not checked again: its code and its trials' verdicts are those of the last \
             page that passed (CI=true or --run-all checks it)"
                .to_owned(),
        ));
    }
    let _ = std::fs::remove_file(&stamp);
    crate::build::prepare(sh, build)?;
    let chromium = crate::toolchain::chromium_path(sh)?;
    let (page, data, shot) = (
        dir.join(PAGE_FILE),
        dir.join(PAGE_DATA_FILE),
        dir.join(SCREENSHOT_FILE),
    );
    let output = cmd!(
        sh,
        "node {script} --page {page} --report {data} --chromium {chromium} --screenshot {shot}"
    )
    .ignore_status()
    .output()?;
    let stdout = String::from_utf8_lossy(&output.stdout);
    if !output.status.success() {
        let stderr = String::from_utf8_lossy(&output.stderr);
        bail!(
            "the results page's browser check failed on {}: {}{}",
            page.display(),
            stdout.trim(),
            stderr.trim()
        );
    }
    std::fs::write(&stamp, checked).with_context(|| format!("cannot write {}", stamp.display()))?;
    Ok(Some(stdout.trim().to_owned()))
}

fn list<'a>(report: &'a Value, name: &str) -> &'a [Value] {
    report[name].as_array().map_or(&[], Vec::as_slice)
}

fn text<'a>(record: &'a Value, key: &str) -> &'a str {
    record[key].as_str().unwrap_or_default()
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
mod tests {
    use super::*;

    fn record(trial: &str, host: &str, verdict: &str) -> Value {
        let (case, subject) = trial.split_once("::").unwrap();
        let language = subject.split('@').next().unwrap();
        json!({"trial": trial, "case": case, "group": "bytes", "language": language, "host": host,
            "verdict": verdict, "detail": "", "millis": 1})
    }

    /// A run of four case trials and one other trial, split in two parts by the given owners.
    fn run() -> Value {
        let names = [
            "echo::go@a",
            "echo::rust@a",
            "echo::rust@b",
            "surface::rust",
            "echo::go@b",
        ];
        let mut sorted = names.to_vec();
        sorted.sort();
        json!({
            "toolchains": {"go": "go 1"},
            "hosts": ["a", "b"], "languages": ["rust", "go"],
            "partition": null,
            "listed": {"count": names.len(), "sha256": listed_sha256(&sorted)},
            "rerun": "cargo test -- --exact {trial}",
            "results": [record("echo::go@a", "a", "pass"), record("echo::rust@a", "a", "pass"),
                record("echo::rust@b", "b", "xfail"), record("echo::go@b", "b", "skip")],
            "attacks": [],
            "others": [{"trial": "surface::rust", "verdict": "pass", "detail": "", "millis": 1}],
            "snapshots": {"echo": "outcome: ok"}, "findings": {},
            "generated_ms": 1_764_627_000_000_u64,
        })
    }

    /// The part of `run` that holds the trials `in_part` selects, as `hash:k/n`.
    fn part(k: u64, n: u64, in_part: impl Fn(&str) -> bool) -> (PathBuf, Value) {
        let mut part = run();
        part["partition"] = json!(format!("hash:{k}/{n}"));
        for name in LISTS {
            let kept: Vec<Value> = list(&part, name)
                .iter()
                .filter(|r| in_part(text(r, "trial")))
                .cloned()
                .collect();
            part[name] = Value::Array(kept);
        }
        (PathBuf::from(format!("part{k}.json")), part)
    }

    fn parts() -> Vec<(PathBuf, Value)> {
        vec![
            part(1, 2, |t| t.ends_with("@a")),
            part(2, 2, |t| !t.ends_with("@a")),
        ]
    }

    fn error(parts: &[(PathBuf, Value)]) -> String {
        format!("{:#}", merge(parts).unwrap_err())
    }

    #[test]
    fn merged_parts_are_the_unsplit_run() {
        let merged = merge(&parts()).unwrap();
        let mut unsplit = run();
        complete(&mut unsplit);
        for name in LISTS {
            let trials = |report: &Value| {
                let mut records = list(report, name).to_vec();
                records.sort_by(|a, b| text(a, "trial").cmp(text(b, "trial")));
                records
            };
            assert_eq!(trials(&merged), trials(&unsplit), "{name}");
        }
        assert_eq!(merged["summary"], unsplit["summary"]);
        assert_eq!(merged["scores"], unsplit["scores"]);
        assert_eq!(merged["merged"], 2);
        assert_eq!(merged["partition"], Value::Null);
    }

    #[test]
    fn a_missing_or_repeated_part_or_trial_fails_the_merge() {
        let parts = parts();
        assert_eq!(error(&parts[..1]), "the parts hash:2/2 are missing");
        let twice = [parts[0].clone(), parts[0].clone()];
        assert_eq!(
            error(&twice),
            "part hash:1/2 is given twice: part1.json and part1.json"
        );
        // A part that ran fewer trials than it should (cut short, or filtered).
        let mut short = parts.clone();
        short[1].1["results"].as_array_mut().unwrap().pop();
        assert_eq!(
            error(&short),
            "1 of the run's 5 trials are missing from the parts (a part was cut short or filtered)"
        );
        // A trial in two parts.
        let mut overlapping = parts.clone();
        let stray = record("echo::go@a", "a", "pass");
        overlapping[1].1["results"]
            .as_array_mut()
            .unwrap()
            .push(stray);
        assert_eq!(
            error(&overlapping),
            "trial echo::go@a is in two parts: part1.json and part2.json"
        );
        let mut other_tools = parts.clone();
        other_tools[1].1["toolchains"]["go"] = json!("go 2");
        assert_eq!(
            error(&other_tools),
            "part2.json and part1.json were built by different toolchains (go: \"go 1\" vs \"go 2\")"
        );
        let mut unsplit = parts.clone();
        unsplit[0].1["partition"] = Value::Null;
        assert!(error(&unsplit).starts_with("part1.json: not a part of a split run"));
        let mut other_n = parts;
        other_n[1].1["partition"] = json!("hash:2/3");
        assert_eq!(
            error(&other_n),
            "part2.json is part hash:2/3, but part1.json is a part of 2"
        );
    }

    #[test]
    fn scores_count_passing_and_run_trials() {
        let mut report = run();
        complete(&mut report);
        assert_eq!(report["scores"]["hosts"]["a"], json!({"pass": 2, "run": 2}));
        assert_eq!(report["scores"]["hosts"]["b"], json!({"pass": 0, "run": 1}));
        assert_eq!(
            report["scores"]["languages"]["go"],
            json!({"pass": 1, "run": 1})
        );
        assert_eq!(report["trials"], 5);
        assert_eq!(report["summary"]["xfail"], 1);
    }

    #[test]
    fn the_page_marks_what_changed_since_the_previous_run() {
        let mut previous = run();
        complete(&mut previous);
        let mut now = run();
        now["generated_ms"] = json!(1_764_627_060_000_u64);
        now["results"][0]["verdict"] = json!("fail");
        now["others"] = json!([]);
        complete(&mut now);
        let data = page_data(&now, &[previous.clone(), now.clone()]);
        assert_eq!(
            data["changes"]["trials"],
            json!([{"trial": "echo::go@a", "before": "pass", "after": "fail"}])
        );
        assert_eq!(data["changes"]["gone"], 1);
        assert_eq!(data["changes"]["previous"], "2025-12-01 22:10 UTC");
        assert_eq!(data["cases"][0]["previous"], "pass");
        assert_eq!(data["cases"][1]["previous"], Value::Null);
        assert_eq!(data["history"].as_array().unwrap().len(), 2);
        assert_eq!(data["history"][1]["scores"]["hosts"]["a"]["pass"], 1);
        // A run that did not run a trial leaves its last verdict standing: a filtered run
        // between two full ones hides no change.
        let mut filtered = run();
        filtered["generated_ms"] = json!(1_764_627_030_000_u64);
        filtered["results"] = json!([record("echo::rust@b", "b", "xfail")]);
        filtered["others"] = json!([]);
        complete(&mut filtered);
        let data = page_data(&now, &[previous.clone(), filtered, now.clone()]);
        assert_eq!(data["cases"][0]["previous"], "pass");
        assert_eq!(data["changes"]["gone"], 0);
        // The first run has nothing to compare with.
        let first = page_data(&previous, std::slice::from_ref(&previous));
        assert_eq!(first["changes"]["previous"], Value::Null);
        assert_eq!(first["changes"]["trials"], json!([]));
    }

    #[test]
    fn the_history_keeps_each_runs_verdicts_and_not_a_run_that_said_the_same_again() {
        let dir = std::env::temp_dir().join(format!("xtask-history-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        // A whole report, as the history kept them before, is kept as an entry from now on.
        let mut older = run();
        older["generated_ms"] = json!(1_764_626_000_000_u64);
        older["snapshots"] = json!({"echo": "a snapshot"});
        older["results"][1]["verdict"] = json!("fail");
        complete(&mut older);
        std::fs::create_dir_all(&dir).unwrap();
        let older_file = dir.join("run-1764626000000.json");
        std::fs::write(&older_file, pretty(&older)).unwrap();
        let mut previous = run();
        complete(&mut previous);
        let kept = keep_in_history(&dir, history_entry(&previous)).unwrap();
        assert_eq!(kept, [history_entry(&older), history_entry(&previous)]);
        let older_text = std::fs::read_to_string(&older_file).unwrap();
        assert_eq!(
            older_text,
            serde_json::to_string(&history_entry(&older)).unwrap()
        );
        std::fs::remove_file(&older_file).unwrap();
        let mut now = run();
        now["generated_ms"] = json!(1_764_627_060_000_u64);
        now["results"][0]["verdict"] = json!("fail");
        complete(&mut now);
        let kept = keep_in_history(&dir, history_entry(&now)).unwrap();
        assert_eq!(kept.len(), 2);
        assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 2);
        // The same verdicts again (every one reused, say) are on the run's page, last, but add
        // no file to the history.
        let mut again = now.clone();
        again["generated_ms"] = json!(1_764_627_120_000_u64);
        let kept = keep_in_history(&dir, history_entry(&again)).unwrap();
        assert_eq!(kept.len(), 3);
        assert_eq!(kept[2]["generated_ms"], 1_764_627_120_000_u64);
        assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 2);
        // What the page makes of the kept entries is what it made of the whole reports.
        let kept = &kept[..2];
        let whole = page_data(&now, &[previous.clone(), now.clone()]);
        let from_history = page_data(&now, kept);
        assert_eq!(from_history["changes"], whole["changes"]);
        assert_eq!(from_history["history"], whole["history"]);
        assert_eq!(from_history["cases"], whole["cases"]);
        let written = std::fs::read_to_string(dir.join("run-1764627000000.json")).unwrap();
        assert!(written.len() * 2 < pretty(&previous).len(), "{written}");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn the_page_is_checked_again_when_a_verdict_or_its_code_changes_not_a_time() {
        let dir = std::env::temp_dir().join(format!("xtask-page-key-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let script = dir.join("check.mjs");
        std::fs::write(&script, "check").unwrap();
        std::fs::write(dir.join("package-lock.json"), "{}").unwrap();
        let key = |cases: Value| {
            let data = json!({"cases": cases, "attacks": [], "others": []});
            std::fs::write(dir.join(PAGE_DATA_FILE), data.to_string()).unwrap();
            page_check_key(&dir, &script, "chromium 1").unwrap()
        };
        let first = key(json!([{"trial": "a", "verdict": "pass", "millis": 3}]));
        assert_eq!(
            key(json!([{"trial": "a", "verdict": "pass", "millis": 9}])),
            first
        );
        assert_ne!(
            key(json!([{"trial": "a", "verdict": "fail", "millis": 3}])),
            first
        );
        let cases = json!([{"trial": "a", "verdict": "pass", "millis": 3}]);
        std::fs::write(&script, "check, changed").unwrap();
        assert_ne!(key(cases), first);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn the_page_embeds_its_data_where_no_script_can_end_early() {
        let html = page_html(&json!({"detail": "</script><b>"}));
        assert!(html.contains(r#"{"detail":"\u003c/script>\u003cb>"}"#));
        assert!(!html.contains(DATA_MARK));
    }
}
