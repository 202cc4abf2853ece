use std::path::Path;

use anyhow::Context;
use xshell::{cmd, Shell};

use crate::language::LanguageMethods;
use crate::toolchain::{self, Toolchain};
use crate::PLUGIN_NAME;

/// `plugins-rust/`, built with cargo for `wasm32-unknown-unknown`.
pub(crate) struct Rust;

pub(crate) const TARGET: &str = toolchain::WASM32_UNKNOWN;
/// Kept apart from the host's target dir: the host build may hold that one's lock while the
/// conformance tests build plugins.
pub(crate) const TARGET_DIR: &str = "target/wasm";

impl LanguageMethods for Rust {
    fn name(&self) -> &'static str {
        "rust"
    }

    fn source_dir(&self) -> &'static str {
        "plugins-rust"
    }

    fn ignored_dirs(&self) -> &'static [&'static str] {
        &["target"]
    }

    fn toolchains(&self) -> &'static [&'static Toolchain] {
        &[&toolchain::RUSTC, &toolchain::WASM32_UNKNOWN_TARGET]
    }

    fn compile(&self, sh: &Shell, out: &Path) -> anyhow::Result<()> {
        build_cdylib(sh, self.source_dir(), PLUGIN_NAME, out)
    }
}

/// Builds the cdylib crate `name` in `dir` (its own cargo workspace) for wasm and copies the
/// module to `out`; the shell is at the project root.
pub(crate) fn build_cdylib(sh: &Shell, dir: &str, name: &str, out: &Path) -> anyhow::Result<()> {
    let cargo = crate::cargo();
    let target_dir = sh.current_dir().join(TARGET_DIR);
    let _dir = sh.push_dir(dir);
    cmd!(
        sh,
        "{cargo} build --release --locked --target {TARGET} --target-dir {target_dir}"
    )
    .run()?;
    let built = target_dir
        .join(TARGET)
        .join("release")
        .join(format!("{name}.wasm"));
    sh.copy_file(&built, out)
        .with_context(|| format!("{dir}: cargo built no {}", built.display()))?;
    Ok(())
}
