//! The C plugin: the contract on the raw kernel ABI, with no PDK and no libc, built by clang.

use std::path::Path;

use xshell::{cmd, Shell};

/// Compiles `source` in `dir` into the wasm module `out`. -mcpu=mvp keeps the instruction set
/// fixed whatever clang's default; -ffreestanding keeps clang from calling a memcpy it would
/// have to import.
pub(crate) fn wasm(sh: &Shell, dir: &str, source: &str, out: &Path) -> anyhow::Result<()> {
    let _dir = sh.push_dir(dir);
    cmd!(
        sh,
        "clang-19 --target=wasm32-unknown-unknown -mcpu=mvp -nostdlib -ffreestanding -Oz
         -Wall -Wextra -Werror -Wl,--no-entry -Wl,--strip-all -Wl,-z,stack-size=4096
         -o {out} {source}"
    )
    .run()?;
    Ok(())
}
