//! The Java hosts: one Maven project, packaged into a jar with its dependencies beside it, and
//! a launcher per engine.

use std::path::Path;

use xshell::{cmd, Shell};

/// `mvn package` in `dir` without running tests (the conformance run runs them), with Maven's
/// local repository at `repo` (relative to the project root: nothing goes to ~/.m2): online
/// for the prepare step, which resolves every dependency and plugin the build needs, offline
/// for the build.
pub(crate) fn package(sh: &Shell, dir: &str, repo: &str, offline: bool) -> anyhow::Result<()> {
    let root = crate::project_root();
    let repo = format!("-Dmaven.repo.local={}", root.join(repo).display());
    let offline = offline.then_some("--offline");
    let _dir = sh.push_dir(root.join(dir));
    let mvn = cmd!(
        sh,
        "mvn --batch-mode --quiet --no-transfer-progress {offline...} {repo} -DskipTests package"
    );
    let shown = mvn.to_string();
    // Maven 3.8 writes colour resets on stdout even when quiet: its output is shown only when
    // it fails (javac's errors are in it).
    let output = std::process::Command::from(mvn)
        .output()
        .map_err(|error| anyhow::anyhow!("cannot run `{shown}`: {error}"))?;
    if !output.status.success() {
        use std::io::Write;
        let mut stderr = std::io::stderr();
        stderr.write_all(&output.stdout)?;
        stderr.write_all(&output.stderr)?;
        anyhow::bail!("`{shown}` failed: {status}", status = output.status);
    }
    Ok(())
}

/// Packages `dir` offline, then writes the launcher `out`, which runs `jar` (relative to the
/// project root, where the pom puts it).
pub(crate) fn compile(
    sh: &Shell,
    dir: &str,
    repo: &str,
    jar: &str,
    out: &Path,
) -> anyhow::Result<()> {
    package(sh, dir, repo, true)?;
    super::write_launcher(out, &format!("exec java -jar \"$root/{jar}\" \"$@\""))
}

/// Writes the launcher `out`, which runs the program `launcher` (relative to the project root,
/// another entry's build) with `args` before the caller's.
pub(crate) fn wrap(out: &Path, launcher: &str, args: &str) -> anyhow::Result<()> {
    super::write_launcher(out, &format!("exec \"$root/{launcher}\" {args} \"$@\""))
}
