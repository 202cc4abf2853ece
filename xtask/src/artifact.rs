use std::path::{Path, PathBuf};

use anyhow::Context;

use crate::Language;

/// Every language builds one plugin module that implements the whole conformance contract.
pub const PLUGIN_NAME: &str = "conformance";

/// A built plugin at its well-known place, `target/plugins/<lang>/conformance.wasm`, with the
/// stamp beside it that records what it was built from.
#[derive(Debug, Clone)]
pub struct Artifact {
    pub language: Language,
    pub wasm: PathBuf,
    pub size: u64,
    /// The version line of the toolchain that built it.
    pub toolchain: String,
}

pub(crate) struct Stamp {
    pub(crate) fingerprint: String,
    pub(crate) toolchain: String,
}

impl Artifact {
    pub fn dir(root: &Path, language: Language) -> PathBuf {
        root.join("target").join("plugins").join(language.name())
    }

    pub fn wasm_path(root: &Path, language: Language) -> PathBuf {
        Self::dir(root, language).join(format!("{PLUGIN_NAME}.wasm"))
    }

    pub(crate) fn stamp_path(root: &Path, language: Language) -> PathBuf {
        Self::dir(root, language).join(format!("{PLUGIN_NAME}.stamp"))
    }

    /// The artifact as last built, if its module and stamp are both there.
    pub fn load(root: &Path, language: Language) -> Option<Artifact> {
        let stamp = Stamp::read(&Self::stamp_path(root, language))?;
        let wasm = Self::wasm_path(root, language);
        let size = std::fs::metadata(&wasm).ok()?.len();
        Some(Artifact {
            language,
            wasm,
            size,
            toolchain: stamp.toolchain,
        })
    }

    /// The size for people: bytes below 1 KiB, else KiB or MiB with one decimal.
    pub fn human_size(&self) -> String {
        human_size(self.size)
    }
}

/// Bytes below 1 KiB, else KiB or MiB with one decimal.
pub(crate) fn human_size(bytes: u64) -> String {
    match bytes {
        n if n < 1024 => format!("{n} B"),
        n if n < 1024 * 1024 => format!("{:.1} KiB", n as f64 / 1024.0),
        n => format!("{:.1} MiB", n as f64 / (1024.0 * 1024.0)),
    }
}

impl Stamp {
    pub(crate) fn read(path: &Path) -> Option<Stamp> {
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

    pub(crate) fn write(&self, path: &Path) -> anyhow::Result<()> {
        let text = format!(
            "fingerprint {}\ntoolchain {}\n",
            self.fingerprint, self.toolchain
        );
        std::fs::write(path, text).with_context(|| format!("cannot write {}", path.display()))
    }
}
