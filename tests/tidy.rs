//! Repository-wide checks, run by `cargo test` so that CI and a local run agree.

use xshell::Shell;

#[test]
fn code_is_formatted() -> anyhow::Result<()> {
    let stamp = format_stamp();
    if stamp
        .as_ref()
        .is_some_and(xtask::reuse::Stamp::passed_before)
    {
        return Ok(());
    }
    xtask::fmt(&Shell::new()?, true)?;
    if let Some(stamp) = stamp {
        stamp.pass();
    }
    Ok(())
}

/// What the format check's verdict depends on: this executable, every file git would commit
/// (the formatters' pinned versions are in the lock files and rust-toolchain.toml among them),
/// and the two formatters that come with the machine, gofmt and clang-format-19. `None` (so the
/// check runs) outside a git checkout or when a formatter is not on PATH.
fn format_stamp() -> Option<xtask::reuse::Stamp> {
    let root = xtask::project_root();
    let output = std::process::Command::new("git")
        .args([
            "ls-files",
            "-z",
            "--cached",
            "--others",
            "--exclude-standard",
        ])
        .current_dir(&root)
        .output()
        .ok()
        .filter(|output| output.status.success())?;
    let mut inputs: Vec<std::path::PathBuf> = output
        .stdout
        .split(|&byte| byte == 0)
        .filter(|name| !name.is_empty())
        .map(|name| root.join(String::from_utf8_lossy(name).as_ref()))
        .collect();
    for tool in ["gofmt", "clang-format-19"] {
        let path = std::env::var_os("PATH")?;
        let found = std::env::split_paths(&path)
            .map(|dir| dir.join(tool))
            .find(|candidate| candidate.is_file())?;
        inputs.push(std::fs::canonicalize(found).ok()?);
    }
    xtask::reuse::Stamp::new("tidy-format", &inputs).ok()
}

/// xtask must stay quick to compile and plugins must build for wasm alone: neither may pull in
/// the host crate (and with it wasmtime).
#[test]
fn xtask_and_plugins_do_not_depend_on_the_host() -> anyhow::Result<()> {
    let root = xtask::project_root();
    for manifest in [
        "xtask/Cargo.toml",
        "plugins-rust/Cargo.toml",
        "plugins-hostile/rust/Cargo.toml",
    ] {
        let text = std::fs::read_to_string(root.join(manifest))?;
        let parsed: toml::Table = text.parse()?;
        for section in ["dependencies", "dev-dependencies", "build-dependencies"] {
            let depends = parsed
                .get(section)
                .and_then(|deps| deps.as_table())
                .is_some_and(|deps| deps.keys().any(|name| name == "host" || name == "extism"));
            anyhow::ensure!(
                !depends,
                "{manifest}: [{section}] must not name `host` or `extism`"
            );
        }
    }
    Ok(())
}

/// The conformance library depends on no host, so its unit tests link no wasm engine (only the
/// conformance executable, a dev-dependency user, drives the in-process host).
#[test]
fn the_conformance_library_depends_on_no_host() -> anyhow::Result<()> {
    let text = std::fs::read_to_string(xtask::project_root().join("tests/Cargo.toml"))?;
    let parsed: toml::Table = text.parse()?;
    let deps = parsed
        .get("dependencies")
        .and_then(|deps| deps.as_table())
        .ok_or_else(|| anyhow::anyhow!("tests/Cargo.toml has no [dependencies]"))?;
    for name in ["host", "extism", "wasmtime"] {
        anyhow::ensure!(
            !deps.contains_key(name),
            "tests/Cargo.toml: [dependencies] must not name `{name}` (a dev-dependency is fine)"
        );
    }
    Ok(())
}
