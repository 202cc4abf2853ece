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

/// The Rust sources of the workspace's own crates (not the plugins', which are wasm modules).
fn rust_sources(dirs: &[&str]) -> anyhow::Result<Vec<(String, String)>> {
    let root = xtask::project_root();
    let mut files = Vec::new();
    for dir in dirs {
        // The page check's npm packages are no code of ours.
        for file in xtask::source_files(&root.join(dir), &["page/node_modules"])? {
            if file.ends_with(".rs") {
                let relative = format!("{dir}/{file}");
                files.push((
                    relative.clone(),
                    std::fs::read_to_string(root.join(&relative))?,
                ));
            }
        }
    }
    files.sort();
    Ok(files)
}

const OWN_CODE: &[&str] = &[
    "host/src",
    "host/tests",
    "host/benches",
    "tests",
    "xtask/src",
];

/// Every module says what it holds in its first line, as ARCHITECTURE.md's code map relies on.
#[test]
fn every_rust_module_starts_with_what_it_holds() -> anyhow::Result<()> {
    let missing: Vec<String> = rust_sources(OWN_CODE)?
        .into_iter()
        .filter(|(_, text)| !text.trim_start().starts_with("//!"))
        .map(|(path, _)| path)
        .collect();
    anyhow::ensure!(
        missing.is_empty(),
        "these modules do not start with a `//!` line saying what they hold: {}",
        missing.join(", ")
    );
    Ok(())
}

/// The longest a function of the harness (tests/ and xtask/) may be: one purpose each.
const LONGEST_FUNCTION: usize = 100;

/// Each function (`fn` at the start of a line) and how many lines it takes, up to the closing
/// brace at its own indentation (rustfmt's layout).
fn function_lengths(text: &str) -> Vec<(String, usize)> {
    let lines: Vec<&str> = text.lines().collect();
    let mut found = Vec::new();
    for (start, line) in lines.iter().enumerate() {
        let trimmed = line.trim_start();
        let indent = line.len() - trimmed.len();
        let signature = [
            "fn ",
            "pub fn ",
            "pub(crate) fn ",
            "pub(super) fn ",
            "async fn ",
        ]
        .iter()
        .find_map(|prefix| trimmed.strip_prefix(prefix));
        let Some(rest) = signature else { continue };
        if trimmed.ends_with('}') || trimmed.ends_with(';') {
            found.push((
                rest.chars()
                    .take_while(|c| c.is_alphanumeric() || *c == '_')
                    .collect(),
                1,
            ));
            continue;
        }
        let name: String = rest
            .chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_')
            .collect();
        let close = format!("{}}}", " ".repeat(indent));
        let end = lines[start..].iter().position(|l| *l == close);
        if let Some(end) = end {
            found.push((name, end + 1));
        }
    }
    found
}

#[test]
fn no_function_of_the_harness_is_longer_than_a_screen() -> anyhow::Result<()> {
    let mut long = Vec::new();
    for (path, text) in rust_sources(&["tests", "xtask/src"])? {
        for (name, length) in function_lengths(&text) {
            if length > LONGEST_FUNCTION {
                long.push(format!("{path}: {name} ({length} lines)"));
            }
        }
    }
    anyhow::ensure!(
        long.is_empty(),
        "functions longer than {LONGEST_FUNCTION} lines (split them by purpose): {}",
        long.join(", ")
    );
    Ok(())
}

#[test]
fn function_lengths_are_counted_to_their_closing_brace() {
    let text = "fn a() {\n    x();\n}\n\n    pub fn b(\n        y: u8,\n    ) {\n    }\nfn c();\n";
    assert_eq!(
        function_lengths(text),
        [
            ("a".to_owned(), 3),
            ("b".to_owned(), 4),
            ("c".to_owned(), 1)
        ]
    );
}

/// The conformance executable's modules stand on `floor` and each other, never on `main.rs`,
/// which only puts them together: what `main.rs` defines, nothing else uses.
#[test]
fn no_module_of_the_conformance_run_imports_from_its_main() -> anyhow::Result<()> {
    let sources = rust_sources(&["tests/conformance"])?;
    let main = &sources
        .iter()
        .find(|(path, _)| path.ends_with("conformance/main.rs"))
        .ok_or_else(|| anyhow::anyhow!("tests/conformance/main.rs is missing"))?
        .1;
    let defined: Vec<String> = main
        .lines()
        .filter_map(|line| {
            let line = line.strip_prefix("pub ").unwrap_or(line);
            [
                "fn ", "struct ", "enum ", "const ", "static ", "type ", "trait ",
            ]
            .iter()
            .find_map(|keyword| line.strip_prefix(keyword))
            .map(|rest| {
                rest.chars()
                    .take_while(|c| c.is_alphanumeric() || *c == '_')
                    .collect()
            })
        })
        .collect();
    let mut uses = Vec::new();
    for (path, text) in sources
        .iter()
        .filter(|(path, _)| !path.ends_with("main.rs"))
    {
        let direct_child = path.matches('/').count() == 2;
        if direct_child && text.contains("super::") && !text.contains("mod tests") {
            uses.push(format!("{path}: super::"));
        }
        for name in &defined {
            for pattern in [format!("crate::{name}"), format!("crate::{{{name}")] {
                if text.contains(&pattern) {
                    uses.push(format!("{path}: {pattern}"));
                }
            }
        }
    }
    anyhow::ensure!(
        uses.is_empty(),
        "modules of tests/conformance use what main.rs defines (move it to floor.rs): {}",
        uses.join(", ")
    );
    Ok(())
}

/// Only the table names a language, host or hostile plugin: everything else takes them from it,
/// so adding one is one entry. Unit tests with made-up names are left out (after `#[cfg(test)]`).
#[test]
fn only_the_table_names_languages_and_hosts() -> anyhow::Result<()> {
    let names: Vec<&str> = xtask::LANGUAGES
        .iter()
        .map(|l| l.name())
        .chain(xtask::HOSTS.iter().map(|h| h.name()))
        .chain(xtask::HOSTILE.iter().map(|h| h.name()))
        .collect();
    let mut named = Vec::new();
    for (path, text) in rust_sources(&[
        "tests/src",
        "tests/conformance",
        "tests/suite/src",
        "xtask/src",
        "host/tests",
    ])? {
        // The toolchains' and compilers' modules name programs (`go`, `tinygo`, `zig`), which
        // share a language's name; layers.rs is a test module of made-up names.
        let exempt = [
            "xtask/src/table.rs",
            "xtask/src/toolchain.rs",
            "xtask/src/tinygo_install.rs",
            "xtask/src/compile/",
            "xtask/src/layers.rs",
            "/tests.rs",
        ];
        if exempt.iter().any(|part| path.contains(part)) {
            continue;
        }
        let code = text.split("#[cfg(test)]").next().unwrap_or_default();
        for name in &names {
            if code.contains(&format!("\"{name}\"")) {
                named.push(format!("{path}: \"{name}\""));
            }
        }
    }
    anyhow::ensure!(
        named.is_empty(),
        "names of the table's entries outside xtask/src/table.rs (take them from the table): {}",
        named.join(", ")
    );
    Ok(())
}
