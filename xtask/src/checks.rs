//! Formatting and lints for both cargo workspaces: the host workspace at the root and the
//! wasm-only `plugins-rust/`.

use anyhow::Context;
use xshell::{cmd, Shell};

use crate::languages::rust;

/// The manifests of the two workspaces, relative to the project root.
const MANIFESTS: [&str; 2] = ["Cargo.toml", "plugins-rust/Cargo.toml"];

/// Formats both workspaces, or with `check` only reports what is not formatted.
pub fn fmt(sh: &Shell, check: bool) -> anyhow::Result<()> {
    let _root = sh.push_dir(crate::project_root());
    let cargo = crate::cargo();
    let check = check.then_some("--check");
    for manifest in MANIFESTS {
        cmd!(
            sh,
            "{cargo} fmt --all {check...} --manifest-path {manifest}"
        )
        .run()
        .with_context(|| match check {
            Some(_) => format!("{manifest}: code is not formatted; run `cargo xtask fmt`"),
            None => format!("{manifest}: cargo fmt failed"),
        })?;
    }
    Ok(())
}

/// Clippy on every target of both workspaces, warnings as errors.
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
    Ok(())
}
