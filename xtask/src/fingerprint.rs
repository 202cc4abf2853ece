//! Fingerprints of sources: a hash of every file under a directory and of the toolchain that
//! builds it, which the stamps beside the artifacts record, and the hash of a lock file.

use std::hash::{DefaultHasher, Hash, Hasher};
use std::path::Path;

use anyhow::Context;

/// A hash of every file under `dir` (paths and contents, in a stable order, skipping the
/// `ignored` top-level directories) and of the toolchain version. Contents rather than mtimes,
/// so a fresh checkout or a `touch` does not force a rebuild.
pub(crate) fn fingerprint(dir: &Path, ignored: &[&str], toolchain: &str) -> anyhow::Result<String> {
    let files = source_files(dir, ignored)?;
    // DefaultHasher may change between Rust releases; the toolchain is part of the stamp too,
    // so such a change only costs one rebuild.
    let mut hasher = DefaultHasher::new();
    toolchain.hash(&mut hasher);
    for relative in &files {
        let contents = std::fs::read(dir.join(relative))
            .with_context(|| format!("cannot read {}", dir.join(relative).display()))?;
        relative.hash(&mut hasher);
        contents.hash(&mut hasher);
    }
    Ok(format!("{:016x}-{}", hasher.finish(), files.len()))
}

/// A hash of `bytes` for stamps, such as a lock file's contents.
pub(crate) fn hash_bytes(bytes: &[u8]) -> String {
    let mut hasher = DefaultHasher::new();
    bytes.hash(&mut hasher);
    format!("{:016x}-{}", hasher.finish(), bytes.len())
}

/// Every file under `dir`, relative to it with `/` separators, in path order, skipping the
/// `ignored` top-level directories: what a fingerprint covers.
pub fn source_files(dir: &Path, ignored: &[&str]) -> anyhow::Result<Vec<String>> {
    let mut files = Vec::new();
    collect_files(dir, dir, ignored, &mut files)?;
    files.sort();
    Ok(files)
}

fn collect_files(
    root: &Path,
    dir: &Path,
    ignored: &[&str],
    files: &mut Vec<String>,
) -> anyhow::Result<()> {
    let entries =
        std::fs::read_dir(dir).with_context(|| format!("cannot list {}", dir.display()))?;
    for entry in entries {
        let path = entry?.path();
        let relative = path
            .strip_prefix(root)?
            .to_string_lossy()
            .replace('\\', "/");
        if path.is_dir() {
            if !ignored.contains(&relative.as_str()) {
                collect_files(root, &path, ignored, files)?;
            }
        } else {
            files.push(relative);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn changes_with_contents_and_toolchain_but_not_ignored_dirs() {
        let dir = std::env::temp_dir().join(format!("xtask-fingerprint-{}", std::process::id()));
        std::fs::create_dir_all(dir.join("src")).unwrap();
        std::fs::create_dir_all(dir.join("target")).unwrap();
        std::fs::write(dir.join("src/lib.rs"), "a").unwrap();
        let first = fingerprint(&dir, &["target"], "v1").unwrap();

        std::fs::write(dir.join("target/out"), "junk").unwrap();
        assert_eq!(fingerprint(&dir, &["target"], "v1").unwrap(), first);
        assert_ne!(fingerprint(&dir, &["target"], "v2").unwrap(), first);

        std::fs::write(dir.join("src/lib.rs"), "b").unwrap();
        assert_ne!(fingerprint(&dir, &["target"], "v1").unwrap(), first);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
