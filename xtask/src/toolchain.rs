//! Every tool the workspace runs: how to ask it for its version, and how to install it.
//! `cargo xtask doctor` lists them; each plugin language names the ones it builds with.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use anyhow::{bail, Context};
use xshell::Shell;

use crate::apt::apt_install;
use crate::process::run_to_stderr;

/// One tool, found by running it.
pub struct Toolchain {
    /// The name `doctor` shows.
    pub name: &'static str,
    /// Returns the tool's version line, or why it cannot be used.
    probe: fn(&Shell) -> anyhow::Result<String>,
    /// How to install it, for the message about a missing one.
    pub fix: &'static str,
    /// What `cargo xtask setup` does about it, if it can install it by itself.
    pub install: Option<Install>,
}

/// An installer `cargo xtask setup` runs.
pub struct Install {
    /// Whether to run it: the tool is missing, or it is an earlier install of ours that the
    /// installer may bring up to date (it returns at once when nothing changed).
    pub wanted: fn(&Shell) -> bool,
    /// Installs the tool and returns its version line.
    pub run: fn(&Shell) -> anyhow::Result<String>,
}

/// Version lines found in this process, by tool and directory: a run probes a tool once, though
/// several entries build with it (java-host and java-aot-host). Only tools found are kept, so
/// `cargo xtask setup` sees a tool it has just installed.
static FOUND: Mutex<BTreeMap<(&str, PathBuf), String>> = Mutex::new(BTreeMap::new());

impl Toolchain {
    /// The version line, or one line saying why the tool is unusable and how to fix that.
    pub fn probe(&self, sh: &Shell) -> anyhow::Result<String> {
        let key = (self.name, sh.current_dir());
        let found = FOUND.lock().unwrap_or_else(|poison| poison.into_inner());
        if let Some(version) = found.get(&key) {
            return Ok(version.clone());
        }
        drop(found);
        let version =
            (self.probe)(sh).map_err(|error| anyhow::anyhow!("{error:#}; {}", self.fix))?;
        FOUND
            .lock()
            .unwrap_or_else(|poison| poison.into_inner())
            .insert(key, version.clone());
        Ok(version)
    }
}

