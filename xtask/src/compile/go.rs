//! Go plugins built by standard Go as WASI reactors: -buildmode=c-shared keeps the
//! //go:wasmexport functions and adds _initialize, which the host runs before any export.

use std::path::Path;

use xshell::{cmd, Shell};

/// Builds the Go module in `dir` into the wasm module `out`.
pub(crate) fn wasm(sh: &Shell, dir: &str, out: &Path) -> anyhow::Result<()> {
    let _dir = sh.push_dir(dir);
    let _os = sh.push_env("GOOS", "wasip1");
    let _arch = sh.push_env("GOARCH", "wasm");
    // -trimpath keeps this machine's paths out of the module, so builds compare across machines.
    // -ldflags=-s drops the name section (Go writes no DWARF for wasm, so -w adds nothing);
    // -buildid= drops the build ID, a hash of the sources, so an edit that leaves the code alone
    // (a comment) leaves the module's bytes, and every verdict keyed by them, alone.
    let ldflags = "-ldflags=-s -buildid=";
    cmd!(
        sh,
        "go build -buildmode=c-shared -trimpath {ldflags} -o {out} ."
    )
    .run()?;
    Ok(())
}
