//! A passing verdict of a whole test executable, reused while nothing it depends on changed:
//! the executable's own bytes (all of its code) and the files it reads, named by the caller.
//! For the workspace's tests beside the conformance run (whose trials are reused one by one,
//! tests/src/reuse.rs), so that a `cargo test` after no change takes seconds. Never under
//! `CI=true` or with [`RUN_ALL_ENV`] set; a stamp is written only after a pass.

use std::path::{Path, PathBuf};

use anyhow::Context;
use sha2::{Digest, Sha256};

pub use suite::run_all::ENV as RUN_ALL_ENV;

/// Where the stamps live, relative to the project root.
const STAMPS: &str = "target/verdicts";

/// Whether reuse is allowed in this process's environment.
pub fn allowed() -> bool {
    !crate::in_ci() && suite::run_all::from_env().is_none()
}

/// The verdict of the test executable `name`, under a key made of its executable and `inputs`
/// (files; a missing one counts as missing).
pub struct Stamp {
    name: String,
    path: PathBuf,
    key: String,
}

impl Stamp {
    pub fn new(name: &str, inputs: &[PathBuf]) -> anyhow::Result<Stamp> {
        let exe = std::env::current_exe().context("cannot find this test executable")?;
        let mut hasher = Sha256::new();
        for file in std::iter::once(&exe).chain(inputs) {
            let bytes = std::fs::read(file).ok();
            let path = file.to_string_lossy();
            for part in [path.as_bytes(), bytes.as_deref().unwrap_or(b"\0absent")] {
                hasher.update((part.len() as u64).to_le_bytes());
                hasher.update(part);
            }
        }
        Ok(Stamp {
            name: name.to_owned(),
            path: crate::project_root()
                .join(STAMPS)
                .join(format!("{name}.stamp")),
            key: format!("{:x}", hasher.finalize()),
        })
    }

    /// Whether an earlier run of the same executable on the same inputs passed, and reuse is
    /// allowed; if so, says so on stderr.
    pub fn passed_before(&self) -> bool {
        let fresh = allowed() && std::fs::read_to_string(&self.path).is_ok_and(|k| k == self.key);
        if fresh {
            eprintln!(
                "{}: passed before on the same executable and inputs; verdict reused \
                 ({RUN_ALL_ENV}=1 runs it)",
                self.name
            );
        }
        fresh
    }

    /// Records a pass. A stamp that cannot be written costs the next run its reuse only.
    pub fn pass(&self) {
        let written = self
            .path
            .parent()
            .map_or(Ok(()), std::fs::create_dir_all)
            .and_then(|()| std::fs::write(&self.path, &self.key));
        if let Err(error) = written {
            eprintln!("warning: cannot write {}: {error}", self.path.display());
        }
    }

    /// Forgets the last pass, before a run that may fail.
    pub fn forget(&self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

/// Every file under `dir` with one of `extensions`, sorted: for inputs such as built modules.
pub fn files_under(dir: &Path, extensions: &[&str]) -> Vec<PathBuf> {
    let mut files = Vec::new();
    let mut dirs = vec![dir.to_path_buf()];
    while let Some(dir) = dirs.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for path in entries.flatten().map(|entry| entry.path()) {
            if path.is_dir() {
                dirs.push(path);
            } else if path
                .extension()
                .is_some_and(|ext| extensions.iter().any(|e| ext == *e))
            {
                files.push(path);
            }
        }
    }
    files.sort();
    files
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pass_is_reused_only_on_the_same_inputs_and_never_under_ci() {
        let dir = std::env::temp_dir().join(format!("xtask-reuse-{}", std::process::id()));
        std::fs::create_dir_all(dir.join("sub")).unwrap();
        let input = dir.join("sub/input.wasm");
        std::fs::write(&input, "one").unwrap();
        std::fs::write(dir.join("ignored.txt"), "").unwrap();
        assert_eq!(files_under(&dir, &["wasm"]), std::slice::from_ref(&input));

        let name = format!("xtask-unit-test-{}", std::process::id());
        let stamp = Stamp::new(&name, std::slice::from_ref(&input)).unwrap();
        stamp.forget();
        assert!(!stamp.passed_before());
        stamp.pass();
        // Under CI=true (or CONFORMANCE_RUN_ALL) nothing is reused, whatever the stamp says.
        assert_eq!(stamp.passed_before(), allowed());
        std::fs::write(&input, "two").unwrap();
        let changed = Stamp::new(&name, std::slice::from_ref(&input)).unwrap();
        assert!(!changed.passed_before());
        std::fs::remove_file(&input).unwrap();
        let missing = Stamp::new(&name, &[input]).unwrap();
        assert!(!missing.passed_before());
        stamp.forget();
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
