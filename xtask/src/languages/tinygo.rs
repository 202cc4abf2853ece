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
        // -no-debug drops DWARF (457 KiB to 58 KiB). -scheduler=none drops asyncify, which ran
        // every export as a goroutine: 31 KiB, and a no-op call 7x cheaper; the contract uses no
        // goroutines. -panic=trap makes a panic `unreachable` without printing code (30 KiB). The
        // default optimisation, -opt=z, is already the smallest.
        cmd!(
            sh,
            "{tinygo} build -target wasip1 -buildmode=c-shared -no-debug -scheduler=none -panic=trap -o {out} ."
        )
        .run()?;
        Ok(())
    }
}
