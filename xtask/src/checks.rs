//! Formatting and lints for every source directory of the table, each by its `Style`: cargo
//! workspaces with rustfmt and clippy (the wasm-only ones for wasm), Go modules with gofmt and
//! `go vet` (the wasm ones for GOOS=wasip1).

use anyhow::{bail, Context};
use xshell::{cmd, Shell};

use crate::table::{Style, WASM_TARGET, WASM_TARGET_DIR};
use crate::{Buildable, HOSTILE, HOSTS, LANGUAGES};

/// Each source directory once, with its style, in table order (entries may share one).
fn styled() -> Vec<(&'static str, Style)> {
    let builds = HOSTS
        .iter()
        .map(|h| h.build())
        .chain(LANGUAGES.iter().map(|l| l.build()))
        .chain(HOSTILE.iter().map(|h| h.build()));
    let mut seen: Vec<(&'static str, Style)> = Vec::new();
    for build in builds {
        if !seen.iter().any(|(dir, _)| *dir == build.source_dir) {
            seen.push((build.source_dir, build.style));
        }
    }
    seen
}

/// Formats every directory, or with `check` only reports what is not formatted.
pub fn fmt(sh: &Shell, check: bool) -> anyhow::Result<()> {
    let _root = sh.push_dir(crate::project_root());
    let cargo = crate::cargo();
    let check_flag = check.then_some("--check");
    for (dir, style) in styled() {
        match style {
            Style::Cargo { manifest, .. } => cmd!(
                sh,
                "{cargo} fmt --all {check_flag...} --manifest-path {manifest}"
            )
            .run()
            .with_context(|| match check {
                true => format!("{manifest}: code is not formatted; run `cargo xtask fmt`"),
                false => format!("{manifest}: cargo fmt failed"),
            })?,
            Style::Go { .. } => {
                // gofmt -l lists the files it would change and exits 0 either way.
                let mode = if check { "-l" } else { "-w" };
                let unformatted = cmd!(sh, "gofmt {mode} {dir}")
                    .read()
                    .with_context(|| format!("{dir}: gofmt failed"))?;
                if check && !unformatted.trim().is_empty() {
                    let files: Vec<_> = unformatted.lines().collect();
                    bail!(
                        "{dir}: not formatted: {}; run `cargo xtask fmt`",
                        files.join(", ")
                    );
                }
            }
        }
    }
    Ok(())
}

/// Clippy on every target of each cargo workspace with warnings as errors, and go vet on each
/// Go module for the platform it is built for.
pub fn lint(sh: &Shell) -> anyhow::Result<()> {
    let root = crate::project_root();
    let _root = sh.push_dir(&root);
    let cargo = crate::cargo();
    let target_dir = root.join(WASM_TARGET_DIR);
    for (dir, style) in styled() {
        match style {
            Style::Cargo {
                manifest,
                wasm: false,
            } => cmd!(
                sh,
                "{cargo} clippy --manifest-path {manifest} --workspace --all-targets --locked -- -D warnings"
            )
            .run(),
            Style::Cargo {
                manifest,
                wasm: true,
            } => cmd!(
                sh,
                "{cargo} clippy --manifest-path {manifest} --locked --target {WASM_TARGET} --target-dir {target_dir} -- -D warnings"
            )
            .run(),
            Style::Go { wasm } => {
                let _dir = sh.push_dir(dir);
                let _platform =
                    wasm.then(|| (sh.push_env("GOOS", "wasip1"), sh.push_env("GOARCH", "wasm")));
                cmd!(sh, "go vet ./...").run()
            }
        }
        .with_context(|| format!("the linter found problems in {dir}"))?;
    }
    Ok(())
}
