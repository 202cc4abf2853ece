//! The end of a run: the table and the attack table printed, report.json, junit.xml and the
//! results page written (with the run kept in the history), the page checked in Chromium, and a
//! known failure without its finding refused.

use std::collections::BTreeMap;

use anyhow::Context;
use conformance::findings::{Findings, FINDINGS_FILE};
use conformance::report::{Kind, Listed, Report};
use conformance::verdict::Verdict;

use crate::floor::{Scope, RERUN};
use crate::{attacks, snapshots};
use xtask::project_root;

pub use crate::floor::REPORT_DIR;

/// Prints the table, writes `report.json`, `junit.xml` and the results page for the trials that
/// ran, and checks the page in Chromium. `findings` and `listed` are the run's: its
/// docs/findings.md and every trial's name, split or not.
pub fn publish(
    scope: &Scope,
    mut report: Report,
    findings: &Findings,
    listed: &[String],
) -> anyhow::Result<()> {
    if report.records.is_empty() {
        return Ok(());
    }
    // Each trial of nextest's runs in a process of its own: a report of one trial each time,
    // all writing the same files, would be worse than none.
    if std::env::var_os("NEXTEST_RUN_ID").is_some() {
        return Ok(());
    }
    report.listed = Listed::of(listed);
    report.rerun = RERUN.to_owned();
    report.snapshots = snapshots_of(&report, scope);
    let headings = report.records.iter().filter_map(|r| r.finding.as_deref());
    report.findings = findings.texts(headings);
    // A known failure is recorded twice: its one-line reason in known-failures.toml, and what
    // each side does in docs/findings.md, which must name its case or attack.
    let unexplained: Vec<String> = report
        .records
        .iter()
        .filter(|r| matches!(r.verdict, Verdict::XFail(_) | Verdict::XPass(_)))
        .filter(|r| r.finding.is_none())
        .map(|r| r.trial.clone())
        .collect();
    print_tables(&report);
    let reuse = report.reuse.is_some();
    let dir = &scope.out;
    let shown = match scope.external {
        true => dir.display().to_string(),
        false => REPORT_DIR.to_owned(),
    };
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {shown}"))?;
    std::fs::write(dir.join("junit.xml"), report.junit())
        .with_context(|| format!("cannot write {shown}/junit.xml"))?;
    let published = xtask::results::publish(dir, report, true)?;
    let changed = match published.changed {
        Some(changed) => format!("; {changed} trials changed verdict since the previous run"),
        None => String::new(),
    };
    println!(
        "results: {shown}/report.json, {shown}/junit.xml, {shown}/index.html \
         ({} KB{changed})",
        published.page_bytes / 1024
    );
    let sh = xshell::Shell::new()?;
    if let Some(line) = xtask::results::check_page(&sh, dir, reuse)? {
        println!("{line}");
    }
    // Someone else's known failures are explained by their one-line reasons alone.
    if let (Some(first), false) = (unexplained.first(), scope.external) {
        anyhow::bail!(
            "{} known failures have no entry in {FINDINGS_FILE} that names their case or attack \
             under a heading of their host or PDK (the first: {first})",
            unexplained.len(),
        );
    }
    Ok(())
}

/// Each case's and attack's snapshot, once, though every language on every host shares it.
fn snapshots_of(report: &Report, scope: &Scope) -> BTreeMap<String, String> {
    let mut snapshots = BTreeMap::new();
    for record in &report.records {
        let (key, file) = match &record.kind {
            Kind::Case { case, .. } => (case.clone(), scope.snapshots.join(format!("{case}.snap"))),
            Kind::Attack { attack, .. } => {
                let dir = project_root().join(attacks::SNAPSHOTS_DIR);
                (
                    format!("attack:{attack}"),
                    dir.join(format!("{attack}.snap")),
                )
            }
            Kind::Other => continue,
        };
        if let std::collections::btree_map::Entry::Vacant(entry) = snapshots.entry(key) {
            if let Some(body) = snapshots::snapshot_body_at(&file) {
                entry.insert(body);
            }
        }
    }
    snapshots
}

fn print_tables(report: &Report) {
    if report.cases().next().is_some() {
        println!("\n{}", report.table());
    }
    if report.of_kind("attack").next().is_some() {
        println!(
            "attacks (what each host did, and the verdict):\n{}",
            report.attack_table()
        );
    }
    println!("{}", report.reused_line());
    for (built, toolchain) in &report.toolchains {
        println!("{built}: {toolchain}");
    }
}
