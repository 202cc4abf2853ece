//! The AssemblyScript plugin: compiled by the `asc` its package-lock.json pins.

use std::path::Path;

use xshell::{cmd, Shell};

/// Compiles the package in `dir` by its asconfig.json into the wasm module `out`.
pub(crate) fn wasm(sh: &Shell, dir: &str, out: &Path) -> anyhow::Result<()> {
    let _dir = sh.push_dir(dir);
    cmd!(
        sh,
        "node_modules/.bin/asc --config asconfig.json --outFile {out}"
    )
    .run()?;
    Ok(())
}
