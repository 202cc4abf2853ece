//! Embeds the SHA-256 of the sources this crate's executables are built from, so that a reused
//! verdict (tests/src/reuse.rs) is keyed by the code that produced it, never by files edited
//! since the executable was built. Two hashes: the harness (this crate, xtask, the workspace's
//! manifests, lock file and toolchain pin) and the in-process Rust host (host/).

use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

/// Relative to the workspace root; a directory stands for every file under it.
const HARNESS: &[&str] = &[
    "tests/src",
    "tests/conformance",
    "tests/build.rs",
    "tests/Cargo.toml",
    "xtask/src",
    "xtask/Cargo.toml",
    "Cargo.toml",
    "Cargo.lock",
    "rust-toolchain.toml",
    ".cargo/config.toml",
];
const RUST_HOST: &[&str] = &["host/src", "host/Cargo.toml"];

fn main() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests/ is inside the workspace")
        .to_path_buf();
    for (name, paths) in [
        ("CONFORMANCE_HARNESS_SHA256", HARNESS),
        ("CONFORMANCE_RUST_HOST_SHA256", RUST_HOST),
    ] {
        println!("cargo::rustc-env={name}={}", hash(&root, paths));
    }
}

fn hash(root: &Path, paths: &[&str]) -> String {
    let mut files = Vec::new();
    for path in paths {
        println!("cargo::rerun-if-changed={}", root.join(path).display());
        collect(&root.join(path), &mut files);
    }
    files.sort();
    let mut hasher = Sha256::new();
    for file in &files {
        let relative = file.strip_prefix(root).unwrap_or(file);
        let contents = std::fs::read(file)
            .unwrap_or_else(|error| panic!("cannot read {}: {error}", file.display()));
        // Lengths first, so that no two different sets of files hash alike.
        for part in [relative.to_string_lossy().as_bytes(), &contents] {
            hasher.update((part.len() as u64).to_le_bytes());
            hasher.update(part);
        }
    }
    format!("{:x}", hasher.finalize())
}

fn collect(path: &Path, files: &mut Vec<PathBuf>) {
    if path.is_dir() {
        let entries = std::fs::read_dir(path)
            .unwrap_or_else(|error| panic!("cannot list {}: {error}", path.display()));
        for entry in entries {
            collect(&entry.expect("a directory entry").path(), files);
        }
    } else if path.is_file() {
        files.push(path.to_path_buf());
    }
}
