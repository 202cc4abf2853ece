use std::fmt;
use std::path::{Path, PathBuf};

use xshell::{cmd, Shell};

use crate::build::{build_fingerprinted, probe_all, skip_reason};
use crate::language::Requirement;
use crate::project_root;
use crate::toolchain::{self, Toolchain};

/// Every host the conformance run runs plugins on. Adding one is a variant here (and in `ALL`),
/// its directory at the root, and its driver in `tests/src/hosts.rs`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Host {
    /// `host/`: the `extism` crate on wasmtime. It runs inside the test process, as a library.
    Rust,
    /// `host-go/`: the seed's host, the Extism Go SDK on wazero, a program of its own.
    Go,
}

impl Host {
    pub const ALL: &'static [Host] = &[Host::Rust, Host::Go];

    pub fn name(self) -> &'static str {
        match self {
            Host::Rust => "rust-host",
            Host::Go => "go-host",
        }
    }

    /// Both hosts can be built wherever the plugins can, so CI holds the workspace to both.
    pub fn requirement(self) -> Requirement {
        match self {
            Host::Rust | Host::Go => Requirement::Required,
        }
    }

    pub fn source_dir(self) -> &'static str {
        match self {
            Host::Rust => "host",
            Host::Go => "host-go",
        }
    }

    /// The tools its build needs, its compiler first (cargo builds the Rust host with rustc).
    pub fn toolchains(self) -> &'static [&'static Toolchain] {
        match self {
            Host::Rust => &[&toolchain::RUSTC],
            Host::Go => &[&toolchain::GO],
        }
    }

    /// Where `build_hosts` puts the program of a host that is a program of its own.
    pub fn program_path(self, root: &Path) -> Option<PathBuf> {
        match self {
            Host::Rust => None,
            Host::Go => Some(root.join("target/hosts/go-host/host-go")),
        }
    }

    pub fn from_name(name: &str) -> anyhow::Result<Host> {
        Self::ALL
            .iter()
            .copied()
            .find(|host| host.name() == name)
            .ok_or_else(|| {
                let known: Vec<_> = Self::ALL.iter().map(|host| host.name()).collect();
                anyhow::anyhow!("unknown host `{name}`; known: {}", known.join(", "))
            })
    }

    fn compile(self, sh: &Shell, out: &Path) -> anyhow::Result<()> {
        match self {
            Host::Rust => Ok(()),
            Host::Go => {
                let _dir = sh.push_dir(self.source_dir());
                cmd!(sh, "go build -trimpath -o {out} .").run()?;
                Ok(())
            }
        }
    }
}

impl fmt::Display for Host {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.name())
    }
}

/// A host ready to run plugins: the program to start, if it is not the in-process Rust host.
#[derive(Debug, Clone)]
pub struct HostProgram {
    pub host: Host,
    pub program: Option<PathBuf>,
    /// The version line of the toolchain that built it.
    pub toolchain: String,
}

/// What `build_hosts` did: every host is either ready or skipped with the reason.
#[derive(Debug, Default)]
pub struct Hosts {
    pub ready: Vec<HostProgram>,
    pub skipped: Vec<(Host, String)>,
}

/// Builds every host in `hosts` that is a program of its own into `target/hosts/<host>/`,
/// unless its sources and toolchain are unchanged since the last build. A host whose toolchain
/// is missing is skipped, unless it is required and this is CI.
pub fn build_hosts(sh: &Shell, hosts: &[Host]) -> anyhow::Result<Hosts> {
    let root = project_root();
    let _root = sh.push_dir(&root);
    let mut result = Hosts::default();
    for &host in hosts {
        let toolchain = match probe_all(sh, host.toolchains()) {
            Ok(version) => version,
            Err(missing) => {
                let reason = skip_reason(host.name(), host.requirement(), missing)?;
                eprintln!("{host:<9} {:<15} {reason}", "skipped");
                result.skipped.push((host, reason));
                continue;
            }
        };
        let Some(program) = host.program_path(&root) else {
            result.ready.push(HostProgram {
                host,
                program: None,
                toolchain,
            });
            continue;
        };
        let built = build_fingerprinted(
            sh,
            host.name(),
            host.source_dir(),
            &[],
            &toolchain,
            &program,
            |sh, out| host.compile(sh, out),
        )?;
        let status = built.describe();
        let shown = program.strip_prefix(&root).unwrap_or(&program);
        eprintln!("{host:<9} {status:<15} {:<40} {toolchain}", shown.display());
        result.ready.push(HostProgram {
            host,
            program: Some(program),
            toolchain,
        });
    }
    Ok(result)
}
