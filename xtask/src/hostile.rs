//! The hostile plugins of `plugins-hostile/`: one module per language whose every export attacks
//! the host, built into `target/hostile/<lang>/hostile.wasm` for `host/tests/hostile_plugins.rs`.
//! They are not contract plugins (no conformance case runs them), so they are not a `Language`;
//! they are fingerprinted and skipped like one.

use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::Context;
use xshell::{cmd, Shell};

use crate::artifact::Stamp;
use crate::build::{skip_reason, Built};
use crate::fingerprint::fingerprint;
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
        let versions: Result<Vec<String>, _> =
            hostile.toolchains().iter().map(|t| t.probe(sh)).collect();
        let toolchain = match versions {
            Ok(mut versions) => versions.swap_remove(0),
            Err(missing) => {
                let reason = skip_reason(name, hostile.requirement(), missing)?;
                eprintln!("{name:<6} {:<15} {reason}", "skipped");
                continue;
            }
        };
        let wasm = hostile.wasm_path(&root);
        let built = build_one(sh, &root, hostile, &wasm, &toolchain)?;
        let status = match built {
            Built::UpToDate => "up to date".to_owned(),
            Built::Compiled(took) => {
                compiled = true;
                format!("built in {:.1}s", took.as_secs_f64())
            }
        };
        let size = std::fs::metadata(&wasm)
            .with_context(|| format!("{name}: no {} after the build", wasm.display()))?
            .len();
        let shown = wasm.strip_prefix(&root).unwrap_or(&wasm);
        let size = match size {
            n if n < 1024 * 1024 => format!("{:.1} KiB", n as f64 / 1024.0),
            n => format!("{:.1} MiB", n as f64 / (1024.0 * 1024.0)),
        };
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

fn build_one(
    sh: &Shell,
    root: &Path,
    hostile: Hostile,
    wasm: &Path,
    toolchain: &str,
) -> anyhow::Result<Built> {
    let fingerprint = fingerprint(&root.join(hostile.source_dir()), &["target"], toolchain)?;
    let stamp_path = wasm.with_extension("stamp");
    let fresh = Stamp::read(&stamp_path).is_some_and(|stamp| stamp.fingerprint == fingerprint)
        && wasm.is_file();
    if fresh {
        return Ok(Built::UpToDate);
    }
    let started = Instant::now();
    sh.create_dir(wasm.parent().context("a module lives in a directory")?)?;
    // A failed build must not leave a stamp that vouches for an old module.
    sh.remove_path(&stamp_path)?;
    hostile.compile(sh, wasm).with_context(|| {
        format!(
            "{}: building {} failed",
            hostile.name(),
            hostile.source_dir()
        )
    })?;
    Stamp {
        fingerprint,
        toolchain: toolchain.to_owned(),
    }
    .write(&stamp_path)?;
    Ok(Built::Compiled(started.elapsed()))
}
