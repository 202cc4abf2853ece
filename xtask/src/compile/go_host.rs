//! The Go host: its module's dependencies, its reproducible build, and its benchmarks
//! (`go test -bench`).

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};

use anyhow::{bail, Context};
use xshell::{cmd, Shell};

use crate::figures::Figure;

/// Where `bench` leaves `go test -bench`'s output, in its results directory.
const BENCH_OUTPUT: &str = "go-bench.txt";

/// Downloads the module's pinned dependencies; runs in its directory.
pub(crate) fn prepare(sh: &Shell) -> anyhow::Result<()> {
    crate::process::run_to_stderr(cmd!(sh, "go mod download"))
}

/// Builds the module in `dir` into the program `out`.
pub(crate) fn compile(sh: &Shell, dir: &str, out: &Path) -> anyhow::Result<()> {
    let _dir = sh.push_dir(dir);
    // No build ID (a hash of the sources): the same code gives the same binary,
    // which is what a verdict on this host is keyed by (`self_contained`).
    Ok(cmd!(sh, "go build -trimpath -ldflags=-buildid= -o {out} .").run()?)
}

/// `go test -bench` in the module `module` (relative to the project root), on the plugins of
/// target/plugins/, its output shown as it comes and kept in `dir`. (xshell either shows a
/// command's output or captures it; minutes of benchmarks need both.)
pub(crate) fn bench(module: &str, dir: &Path) -> anyhow::Result<()> {
    let root = crate::project_root();
    let mut child = Command::new("go")
        .args(["test", "-run", "^$", "-bench", ".", "-benchtime", "2s"])
        .current_dir(root.join(module))
        .env("POLYGLOT_PLUGINS_DIR", root.join("target/plugins"))
        .stdout(Stdio::piped())
        .spawn()
        .with_context(|| format!("cannot run go test -bench in {module}"))?;
    let mut output = String::new();
    for line in BufReader::new(child.stdout.take().expect("stdout is piped")).lines() {
        let line = line.context("cannot read go test's output")?;
        eprintln!("{line}");
        output.push_str(&line);
        output.push('\n');
    }
    let status = child.wait().context("go test -bench did not finish")?;
    if !status.success() {
        bail!("the Go host's benchmarks failed (go test -bench in {module}: {status})");
    }
    let file = dir.join(BENCH_OUTPUT);
    std::fs::write(&file, output).with_context(|| format!("cannot write {}", file.display()))
}

/// The figures `bench` left in `dir`.
pub(crate) fn read_bench(dir: &Path) -> anyhow::Result<Vec<Figure>> {
    let file = dir.join(BENCH_OUTPUT);
    let text = std::fs::read_to_string(&file)
        .with_context(|| format!("cannot read {}", file.display()))?;
    crate::figures::read_go_bench(&text)
}
