//! `cargo xtask bench-report`: runs each host's benchmarks as its table entry says (the Rust
//! host's `cargo bench`, the Go host's `go test -bench`, on the same `.wasm` files) and the
//! conformance-loop benchmark, then writes `docs/performance.md` and its chart
//! `docs/performance.svg`. A host without benchmarks, or one that was skipped, is shown as not
//! measured.

mod chart;
mod environment;
mod page;
mod results;
mod targets;

use std::path::Path;

use anyhow::{bail, Context};
use xshell::{cmd, Shell};

use crate::build::{build_hosts, build_plugins, load};
use crate::table::{Host, HostBench, Language, HOSTS, LANGUAGES};
use crate::{all, project_root};
use results::{Figures, Loop};

/// The per-call scenarios, named alike by every host's benchmarks.
pub(crate) const SCENARIOS: &[&str] = &["noop", "say_hello", "get_0B", "get_1KiB", "get_1MiB"];

const RESULTS_DIR: &str = "target/bench";
const PAGE: &str = "docs/performance.md";
const CHART: &str = "docs/performance.svg";
const NOTES: &str = "docs/performance-notes.md";

/// Each built plugin's size in bytes.
pub(crate) struct Sizes(Vec<(&'static Language, u64)>);

impl Sizes {
    pub(crate) fn get(&self, language: &Language) -> Option<u64> {
        self.0
            .iter()
            .find(|(l, _)| *l == language)
            .map(|(_, bytes)| *bytes)
    }
}

/// The hosts that have benchmarks, in table order: the page's columns.
pub(crate) fn measured_hosts() -> Vec<(&'static Host, &'static HostBench)> {
    HOSTS
        .iter()
        .filter_map(|host| host.bench.as_ref().map(|bench| (host, bench)))
        .collect()
}

/// Measures (unless `run` is false: then the last run's results are used) and writes the page.
pub fn bench_report(sh: &Shell, run: bool) -> anyhow::Result<()> {
    let root = project_root();
    let results = root.join(RESULTS_DIR);
    let loop_json = results.join("conformance-loop.json");
    if run {
        measure(sh, &results, &loop_json)?;
    }
    let figures = read_figures(&results)?;
    let conformance_loop = if loop_json.exists() {
        Some(Loop::read(&loop_json)?)
    } else {
        None
    };
    let sizes = Sizes(
        LANGUAGES
            .iter()
            .filter_map(|l| load(&l.build).map(|a| (l, a.size)))
            .collect(),
    );
    let verdicts = targets::check(&figures, &sizes, conformance_loop.as_ref());
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
        verdicts: &verdicts,
        notes,
        chart: &chart_name,
    };
    std::fs::write(root.join(PAGE), page.render())
        .with_context(|| format!("cannot write {PAGE}"))?;
    std::fs::write(root.join(CHART), chart::draw(&figures)?)
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

/// Builds everything, runs every host's benchmarks into `results/<host>/` and the
/// conformance-loop benchmark into `loop_json`, removing what an earlier run left.
fn measure(sh: &Shell, results: &Path, loop_json: &Path) -> anyhow::Result<()> {
    let root = project_root();
    let plugins = build_plugins(sh, &all(LANGUAGES))?;
    let hosts = build_hosts(sh, &all(HOSTS))?;
    for (language, reason) in &plugins.skipped {
        eprintln!("bench-report: {language} not measured: {reason}");
    }
    // Every built plugin, as the hosts' benchmarks take them: `LANGUAGE=PATH`.
    let built: Vec<String> = LANGUAGES
        .iter()
        .filter_map(|language| {
            let built = load(&language.build)?;
            Some(format!("{language}={}", built.path.display()))
        })
        .collect();
    std::fs::create_dir_all(results)
        .with_context(|| format!("cannot create {}", results.display()))?;
    for host in HOSTS {
        let dir = results.join(host.name());
        // Stale results of benchmarks that no longer run must not reach the page.
        if dir.exists() {
            std::fs::remove_dir_all(&dir)
                .with_context(|| format!("cannot remove {}", dir.display()))?;
        }
        let skipped = hosts.skipped.iter().find(|(h, _)| *h == host);
        let ready = hosts.ready.iter().find(|(h, _)| *h == host);
        match (&host.bench, skipped, ready) {
            (None, _, _) => eprintln!("bench-report: {host} has no benchmarks"),
            (Some(_), Some((_, reason)), _) => {
                eprintln!("bench-report: {host} not measured: {reason}")
            }
            (Some(_), None, None) => bail!("{host} was neither built nor skipped"),
            (Some(bench), None, Some((_, artifact))) => {
                eprintln!("bench-report: {host}: {} (a few minutes)", bench.what);
                std::fs::create_dir_all(&dir)
                    .with_context(|| format!("cannot create {}", dir.display()))?;
                let command = host.launch(&root, &artifact.path, &[]);
                (bench.run)(sh, &dir, &command, &built)
                    .with_context(|| format!("the benchmarks of {host} failed"))?;
            }
        }
    }
    if loop_json.exists() {
        std::fs::remove_file(loop_json)
            .with_context(|| format!("cannot remove {}", loop_json.display()))?;
    }
    eprintln!("bench-report: the conformance loop (cargo test, several runs)");
    let cargo = crate::cargo();
    cmd!(
        sh,
        "{cargo} bench --package conformance-tests --bench conformance_loop"
    )
    .run()
    .context("the conformance-loop benchmark failed")?;
    Ok(())
}

/// Every measured host's figures from `results/<host>/`; an error when there are none.
fn read_figures(results: &Path) -> anyhow::Result<Figures> {
    let mut figures = Figures::default();
    for (host, bench) in measured_hosts() {
        let dir = results.join(host.name());
        if dir.is_dir() {
            for (id, ns) in (bench.read)(&dir).with_context(|| format!("{host}'s results"))? {
                figures.insert(host, &id, ns);
            }
        }
    }
    if figures.len() == 0 {
        bail!("no results in {RESULTS_DIR}: run `cargo xtask bench-report` without --no-run first");
    }
    Ok(figures)
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
