//! `cargo xtask setup`: installs the toolchains this machine can install by itself, then shows
//! the doctor's table. Fast when everything is there, so the README's commands start with it.

use anyhow::bail;
use xshell::Shell;

use crate::build::in_ci;

/// Runs the installer of every toolchain in the table that has one and wants it (TinyGo, the
/// only one no registry here ships), then checks every toolchain. Under `CI=true` anything still
/// missing is an error; elsewhere a warning, and the conformance run skips what needs it by name.
/// Everything it prints goes to stderr.
pub fn setup(sh: &Shell) -> anyhow::Result<()> {
    let _root = sh.push_dir(crate::project_root());
    for toolchain in crate::doctor::toolchains() {
        let Some(install) = &toolchain.install else {
            continue;
        };
        if !(install.wanted)(sh) {
            continue;
        }
        let started = std::time::Instant::now();
        match (install.run)(sh) {
            Ok(version) => eprintln!(
                "{}: {version} ({:.1}s)",
                toolchain.name,
                started.elapsed().as_secs_f64()
            ),
            Err(error) if in_ci() => {
                return Err(error.context(format!("{} could not be installed", toolchain.name)))
            }
            Err(error) => eprintln!(
                "warning: {} could not be installed: {error:#}",
                toolchain.name
            ),
        }
    }
    let missing = crate::doctor::table(sh, &mut std::io::stderr())?;
    match missing.as_slice() {
        [] => Ok(()),
        missing if in_ci() => bail!("toolchains missing: {}", missing.join(", ")),
        missing => {
            eprintln!(
                "warning: toolchains missing: {}; what needs them is skipped outside CI",
                missing.join(", ")
            );
            Ok(())
        }
    }
}
