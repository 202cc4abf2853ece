use std::path::Path;

use xshell::{cmd, Shell};

use crate::language::LanguageMethods;
use crate::toolchain::{self, Toolchain};

/// `plugins-go/` built by standard Go as a WASI reactor: `-buildmode=c-shared` keeps the
/// `//go:wasmexport` functions and adds `_initialize`, which the host runs before any export.
pub(crate) struct Go;

impl LanguageMethods for Go {
    fn name(&self) -> &'static str {
        "go"
    }

    fn source_dir(&self) -> &'static str {
        "plugins-go"
    }

    fn toolchains(&self) -> &'static [&'static Toolchain] {
        &[&toolchain::GO]
    }

    fn compile(&self, sh: &Shell, out: &Path) -> anyhow::Result<()> {
        let _dir = sh.push_dir(self.source_dir());
        let _os = sh.push_env("GOOS", "wasip1");
        let _arch = sh.push_env("GOARCH", "wasm");
        // -trimpath keeps this machine's paths out of the module, so builds compare across machines.
        // -ldflags=-s drops the name section (48 KB; Go writes no DWARF for wasm, so -w adds nothing).
        cmd!(
            sh,
            "go build -buildmode=c-shared -trimpath -ldflags=-s -o {out} ."
        )
        .run()?;
        Ok(())
    }
}
