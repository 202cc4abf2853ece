//! The Rust host's benchmarks: cargo builds the host itself, as part of the workspace.

use std::path::Path;

use anyhow::Context;
use suite::launch::Command;
use xshell::{cmd, Shell};

/// `cargo bench` of the host crate's criterion benchmarks, their results left in `dir`.
pub(crate) fn bench(sh: &Shell, dir: &Path, _: &Command, _: &[String]) -> anyhow::Result<()> {
    let cargo = crate::cargo();
    cmd!(sh, "{cargo} bench --package host --bench host")
        .env("CRITERION_HOME", dir)
        .run()
        .context("cargo bench --package host failed")
}

/// The figures `bench` left in `dir`: criterion's.
pub(crate) fn read_bench(dir: &Path) -> anyhow::Result<Vec<crate::figures::Figure>> {
    crate::figures::read_criterion(dir)
}
