//! Formatting and lints for every source language: the host workspace at the root, the wasm-only
//! `plugins-rust/` workspace, and the Go module `plugins-go/`.

use anyhow::{bail, Context};
use xshell::{cmd, Shell};

use crate::languages::rust;

/// The manifests of the two cargo workspaces, relative to the project root.
const MANIFESTS: [&str; 2] = ["Cargo.toml", "plugins-rust/Cargo.toml"];
const GO_MODULE: &str = "plugins-go";

/// Formats every workspace, or with `check` only reports what is not formatted.
pub fn fmt(sh: &Shell, check: bool) -> anyhow::Result<()> {
    let _root = sh.push_dir(crate::project_root());
    let cargo = crate::cargo();
    let check_flag = check.then_some("--check");
    for manifest in MANIFESTS {
        cmd!(
            sh,
            "{cargo} fmt --all {check_flag...} --manifest-path {manifest}"
        )
        .run()
        .with_context(|| match check {
            true => format!("{manifest}: code is not formatted; run `cargo xtask fmt`"),
            false => format!("{manifest}: cargo fmt failed"),
        })?;
    }
    // gofmt -l lists the files it would change and exits 0 either way.
    let mode = if check { "-l" } else { "-w" };
    let unformatted = cmd!(sh, "gofmt {mode} {GO_MODULE}")
        .read()
        .with_context(|| format!("{GO_MODULE}: gofmt failed"))?;
    if check && !unformatted.trim().is_empty() {
        let files: Vec<_> = unformatted.lines().collect();
        bail!(
            "{GO_MODULE}: not formatted: {}; run `cargo xtask fmt`",
            files.join(", ")
        );
    }
    Ok(())
}

/// Clippy on every target of both cargo workspaces with warnings as errors, and go vet on the
/// Go plugin for the platform it is built for.
pub fn lint(sh: &Shell) -> anyhow::Result<()> {
    let root = crate::project_root();
    let _root = sh.push_dir(&root);
    let cargo = crate::cargo();
    cmd!(
        sh,
        "{cargo} clippy --workspace --all-targets --locked -- -D warnings"
    )
    .run()
    .context("clippy found problems in the host workspace")?;
    let (target, target_dir) = (rust::TARGET, root.join(rust::TARGET_DIR));
    cmd!(
        sh,
        "{cargo} clippy --manifest-path plugins-rust/Cargo.toml --locked --target {target} --target-dir {target_dir} -- -D warnings"
    )
    .run()
    .context("clippy found problems in plugins-rust")?;
    let _dir = sh.push_dir(GO_MODULE);
    let _os = sh.push_env("GOOS", "wasip1");
    let _arch = sh.push_env("GOARCH", "wasm");
    cmd!(sh, "go vet ./...")
        .run()
        .with_context(|| format!("go vet found problems in {GO_MODULE}"))?;
    Ok(())
}
