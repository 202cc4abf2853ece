use std::fmt;
use std::path::{Path, PathBuf};

use xshell::Shell;

use crate::languages::{go::Go, rust::Rust, tinygo::TinyGo};
use crate::toolchain::Toolchain;

/// Every plugin language. Adding one is a variant here (and in `ALL` and `requirement`), a unit
/// struct implementing [`LanguageMethods`] in `languages/`, and its plugin directory at the root.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Language {
    Rust,
    Go,
    TinyGo,
}

/// Whether CI must run a language. The one list of required languages is
/// [`Language::requirement`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Requirement {
    /// This machine kind has (or installs) its toolchain: under `CI=true` a missing one fails.
    Required,
    /// Run when its toolchain is found, reported as skipped by name when not.
    Optional,
}

impl Language {
    pub const ALL: &'static [Language] = &[Language::Rust, Language::Go, Language::TinyGo];

    pub fn obj(self) -> &'static dyn LanguageMethods {
        match self {
            Language::Rust => &Rust,
            Language::Go => &Go,
            Language::TinyGo => &TinyGo,
        }
    }

    /// The list CI holds the workspace to: every language whose toolchain this machine kind can
    /// have. All three can (TinyGo through `cargo xtask setup`); a language that some machines
    /// cannot build would be `Optional`.
    pub fn requirement(self) -> Requirement {
        match self {
            Language::Rust | Language::Go | Language::TinyGo => Requirement::Required,
        }
    }

    pub fn name(self) -> &'static str {
        self.obj().name()
    }

    /// Parses a name as given to `--lang`; the error lists the names that exist.
    pub fn from_name(name: &str) -> anyhow::Result<Language> {
        Self::ALL
            .iter()
            .copied()
            .find(|lang| lang.name() == name)
            .ok_or_else(|| {
                let known: Vec<_> = Self::ALL.iter().map(|lang| lang.name()).collect();
                anyhow::anyhow!("unknown language `{name}`; known: {}", known.join(", "))
            })
    }

    /// The files its plugin is built from (those its fingerprint covers), relative to the
    /// project root, in path order.
    pub fn source_files(self) -> anyhow::Result<Vec<PathBuf>> {
        let dir = self.obj().source_dir();
        let files = crate::fingerprint::source_files(
            &crate::project_root().join(dir),
            self.obj().ignored_dirs(),
        )?;
        Ok(files.iter().map(|file| Path::new(dir).join(file)).collect())
    }

    /// Checks every toolchain the language builds with and returns the version line of the
    /// first, its compiler. The error names the tool and the fix.
    pub fn probe(self, sh: &Shell) -> anyhow::Result<String> {
        crate::build::probe_all(sh, self.obj().toolchains())
    }
}

impl fmt::Display for Language {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.name())
    }
}

/// Whether `CI` is set to true, as CI services (and `.ci/run` on CI) do.
pub fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|value| value == "true" || value == "1")
}

/// What the build needs to know about one plugin language.
pub trait LanguageMethods: Sync {
    /// Short name used in paths, `--lang`, test names and reports.
    fn name(&self) -> &'static str;

    /// The plugin sources, relative to the project root. Languages may share one.
    fn source_dir(&self) -> &'static str;

    /// Directories under `source_dir` that hold build output rather than sources.
    fn ignored_dirs(&self) -> &'static [&'static str] {
        &[]
    }

    /// The tools the build runs, its compiler first: the compiler's version line is recorded
    /// with the artifact, and a change of it rebuilds the plugin.
    fn toolchains(&self) -> &'static [&'static Toolchain];

    /// Builds the plugin from the project root and writes the module to `out`.
    fn compile(&self, sh: &Shell, out: &Path) -> anyhow::Result<()>;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn source_files_are_the_plugin_sources_without_build_output() {
        let files = Language::Rust.source_files().unwrap();
        assert!(
            files.contains(&PathBuf::from("plugins-rust/src/lib.rs")),
            "{files:?}"
        );
        assert!(
            files.iter().all(|f| !f.starts_with("plugins-rust/target")),
            "{files:?}"
        );
        let go = Language::Go.source_files().unwrap();
        assert_eq!(go, Language::TinyGo.source_files().unwrap());
        assert!(go.contains(&PathBuf::from("plugins-go/main.go")), "{go:?}");
    }
}
