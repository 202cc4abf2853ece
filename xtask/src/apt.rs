//! Debian packages for `cargo xtask setup`: installs the ones missing with apt-get, waiting for
//! the dpkg lock when another apt process holds it.

use anyhow::{bail, Context};
use xshell::Shell;

use crate::process::run_to_stderr;

/// How long apt-get waits for the dpkg lock another process holds (an unattended upgrade, a
/// second setup) before it gives up, in seconds.
const LOCK_TIMEOUT_SECONDS: u32 = 600;

/// Installs the Debian packages of `packages` that are not installed, with apt-get (through
/// sudo unless we are root); `who` names the toolchain that needs them, for the messages.
pub(crate) fn apt_install(sh: &Shell, who: &str, packages: &[&str]) -> anyhow::Result<()> {
    if xshell::cmd!(sh, "dpkg-query --version")
        .quiet()
        .ignore_stdout()
        .ignore_stderr()
        .run()
        .is_err()
    {
        bail!("installing {who} needs Debian's apt (dpkg-query was not found)");
    }
    let missing: Vec<&str> = packages
        .iter()
        .copied()
        .filter(|package| !installed(sh, package))
        .collect();
    if missing.is_empty() {
        return Ok(());
    }
    let uid = xshell::cmd!(sh, "id -u").quiet().read()?;
    let (apt, apt_args) = if uid == "0" {
        ("apt-get", &[][..])
    } else {
        ("sudo", &["apt-get"][..])
    };
    let listed = missing.join(" ");
    eprintln!("{who}: installing Debian packages: {listed}");
    eprintln!(
        "{who}: apt-get may wait up to {LOCK_TIMEOUT_SECONDS}s for the dpkg lock if another \
         process holds it"
    );
    let lock = format!("DPkg::Lock::Timeout={LOCK_TIMEOUT_SECONDS}");
    // apt's progress goes to stderr with ours: stdout is the result of the command that ran
    // setup (the seed's lines, for `cargo xtask setup && cargo xtask demo`).
    run_to_stderr(xshell::cmd!(sh, "{apt} {apt_args...} -o {lock} update -q"))
        .context("apt-get update failed")?;
    let _frontend = sh.push_env("DEBIAN_FRONTEND", "noninteractive");
    run_to_stderr(xshell::cmd!(
        sh,
        "{apt} {apt_args...} -o {lock} install -y -q --no-install-recommends {missing...}"
    ))
    .with_context(|| format!("apt-get could not install {listed}"))?;
    Ok(())
}

/// Whether dpkg has `package` installed.
fn installed(sh: &Shell, package: &str) -> bool {
    let status_format = "${Status}";
    let status = xshell::cmd!(sh, "dpkg-query -W -f={status_format} {package}")
        .quiet()
        .ignore_stderr()
        .read();
    status.is_ok_and(|status| status.contains("install ok installed"))
}
