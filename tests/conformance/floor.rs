//! The types every part of the conformance run needs, below the run itself: where a language's
//! module stands ([`Subject`]), a host behind its driver ([`HostDriver`]), how a host is started,
//! and the command that reruns one trial. Nothing here knows of the run's other modules but the
//! in-process host.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use conformance::driver::{Driver, ProtocolHost};
use xtask::{Host, Language};

use crate::in_process::InProcess;

/// Where a language stands once the build is done.
pub enum Subject {
    /// Its module, on file for every host.
    Ready(PathBuf),
    /// Its toolchain is missing: its trials are reported as ignored, with this reason.
    Skipped(String),
    /// Its module breaks the contract's ABI: its trials fail with these violations, and none
    /// of its exports is ever called.
    Broken(String),
}

/// A host that could be built, behind its driver; or why its trials are ignored.
pub type HostDriver = Result<Arc<dyn Driver>, String>;

/// The command that runs one trial and nothing else, `{trial}` standing for its name.
pub const RERUN: &str = "cargo test --test conformance -- --exact {trial}";

pub fn rerun_command(trial: &str) -> String {
    RERUN.replace("{trial}", trial)
}

/// `<case>::<language>@<host>`: `--list` and the run take case trials' names from here.
pub fn case_trial_name(case: &str, language: &Language, host: &Host) -> String {
    format!(
        "{case}::{}",
        conformance::report::subject(language.name(), host.name())
    )
}

/// The driver of a built host: the Rust host in this process, or a pool of up to `size` children
/// of a protocol host.
pub fn driver(root: &Path, host: &Host, artifact: &Path, size: usize) -> Arc<dyn Driver> {
    if host.in_process {
        Arc::new(InProcess::new())
    } else {
        Arc::new(protocol_host(root, host, artifact, size))
    }
}

/// The client of a host that speaks docs/protocol.md, started as its table entry says.
pub fn protocol_host(root: &Path, host: &Host, artifact: &Path, size: usize) -> ProtocolHost {
    let command = host.launch(root, artifact, &["serve"]);
    ProtocolHost::new(host.name(), command, size)
}
