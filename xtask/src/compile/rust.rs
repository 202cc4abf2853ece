//! Rust plugins: a cdylib crate in a cargo workspace of its own, built for wasm.

use std::path::Path;

use xshell::{cmd, Shell};

/// The Rust plugins' target, and their target dir: kept apart from the host's, whose lock the
/// host build may hold while the conformance tests build plugins.
pub(crate) const WASM_TARGET: &str = crate::toolchain::WASM32_UNKNOWN;
pub(crate) const WASM_TARGET_DIR: &str = "target/wasm";

/// Builds the cdylib crate in `dir` (its own cargo workspace) for wasm and copies its module,
/// `<lib_name>.wasm`, to `out`; the shell is at the project root.
pub(crate) fn cdylib(sh: &Shell, dir: &str, lib_name: &str, out: &Path) -> anyhow::Result<()> {
    let cargo = crate::cargo();
    let target_dir = sh.current_dir().join(WASM_TARGET_DIR);
    let _dir = sh.push_dir(dir);
    cmd!(
        sh,
        "{cargo} build --release --locked --target {WASM_TARGET} --target-dir {target_dir}"
    )
    .run()?;
    let built = target_dir
        .join(WASM_TARGET)
        .join("release")
        .join(format!("{lib_name}.wasm"));
    sh.copy_file(&built, out)
        .map_err(|error| anyhow::anyhow!("{dir}: cargo built no {}: {error}", built.display()))?;
    Ok(())
}
