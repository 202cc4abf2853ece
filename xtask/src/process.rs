//! Running a tool whose chatter is not our result: its stdout goes to our stderr.

use anyhow::{bail, Context};

/// Runs `cmd` with its stdout sent to our stderr: a tool's chatter (apt, copies) must not reach
/// the stdout of a command whose stdout is its result (`cargo xtask demo`).
pub(crate) fn run_to_stderr(cmd: xshell::Cmd<'_>) -> anyhow::Result<()> {
    let shown = cmd.to_string();
    let mut command = std::process::Command::from(cmd);
    command.stdout(std::io::stderr());
    let status = command
        .status()
        .with_context(|| format!("cannot run `{shown}`"))?;
    if !status.success() {
        bail!("`{shown}` failed: {status}");
    }
    Ok(())
}
