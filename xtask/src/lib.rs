//! Build logic for the workspace: the `cargo xtask` binary and the tests both call this library,
//! so there is one implementation of "build the plugins" and "build the hosts".
//!
//! The modules form layers, each using only those below it (`layers` checks it): the items
//! here; `fingerprint`, `process`; `apt`, `tinygo_install`, `zig_install`; `toolchain`;
//! `figures` and `compile` (each entry's steps); `table` (the data); `build`; then the commands
//! (`checks`, `demo`, `doctor`, `setup`, `bench`, `results`, `reuse`, `matrix`).

mod apt;
mod bench;
mod build;
mod checks;
mod compile;
mod demo;
mod doctor;
mod figures;
mod fingerprint;
#[cfg(test)]
mod layers;
pub mod matrix;
mod process;
pub mod results;
pub mod reuse;
mod setup;
mod table;
mod tinygo_install;
mod toolchain;
mod zig_install;

use std::path::{Path, PathBuf};

pub use bench::bench_report;
pub use build::{
    build_all, build_hostile_plugins, build_hosts, build_plugins, human_size, in_ci, load,
    probe_toolchains, skip_reason, Artifact, Buildable, Built, Outcomes,
};
pub use checks::{fmt, lint};
pub use demo::demo;
pub use doctor::doctor;
pub use fingerprint::source_files;
pub use setup::setup;
pub use table::{
    Build, Host, HostBench, Hostile, Language, Launch, Pinned, Prepare, Program, Style, HONEST,
    HOSTILE, HOSTS, LANGUAGES,
};
pub use toolchain::Toolchain;

/// Every entry of a table, as the build functions take them.
pub fn all<T>(table: &'static [T]) -> Vec<&'static T> {
    table.iter().collect()
}

/// The workspace root, whichever directory the caller runs in.
pub fn project_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask lives one level below the workspace root")
        .to_path_buf()
}

/// A command-line error as one line: clap's first, and where to read more.
pub fn usage_line(error: &clap::Error) -> String {
    let rendered = error.render().to_string();
    let first = rendered.lines().next().unwrap_or("error: bad usage");
    format!("{first} (see --help)")
}

/// The cargo that runs us, so nested builds use the same toolchain.
pub fn cargo() -> String {
    std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned())
}
