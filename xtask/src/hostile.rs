//! The hostile plugins of `plugins-hostile/`: one module per language whose every export attacks
//! the host, built into `target/hostile/<lang>/hostile.wasm` for `host/tests/hostile_plugins.rs`.
//! They are not contract plugins (no conformance case runs them), so they are not a `Language`;
//! they are fingerprinted and skipped like one.

use std::path::{Path, PathBuf};

use anyhow::Context;
use xshell::{cmd, Shell};

use crate::build::{build_fingerprinted, probe_all, skip_reason, Built};
use crate::language::Requirement;
use crate::languages::rust;
use crate::project_root;
use crate::toolchain::{self, Toolchain};

/// The name of every hostile module, and of the Rust crate that makes one.
const HOSTILE_NAME: &str = "hostile";

/// A built hostile module at `target/hostile/<language>/hostile.wasm`.
#[derive(Debug, Clone)]
pub struct HostilePlugin {
    /// `rust` or `go`.
    pub language: &'static str,
    pub wasm: PathBuf,
}

/// Each language the hostile plugins are written in.
#[derive(Debug, Clone, Copy)]
enum Hostile {
    /// `plugins-hostile/rust/`, built like `plugins-rust/` (cargo, `wasm32-unknown-unknown`).
    Rust,
    /// `plugins-hostile/go/`, built like `plugins-go/` by standard Go (a WASI reactor).
    Go,
}

impl Hostile {
    const ALL: [Hostile; 2] = [Hostile::Rust, Hostile::Go];

    fn name(self) -> &'static str {
        match self {
            Hostile::Rust => "rust",
            Hostile::Go => "go",
        }
    }

    fn source_dir(self) -> &'static str {
        match self {
            Hostile::Rust => "plugins-hostile/rust",
            Hostile::Go => "plugins-hostile/go",
        }
    }

    /// The tools its build needs, its compiler first.
    fn toolchains(self) -> &'static [&'static Toolchain] {
        match self {
            Hostile::Rust => &[&toolchain::RUSTC, &toolchain::WASM32_UNKNOWN_TARGET],
            Hostile::Go => &[&toolchain::GO],
        }
    }

    /// The same as the contract plugin of the same language: this machine kind has both.
    fn requirement(self) -> Requirement {
        Requirement::Required
    }

    fn wasm_path(self, root: &Path) -> PathBuf {
        root.join("target/hostile")
            .join(self.name())
            .join(format!("{HOSTILE_NAME}.wasm"))
    }

    /// Builds the module into `out`; the shell is at the project root.
    fn compile(self, sh: &Shell, out: &Path) -> anyhow::Result<()> {
        match self {
            Hostile::Rust => rust::build_cdylib(sh, self.source_dir(), HOSTILE_NAME, out)?,
            Hostile::Go => {
                let _dir = sh.push_dir(self.source_dir());
                let _os = sh.push_env("GOOS", "wasip1");
                let _arch = sh.push_env("GOARCH", "wasm");
                cmd!(sh, "go build -buildmode=c-shared -trimpath -o {out} .").run()?;
            }
        }
        Ok(())
    }
}

/// Builds the hostile plugins of every language into `target/hostile/<lang>/hostile.wasm`,
/// skipping those whose sources and toolchain have not changed since the last build. A language
/// whose toolchain is missing is skipped (an error under `CI=true`). Reports each on stderr.
pub fn build_hostile_plugins(sh: &Shell) -> anyhow::Result<Vec<HostilePlugin>> {
    let root = project_root();
    let _root = sh.push_dir(&root);
    let mut plugins = Vec::new();
    let mut compiled = false;
    for hostile in Hostile::ALL {
        let name = hostile.name();
        let toolchain = match probe_all(sh, hostile.toolchains()) {
            Ok(version) => version,
            Err(missing) => {
                let reason = skip_reason(name, hostile.requirement(), missing)?;
                eprintln!("{name:<6} {:<15} {reason}", "skipped");
                continue;
            }
        };
        let wasm = hostile.wasm_path(&root);
        let built = build_fingerprinted(
            sh,
            name,
            hostile.source_dir(),
            &["target"],
            &toolchain,
            &wasm,
            |sh, out| hostile.compile(sh, out),
        )?;
        compiled |= built != Built::UpToDate;
        let status = built.describe();
        let size = std::fs::metadata(&wasm)
            .with_context(|| format!("{name}: no {} after the build", wasm.display()))?
            .len();
        let shown = wasm.strip_prefix(&root).unwrap_or(&wasm);
        let size = crate::artifact::human_size(size);
        eprintln!(
            "{name:<6} {status:<15} {:<40} {size:>9}  {toolchain}",
            shown.display().to_string()
        );
        plugins.push(HostilePlugin {
            language: name,
            wasm,
        });
    }
    if !plugins.is_empty() && !compiled {
        eprintln!("nothing to do: every hostile plugin is up to date");
    }
    Ok(plugins)
}
