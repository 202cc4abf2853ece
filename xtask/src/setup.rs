//! `cargo xtask setup`: installs the toolchains this machine can install by itself, then shows
//! the doctor's table. Fast when everything is there, so the README's commands start with it.

use anyhow::bail;
use xshell::Shell;

use crate::build::in_ci;

/// Runs the installer of every toolchain in the table that has one and wants it (TinyGo and Zig,
/// which no registry here ships as a program; Debian packages through apt), then every entry's
/// prepare step whose lock file changed, then checks every toolchain. Under `CI=true` anything
/// still missing is an error; elsewhere a warning, and the conformance run skips what needs it
/// by name. Everything it prints goes to stderr.
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
    // Then each entry's pinned dependencies (npm ci, pip install), when its lock file changed:
    // what the build would install first anyway, so that setup leaves nothing to fetch.
    let builds = crate::table::LANGUAGES
        .iter()
        .map(|l| &l.build)
        .chain(crate::table::HOSTS.iter().map(|h| &h.build))
        .chain([&crate::table::RESULTS_PAGE]);
    for build in builds {
        if build.prepare.is_none() || crate::build::probe_all(sh, build.toolchains).is_err() {
            continue;
        }
        if let Err(error) = crate::build::prepare(sh, build) {
            if in_ci() {
                return Err(error);
            }
            eprintln!("warning: {error:#}");
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