/// Probes every tool of `toolchains` at once, each on a thread of its own, in `sh`'s directory,
/// so that the probes that follow find them: most of a probe is a process starting (a JVM for
/// Maven, Node.js for npm), and a run probes a dozen tools.
pub fn probe_in_parallel(sh: &Shell, toolchains: &[&'static Toolchain]) {
    let dir = sh.current_dir();
    std::thread::scope(|scope| {
        for toolchain in toolchains {
            let dir = dir.clone();
            scope.spawn(move || {
                if let Ok(sh) = Shell::new() {
                    sh.change_dir(dir);
                    // A missing tool is said by the probe that follows, in order.
                    let _ = toolchain.probe(&sh);
                }
            });
        }
    });
}

/// The tools of the workspace itself, whichever languages are built.
pub const WORKSPACE: &[&Toolchain] = &[&CARGO, &RUSTFMT, &CLIPPY, &ACTIONLINT];

const RUSTUP_FIX: &str =
    "run `rustup toolchain install` at the root (it reads rust-toolchain.toml)";

pub const CARGO: Toolchain = Toolchain {
    name: "cargo",
    probe: |sh| version_line(sh, &crate::cargo(), &["--version"]),
    fix: RUSTUP_FIX,
    install: None,
};

pub const RUSTFMT: Toolchain = Toolchain {
    name: "rustfmt",
    probe: |sh| version_line(sh, "rustfmt", &["--version"]),
    fix: RUSTUP_FIX,
    install: None,
};

pub const CLIPPY: Toolchain = Toolchain {
    name: "clippy",
    probe: |sh| version_line(sh, &crate::cargo(), &["clippy", "--version"]),
    fix: RUSTUP_FIX,
    install: None,
};

/// The Go module that pins the Go programs the checks run (actionlint), and where they land.
const GO_TOOLS: &str = "xtask/tools";
const ACTIONLINT_PROGRAM: &str = "target/tools/actionlint/actionlint";

/// actionlint, the linter of the GitHub Actions workflow (`cargo xtask lint`), built from the Go
/// module proxy at the version xtask/tools/go.sum pins.
pub const ACTIONLINT: Toolchain = Toolchain {
    name: "actionlint",
    probe: |sh| {
        let program = crate::project_root().join(ACTIONLINT_PROGRAM);
        let line = version_line(sh, &program.to_string_lossy(), &["--version"])?;
        Ok(format!("actionlint {line}"))
    },
    fix: "run `cargo xtask setup` (it builds actionlint from the Go module proxy into \
          target/tools/actionlint)",
    install: Some(Install {
        // Also when present: a changed go.sum builds it again.
        wanted: |sh| ACTIONLINT.probe(sh).is_err() || !go_tools_stamp_matches(),
        run: |sh| {
            let root = crate::project_root();
            GO.probe(sh)?;
            let _dir = sh.push_dir(root.join(GO_TOOLS));
            let out = root.join(ACTIONLINT_PROGRAM);
            run_to_stderr(xshell::cmd!(
                sh,
                "go build -o {out} github.com/rhysd/actionlint/cmd/actionlint"
            ))?;
            let sum = std::fs::read(root.join(GO_TOOLS).join("go.sum"))?;
            std::fs::write(go_tools_stamp(), crate::fingerprint::hash_bytes(&sum))?;
            ACTIONLINT.probe(sh)
        },
    }),
};

fn go_tools_stamp() -> std::path::PathBuf {
    crate::project_root().join("target/tools/actionlint/go.sum.stamp")
}

fn go_tools_stamp_matches() -> bool {
    let sum = std::fs::read(crate::project_root().join(GO_TOOLS).join("go.sum"));
    let stamp = std::fs::read_to_string(go_tools_stamp());
    matches!((sum, stamp), (Ok(sum), Ok(stamp)) if stamp == crate::fingerprint::hash_bytes(&sum))
}

/// The program actionlint is, once `cargo xtask setup` built it.
pub(crate) fn actionlint(sh: &Shell) -> anyhow::Result<std::path::PathBuf> {
    ACTIONLINT.probe(sh)?;
    Ok(crate::project_root().join(ACTIONLINT_PROGRAM))
}

pub const RUSTC: Toolchain = Toolchain {
    name: "rustc",
    probe: |sh| version_line(sh, "rustc", &["--version"]),
    fix: RUSTUP_FIX,
    install: None,
};

pub const WASM32_UNKNOWN: &str = "wasm32-unknown-unknown";

pub const WASM32_UNKNOWN_TARGET: Toolchain = Toolchain {
    name: WASM32_UNKNOWN,
    probe: |sh| {
        let rustc = version_line(sh, "rustc", &["--version"])?;
        let libdir = version_line(
            sh,
            "rustc",
            &["--print", "target-libdir", "--target", WASM32_UNKNOWN],
        )?;
        if !Path::new(&libdir).is_dir() {
            bail!("the target is not installed for {rustc}");
        }
        Ok(format!("installed for {rustc}"))
    },
    fix:
        "run `rustup toolchain install` at the root, or `rustup target add wasm32-unknown-unknown`",
    install: None,
};

pub const GO: Toolchain = Toolchain {
    name: "go",
    probe: |sh| {
        // Run inside plugins-go so that go.mod's toolchain line decides which Go answers.
        let _dir = sh.push_dir(crate::project_root().join("plugins-go"));
        let line = version_line(sh, "go", &["version"])?;
        at_least(&line, "go version go", (1, 24))?;
        Ok(line)
    },
    fix: "install Go 1.24 or newer (https://go.dev/dl, or your package manager)",
    install: None,
};

pub const TINYGO: Toolchain = Toolchain {
    name: "tinygo",
    probe: |sh| {
        let program = crate::tinygo_install::program();
        let line = version_line(sh, &program.to_string_lossy(), &["version"])?;
        at_least(&line, "tinygo version ", (0, 34))?;
        Ok(line)
    },
    fix:
        "run `cargo xtask setup` (on Debian it builds TinyGo into target/tools/tinygo), or install \
          TinyGo 0.34 or newer (https://tinygo.org/getting-started/install/)",
    install: Some(Install {
        // A TinyGo on PATH is used as it is; our own install is kept up to date.
        wanted: |sh| crate::tinygo_install::wrapper().is_file() || TINYGO.probe(sh).is_err(),
        run: crate::tinygo_install::install,
    }),
};

/// Debian's clang 19 (and its wasm-ld, from lld-19): the C plugin's compiler, and the one TinyGo's
/// installer brings too.
pub const CLANG19: Toolchain = Toolchain {
    name: "clang-19",
    probe: |sh| {
        let line = version_line(sh, "clang-19", &["--version"])?;
        version_line(sh, "wasm-ld-19", &["--version"])
            .map_err(|error| anyhow::anyhow!("{line}, but no wasm-ld-19: {error:#}"))?;
        Ok(line)
    },
    fix: "run `cargo xtask setup` (on Debian it installs clang-19 and lld-19), or install clang \
          and lld 19 with the wasm32 target",
    install: Some(Install {
        wanted: |sh| CLANG19.probe(sh).is_err(),
        run: |sh| {
            apt_install(sh, "clang-19", &["clang-19", "lld-19"])?;
            CLANG19.probe(sh)
        },
    }),
};

/// Debian's clang-format 19, the C plugin's formatter.
pub const CLANG_FORMAT19: Toolchain = Toolchain {
    name: "clang-format-19",
    probe: |sh| version_line(sh, "clang-format-19", &["--version"]),
    fix:
        "run `cargo xtask setup` (on Debian it installs clang-format-19), or install clang-format \
          19",
    install: Some(Install {
        wanted: |sh| CLANG_FORMAT19.probe(sh).is_err(),
        run: |sh| {
            apt_install(sh, "clang-format-19", &["clang-format-19"])?;
            CLANG_FORMAT19.probe(sh)
        },
    }),
};

/// Zig, from PyPI's `ziglang` wheel (no other registry here ships it), pinned with hashes in
/// plugins-zig/requirements.txt.
pub const ZIG: Toolchain = Toolchain {
    name: "zig",
    probe: |sh| {
        let python = crate::zig_install::python();
        let version = version_line(sh, &python.to_string_lossy(), &["-m", "ziglang", "version"])?;
        Ok(format!("zig {version} (PyPI ziglang)"))
    },
    fix: "run `cargo xtask setup` (it installs PyPI's ziglang into target/tools/zig)",
    install: Some(Install {
        // Also when present: a changed requirements file is installed again.
        wanted: |_| true,
        run: |sh| {
            PYTHON3
                .probe(sh)
                .context("ziglang is installed with python3's venv")?;
            crate::zig_install::install(sh, |sh| ZIG.probe(sh))
        },
    }),
};

pub const PYTHON3: Toolchain = Toolchain {
    name: "python3",
    probe: |sh| {
        let line = version_line(sh, "python3", &["--version"])?;
        at_least(&line, "Python ", (3, 9))?;
        // Debian splits venv's pip bootstrap into python3-venv: without it `-m venv` fails.
        xshell::cmd!(sh, "python3 -c 'import ensurepip, venv'")
            .quiet()
            .ignore_stderr()
            .run()
            .map_err(|_| anyhow::anyhow!("{line} has no venv module (or no ensurepip)"))?;
        Ok(format!("{line}, with venv"))
    },
    fix: "run `cargo xtask setup` (on Debian it installs python3 and python3-venv), or install \
          Python 3.9 or newer with its venv module",
    install: Some(Install {
        wanted: |sh| PYTHON3.probe(sh).is_err(),
        run: |sh| {
            apt_install(sh, "python3", &["python3", "python3-venv"])?;
            PYTHON3.probe(sh)
        },
    }),
};

pub const NODE: Toolchain = Toolchain {
    name: "node",
    probe: |sh| {
        let line = version_line(sh, "node", &["--version"])?;
        at_least(&line, "v", (18, 0))?;
        Ok(format!("node {line}"))
    },
    fix: "run `cargo xtask setup` (on Debian it installs nodejs and npm), or install Node.js 18 \
          or newer",
    install: Some(Install {
        wanted: |sh| NODE.probe(sh).is_err() || NPM.probe(sh).is_err(),
        run: |sh| {
            apt_install(sh, "node", &["nodejs", "npm"])?;
            NODE.probe(sh)
        },
    }),
};

/// Chromium, for the results page's browser check: Debian's own, since nothing here may
/// download a browser (Playwright's `playwright-core` drives it at this path).
pub const CHROMIUM: Toolchain = Toolchain {
    name: "chromium",
    probe: |sh| {
        let program = chromium_path(sh)?;
        version_line(sh, &program, &["--version"])
    },
    fix: "run `cargo xtask setup` (on Debian it installs the chromium package), or put a \
          Chromium or Chrome on PATH as `chromium`",
    install: Some(Install {
        wanted: |sh| CHROMIUM.probe(sh).is_err(),
        run: |sh| {
            apt_install(sh, "chromium", &["chromium"])?;
            CHROMIUM.probe(sh)
        },
    }),
};

/// Where the browser is: `chromium` on PATH (Debian's package), else `chromium-browser`.
pub(crate) fn chromium_path(_sh: &Shell) -> anyhow::Result<String> {
    // Debian's package is `chromium`; other distributions and GitHub's runners have these.
    for name in [
        "chromium",
        "chromium-browser",
        "google-chrome",
        "google-chrome-stable",
    ] {
        if let Some(file) = find_on_path(name) {
            return Ok(file.to_string_lossy().into_owned());
        }
    }
    bail!("`chromium` (or chromium-browser, google-chrome) is not on PATH")
}

/// What `npm --version` prints, which is the `version` of the package its `bin/npm-cli.js` is
/// in: read from that package.json without starting Node.js (a probe in every build), or, when
/// npm is laid out otherwise, by running it.
fn npm_version(sh: &Shell) -> anyhow::Result<String> {
    let read = || -> Option<String> {
        let cli = std::fs::canonicalize(find_on_path("npm")?).ok()?;
        if cli.file_name()? != "npm-cli.js" {
            return None;
        }
        let package = std::fs::read_to_string(cli.parent()?.parent()?.join("package.json")).ok()?;
        let package: serde_json::Value = serde_json::from_str(&package).ok()?;
        let version = package["version"].as_str()?;
        (package["name"] == "npm").then(|| version.to_owned())
    };
    match read() {
        Some(version) => Ok(version),
        None => version_line(sh, "npm", &["--version"]),
    }
}

pub const NPM: Toolchain = Toolchain {
    name: "npm",
    probe: |sh| Ok(format!("npm {}", npm_version(sh)?)),
    fix: "run `cargo xtask setup` (on Debian it installs nodejs and npm), or install npm with \
          Node.js",
    install: None,
};

/// A JDK: the Java host's compiler (javac) and its runtime (java). Java 17 is the machine's
/// default; chicory-sdk-core 0.3.0 needs 11, and host-java is written for 17.
pub const JAVA: Toolchain = Toolchain {
    name: "java",
    probe: |sh| {
        // `--version` prints on stdout, `-version` on stderr.
        let line = version_line(sh, "java", &["--version"])?;
        let prefix = if line.starts_with("java ") {
            "java "
        } else {
            "openjdk "
        };
        at_least(&line, prefix, (17, 0))?;
        // On PATH is enough to tell a JDK from a JRE; running javac would start a second JVM
        // in every build's probe, and a javac that cannot run fails the build that needs it.
        if !on_path("javac") {
            bail!("{line}, but no javac on PATH (a JRE, not a JDK)");
        }
        Ok(line)
    },
    fix: "run `cargo xtask setup` (on Debian it installs openjdk-17-jdk-headless and maven), or \
          install a JDK 17 or newer",
    install: Some(Install {
        wanted: |sh| JAVA.probe(sh).is_err() || MAVEN.probe(sh).is_err(),
        run: |sh| {
            apt_install(sh, "java", &["openjdk-17-jdk-headless", "maven"])?;
            JAVA.probe(sh)
        },
    }),
};

pub const MAVEN: Toolchain = Toolchain {
    name: "maven",
    probe: |sh| {
        let line = version_line(sh, "mvn", &["--batch-mode", "--version"])?;
        // Maven 3.8 starts its version line with a colour reset even in batch mode.
        let line = line
            .replace("\u{1b}[0m", "")
            .replace("\u{1b}[1m", "")
            .replace("\u{1b}[m", "");
        let line = line.trim().to_owned();
        at_least(&line, "Apache Maven ", (3, 6))?;
        Ok(line)
    },
    fix: "run `cargo xtask setup` (on Debian it installs openjdk-17-jdk-headless and maven), or \
          install Maven 3.6 or newer",
    install: None,
};

/// The first line a command prints on stdout, trimmed.
fn version_line(sh: &Shell, program: &str, args: &[&str]) -> anyhow::Result<String> {
    if !on_path(program) {
        bail!("`{program}` is not on PATH");
    }
    let output = sh
        .cmd(program)
        .args(args)
        .quiet()
        .ignore_stderr()
        .read()
        .with_context(|| format!("`{program} {}` failed", args.join(" ")))?;
    Ok(output.lines().next().unwrap_or_default().trim().to_owned())
}

fn on_path(program: &str) -> bool {
    if program.contains('/') {
        return Path::new(program).is_file();
    }
    find_on_path(program).is_some()
}

/// The first file named `name` in a directory of PATH.
fn find_on_path(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(name))
        .find(|file| file.is_file())
}

