//! Formatting and lints for every source directory of the table, each by its `Style`: cargo
//! workspaces with rustfmt and clippy (the wasm-only ones for wasm), Go modules with gofmt and
//! `go vet` (the wasm ones for GOOS=wasip1), Python with ruff, npm packages with prettier and
//! eslint, C with clang-format, Zig with `zig fmt`; AssemblyScript only by its compiler. The
//! Python and Node.js tools are pinned in their directory's lock file and installed by its
//! prepare step, which runs here first when it has not yet.

use anyhow::{bail, Context};
use xshell::{cmd, Shell};

use crate::build::Buildable;
use crate::compile::rust::{WASM_TARGET, WASM_TARGET_DIR};
use crate::table::{Style, HOSTILE, HOSTS, LANGUAGES};

/// Each source directory once, with its style, in table order (entries may share one). Each
/// directory's prepare step has run: it installs the Python and Node.js tools.
fn styled(sh: &Shell) -> anyhow::Result<Vec<(&'static str, Style)>> {
    let builds = HOSTS
        .iter()
        .map(|h| h.build())
        .chain(LANGUAGES.iter().map(|l| l.build()))
        .chain(HOSTILE.iter().map(|h| h.build()))
        .chain([&crate::table::RESULTS_PAGE]);
    let mut seen: Vec<(&'static str, Style)> = Vec::new();
    for build in builds {
        if !seen.iter().any(|(dir, _)| *dir == build.source_dir) {
            crate::build::prepare(sh, build)?;
            seen.push((build.source_dir, build.style));
        }
    }
    Ok(seen)
}

/// Formats every directory, or with `check` only reports what is not formatted.
pub fn fmt(sh: &Shell, check: bool) -> anyhow::Result<()> {
    let _root = sh.push_dir(crate::project_root());
    let cargo = crate::cargo();
    let check_flag = check.then_some("--check");
    for (dir, style) in styled(sh)? {
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
            Style::Python { venv } => {
                let ruff = crate::project_root().join(venv).join("bin/ruff");
                cmd!(sh, "{ruff} format --quiet {check_flag...} {dir}")
                    .run()
                    .with_context(|| not_formatted(dir, check))?
            }
            // AssemblyScript decorates functions (`@external`), which TypeScript does not, so
            // prettier cannot parse it; asc is its only check.
            Style::AssemblyScript => {}
            // No Java formatter is pinned (javac's lint is host-java's check).
            Style::Java => {}
            Style::Node => {
                let _dir = sh.push_dir(dir);
                let mode = if check { "--check" } else { "--write" };
                cmd!(sh, "node_modules/.bin/prettier --log-level warn {mode} .")
                    .run()
                    .with_context(|| not_formatted(dir, check))?
            }
            Style::C => {
                let root = crate::project_root();
                let files: Vec<_> = crate::fingerprint::source_files(&root.join(dir), &[])?
                    .into_iter()
                    .filter(|file| file.ends_with(".c") || file.ends_with(".h"))
                    .collect();
                let _dir = sh.push_dir(dir);
                let mode: &[&str] = if check {
                    &["--dry-run", "--Werror"]
                } else {
                    &["-i"]
                };
                cmd!(sh, "clang-format-19 {mode...} {files...}")
                    .run()
                    .with_context(|| not_formatted(dir, check))?
            }
            Style::Zig => {
                let python = crate::zig_install::python();
                let check_flag = check.then_some("--check");
                cmd!(sh, "{python} -m ziglang fmt {check_flag...} {dir}")
                    .run()
                    .with_context(|| not_formatted(dir, check))?
            }
        }
    }
    Ok(())
}

/// Clippy on every target of each cargo workspace with warnings as errors, go vet on each
/// Go module for the platform it is built for, and actionlint on the CI workflow.
pub fn lint(sh: &Shell) -> anyhow::Result<()> {
    let root = crate::project_root();
    let _root = sh.push_dir(&root);
    let cargo = crate::cargo();
    let target_dir = root.join(WASM_TARGET_DIR);
    for (dir, style) in styled(sh)? {
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
            Style::Python { venv } => {
                let ruff = root.join(venv).join("bin/ruff");
                cmd!(sh, "{ruff} check --quiet {dir}").run()
            }
            Style::Node => {
                let _dir = sh.push_dir(dir);
                cmd!(sh, "node_modules/.bin/eslint --max-warnings 0 .").run()
            }
            // Their builds are the lint: clang with -Wall -Wextra -Werror, zig, asc and javac
            // with -Xlint:all -Werror, which refuse what they warn about.
            Style::C | Style::Zig | Style::AssemblyScript | Style::Java => Ok(()),
        }
        .with_context(|| format!("the linter found problems in {dir}"))?;
    }
    // The CI workflow that splits the conformance run over machines.
    let actionlint = crate::toolchain::actionlint(sh)?;
    cmd!(sh, "{actionlint} -no-color")
        .run()
        .context("actionlint found problems in .github/workflows")?;
    Ok(())
}

fn not_formatted(dir: &str, check: bool) -> String {
    match check {
        true => format!("{dir}: code is not formatted; run `cargo xtask fmt`"),
        false => format!("{dir}: the formatter failed"),
    }
}
