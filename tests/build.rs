//! Embeds a hash of the sources this crate's executables are built from, so that a reused
//! verdict (tests/src/reuse.rs) is keyed by the code that produced it, never by files edited
//! since the executable was built. Two hashes: the harness (this crate, xtask, the workspace's
//! manifests, lock file and toolchain pin) and the in-process Rust host (host/). std's SipHash,
//! 128 bits from two differently seeded runs, rather than sha2: a build-dependency on sha2 would
//! resolve its features apart from wasmtime's build-time use of it, and make `cargo build -p host`
//! (the demo) and `cargo test` compile wiggle, wasmtime-wasi and extism once each.

use std::hash::{DefaultHasher, Hash, Hasher};
use std::path::{Path, PathBuf};

/// Relative to the workspace root; a directory stands for every file under it.
const HARNESS: &[&str] = &[
    "tests/src",
    "tests/suite",
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
        ("CONFORMANCE_HARNESS_HASH", HARNESS),
        ("CONFORMANCE_RUST_HOST_HASH", RUST_HOST),
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
    let mut halves = [DefaultHasher::new(), DefaultHasher::new()];
    halves[1].write(b"second half");
    for file in &files {
        let relative = file.strip_prefix(root).unwrap_or(file);
        let contents = std::fs::read(file)
            .unwrap_or_else(|error| panic!("cannot read {}: {error}", file.display()));
        for hasher in &mut halves {
            // `Hash` for slices writes the length first: no two sets of files hash alike.
            relative.to_string_lossy().as_bytes().hash(hasher);
            contents.hash(hasher);
        }
    }
    format!("{:016x}{:016x}", halves[0].finish(), halves[1].finish())
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
