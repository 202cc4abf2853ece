//! What the table's entries run: each language's and each host's build steps (and a host's
//! benchmark run), one module each, which the table points to; and the steps several share.
//! Nothing here reads the table: what an entry is (its paths, flags, toolchains) is the table's.

pub(crate) mod assemblyscript;
pub(crate) mod c;
pub(crate) mod go;
pub(crate) mod go_host;
pub(crate) mod java_host;
pub(crate) mod node_host;
pub(crate) mod python_host;
pub(crate) mod rust;
pub(crate) mod rust_host;
pub(crate) mod tinygo;
pub(crate) mod zig;

use std::path::Path;

use suite::launch::Command;
use xshell::{cmd, Shell};

use crate::process::run_to_stderr;

/// An npm package's pinned dependencies, from its package-lock.json into its own node_modules/.
pub(crate) fn npm_ci(sh: &Shell) -> anyhow::Result<()> {
    run_to_stderr(cmd!(sh, "npm ci --no-audit --no-fund --loglevel=error"))
}

/// Writes an executable shell script that runs `line`, in which `$root` is the project root:
/// how a host that is a script becomes an artifact that starts like any other
/// (`<artifact> serve`). The root is found from the script's own place, so a checkout that
/// moves (target/ with it) runs its own sources, not the old place's.
pub(crate) fn write_launcher(out: &Path, line: &str) -> anyhow::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    let root = crate::project_root();
    let depth = out
        .strip_prefix(&root)
        .map_err(|_| anyhow::anyhow!("{} is not under {}", out.display(), root.display()))?
        .components()
        .count()
        - 1;
    let up = vec![".."; depth].join("/");
    let script = format!(
        "#!/bin/sh\n# Written by `cargo xtask build-hosts`.\nroot=$(cd \"$(dirname \"$0\")/{up}\" && pwd) || exit 1\n{line}\n"
    );
    std::fs::write(out, script)
        .and_then(|()| std::fs::set_permissions(out, std::fs::Permissions::from_mode(0o755)))
        .map_err(|error| anyhow::anyhow!("cannot write {}: {error}", out.display()))
}

/// An adapter's own benchmarks, `<host> bench --out DIR LANGUAGE=PATH...` over every built
/// plugin: they write `DIR/figures.json` (`crate::figures::read_adapter_figures`).
pub(crate) fn adapter_bench(
    sh: &Shell,
    dir: &Path,
    host: &Command,
    plugins: &[String],
) -> anyhow::Result<()> {
    let mut cmd = sh.cmd(&host.program).args(&host.args);
    for (key, value) in &host.env {
        cmd = cmd.env(key, value);
    }
    run_to_stderr(cmd.arg("bench").arg("--out").arg(dir).args(plugins))
}
