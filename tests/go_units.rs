//! `go test` on `host-go/`, so that `cargo test` runs every test in the repository.

use xshell::{cmd, Shell};
use xtask::{project_root, skip_reason, Host};

#[test]
fn host_go_unit_tests_pass() -> anyhow::Result<()> {
    let sh = Shell::new()?;
    let host = Host::Go;
    for toolchain in host.toolchains() {
        if let Err(missing) = toolchain.probe(&sh) {
            // An error under CI=true, where the Go host is required.
            let reason = skip_reason(host.name(), host.requirement(), missing)?;
            eprintln!("skipped: {reason}");
            return Ok(());
        }
    }
    sh.change_dir(project_root().join(host.source_dir()));
    cmd!(sh, "go test ./...").run()?;
    Ok(())
}
