//! The report's completion, the merge of split runs, the history and the page's data.

use suite::report::{Kind, Record, Report};
use suite::verdict::Verdict;

use super::*;

fn record(trial: &str, verdict: Verdict) -> Record {
    let (case, subject) = trial.split_once("::").unwrap();
    let kind = match subject.split_once('@') {
        Some((language, host)) => Kind::Case {
            case: case.to_owned(),
            group: "bytes".to_owned(),
            language: language.to_owned(),
            host: host.to_owned(),
        },
        None => Kind::Other,
    };
    Record {
        trial: trial.to_owned(),
        kind,
        verdict,
        millis: 1,
        output: None,
        diff: None,
        finding: None,
        reused: false,
    }
}

const NAMES: [&str; 5] = [
    "echo::go@a",
    "echo::rust@a",
    "echo::rust@b",
    "surface::rust",
    "echo::go@b",
];

/// A run of four case trials and one other trial.
fn run() -> Report {
    let verdicts = [
        Verdict::Pass,
        Verdict::Pass,
        Verdict::XFail("known".to_owned()),
        Verdict::Pass,
        Verdict::Skip("no go".to_owned()),
    ];
    let mut report = Report {
        toolchains: [("go".to_owned(), "go 1".to_owned())].into(),
        hosts: vec!["a".to_owned(), "b".to_owned()],
        languages: vec!["rust".to_owned(), "go".to_owned()],
        listed: Listed::of(&NAMES),
        rerun: "cargo test -- --exact {trial}".to_owned(),
        records: NAMES
            .iter()
            .zip(verdicts)
            .map(|(n, v)| record(n, v))
            .collect(),
        snapshots: [("echo".to_owned(), "outcome: ok".to_owned())].into(),
        ..Report::default()
    };
    report.completed.generated_ms = Some(1_764_627_000_000);
    report
}

/// The part of `run` that holds the trials `in_part` selects, as `hash:k/n`.
fn part(k: u64, n: u64, in_part: impl Fn(&str) -> bool) -> (PathBuf, Report) {
    let mut part = run();
    part.partition = Some(format!("hash:{k}/{n}"));
    part.records.retain(|r| in_part(&r.trial));
    (PathBuf::from(format!("part{k}.json")), part)
}

fn parts() -> Vec<(PathBuf, Report)> {
    vec![
        part(1, 2, |t| t.ends_with("@a")),
        part(2, 2, |t| !t.ends_with("@a")),
    ]
}

fn error(parts: &[(PathBuf, Report)]) -> String {
    format!("{:#}", merge(parts).unwrap_err())
}

fn completed(mut report: Report) -> Report {
    report.complete(|| None);
    report
}

#[test]
fn merged_parts_are_the_unsplit_run() {
    let merged = merge(&parts()).unwrap();
    let unsplit = completed(run());
    assert_eq!(merged.records, unsplit.records);
    assert_eq!(merged.completed, unsplit.completed);
    assert_eq!(merged.merged, Some(2));
    assert_eq!(merged.partition, None);
    // Written and read back, a part is the same report: xtask reads what the run wrote.
    let (_, first) = &parts()[0];
    let read: Report = serde_json::from_str(&first.json()).unwrap();
    assert_eq!(&read, first);
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
    short[1].1.records.pop();
    assert_eq!(
        error(&short),
        "1 of the run's 5 trials are missing from the parts (a part was cut short or filtered)"
    );
    let mut overlapping = parts.clone();
    overlapping[1]
        .1
        .records
        .push(record("echo::go@a", Verdict::Pass));
    assert_eq!(
        error(&overlapping),
        "trial echo::go@a is in two parts: part1.json and part2.json"
    );
    let mut other_tools = parts.clone();
    other_tools[1]
        .1
        .toolchains
        .insert("go".to_owned(), "go 2".to_owned());
    assert_eq!(
        error(&other_tools),
        "part2.json and part1.json were built by different toolchains (go: \"go 1\" vs \"go 2\")"
    );
    let mut unsplit = parts.clone();
    unsplit[0].1.partition = None;
    assert!(error(&unsplit).starts_with("part1.json: not a part of a split run"));
    let mut bad = parts.clone();
    bad[1].1.partition = Some("hash:3/2".to_owned());
    assert!(
        error(&bad).starts_with("part2.json: --partition: expected hash:K/N"),
        "{}",
        error(&bad)
    );
    let mut other_n = parts;
    other_n[1].1.partition = Some("hash:2/3".to_owned());
    assert_eq!(
        error(&other_n),
        "part2.json is part hash:2/3, but part1.json is a part of 2"
    );
}

