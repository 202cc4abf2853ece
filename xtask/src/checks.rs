//! Formatting and lints for every source language: the host workspace at the root, the wasm-only
//! `plugins-rust/` and `plugins-hostile/rust/` workspaces, and the Go modules `plugins-go/`,
//! `plugins-hostile/go/` and `host-go/`.

use anyhow::{bail, Context};
use xshell::{cmd, Shell};

use crate::languages::rust;

/// The manifests of the cargo workspaces, relative to the project root: the host workspace
/// first, then the wasm-only ones.
const MANIFESTS: [&str; 3] = [
    "Cargo.toml",
    "plugins-rust/Cargo.toml",
    "plugins-hostile/rust/Cargo.toml",
];
/// Each Go module and the platform it is built for: (GOOS, GOARCH), or None for this machine's.
const GO_MODULES: [(&str, Option<(&str, &str)>); 3] = [
    ("plugins-go", Some(("wasip1", "wasm"))),
    ("plugins-hostile/go", Some(("wasip1", "wasm"))),
    ("host-go", None),
];

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
    for (module, _) in GO_MODULES {
        let unformatted = cmd!(sh, "gofmt {mode} {module}")
            .read()
            .with_context(|| format!("{module}: gofmt failed"))?;
        if check && !unformatted.trim().is_empty() {
            let files: Vec<_> = unformatted.lines().collect();
            bail!(
                "{module}: not formatted: {}; run `cargo xtask fmt`",
                files.join(", ")
            );
        }
    }
    Ok(())
}

/// Clippy on every target of the cargo workspaces with warnings as errors (the wasm-only ones for
/// wasm), and go vet on each Go module for the platform it is built for.
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
    for &manifest in &MANIFESTS[1..] {
        cmd!(
            sh,
            "{cargo} clippy --manifest-path {manifest} --locked --target {target} --target-dir {target_dir} -- -D warnings"
        )
        .run()
        .with_context(|| format!("clippy found problems in {manifest}"))?;
    }
    for (module, platform) in GO_MODULES {
        let _dir = sh.push_dir(module);
        let _platform =
            platform.map(|(os, arch)| (sh.push_env("GOOS", os), sh.push_env("GOARCH", arch)));
        cmd!(sh, "go vet ./...")
            .run()
            .with_context(|| format!("go vet found problems in {module}"))?;
    }
    Ok(())
}
