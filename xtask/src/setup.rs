//! `cargo xtask setup`: installs the toolchains this machine can install by itself, then shows
//! the doctor's table. Fast when everything is there, so the README's commands start with it.

use anyhow::bail;
use xshell::Shell;

use crate::language::in_ci;
use crate::tinygo_install;
use crate::toolchain;

/// Installs TinyGo when no `tinygo` is found (the only toolchain no registry here ships), then
/// checks every toolchain. Under `CI=true` anything required that is still missing is an error;
/// elsewhere it is a warning, and the conformance run skips that language by name.
pub fn setup(sh: &Shell) -> anyhow::Result<()> {
    let _root = sh.push_dir(crate::project_root());
    let on_path = !tinygo_install::wrapper().is_file() && toolchain::TINYGO.probe(sh).is_ok();
    if !on_path {
        let started = std::time::Instant::now();
        match tinygo_install::install(sh) {
            Ok(version) => eprintln!(
                "tinygo: {version}, in target/tools/tinygo ({:.1}s)",
                started.elapsed().as_secs_f64()
            ),
            Err(error) if in_ci() => return Err(error.context("tinygo could not be installed")),
            Err(error) => eprintln!("warning: tinygo could not be installed: {error:#}"),
        }
    }
    let missing = crate::doctor::table(sh)?;
    match missing.as_slice() {
        [] => Ok(()),
        missing if in_ci() => bail!("required toolchains missing: {}", missing.join(", ")),
        missing => {
            eprintln!(
                "warning: required toolchains missing: {}; their languages are skipped outside CI",
                missing.join(", ")
            );
            Ok(())
        }
    }
}
