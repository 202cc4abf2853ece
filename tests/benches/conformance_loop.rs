//! The loop a plugin or host author lives in, timed: the conformance run with nothing changed
//! (every verdict reused), the same with every trial run (`CONFORMANCE_RUN_ALL=1`, as under
//! CI=true but with the local budgets), the warm no-op `cargo test` of the whole workspace, and
//! the time from an edit of one plugin's or one host adapter's source to the
//! `cargo test --test conformance` verdict. Each run is a real `cargo` in this workspace (dev
//! profile, as a user runs it), each figure `LOOP_RUNS` times (default 3); the results go to
//! `target/bench/conformance-loop.json` for `cargo xtask bench-report`.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use serde::Serialize;
use xtask::{project_root, HOSTS, LANGUAGES};

/// Written at the end of the edited file: a comment in its language (`comment` starts one),
/// different on every run so that no compiler's cache has seen the edited source.
fn edit_text(comment: &str) -> String {
    let nonce = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |since| since.as_nanos());
    format!("\n{comment} edit {nonce} by the conformance-loop benchmark, which restores the file\n")
}
const RESULTS: &str = "target/bench/conformance-loop.json";

#[derive(Serialize)]
struct Results {
    /// Seconds of each `cargo test --test conformance` with nothing changed since the last run.
    reused_run_seconds: Vec<f64>,
    /// Seconds of each `CONFORMANCE_RUN_ALL=1 cargo test --test conformance`, everything built.
    built_run_seconds: Vec<f64>,
    /// Seconds of each `cargo test` (the whole workspace) with nothing changed.
    no_op_test_seconds: Vec<f64>,
    edits: Vec<Edit>,
}

#[derive(Serialize)]
struct Edit {
    /// The file edited, relative to the root.
    file: String,
    /// `plugin` or `host`.
    kind: &'static str,
    /// The languages or hosts built from it (some share a source).
    names: Vec<String>,
    /// Seconds from the edit to the verdict, each run.
    seconds: Vec<f64>,
}

fn runs() -> anyhow::Result<usize> {
    match std::env::var("LOOP_RUNS") {
        Ok(text) => text
            .parse()
            .ok()
            .filter(|&n| n > 0)
            .with_context(|| format!("LOOP_RUNS=`{text}` is not a positive number of runs")),
        Err(_) => Ok(3),
    }
}

fn main() -> anyhow::Result<()> {
    // `cargo bench -- <filter>` and `cargo test --benches` pass arguments; this bench has no
    // cases to filter, and under `cargo test` it only checks that it starts.
    if std::env::args().any(|arg| arg == "--test" || arg == "--list") {
        return Ok(());
    }
    let root = project_root();
    let runs = runs()?;
    eprintln!("conformance loop: a first run builds whatever is stale");
    cargo(&root, Run::Conformance).context("the conformance run must pass before it is timed")?;
    let mut results = Results {
        reused_run_seconds: Vec::new(),
        built_run_seconds: Vec::new(),
        no_op_test_seconds: Vec::new(),
        edits: Vec::new(),
    };
    for run in 1..=runs {
        let took = cargo(&root, Run::Conformance)?;
        eprintln!("conformance loop: reused run {run}/{runs}: {took:.2?}");
        results.reused_run_seconds.push(took.as_secs_f64());
    }
    cargo(&root, Run::Workspace)
        .context("the workspace's tests must pass before they are timed")?;
    for run in 1..=runs {
        let took = cargo(&root, Run::Workspace)?;
        eprintln!("conformance loop: no-op cargo test {run}/{runs}: {took:.2?}");
        results.no_op_test_seconds.push(took.as_secs_f64());
    }
    for run in 1..=runs {
        let took = cargo(&root, Run::Everything)?;
        eprintln!("conformance loop: every trial run {run}/{runs}: {took:.2?}");
        results.built_run_seconds.push(took.as_secs_f64());
    }
    for (kind, names, file, comment) in sources()? {
        let relative = file.to_owned();
        let file = root.join(file);
        let mut seconds = Vec::new();
        for run in 1..=runs {
            let took = {
                let _edit = EditedFile::edit(&file, comment)?;
                cargo(&root, Run::Conformance)?
            };
            eprintln!("conformance loop: edit of {relative} to verdict ({run}/{runs}): {took:.2?}");
            // Back to the original source, outside the clock: its verdicts are still kept.
            cargo(&root, Run::Conformance)?;
            seconds.push(took.as_secs_f64());
        }
        results.edits.push(Edit {
            file: relative,
            kind,
            names,
            seconds,
        });
    }
    let path = root.join(RESULTS);
    std::fs::create_dir_all(path.parent().expect("a file in a directory"))?;
    std::fs::write(&path, serde_json::to_string_pretty(&results)?)
        .with_context(|| format!("cannot write {RESULTS}"))?;
    eprintln!("conformance loop: results in {RESULTS}");
    Ok(())
}

