//! Build logic for the workspace: the `cargo xtask` binary and the conformance tests both call
//! this library, so there is one implementation of "build the plugins".

mod artifact;
mod bench;
mod build;
mod checks;
mod doctor;
mod fingerprint;
mod host_kind;
mod hostile;
mod language;
mod languages;
mod setup;
mod tinygo_install;
mod toolchain;

use std::path::{Path, PathBuf};

pub use artifact::{Artifact, PLUGIN_NAME};
pub use bench::bench_report;
pub use build::{build_plugins, skip_reason, Built, Plugins, Skipped};
pub use checks::{fmt, lint};
pub use doctor::doctor;
pub use host_kind::{build_hosts, Host, HostProgram, Hosts};
pub use hostile::{build_hostile_plugins, HostilePlugin};
pub use language::{in_ci, Language, LanguageMethods, Requirement};
pub use setup::setup;
pub use toolchain::Toolchain;

/// The workspace root, whichever directory the caller runs in.
pub fn project_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask lives one level below the workspace root")
        .to_path_buf()
}

/// The cargo that runs us, so nested builds use the same toolchain.
pub fn cargo() -> String {
    std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned())
}
