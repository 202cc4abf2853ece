//! The loop a plugin author lives in, timed: the conformance run once everything is built, and
//! the time from an edit of one plugin source to the `cargo test --test conformance` verdict.
//! Each run is a real `cargo test` in this workspace (dev profile, as a user runs it); the
//! results go to `target/bench/conformance-loop.json` for `cargo xtask bench-report`.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use serde::Serialize;
use xtask::{project_root, Language, LANGUAGES};

/// How many times the built run is timed; the report takes the median.
const BUILT_RUNS: usize = 5;
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
    /// Seconds of each `cargo test --test conformance` with nothing to rebuild.
    built_run_seconds: Vec<f64>,
    edits: Vec<Edit>,
}

#[derive(Serialize)]
struct Edit {
    /// The file edited, relative to the root.
    file: String,
    /// The languages built from it (languages may share a source).
    languages: Vec<String>,
    /// Seconds from the edit to the verdict.
    seconds: f64,
}

fn main() -> anyhow::Result<()> {
    // `cargo bench -- <filter>` and `cargo test --benches` pass arguments; this bench has no
    // cases to filter, and under `cargo test` it only checks that it starts.
    if std::env::args().any(|arg| arg == "--test" || arg == "--list") {
        return Ok(());
    }
    let root = project_root();
    eprintln!("conformance loop: a first run builds whatever is stale");
    conformance_run(&root).context("the conformance run must pass before it is timed")?;
    let mut built_run_seconds = Vec::new();
    for run in 1..=BUILT_RUNS {
        let took = conformance_run(&root)?;
        eprintln!("conformance loop: built run {run}/{BUILT_RUNS}: {took:.2?}");
        built_run_seconds.push(took.as_secs_f64());
    }
    let mut edits = Vec::new();
    for (languages, file, comment) in sources()? {
        let relative = file.to_owned();
        let file = root.join(file);
        let took = {
            let _edit = EditedFile::edit(&file, comment)?;
            eprintln!("conformance loop: edited {relative} (it is restored afterwards)");
            conformance_run(&root)?
        };
        eprintln!("conformance loop: edit of {relative} to verdict: {took:.2?}");
        // Back to the original plugin, outside the clock.
        conformance_run(&root)?;
        edits.push(Edit {
            file: relative,
            languages: languages.iter().map(|l| l.name().to_owned()).collect(),
            seconds: took.as_secs_f64(),
        });
    }
    let results = Results {
        built_run_seconds,
        edits,
    };
    let path = root.join(RESULTS);
    std::fs::create_dir_all(path.parent().expect("a file in a directory"))?;
    std::fs::write(&path, serde_json::to_string_pretty(&results)?)
        .with_context(|| format!("cannot write {RESULTS}"))?;
    eprintln!("conformance loop: results in {RESULTS}");
    Ok(())
}

/// Each plugin's main source file (the table's `main_source`) with the languages built from it
/// whose toolchain is here, and how a comment starts in it.
fn sources() -> anyhow::Result<Vec<(Vec<&'static Language>, &'static str, &'static str)>> {
    let sh = xshell::Shell::new()?;
    let mut sources: Vec<(Vec<&'static Language>, &'static str, &'static str)> = Vec::new();
    let plugins = xtask::build_plugins(&sh, &xtask::all(LANGUAGES))?;
    for (language, reason) in &plugins.skipped {
        eprintln!("conformance loop: {language} skipped: {reason}");
    }
    for (language, _) in &plugins.ready {
        let (file, comment) = language.main_source;
        match sources.iter_mut().find(|(_, known, _)| *known == file) {
            Some((languages, _, _)) => languages.push(language),
            None => sources.push((vec![language], file, comment)),
        }
    }
    Ok(sources)
}

/// `cargo test --test conformance`, timed; a failing run is an error.
fn conformance_run(root: &Path) -> anyhow::Result<Duration> {
    let start = Instant::now();
    let output = Command::new(xtask::cargo())
        .args(["test", "--quiet", "--test", "conformance"])
        .current_dir(root)
        .output()
        .context("cannot run cargo test")?;
    let took = start.elapsed();
    if !output.status.success() {
        let stderr = String::from_utf8_lossy(&output.stderr);
        let stdout = String::from_utf8_lossy(&output.stdout);
        bail!(
            "cargo test --test conformance failed ({}):\n{stdout}\n{stderr}",
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
