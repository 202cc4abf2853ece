//! The Go plugin built by TinyGo (the seed's compiler) as a WASI reactor.

use std::path::Path;

use xshell::{cmd, Shell};

/// Builds the Go module in `dir` with TinyGo into the wasm module `out`.
pub(crate) fn wasm(sh: &Shell, dir: &str, out: &Path) -> anyhow::Result<()> {
    let tinygo = crate::tinygo_install::program();
    let _dir = sh.push_dir(dir);
    // -no-debug drops DWARF. -scheduler=none drops asyncify, which ran every export as a
    // goroutine; the contract uses no goroutines. -panic=trap makes a panic `unreachable`
    // without printing code. The default optimisation, -opt=z, is already the smallest.
    cmd!(
        sh,
        "{tinygo} build -target wasip1 -buildmode=c-shared -no-debug -scheduler=none -panic=trap -o {out} ."
    )
    .run()?;
    Ok(())
}