/// Each plugin's and each host adapter's main source file (the table's `main_source`), with
/// the languages or hosts built from it, and how a comment starts in it. A plugin language whose
/// toolchain is missing is left out (said on stderr).
type Source = (&'static str, Vec<String>, &'static str, &'static str);

fn sources() -> anyhow::Result<Vec<Source>> {
    let sh = xshell::Shell::new()?;
    let mut sources: Vec<Source> = Vec::new();
    let mut add = |kind, name: &str, (file, comment): (&'static str, &'static str)| match sources
        .iter_mut()
        .find(|(_, _, known, _)| *known == file)
    {
        Some((_, names, _, _)) => names.push(name.to_owned()),
        None => sources.push((kind, vec![name.to_owned()], file, comment)),
    };
    let plugins = xtask::build_plugins(&sh, &xtask::all(LANGUAGES))?;
    for (language, reason) in &plugins.skipped {
        eprintln!("conformance loop: {language} skipped: {reason}");
    }
    for (language, _) in &plugins.ready {
        add("plugin", language.name(), language.main_source);
    }
    let hosts = xtask::build_hosts(&sh, &xtask::all(HOSTS))?;
    for (host, reason) in &hosts.skipped {
        eprintln!("conformance loop: {host} skipped: {reason}");
    }
    for (host, _) in &hosts.ready {
        add("host", host.name(), host.main_source);
    }
    Ok(sources)
}

#[derive(Clone, Copy)]
enum Run {
    /// `cargo test --test conformance`
    Conformance,
    /// The same with every trial run.
    Everything,
    /// `cargo test`
    Workspace,
}

/// One `cargo test`, timed; a failing run is an error.
fn cargo(root: &Path, run: Run) -> anyhow::Result<Duration> {
    let mut command = Command::new(xtask::cargo());
    command.args(["test", "--quiet"]).current_dir(root);
    match run {
        Run::Conformance => command.args(["--test", "conformance"]),
        Run::Everything => command
            .args(["--test", "conformance"])
            .env(xtask::reuse::RUN_ALL_ENV, "1"),
        Run::Workspace => &mut command,
    };
    let start = Instant::now();
    let output = command.output().context("cannot run cargo test")?;
    let took = start.elapsed();
    if !output.status.success() {
        let stderr = String::from_utf8_lossy(&output.stderr);
        let stdout = String::from_utf8_lossy(&output.stdout);
        bail!(
            "{command:?} failed ({}):\n{stdout}\n{stderr}",
            output.status
        );
    }
    Ok(took)
}

/// A source file with [`edit_text`] appended, restored when dropped.
struct EditedFile {
    path: PathBuf,
    original: Vec<u8>,
}

impl EditedFile {
    fn edit(path: &Path, comment: &str) -> anyhow::Result<EditedFile> {
        let original =
            std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
        let mut edited = original.clone();
        edited.extend_from_slice(edit_text(comment).as_bytes());
        std::fs::write(path, edited).with_context(|| format!("cannot write {}", path.display()))?;
        Ok(EditedFile {
            path: path.to_owned(),
            original,
        })
    }
}

impl Drop for EditedFile {
    fn drop(&mut self) {
        if let Err(error) = std::fs::write(&self.path, &self.original) {
            eprintln!("error: cannot restore {}: {error}", self.path.display());
        }
    }
}