/// Checks that the version after `prefix` in `line` is at least `minimum` (major, minor).
fn at_least(line: &str, prefix: &str, minimum: (u32, u32)) -> anyhow::Result<()> {
    let version = parse_version(line, prefix)
        .with_context(|| format!("cannot read a version from `{line}`"))?;
    if version < minimum {
        bail!(
            "{}.{} is too old, {}.{} or newer is needed (`{line}`)",
            version.0,
            version.1,
            minimum.0,
            minimum.1
        );
    }
    Ok(())
}

fn parse_version(line: &str, prefix: &str) -> Option<(u32, u32)> {
    let rest = line.strip_prefix(prefix)?;
    let mut parts = rest.split(|c: char| !c.is_ascii_digit());
    let major = parts.next()?.parse().ok()?;
    let minor = parts.next()?.parse().ok()?;
    Some((major, minor))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_are_read_from_version_lines() {
        let go = "go version go1.26.8 linux/amd64";
        assert_eq!(parse_version(go, "go version go"), Some((1, 26)));
        let tinygo =
            "tinygo version 0.41.1 linux/amd64 (using go version go1.26.8 and LLVM version 19.1.7)";
        assert_eq!(parse_version(tinygo, "tinygo version "), Some((0, 41)));
        assert_eq!(parse_version("go version devel", "go version go"), None);
        assert!(at_least("go version go1.24rc1 linux/amd64", "go version go", (1, 24)).is_ok());
        let old = at_least("go version go1.23.4 linux/amd64", "go version go", (1, 24));
        assert_eq!(
            old.unwrap_err().to_string(),
            "1.23 is too old, 1.24 or newer is needed (`go version go1.23.4 linux/amd64`)"
        );
    }
}
