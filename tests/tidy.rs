//! Repository-wide checks, run by `cargo test` so that CI and a local run agree.

use xshell::Shell;

#[test]
fn code_is_formatted() -> anyhow::Result<()> {
    xtask::fmt(&Shell::new()?, true)
}
