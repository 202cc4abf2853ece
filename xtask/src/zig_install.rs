//! Installs Zig for `cargo xtask setup`: PyPI's `ziglang` wheel carries the compiler, and no
//! other registry here ships one. It goes into a virtual environment under `target/tools/zig`,
//! from `plugins-zig/requirements.txt` with `--require-hashes`, and again only when that file
//! changed.

use std::path::PathBuf;

use anyhow::Context;
use xshell::{cmd, Shell};

use crate::process::run_to_stderr;

const REQUIREMENTS: &str = "plugins-zig/requirements.txt";

/// The virtual environment PyPI's `ziglang` wheel is installed into, relative to the root.
const VENV: &str = "target/tools/zig";

/// The virtual environment's Python, which runs Zig as `python -m ziglang`.
pub fn python() -> PathBuf {
    crate::project_root().join(VENV).join("bin/python")
}

/// Installs `ziglang` unless the same requirements are installed, and returns Zig's version as
/// `version` (the toolchain's probe, which needs python3 and its venv module) reads it.
pub fn install(
    sh: &Shell,
    version: fn(&Shell) -> anyhow::Result<String>,
) -> anyhow::Result<String> {
    let root = crate::project_root();
    let requirements = root.join(REQUIREMENTS);
    let contents = std::fs::read(&requirements)
        .with_context(|| format!("cannot read {}", requirements.display()))?;
    let venv = root.join(VENV);
    let stamp_path = venv.join("install.stamp");
    let stamp = crate::fingerprint::hash_bytes(&contents);
    if sh.read_file(&stamp_path).ok().as_deref() == Some(stamp.as_str()) {
        if let Ok(version) = version(sh) {
            return Ok(version);
        }
    }
    // A half-done install must not pass for a finished one.
    sh.remove_path(&stamp_path)?;
    run_to_stderr(cmd!(sh, "python3 -m venv --clear {venv}"))
        .context("cannot make the virtual environment for ziglang")?;
    let pip = venv.join("bin/pip");
    run_to_stderr(cmd!(
        sh,
        "{pip} install --quiet --disable-pip-version-check --require-hashes --only-binary :all: -r {requirements}"
    ))
    .with_context(|| format!("cannot install ziglang from {REQUIREMENTS}"))?;
    let version = version(sh)?;
    sh.write_file(&stamp_path, &stamp)?;
    Ok(version)
}
