//! The loop a plugin author lives in, timed: the conformance run once everything is built, and
//! the time from an edit of one plugin source to the `cargo test --test conformance` verdict.
//! Each run is a real `cargo test` in this workspace (dev profile, as a user runs it); the
//! results go to `target/bench/conformance-loop.json` for `cargo xtask bench-report`.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use serde::Serialize;
use xtask::{project_root, Language};

/// How many times the built run is timed; the report takes the median.
const BUILT_RUNS: usize = 5;
/// Written at the end of the edited file: a comment in every plugin language here, different on
/// every run so that no compiler's cache has seen the edited source.
fn edit_text() -> String {
    let nonce = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |since| since.as_nanos());
    format!("\n// edit {nonce} by the conformance-loop benchmark, which restores the file\n")
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
    for (dir, languages) in sources() {
        let file = first_source_file(&root.join(dir))?;
        let relative = file.strip_prefix(&root)?.display().to_string();
        let took = {
            let _edit = EditedFile::edit(&file)?;
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

/// Each plugin source directory with a toolchain here, and the languages built from it.
fn sources() -> Vec<(&'static str, Vec<Language>)> {
    let sh = xshell::Shell::new().expect("a shell");
    let mut sources: Vec<(&'static str, Vec<Language>)> = Vec::new();
    for &language in Language::ALL {
        if language.probe(&sh).is_err() {
            eprintln!("conformance loop: {language} skipped, its toolchain is missing");
            continue;
        }
        let dir = language.obj().source_dir();
        match sources.iter_mut().find(|(known, _)| *known == dir) {
            Some((_, languages)) => languages.push(language),
            None => sources.push((dir, vec![language])),
        }
    }
    sources
}

/// The first Rust or Go source file under `dir`, in path order (`src/lib.rs`, `main.go`).
fn first_source_file(dir: &Path) -> anyhow::Result<PathBuf> {
    let mut pending = vec![dir.to_owned()];
    let mut found = Vec::new();
    while let Some(dir) = pending.pop() {
        for entry in
            std::fs::read_dir(&dir).with_context(|| format!("cannot list {}", dir.display()))?
        {
            let path = entry?.path();
            if path.is_dir() {
                if path.file_name().is_some_and(|name| name != "target") {
                    pending.push(path);
                }
            } else if path
                .extension()
                .is_some_and(|ext| ext == "rs" || ext == "go")
            {
                found.push(path);
            }
        }
    }
    found.sort();
    found
        .into_iter()
        .next()
        .with_context(|| format!("no .rs or .go file under {}", dir.display()))
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
    fn edit(path: &Path) -> anyhow::Result<EditedFile> {
        let original =
            std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
        let mut edited = original.clone();
        edited.extend_from_slice(edit_text().as_bytes());
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
