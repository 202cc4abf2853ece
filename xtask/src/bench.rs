//! `cargo xtask bench-report`: runs the Rust host's benchmarks (`cargo bench`), the Go host's
//! (`go test -bench` in host-go) on the same `.wasm` files and the conformance-loop benchmark,
//! then writes `docs/performance.md` and its chart `docs/performance.svg`.

mod chart;
mod environment;
mod page;
mod results;
mod targets;

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};

use anyhow::{bail, Context};
use xshell::{cmd, Shell};

use crate::{build_hosts, build_plugins, project_root, Artifact, Host, Language};
use results::{Figures, Loop};

/// The per-call scenarios, named as both hosts' benchmarks name them.
pub(crate) const SCENARIOS: &[&str] = &["noop", "say_hello", "get_0B", "get_1KiB", "get_1MiB"];

const RESULTS_DIR: &str = "target/bench";
const PAGE: &str = "docs/performance.md";
const CHART: &str = "docs/performance.svg";
const NOTES: &str = "docs/performance-notes.md";

/// Each built plugin's size in bytes.
pub(crate) struct Sizes(Vec<(Language, u64)>);

impl Sizes {
    pub(crate) fn get(&self, language: Language) -> Option<u64> {
        self.0
            .iter()
            .find(|(l, _)| *l == language)
            .map(|(_, bytes)| *bytes)
    }
}

/// Measures (unless `run` is false: then the last run's results are used) and writes the page.
pub fn bench_report(sh: &Shell, run: bool) -> anyhow::Result<()> {
    let root = project_root();
    let results = root.join(RESULTS_DIR);
    let criterion_dir = results.join("criterion");
    let go_output = results.join("go-bench.txt");
    let loop_json = results.join("conformance-loop.json");
    if run {
        let plugins = build_plugins(sh, Language::ALL)?;
        let hosts = build_hosts(sh, Host::ALL)?;
        for skipped in &plugins.skipped {
            eprintln!(
                "bench-report: {} not measured: {}",
                skipped.language, skipped.reason
            );
        }
        // Stale results of benchmarks that no longer exist must not reach the page.
        for stale in [&criterion_dir, &go_output, &loop_json] {
            if stale.is_dir() {
                std::fs::remove_dir_all(stale)
            } else if stale.exists() {
                std::fs::remove_file(stale)
            } else {
                Ok(())
            }
            .with_context(|| format!("cannot remove {}", stale.display()))?;
        }
        std::fs::create_dir_all(&results)
            .with_context(|| format!("cannot create {}", results.display()))?;
        let cargo = crate::cargo();
        eprintln!("bench-report: the Rust host (cargo bench, a few minutes)");
        cmd!(sh, "{cargo} bench --package host --bench host")
            .env("CRITERION_HOME", &criterion_dir)
            .run()
            .context("the Rust host's benchmarks failed")?;
        match hosts.skipped.iter().find(|(host, _)| *host == Host::Go) {
            Some((_, reason)) => eprintln!("bench-report: go-host not measured: {reason}"),
            None => {
                eprintln!("bench-report: the Go host (go test -bench, a few minutes)");
                let output = go_bench(&root)?;
                std::fs::write(&go_output, output)
                    .with_context(|| format!("cannot write {}", go_output.display()))?;
            }
        }
        eprintln!("bench-report: the conformance loop (cargo test, several runs)");
        cmd!(
            sh,
            "{cargo} bench --package conformance-tests --bench conformance_loop"
        )
        .run()
        .context("the conformance-loop benchmark failed")?;
    }

    let mut figures = Figures::default();
    if !criterion_dir.is_dir() {
        bail!(
            "no results in {}: run `cargo xtask bench-report` without --no-run first",
            criterion_dir.display()
        );
    }
    figures.read_criterion(&criterion_dir)?;
    if go_output.exists() {
        let text = std::fs::read_to_string(&go_output)
            .with_context(|| format!("cannot read {}", go_output.display()))?;
        figures.read_go_bench(&text)?;
    }
    let conformance_loop = if loop_json.exists() {
        Some(Loop::read(&loop_json)?)
    } else {
        None
    };
    let sizes = Sizes(
        Language::ALL
            .iter()
            .filter_map(|&l| Artifact::load(&root, l).map(|a| (l, a.size)))
            .collect(),
    );
    let languages = Language::ALL;
    let verdicts = targets::check(&figures, &sizes, conformance_loop.as_ref(), languages);
    let notes = std::fs::read_to_string(root.join(NOTES))
        .with_context(|| format!("cannot read {NOTES}"))?;
    let date = cmd!(sh, "date -u +%Y-%m-%d").quiet().read()?;
    let chart_name = Path::new(CHART)
        .file_name()
        .expect("a file name")
        .to_string_lossy();
    let page = page::Page {
        date,
        environment: environment::describe(sh, &root),
        figures: &figures,
        sizes: &sizes,
        conformance_loop: conformance_loop.as_ref(),
        languages,
        verdicts: &verdicts,
        notes,
        chart: &chart_name,
    };
    std::fs::write(root.join(PAGE), page.render())
        .with_context(|| format!("cannot write {PAGE}"))?;
    std::fs::write(root.join(CHART), chart::draw(&figures, languages)?)
        .with_context(|| format!("cannot write {CHART}"))?;
    let missed = verdicts.iter().filter(|v| v.met == Some(false)).count();
    let met = verdicts.iter().filter(|v| v.met == Some(true)).count();
    let unmeasured = verdicts.iter().filter(|v| v.met.is_none()).count();
    eprintln!(
        "bench-report: {} figures; targets: {met} met, {missed} missed, {unmeasured} not measured; \
         wrote {PAGE} and {CHART}",
        figures.len()
    );
    Ok(())
}

/// `go test -bench` in host-go, its output shown as it comes and returned. (xshell either shows
/// a command's output or captures it; minutes of benchmarks need both.)
fn go_bench(root: &Path) -> anyhow::Result<String> {
    let mut child = Command::new("go")
        .args(["test", "-run", "^$", "-bench", ".", "-benchtime", "2s"])
        .current_dir(root.join(Host::Go.source_dir()))
        .env("POLYGLOT_PLUGINS_DIR", root.join("target/plugins"))
        .stdout(Stdio::piped())
        .spawn()
        .context("cannot run go test -bench in host-go")?;
    let mut output = String::new();
    for line in BufReader::new(child.stdout.take().expect("stdout is piped")).lines() {
        let line = line.context("cannot read go test's output")?;
        eprintln!("{line}");
        output.push_str(&line);
        output.push('\n');
    }
    let status = child.wait().context("go test -bench did not finish")?;
    if !status.success() {
        bail!("the Go host's benchmarks failed (go test -bench in host-go: {status})");
    }
    Ok(output)
}

/// `812 ns`, `12.3 us`, `4.56 ms`, `1.23 s`.
pub(crate) fn duration(ns: f64) -> String {
    if ns < 1e3 {
        format!("{ns:.0} ns")
    } else if ns < 1e6 {
        format!("{:.1} us", ns / 1e3)
    } else if ns < 1e9 {
        format!("{:.2} ms", ns / 1e6)
    } else {
        format!("{:.2} s", ns / 1e9)
    }
}
