use std::fmt;
use std::path::Path;

use xshell::Shell;

use crate::languages::rust::Rust;

/// Every plugin language. Adding one is a variant here, a unit struct implementing
/// [`LanguageMethods`] in `languages/`, and its plugin directory at the root.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Language {
    Rust,
}

impl Language {
    pub const ALL: &'static [Language] = &[Language::Rust];

    pub fn obj(self) -> &'static dyn LanguageMethods {
        match self {
            Language::Rust => &Rust,
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
}

impl fmt::Display for Language {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// What the build needs to know about one plugin language.
pub trait LanguageMethods: Sync {
    /// Short name used in paths, `--lang`, test names and reports.
    fn name(&self) -> &'static str;

    /// The plugin sources, relative to the project root.
    fn source_dir(&self) -> &'static str;

    /// Directories under `source_dir` that hold build output rather than sources.
    fn ignored_dirs(&self) -> &'static [&'static str] {
        &[]
    }

    /// Checks that the toolchain is usable and returns its version line. A missing toolchain is
    /// an error naming it and the command that installs it.
    fn probe(&self, sh: &Shell) -> anyhow::Result<String>;

    /// Builds the plugin from the project root and writes the module to `out`.
    fn compile(&self, sh: &Shell, out: &Path) -> anyhow::Result<()>;
}
