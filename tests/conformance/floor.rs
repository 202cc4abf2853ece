//! The types every part of the conformance run needs, below the run itself: where a language's
//! module stands ([`Subject`]), a host behind its driver ([`HostDriver`]), how a host is started,
//! and the command that reruns one trial. Nothing here knows of the run's other modules but the
//! in-process host.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use conformance::driver::{Driver, ProtocolHost};
use xtask::Host;

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

/// Which cases a run holds and where its files are: this repository's suite (every kind of
/// trial), or a directory of someone else's cases, snapshots and known failures run by
/// `cargo xtask matrix test DIR` (its case trials only), which passes it in the environment.
pub struct Scope {
    pub cases: PathBuf,
    /// How messages name the case directory.
    pub cases_shown: String,
    pub snapshots: PathBuf,
    pub snapshots_shown: String,
    /// The known-failure list; absent is an empty one.
    pub known_failures: PathBuf,
    pub known_failures_shown: String,
    /// Where report.json, junit.xml, the page and the kept verdicts go.
    pub out: PathBuf,
    /// Someone else's directory: case trials only, no insta, no docs/findings.md.
    pub external: bool,
    /// Write each case's snapshot from the reference host's rendering once every host has run.
    pub accept: bool,
}

/// One snapshot per case, named after it and shared by every language.
pub const SNAPSHOTS_DIR: &str = "tests/snapshots";
/// Where the results go, relative to the project root.
pub const REPORT_DIR: &str = "target/conformance";

/// The environment variables `cargo xtask matrix test` sets.
use suite::scope::{ACCEPT as SCOPE_ACCEPT, CASES_DIR as SCOPE_DIR, OUT_DIR as SCOPE_OUT};

/// The host whose rendering `--accept` writes: the reference, the in-process Rust host.
pub fn reference_host() -> &'static str {
    let mut hosts = xtask::HOSTS.iter();
    hosts
        .find(|host| host.in_process)
        .map_or("", |host| host.name())
}

impl Scope {
    /// This repository's suite, unless [`SCOPE_DIR`] names another directory.
    pub fn from_env(root: &Path) -> anyhow::Result<Scope> {
        let accept = std::env::var_os(SCOPE_ACCEPT).is_some_and(|v| !v.is_empty());
        let Some(dir) = std::env::var_os(SCOPE_DIR).filter(|dir| !dir.is_empty()) else {
            if accept {
                anyhow::bail!("{SCOPE_ACCEPT} is for a directory of cases of your own ({SCOPE_DIR}); this repository's snapshots are accepted with `cargo insta review`");
            }
            return Ok(Scope {
                cases: root.join(conformance::case::CASES_DIR),
                cases_shown: conformance::case::CASES_DIR.to_owned(),
                snapshots: root.join(SNAPSHOTS_DIR),
                snapshots_shown: SNAPSHOTS_DIR.to_owned(),
                known_failures: root.join(conformance::known::KNOWN_FAILURES_FILE),
                known_failures_shown: conformance::known::KNOWN_FAILURES_FILE.to_owned(),
                out: root.join(REPORT_DIR),
                external: false,
                accept,
            });
        };
        let dir = PathBuf::from(dir);
        if !dir.is_dir() {
            anyhow::bail!("{}: not a directory of cases", dir.display());
        }
        let shown = dir.display().to_string();
        let out = match std::env::var_os(SCOPE_OUT).filter(|out| !out.is_empty()) {
            Some(out) => PathBuf::from(out),
            None => dir.join("results"),
        };
        Ok(Scope {
            cases_shown: shown.clone(),
            snapshots: dir.join("snapshots"),
            snapshots_shown: format!("{shown}/snapshots"),
            known_failures: dir.join(conformance::case::KNOWN_FAILURES_FILE_NAME),
            known_failures_shown: format!(
                "{shown}/{}",
                conformance::case::KNOWN_FAILURES_FILE_NAME
            ),
            cases: dir,
            out,
            external: true,
            accept,
        })
    }
}

/// A host that could be built, behind its driver; or why its trials are ignored.
pub type HostDriver = Result<Arc<dyn Driver>, String>;

/// The command that runs one trial and nothing else, `{trial}` standing for its name.
pub const RERUN: &str = "cargo test --test conformance -- --exact {trial}";

pub fn rerun_command(trial: &str) -> String {
    RERUN.replace("{trial}", trial)
}

/// `<case>::<language>@<host>`, the language being `module` for a case's own module: `--list`
/// and the run take case trials' names from here.
pub fn case_trial_name(case: &str, language: &str, host: &Host) -> String {
    format!(
        "{case}::{}",
        conformance::report::subject(language, host.name())
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
