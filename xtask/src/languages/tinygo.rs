use std::path::Path;

use xshell::{cmd, Shell};

use crate::language::LanguageMethods;
use crate::toolchain::{self, Toolchain};

/// `plugins-go/` again, built by TinyGo (the seed's compiler) as a WASI reactor. The same source
/// as `go`: the two compilers must agree on it.
pub(crate) struct TinyGo;

impl LanguageMethods for TinyGo {
    fn name(&self) -> &'static str {
        "tinygo"
    }

    fn source_dir(&self) -> &'static str {
        "plugins-go"
    }

    /// TinyGo runs `go` to load packages, so it needs both.
    fn toolchains(&self) -> &'static [&'static Toolchain] {
        &[&toolchain::TINYGO, &toolchain::GO]
    }

    fn compile(&self, sh: &Shell, out: &Path) -> anyhow::Result<()> {
        let tinygo = crate::tinygo_install::program();
        let _dir = sh.push_dir(self.source_dir());
        // -no-debug drops DWARF: 51 KiB instead of 457 KiB; the default optimisation is -opt=z.
        cmd!(
            sh,
            "{tinygo} build -target wasip1 -buildmode=c-shared -no-debug -o {out} ."
        )
        .run()?;
        Ok(())
    }
}
