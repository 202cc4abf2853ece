use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::Context;
use xshell::Shell;

use crate::artifact::Stamp;
use crate::fingerprint::fingerprint;
use crate::language::{in_ci, Requirement};
use crate::{project_root, Artifact, Language, Toolchain};

/// Whether `build_plugins` had to compile a language.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Built {
    UpToDate,
    Compiled(Duration),
}

impl Built {
    /// As the build reports print it.
    pub fn describe(self) -> String {
        match self {
            Built::UpToDate => "up to date".to_owned(),
            Built::Compiled(took) => format!("built in {:.1}s", took.as_secs_f64()),
        }
    }
}

/// Probes every toolchain in `toolchains` and returns the version line of the first, the
/// compiler; the error names the first one missing and its fix.
pub(crate) fn probe_all(sh: &Shell, toolchains: &[&Toolchain]) -> anyhow::Result<String> {
    let mut versions = toolchains
        .iter()
        .map(|toolchain| toolchain.probe(sh))
        .collect::<anyhow::Result<Vec<String>>>()?;
    anyhow::ensure!(!versions.is_empty(), "no toolchain to probe");
    Ok(versions.swap_remove(0))
}

/// One fingerprinted build: `compile` writes `out` from the sources in `source_dir` (skipping
/// its `ignored` top-level directories), unless the stamp beside `out` records the same
/// fingerprint (source contents + toolchain version line) and `out` exists. `what` names it in
/// errors.
pub(crate) fn build_fingerprinted(
    sh: &Shell,
    what: &str,
    source_dir: &str,
    ignored: &[&str],
    toolchain: &str,
    out: &Path,
    compile: impl FnOnce(&Shell, &Path) -> anyhow::Result<()>,
) -> anyhow::Result<Built> {
    let fingerprint = fingerprint(&project_root().join(source_dir), ignored, toolchain)?;
    let stamp_path = out.with_extension("stamp");
    let fresh = Stamp::read(&stamp_path).is_some_and(|stamp| stamp.fingerprint == fingerprint)
        && out.is_file();
    if fresh {
        return Ok(Built::UpToDate);
    }
    let started = Instant::now();
    sh.create_dir(
        out.parent()
            .context("a build output lives in a directory")?,
    )?;
    // A failed build must not leave a stamp that vouches for an old output.
    sh.remove_path(&stamp_path)?;
    compile(sh, out).with_context(|| format!("{what}: building {source_dir} failed"))?;
    Stamp {
        fingerprint,
        toolchain: toolchain.to_owned(),
    }
    .write(&stamp_path)?;
    Ok(Built::Compiled(started.elapsed()))
}

/// A language left out because its toolchain is missing.
#[derive(Debug, Clone)]
pub struct Skipped {
    pub language: Language,
    /// Which tool is missing and how to install it, in one line.
    pub reason: String,
}

/// What `build_plugins` did: every language is either built or skipped.
#[derive(Debug, Default)]
pub struct Plugins {
    pub built: Vec<(Artifact, Built)>,
    pub skipped: Vec<Skipped>,
}

impl Plugins {
    /// Fails on the first skipped language: for callers that named the languages they want.
    pub fn require_all(&self) -> anyhow::Result<()> {
        match self.skipped.first() {
            Some(skipped) => Err(anyhow::anyhow!("{}: {}", skipped.language, skipped.reason)),
            None => Ok(()),
        }
    }
}

/// Builds the plugin of each language in `languages` into `target/plugins/<lang>/`, skipping
/// those whose sources and toolchain have not changed since the last build. A language whose
/// toolchain is missing is skipped, unless it is required and this is CI: then it is an error.
/// Reports each language on stderr (stdout is left to the caller's own output).
pub fn build_plugins(sh: &Shell, languages: &[Language]) -> anyhow::Result<Plugins> {
    let root = project_root();
    let _root = sh.push_dir(&root);
    let mut plugins = Plugins::default();
    for &language in languages {
        let toolchain = match language.probe(sh) {
            Ok(version) => version,
            Err(missing) => {
                let skipped = skip(language, missing, in_ci())?;
                eprintln!("{language:<6} {:<15} {}", "skipped", skipped.reason);
                plugins.skipped.push(skipped);
                continue;
            }
        };
        let built = build_one(sh, &root, language, toolchain)?;
        let artifact = Artifact::load(&root, language)
            .with_context(|| format!("{language}: no plugin after the build"))?;
        report(&root, &artifact, built);
        plugins.built.push((artifact, built));
    }
    if !plugins.built.is_empty()
        && plugins
            .built
            .iter()
            .all(|(_, built)| *built == Built::UpToDate)
    {
        eprintln!("nothing to do: every plugin is up to date");
    }
    Ok(plugins)
}

/// A language whose toolchain is missing is skipped, except a required one on CI.
fn skip(language: Language, missing: anyhow::Error, ci: bool) -> anyhow::Result<Skipped> {
    Ok(Skipped {
        language,
        reason: skip_reason_in(language.name(), language.requirement(), missing, ci)?,
    })
}

/// Why a language or host whose toolchain is `missing` is skipped; an error instead when it
/// is required and this is CI.
pub fn skip_reason(
    name: &str,
    requirement: Requirement,
    missing: anyhow::Error,
) -> anyhow::Result<String> {
    skip_reason_in(name, requirement, missing, in_ci())
}

fn skip_reason_in(
    name: &str,
    requirement: Requirement,
    missing: anyhow::Error,
    ci: bool,
) -> anyhow::Result<String> {
    if ci && requirement == Requirement::Required {
        anyhow::bail!("{name} is required under CI=true: {missing:#}");
    }
    Ok(format!("{missing:#}"))
}

fn build_one(
    sh: &Shell,
    root: &Path,
    language: Language,
    toolchain: String,
) -> anyhow::Result<Built> {
    let methods = language.obj();
    build_fingerprinted(
        sh,
        language.name(),
        methods.source_dir(),
        methods.ignored_dirs(),
        &toolchain,
        &Artifact::wasm_path(root, language),
        |sh, out| methods.compile(sh, out),
    )
}

fn report(root: &Path, artifact: &Artifact, built: Built) {
    let status = built.describe();
    let wasm = artifact.wasm.strip_prefix(root).unwrap_or(&artifact.wasm);
    eprintln!(
        "{:<6} {:<15} {:<40} {:>9}  {}",
        artifact.language,
        status,
        wasm.display().to_string(),
        artifact.human_size(),
        artifact.toolchain
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_required_language_fails_only_on_ci() {
        let missing = || anyhow::anyhow!("`go` is not on PATH; install Go");
        let skipped = skip(Language::Go, missing(), false).unwrap();
        assert_eq!(skipped.reason, "`go` is not on PATH; install Go");
        let error = skip(Language::Go, missing(), true).unwrap_err();
        assert_eq!(
            error.to_string(),
            "go is required under CI=true: `go` is not on PATH; install Go"
        );
        for &language in Language::ALL {
            if language.requirement() == Requirement::Optional {
                assert!(skip(language, missing(), true).is_ok(), "{language}");
            }
        }
    }
}
