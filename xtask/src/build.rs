//! The one loop that builds what the table lists: probe the toolchains, skip (or, under
//! `CI=true`, fail) when one is missing, run the prepare step when its lock file changed, and
//! compile unless the stamp beside the artifact vouches for the same sources and toolchain.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::Context;
use xshell::Shell;

use crate::fingerprint::fingerprint;
use crate::project_root;
use crate::table::{Build, Host, Hostile, Language, Prepare};
use crate::toolchain::Toolchain;

/// Whether the build had to compile.
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

/// A built thing at its well-known place, with what built it.
#[derive(Debug, Clone)]
pub struct Artifact {
    pub path: PathBuf,
    /// Its size in bytes; 0 for the in-process host, which cargo builds.
    pub size: u64,
    /// The version line of the toolchain that built it.
    pub toolchain: String,
    pub built: Built,
    /// What it was built from: its sources' fingerprint and the toolchain's version (the
    /// toolchain's alone for the in-process host, which cargo builds).
    pub fingerprint: String,
}

impl Artifact {
    /// The size for people: bytes below 1 KiB, else KiB or MiB with one decimal.
    pub fn human_size(&self) -> String {
        human_size(self.size)
    }
}

/// Bytes below 1 KiB, else KiB or MiB with one decimal.
pub fn human_size(bytes: u64) -> String {
    match bytes {
        n if n < 1024 => format!("{n} B"),
        n if n < 1024 * 1024 => format!("{:.1} KiB", n as f64 / 1024.0),
        n => format!("{:.1} MiB", n as f64 / (1024.0 * 1024.0)),
    }
}

/// What building a list of entries came to: each is ready or skipped with the reason.
#[derive(Debug)]
pub struct Outcomes<T: 'static> {
    pub ready: Vec<(&'static T, Artifact)>,
    /// Which tool is missing and how to install it, in one line.
    pub skipped: Vec<(&'static T, String)>,
}

impl<T> Default for Outcomes<T> {
    fn default() -> Self {
        Outcomes {
            ready: Vec::new(),
            skipped: Vec::new(),
        }
    }
}

impl<T: std::fmt::Display> Outcomes<T> {
    /// Fails on the first skipped entry: for callers that named the entries they want.
    pub fn require_all(&self) -> anyhow::Result<()> {
        match self.skipped.first() {
            Some((entry, reason)) => Err(anyhow::anyhow!("{entry}: {reason}")),
            None => Ok(()),
        }
    }
}

/// Anything with a [`Build`]: languages, hosts, hostile plugins.
pub trait Buildable: std::fmt::Display + Sync + 'static {
    fn build(&self) -> &Build;

    /// The entry of the same table named `name` (what [`Build::needs`] names).
    fn named(name: &str) -> anyhow::Result<&'static Self>
    where
        Self: Sized;
}

impl Buildable for Language {
    fn build(&self) -> &Build {
        &self.build
    }

    fn named(name: &str) -> anyhow::Result<&'static Self> {
        Language::from_name(name)
    }
}

impl Buildable for Host {
    fn build(&self) -> &Build {
        &self.build
    }

    fn named(name: &str) -> anyhow::Result<&'static Self> {
        Host::from_name(name)
    }
}

impl Buildable for Hostile {
    fn build(&self) -> &Build {
        &self.build
    }

    fn named(name: &str) -> anyhow::Result<&'static Self> {
        Hostile::from_name(name)
    }
}

