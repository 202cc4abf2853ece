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

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};

use anyhow::{bail, Context};
use xshell::{cmd, Shell};

use crate::{all, build_hosts, build_plugins, project_root, Host, Language, HOSTS, LANGUAGES};
use results::{Figures, Loop};

/// The per-call scenarios, named alike by every host's benchmarks.
pub(crate) const SCENARIOS: &[&str] = &["noop", "say_hello", "get_0B", "get_1KiB", "get_1MiB"];

const RESULTS_DIR: &str = "target/bench";
const PAGE: &str = "docs/performance.md";
const CHART: &str = "docs/performance.svg";
const NOTES: &str = "docs/performance-notes.md";

/// A figure id (`call/rust/noop`) and its mean nanoseconds per iteration.
pub type Figure = (String, f64);

/// How one host is benchmarked: its benchmarks name their figures `call/<language>/<scenario>`,
/// `compile/<language>/cold|cached` and `instance/<language>`, so the page sets hosts side by
/// side by name.
pub struct HostBench {
    /// Where the figures come from, for the page.
    pub what: &'static str,
    /// Runs the benchmarks from the project root, leaving their results in the directory given
    /// (the second argument; the third is the host's artifact).
    pub run: fn(&Shell, &Path, &Path) -> anyhow::Result<()>,
    /// Reads the results back from that directory: (figure id, mean nanoseconds).
    pub read: fn(&Path) -> anyhow::Result<Vec<Figure>>,
    /// Its `instance/<language>` figure includes one `noop` call (a runtime that instantiates at
    /// the first call), which the ready-instance figure subtracts.
    pub instance_includes_noop: bool,
    /// The target for the reference (in-process) host's lead over this host: at least this many
    /// times faster per `say_hello`. `None`: no target, the figures are only shown.
    pub reference_lead: Option<f64>,
}

pub(crate) static RUST_HOST: HostBench = HostBench {
    what: "`cargo bench` (criterion, release profile, `host/benches/host.rs`)",
    run: |sh, dir, _| {
        let cargo = crate::cargo();
        cmd!(sh, "{cargo} bench --package host --bench host")
            .env("CRITERION_HOME", dir)
            .run()
            .context("cargo bench --package host failed")
    },
    read: |dir| results::read_criterion(dir),
    instance_includes_noop: true,
    reference_lead: None,
};

pub(crate) static GO_HOST: HostBench = HostBench {
    what: "`go test -bench` in `host-go/`",
    run: |_, dir, _| {
        let output = go_bench(&project_root())?;
        let file = dir.join("go-bench.txt");
        std::fs::write(&file, output).with_context(|| format!("cannot write {}", file.display()))
    },
    read: |dir| {
        let file = dir.join("go-bench.txt");
        let text = std::fs::read_to_string(&file)
            .with_context(|| format!("cannot read {}", file.display()))?;
        results::read_go_bench(&text)
    },
    instance_includes_noop: false,
    reference_lead: Some(3.0),
};

pub(crate) static PYTHON_HOST: HostBench = HostBench {
    what: "`host-python bench` (`time.perf_counter_ns` loops, `host-python/bench.py`)",
    run: adapter_bench,
    read: results::read_adapter_figures,
    // libextism instantiates a plugin at its first call.
    instance_includes_noop: true,
    reference_lead: None,
};

pub(crate) static NODE_HOST: HostBench = HostBench {
    what: "`host-node bench` (`process.hrtime.bigint()` loops, `host-node/bench.mjs`)",
    run: adapter_bench,
    read: results::read_adapter_figures,
    instance_includes_noop: false,
    reference_lead: None,
};

pub(crate) static JAVA_HOST: HostBench = HostBench {
    what: "`host-java bench` (`System.nanoTime` loops after a warm-up, `host-java/src/main/java/hostjava/Bench.java`)",
    run: adapter_bench,
    read: results::read_adapter_figures,
    instance_includes_noop: false,
    reference_lead: None,
};

pub(crate) static JAVA_AOT_HOST: HostBench = HostBench {
    what: "`host-java --engine aot bench` (as java-host's, on Chicory's AoT compiler)",
    run: adapter_bench,
    read: results::read_adapter_figures,
    instance_includes_noop: false,
    reference_lead: None,
};

/// An adapter's own benchmarks, `<artifact> bench --out DIR LANGUAGE=PATH...` over every built
/// plugin: they write `DIR/figures.json` (`results::read_adapter_figures`).
fn adapter_bench(sh: &Shell, dir: &Path, artifact: &Path) -> anyhow::Result<()> {
    let plugins: Vec<String> = LANGUAGES
        .iter()
        .filter_map(|language| {
            let built = crate::load(&language.build)?;
            Some(format!("{language}={}", built.path.display()))
        })
        .collect();
    crate::toolchain::run_to_stderr(cmd!(sh, "{artifact} bench --out {dir} {plugins...}"))
}

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
        .filter_map(|host| host.bench.map(|bench| (host, bench)))
        .collect()
}

/// Measures (unless `run` is false: then the last run's results are used) and writes the page.
pub fn bench_report(sh: &Shell, run: bool) -> anyhow::Result<()> {
    let root = project_root();
    let results = root.join(RESULTS_DIR);
    let loop_json = results.join("conformance-loop.json");
    if run {
        let plugins = build_plugins(sh, &all(LANGUAGES))?;
        let hosts = build_hosts(sh, &all(HOSTS))?;
        for (language, reason) in &plugins.skipped {
            eprintln!("bench-report: {language} not measured: {reason}");
        }
        std::fs::create_dir_all(&results)
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
            match (host.bench, skipped, ready) {
                (None, _, _) => eprintln!("bench-report: {host} has no benchmarks"),
                (Some(_), Some((_, reason)), _) => {
                    eprintln!("bench-report: {host} not measured: {reason}")
                }
                (Some(_), None, None) => bail!("{host} was neither built nor skipped"),
                (Some(bench), None, Some((_, artifact))) => {
                    eprintln!("bench-report: {host}: {} (a few minutes)", bench.what);
                    std::fs::create_dir_all(&dir)
                        .with_context(|| format!("cannot create {}", dir.display()))?;
                    (bench.run)(sh, &dir, &artifact.path)
                        .with_context(|| format!("the benchmarks of {host} failed"))?;
                }
            }
        }
        if loop_json.exists() {
            std::fs::remove_file(&loop_json)
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
    }

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
    let conformance_loop = if loop_json.exists() {
        Some(Loop::read(&loop_json)?)
    } else {
        None
    };
    let sizes = Sizes(
        LANGUAGES
            .iter()
            .filter_map(|l| crate::load(&l.build).map(|a| (l, a.size)))
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

/// `go test -bench` in host-go, its output shown as it comes and returned. (xshell either shows
/// a command's output or captures it; minutes of benchmarks need both.)
fn go_bench(root: &Path) -> anyhow::Result<String> {
    let mut child = Command::new("go")
        .args(["test", "-run", "^$", "-bench", ".", "-benchtime", "2s"])
        .current_dir(root.join("host-go"))
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
