//! The Python host: a virtual environment with its pinned SDK, and a launcher that runs its
//! sources there (no compiling, only a check that every file compiles).

use std::path::Path;

use xshell::{cmd, Shell};

use crate::process::run_to_stderr;

/// Where the bytecode of the check goes, relative to the project root: not beside the sources.
const PYCACHE: &str = "target/tmp/pycache/python-host";

/// Makes the virtual environment `venv` (relative to the project root) afresh and installs
/// requirements.txt into it, hashes required; runs in the host's directory.
pub(crate) fn prepare(sh: &Shell, venv: &str) -> anyhow::Result<()> {
    let venv = crate::project_root().join(venv);
    run_to_stderr(cmd!(sh, "python3 -m venv --clear {venv}"))?;
    let pip = venv.join("bin/pip");
    run_to_stderr(cmd!(
        sh,
        "{pip} install --quiet --disable-pip-version-check --require-hashes --only-binary :all: -r requirements.txt"
    ))
}

/// Checks that every file of `dir` compiles, then writes the launcher `out`, which runs
/// `dir/main.py` with the Python of `venv`.
pub(crate) fn compile(sh: &Shell, dir: &str, venv: &str, out: &Path) -> anyhow::Result<()> {
    let python = format!("{venv}/bin/python");
    cmd!(
        sh,
        "{python} -X pycache_prefix={PYCACHE} -m compileall -q {dir}"
    )
    .quiet()
    .run()?;
    super::write_launcher(
        out,
        &format!(
            "PYTHONPYCACHEPREFIX=\"$root/{PYCACHE}\" exec \"$root/{python}\" \
             \"$root/{dir}/main.py\" \"$@\""
        ),
    )
}