#[test]
fn the_page_marks_what_changed_since_the_previous_run() {
    let previous = completed(run());
    let mut now = run();
    now.completed.generated_ms = Some(1_764_627_060_000);
    now.records[0].verdict = Verdict::Fail("now".to_owned());
    now.records.retain(|r| r.trial != "surface::rust");
    let now = completed(now);
    let history = [Entry::of(&previous), Entry::of(&now)];
    let data = page_data(&now, &history);
    assert_eq!(
        data["changes"]["trials"],
        json!([{"trial": "echo::go@a", "before": "pass", "after": "fail"}])
    );
    assert_eq!(data["changes"]["gone"], 1);
    assert_eq!(data["changes"]["previous"], "2025-12-01 22:10 UTC");
    assert_eq!(data["cases"][0]["previous"], "pass");
    assert_eq!(data["cases"][1]["previous"], Value::Null);
    assert_eq!(data["cases"][0]["kind"], "case");
    assert_eq!(data["others"], json!([]));
    assert_eq!(data["history"].as_array().unwrap().len(), 2);
    assert_eq!(data["history"][1]["scores"]["hosts"]["a"]["pass"], 1);
    // A run that did not run a trial leaves its last verdict standing: a filtered run
    // between two full ones hides no change.
    let mut filtered = run();
    filtered.completed.generated_ms = Some(1_764_627_030_000);
    filtered.records.retain(|r| r.trial == "echo::rust@b");
    let filtered = Entry::of(&completed(filtered));
    let data = page_data(&now, &[history[0].clone(), filtered, history[1].clone()]);
    assert_eq!(data["cases"][0]["previous"], "pass");
    assert_eq!(data["changes"]["gone"], 0);
    // The first run has nothing to compare with.
    let first = page_data(&previous, &history[..1]);
    assert_eq!(first["changes"]["previous"], Value::Null);
    assert_eq!(first["changes"]["trials"], json!([]));
    assert_eq!(first["others"][0]["trial"], "surface::rust");
}

#[test]
fn the_history_keeps_each_runs_verdicts_and_not_a_run_that_said_the_same_again() {
    let dir = std::env::temp_dir().join(format!("xtask-history-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    // A run of an older format leaves the history.
    let older_file = dir.join("run-1764626000000.json");
    std::fs::write(&older_file, r#"{"results": []}"#).unwrap();
    let previous = completed(run());
    let kept = keep_in_history(&dir, Entry::of(&previous)).unwrap();
    assert_eq!(kept, [Entry::of(&previous)]);
    assert!(!older_file.exists());
    let mut now = run();
    now.completed.generated_ms = Some(1_764_627_060_000);
    now.records[0].verdict = Verdict::Fail("now".to_owned());
    let now = completed(now);
    let kept = keep_in_history(&dir, Entry::of(&now)).unwrap();
    assert_eq!(kept.len(), 2);
    assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 2);
    // The same verdicts again (every one reused, say) are on the run's page, last, but add
    // no file to the history.
    let mut again = now.clone();
    again.completed.generated_ms = Some(1_764_627_120_000);
    let kept = keep_in_history(&dir, Entry::of(&again)).unwrap();
    assert_eq!(kept.len(), 3);
    assert_eq!(kept[2].generated_ms, 1_764_627_120_000);
    assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 2);
    // An entry is a small part of its report.
    let written = std::fs::read_to_string(dir.join("run-1764627000000.json")).unwrap();
    assert!(written.len() * 2 < previous.json().len(), "{written}");
    // Past the limit, the oldest go.
    for i in 0..HISTORY_KEPT as u64 {
        let mut later = now.clone();
        later.completed.generated_ms = Some(1_764_628_000_000 + i);
        later.completed.commit = Some(format!("c{i}"));
        keep_in_history(&dir, Entry::of(&later)).unwrap();
    }
    assert_eq!(std::fs::read_dir(&dir).unwrap().count(), HISTORY_KEPT);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn the_page_embeds_its_data_where_no_script_can_end_early() {
    let html = page_html(&json!({"detail": "</script><b>"}));
    assert!(html.contains(r#"{"detail":"\u003c/script>\u003cb>"}"#));
    assert!(!html.contains(DATA_MARK));
}