/// Builds the plugin of each language into `target/plugins/<lang>/conformance.wasm`.
pub fn build_plugins(
    sh: &Shell,
    languages: &[&'static Language],
) -> anyhow::Result<Outcomes<Language>> {
    build_all(sh, languages, "plugin")
}

/// Builds each host that is a program of its own into `target/hosts/<host>/`.
pub fn build_hosts(sh: &Shell, hosts: &[&'static Host]) -> anyhow::Result<Outcomes<Host>> {
    build_all(sh, hosts, "host")
}

/// Builds each hostile plugin into `target/hostile/<lang>/hostile.wasm`.
pub fn build_hostile_plugins(
    sh: &Shell,
    hostile: &[&'static Hostile],
) -> anyhow::Result<Outcomes<Hostile>> {
    build_all(sh, hostile, "hostile plugin")
}

/// Builds every entry in turn, skipping those whose sources and toolchain did not change. An
/// entry whose toolchain is missing is skipped, except under `CI=true`, where every entry of
/// the table is required: then it is an error. Reports each entry on stderr (stdout is the
/// caller's).
pub fn build_all<T: Buildable>(
    sh: &Shell,
    entries: &[&'static T],
    what: &str,
) -> anyhow::Result<Outcomes<T>> {
    let root = project_root();
    let _root = sh.push_dir(&root);
    let mut outcomes = Outcomes::default();
    let builds: Vec<&Build> = entries.iter().map(|entry| entry.build()).collect();
    probe_toolchains(sh, &builds);
    for &entry in entries {
        match build_one(sh, &root, entry, what)? {
            Ok(artifact) => {
                report(&root, entry.build(), &artifact);
                outcomes.ready.push((entry, artifact));
            }
            Err(reason) => {
                eprintln!("{:<15} {:<15} {reason}", entry.build().name, "skipped");
                outcomes.skipped.push((entry, reason));
            }
        }
    }
    if !outcomes.ready.is_empty()
        && outcomes
            .ready
            .iter()
            .all(|(_, artifact)| artifact.built == Built::UpToDate)
    {
        eprintln!("nothing to do: every {what} is up to date");
    }
    Ok(outcomes)
}

/// Probes every toolchain `builds` name at once, at the root (where [`build_all`] probes), so
/// that the builds find them probed: a caller that builds plugins and then hosts calls this
/// first with both, and waits for one round of probes instead of two.
pub fn probe_toolchains(sh: &Shell, builds: &[&Build]) {
    let root = project_root();
    let _root = sh.push_dir(&root);
    let mut toolchains: Vec<&'static Toolchain> = Vec::new();
    for build in builds {
        for &toolchain in build.toolchains {
            if !toolchains.iter().any(|t| t.name == toolchain.name) {
                toolchains.push(toolchain);
            }
        }
    }
    crate::toolchain::probe_in_parallel(sh, &toolchains);
}

/// `Ok(Err(reason))`: skipped because a toolchain is missing.
fn build_one<T: Buildable>(
    sh: &Shell,
    root: &Path,
    entry: &T,
    what: &str,
) -> anyhow::Result<Result<Artifact, String>> {
    let build = entry.build();
    let toolchain = match probe_all(sh, build.toolchains) {
        Ok(version) => version,
        Err(missing) => return skip_reason(build.name, missing).map(Err),
    };
    let out = root.join(build.output);
    let Some(compile) = build.compile else {
        return Ok(Ok(Artifact {
            path: out,
            size: 0,
            fingerprint: toolchain.clone(),
            toolchain,
            built: Built::UpToDate,
        }));
    };
    if let Some(prepare) = &build.prepare {
        prepare_if_changed(sh, root, build, prepare)?;
    }
    // The entry it needs is built (or found up to date) when this one compiles, just before.
    let needs = |sh: &Shell| match build.needs {
        Some(name) => build_all(sh, &[T::named(name)?], what)?.require_all(),
        None => Ok(()),
    };
    let (built, fingerprint) = build_fingerprinted(sh, build, &toolchain, &out, &needs, compile)?;
    let size = std::fs::metadata(&out)
        .with_context(|| format!("{}: no {} after the build", build.name, out.display()))?
        .len();
    Ok(Ok(Artifact {
        path: out,
        size,
        toolchain,
        built,
        fingerprint,
    }))
}

fn report(root: &Path, build: &Build, artifact: &Artifact) {
    let status = artifact.built.describe();
    let shown = artifact.path.strip_prefix(root).unwrap_or(&artifact.path);
    let size = match artifact.size {
        0 => String::new(),
        _ => artifact.human_size(),
    };
    eprintln!(
        "{:<15} {status:<15} {:<40} {size:>9}  {}",
        build.name,
        shown.display().to_string(),
        artifact.toolchain
    );
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

/// Why an entry whose toolchain is `missing` is skipped; an error instead under `CI=true`,
/// where every language and host of the table is required.
pub fn skip_reason(name: &str, missing: anyhow::Error) -> anyhow::Result<String> {
    skip_reason_in(name, missing, in_ci())
}

fn skip_reason_in(name: &str, missing: anyhow::Error, ci: bool) -> anyhow::Result<String> {
    if ci {
        anyhow::bail!("{name} is required under CI=true: {missing:#}");
    }
    Ok(format!("{missing:#}"))
}

/// Whether `CI` is set to true, as CI services (and `.ci/run` on CI) do.
pub fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|value| value == "true" || value == "1")
}

/// Runs the prepare step of `build`, if it has one, unless it already ran for this lock file:
/// for callers that run the installed tools without building (`cargo xtask fmt`, `lint`).
pub(crate) fn prepare(sh: &Shell, build: &Build) -> anyhow::Result<()> {
    match &build.prepare {
        Some(prepare) => prepare_if_changed(sh, &project_root(), build, prepare),
        None => Ok(()),
    }
}

/// Runs the prepare step unless the stamp in `target/prepare/<source dir>.stamp` records the same
/// lock file contents and the file it creates is there.
fn prepare_if_changed(
    sh: &Shell,
    root: &Path,
    build: &Build,
    prepare: &Prepare,
) -> anyhow::Result<()> {
    let lock = root.join(build.source_dir).join(prepare.lock_file);
    let contents = std::fs::read(&lock)
        .with_context(|| format!("{}: cannot read {}", build.name, lock.display()))?;
    // Named by the directory, not the entry: entries that share a source directory and its
    // lock file (java-host and java-aot-host) share one install.
    let stamp = root
        .join("target/prepare")
        .join(format!("{}.stamp", build.source_dir.replace('/', "-")));
    let wanted = crate::fingerprint::hash_bytes(&contents);
    let installed = prepare.creates.is_none_or(|file| root.join(file).exists());
    if installed && std::fs::read_to_string(&stamp).is_ok_and(|text| text.trim() == wanted) {
        return Ok(());
    }
    let _dir = sh.push_dir(root.join(build.source_dir));
    sh.remove_path(&stamp)?;
    let started = Instant::now();
    (prepare.run)(sh).with_context(|| {
        format!(
            "{}: installing its dependencies ({} changed) failed",
            build.name, prepare.lock_file
        )
    })?;
    sh.create_dir(stamp.parent().context("a stamp lives in a directory")?)?;
    std::fs::write(&stamp, format!("{wanted}\n"))
        .with_context(|| format!("cannot write {}", stamp.display()))?;
    eprintln!(
        "{:<15} {:<15} dependencies from {} in {:.1}s",
        build.name,
        "installed",
        prepare.lock_file,
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

/// One fingerprinted build: `compile` writes `out` from the entry's sources (after `needs`
/// built what it uses), unless the stamp beside `out` records the same fingerprint (source
/// contents + toolchain version line) and `out` exists. Returns the fingerprint with what was
/// done.
fn build_fingerprinted(
    sh: &Shell,
    build: &Build,
    toolchain: &str,
    out: &Path,
    needs: &dyn Fn(&Shell) -> anyhow::Result<()>,
    compile: fn(&Shell, &Path) -> anyhow::Result<()>,
) -> anyhow::Result<(Built, String)> {
    let fingerprint = fingerprint(
        &project_root().join(build.source_dir),
        build.ignored,
        toolchain,
    )?;
    let stamp_path = out.with_extension("stamp");
    let fresh = Stamp::read(&stamp_path).is_some_and(|stamp| stamp.fingerprint == fingerprint)
        && out.is_file();
    if fresh {
        return Ok((Built::UpToDate, fingerprint));
    }
    let started = Instant::now();
    sh.create_dir(
        out.parent()
            .context("a build output lives in a directory")?,
    )?;
    // A failed build must not leave a stamp that vouches for an old output.
    sh.remove_path(&stamp_path)?;
    needs(sh)
        .and_then(|()| compile(sh, out))
        .with_context(|| format!("{}: building {} failed", build.name, build.source_dir))?;
    Stamp {
        fingerprint: fingerprint.clone(),
        toolchain: toolchain.to_owned(),
    }
    .write(&stamp_path)?;
    Ok((Built::Compiled(started.elapsed()), fingerprint))
}

/// What an artifact was built from, in the file beside it.
struct Stamp {
    fingerprint: String,
    toolchain: String,
}

impl Stamp {
    fn read(path: &Path) -> Option<Stamp> {
        let text = std::fs::read_to_string(path).ok()?;
        let mut fingerprint = None;
        let mut toolchain = None;
        for line in text.lines() {
            match line.split_once(' ') {
                Some(("fingerprint", value)) => fingerprint = Some(value.to_owned()),
                Some(("toolchain", value)) => toolchain = Some(value.to_owned()),
                _ => {}
            }
        }
        Some(Stamp {
            fingerprint: fingerprint?,
            toolchain: toolchain?,
        })
    }

    fn write(&self, path: &Path) -> anyhow::Result<()> {
        let text = format!(
            "fingerprint {}\ntoolchain {}\n",
            self.fingerprint, self.toolchain
        );
        std::fs::write(path, text).with_context(|| format!("cannot write {}", path.display()))
    }
}

/// The artifact of `build` as last built, if it and its stamp are both there: for readers that
/// must not build (the benchmark report).
pub fn load(build: &Build) -> Option<Artifact> {
    let path = project_root().join(build.output);
    let stamp = Stamp::read(&path.with_extension("stamp"))?;
    let size = std::fs::metadata(&path).ok()?.len();
    Some(Artifact {
        path,
        size,
        toolchain: stamp.toolchain,
        built: Built::UpToDate,
        fingerprint: stamp.fingerprint,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::table::Style;

    #[test]
    fn a_missing_toolchain_is_a_skip_except_on_ci() {
        let missing = || anyhow::anyhow!("`go` is not on PATH; install Go");
        let reason = skip_reason_in("go", missing(), false).unwrap();
        assert_eq!(reason, "`go` is not on PATH; install Go");
        let error = skip_reason_in("go", missing(), true).unwrap_err();
        assert_eq!(
            error.to_string(),
            "go is required under CI=true: `go` is not on PATH; install Go"
        );
    }

    #[test]
    fn the_prepare_step_runs_only_when_the_lock_file_changed() {
        use std::sync::atomic::{AtomicUsize, Ordering};
        static RUNS: AtomicUsize = AtomicUsize::new(0);
        let name = format!("xtask-prepare-test-{}", std::process::id());
        let dir = std::env::temp_dir().join(&name);
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("app.lock"), "v1").unwrap();
        // The build's directories are relative to the root; a temporary root keeps the test
        // out of the workspace's target/.
        let root = dir.clone();
        let build = Build {
            name: "prepare-test",
            source_dir: ".",
            ignored: &[],
            toolchains: &[],
            prepare: None,
            compile: None,
            needs: None,
            output: "out",
            style: Style::Go { wasm: false },
        };
        let prepare = Prepare {
            lock_file: "app.lock",
            creates: None,
            run: |_| {
                RUNS.fetch_add(1, Ordering::SeqCst);
                Ok(())
            },
        };
        let sh = Shell::new().unwrap();
        prepare_if_changed(&sh, &root, &build, &prepare).unwrap();
        prepare_if_changed(&sh, &root, &build, &prepare).unwrap();
        assert_eq!(RUNS.load(Ordering::SeqCst), 1);
        std::fs::write(dir.join("app.lock"), "v2").unwrap();
        prepare_if_changed(&sh, &root, &build, &prepare).unwrap();
        assert_eq!(RUNS.load(Ordering::SeqCst), 2);
        // What the step installed is gone (a removed virtual environment): it runs again.
        let creating = Prepare {
            creates: Some("installed"),
            ..prepare
        };
        prepare_if_changed(&sh, &root, &build, &creating).unwrap();
        assert_eq!(RUNS.load(Ordering::SeqCst), 3);
        std::fs::write(dir.join("installed"), "").unwrap();
        prepare_if_changed(&sh, &root, &build, &creating).unwrap();
        assert_eq!(RUNS.load(Ordering::SeqCst), 3);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
