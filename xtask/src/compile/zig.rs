//! The Zig plugin: the raw kernel ABI again, built by PyPI's ziglang for wasm32-freestanding.

use std::path::Path;

use xshell::{cmd, Shell};

/// Compiles `source` in `dir` into the wasm module `out`. Each export of the contract is named
/// (`suite::CONTRACT_EXPORTS`): -rdynamic would export __stack_pointer too.
pub(crate) fn wasm(sh: &Shell, dir: &str, source: &str, out: &Path) -> anyhow::Result<()> {
    let python = crate::zig_install::python();
    // Zig's caches go under target/, not ~/.cache/zig.
    let cache = crate::project_root().join("target/zig-cache");
    let exports = suite::CONTRACT_EXPORTS
        .iter()
        .map(|name| format!("--export={name}"));
    let emit = format!("-femit-bin={}", out.display());
    let _dir = sh.push_dir(dir);
    cmd!(
        sh,
        "{python} -m ziglang build-exe {source} -target wasm32-freestanding
         -O ReleaseSmall -fno-entry --stack 65536 {exports...}
         --cache-dir {cache} --global-cache-dir {cache} {emit}"
    )
    .run()?;
    Ok(())
}
