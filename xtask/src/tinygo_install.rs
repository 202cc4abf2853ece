//! Installs TinyGo on Debian, where no registry ships it, into `target/tools/tinygo/`.
//!
//! The Go module proxy serves TinyGo's release as a module zip (it refuses only the version
//! list, which `go install pkg@version` asks for). So: Debian's LLVM 19 and wasm C libraries
//! from apt, `go mod download` of the exact release, `go build -tags llvm19` inside it, and a
//! TINYGOROOT made from the zip plus Debian's prebuilt wasi-libc and compiler-rt (the zip lacks
//! TinyGo's git submodules). Only the `wasip1` target is made usable.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context};
use xshell::{cmd, Shell};

use crate::apt::apt_install;
use crate::process::run_to_stderr;

const MODULE: &str = "github.com/tinygo-org/tinygo";
const VERSION: &str = "v0.41.1";
/// The `h1:` hash of the release's module zip, so a different zip is refused.
const MODULE_SUM: &str = "h1:Hp1Frc4zQALL88t49XraSZEwkIYEjMOmmurlmsTigzE=";
/// TinyGo v0.41.1 builds with Go 1.23 to 1.26 (its `builder/config.go`).
const GO_MINORS: std::ops::RangeInclusive<u32> = 23..=26;
const LLVM: &str = "19";
const APT_PACKAGES: &[&str] = &[
    "build-essential",
    "llvm-19-dev",
    "libclang-19-dev",
    "clang-19",
    "lld-19",
    "binaryen",
    "wasi-libc",
    "libclang-rt-19-dev-wasm32",
];
/// TinyGo's cache folders for the two C libraries of `wasip1` (`compileopts.Config.LibraryPath`):
/// when `lib.a` is there, TinyGo uses it instead of building the library from sources.
const WASI_LIBC: &str = "wasi-libc-wasm32-unknown-wasi-generic";
const COMPILER_RT: &str = "compiler-rt-wasm32-unknown-wasi-generic";
const WASI_INCLUDE: &str = "/usr/include/wasm32-wasi";
const COMPILER_RT_A: &str = "/usr/lib/llvm-19/lib/clang/19/lib/wasi/libclang_rt.builtins-wasm32.a";

/// Where the install goes: inside the target dir, so `cargo clean` removes it too.
pub fn prefix() -> PathBuf {
    crate::project_root().join("target/tools/tinygo")
}

/// The command to run: a wrapper that points TinyGo at its root and cache under `prefix()`.
pub fn wrapper() -> PathBuf {
    prefix().join("bin/tinygo")
}

/// The `tinygo` the build runs: the one `cargo xtask setup` installed, else the one on PATH.
pub fn program() -> PathBuf {
    let installed = wrapper();
    if installed.is_file() {
        installed
    } else {
        PathBuf::from("tinygo")
    }
}

/// Whether this machine can run the installer: it needs Debian's package tools.
pub fn supported(sh: &Shell) -> anyhow::Result<()> {
    if cmd!(sh, "dpkg-query --version")
        .quiet()
        .ignore_stdout()
        .ignore_stderr()
        .run()
        .is_err()
    {
        bail!("the TinyGo installer needs Debian's apt (dpkg-query was not found)");
    }
    Ok(())
}

/// Installs TinyGo unless the same install (release, Go, LLVM package) is already there.
pub fn install(sh: &Shell) -> anyhow::Result<String> {
    supported(sh)?;
    let prefix = prefix();
    let _go = sh.push_env("GOTOOLCHAIN", "local");
    apt_install(sh, "tinygo", APT_PACKAGES)?;
    let go_version = supported_go(sh)?;
    let version_format = "${Version}";
    let llvm_package = cmd!(sh, "dpkg-query -W -f={version_format} llvm-{LLVM}-dev").read()?;
    let stamp = format!("{VERSION} {MODULE_SUM} {go_version} llvm-{LLVM}-dev {llvm_package}");
    let stamp_path = prefix.join("install.stamp");
    let wrapper = wrapper();
    if sh.read_file(&stamp_path).ok().as_deref() == Some(stamp.as_str()) {
        if let Ok(version) = cmd!(sh, "{wrapper} version").quiet().read() {
            return Ok(version);
        }
    }
    // A half-done install must not pass for a finished one.
    sh.remove_path(&stamp_path)?;
    let module = download(sh)?;
    build_compiler(sh, &prefix, &module)?;
    make_root(sh, &prefix, &module)?;
    seed_libraries(sh, &prefix)?;
    write_wrapper(sh)?;
    let version = cmd!(sh, "{wrapper} version")
        .read()
        .context("the installed tinygo does not run")?;
    sh.write_file(&stamp_path, &stamp)?;
    Ok(version)
}

/// The Go that builds TinyGo (and that TinyGo later runs) must be one this release accepts.
fn supported_go(sh: &Shell) -> anyhow::Result<String> {
    let version = cmd!(sh, "go env GOVERSION")
        .quiet()
        .read()
        .context("`go` is needed to build TinyGo; install Go 1.23 to 1.26")?;
    let minor = version
        .strip_prefix("go1.")
        .and_then(|rest| rest.split('.').next())
        .and_then(|minor| minor.parse::<u32>().ok());
    match minor {
        Some(minor) if GO_MINORS.contains(&minor) => Ok(version),
        _ => bail!(
            "TinyGo {VERSION} builds with Go 1.{} to 1.{}, not {version}",
            GO_MINORS.start(),
            GO_MINORS.end()
        ),
    }
}

/// Downloads the release's module zip (an exact version needs no version list) and returns its
/// folder in the module cache, after checking the zip's hash.
fn download(sh: &Shell) -> anyhow::Result<PathBuf> {
    eprintln!("tinygo: downloading {MODULE}@{VERSION} from the Go module proxy");
    // Outside any module, so no go.mod around us takes part.
    let _dir = sh.push_dir(std::env::temp_dir());
    let json = cmd!(sh, "go mod download -json {MODULE}@{VERSION}")
        .read()
        .with_context(|| format!("the Go module proxy did not serve {MODULE}@{VERSION}"))?;
    let json: serde_json::Value =
        serde_json::from_str(&json).context("`go mod download -json` printed no JSON")?;
    let field = |name: &str| {
        json[name]
            .as_str()
            .map(str::to_owned)
            .with_context(|| format!("`go mod download -json` named no {name}"))
    };
    let (dir, sum) = (field("Dir")?, field("Sum")?);
    if sum != MODULE_SUM {
        bail!("{MODULE}@{VERSION} has hash {sum}, expected {MODULE_SUM}");
    }
    Ok(PathBuf::from(dir))
}

fn build_compiler(sh: &Shell, prefix: &Path, module: &Path) -> anyhow::Result<()> {
    eprintln!("tinygo: building the compiler against LLVM {LLVM} (about a minute)");
    let libexec = prefix.join("libexec");
    sh.create_dir(&libexec)?;
    let partial = libexec.join("tinygo.partial");
    let _dir = sh.push_dir(module);
    // TinyGo's own go.mod and go.sum pin every dependency; the module cache folder is read-only
    // and nothing is written into it.
    run_to_stderr(cmd!(
        sh,
        "go build -mod=readonly -tags llvm{LLVM} -o {partial} ."
    ))
    .context("building TinyGo failed")?;
    sh.copy_file(&partial, libexec.join("tinygo"))?;
    sh.remove_path(&partial)?;
    Ok(())
}

/// TINYGOROOT: a writable copy of the release's `src`, `targets` and `lib`.
fn make_root(sh: &Shell, prefix: &Path, module: &Path) -> anyhow::Result<()> {
    for part in ["src", "targets", "lib", "LICENSE"] {
        let to = prefix.join(part);
        sh.remove_path(&to)?;
        cmd!(sh, "cp -R {module}/{part} {to}").quiet().run()?;
        cmd!(sh, "chmod -R u+w {to}").quiet().run()?;
    }
    // `src/net` is a submodule, absent from the zip. TinyGo's loader needs the folder; empty,
    // it falls back to Go's own `net` (go-pdk's core package does not import it anyway).
    sh.create_dir(prefix.join("src/net"))?;
    // The release's wasm targets name two LLVM 20 features that LLVM 19 warns about on every
    // build and ignores; the module is the same without them.
    for entry in sh.read_dir(prefix.join("targets"))? {
        if entry.extension().is_some_and(|ext| ext == "json") {
            let text = sh.read_file(&entry)?;
            let patched = text
                .replace(",+bulk-memory-opt", "")
                .replace(",+call-indirect-overlong", "");
            if patched != text {
                sh.write_file(&entry, patched)?;
            }
        }
    }
    Ok(())
}

/// Debian's prebuilt wasi-libc and compiler-rt, kept in `prebuilt/` and copied into TinyGo's
/// cache, where TinyGo takes them instead of building them from the missing submodules.
fn seed_libraries(sh: &Shell, prefix: &Path) -> anyhow::Result<()> {
    let libc = cmd!(sh, "dpkg -L wasi-libc")
        .read()?
        .lines()
        .find(|path| path.ends_with("/wasm32-wasi/libc.a"))
        .map(PathBuf::from)
        .context("Debian's wasi-libc package has no wasm32-wasi/libc.a")?;
    let prebuilt = prefix.join("prebuilt");
    sh.remove_path(&prebuilt)?;
    let libc_dir = prebuilt.join(WASI_LIBC);
    sh.create_dir(&libc_dir)?;
    run_to_stderr(cmd!(sh, "cp -R {WASI_INCLUDE} {libc_dir}/include"))?;
    let libc_a = libc_dir.join("lib.a");
    sh.copy_file(&libc, &libc_a)?;
    cmd!(sh, "chmod u+w {libc_a}").quiet().run()?;
    // TinyGo's runtime defines malloc and free; Debian's libc.a carries dlmalloc too, which
    // any call to posix_memalign & co. would pull in: "duplicate symbol: malloc". TinyGo's own
    // wasi-libc build leaves it out as well.
    let members = cmd!(sh, "llvm-ar-{LLVM} t {libc_a}").read()?;
    if members.lines().any(|member| member == "dlmalloc.o") {
        run_to_stderr(cmd!(sh, "llvm-ar-{LLVM} d {libc_a} dlmalloc.o"))?;
    }
    let rt_dir = prebuilt.join(COMPILER_RT);
    sh.create_dir(&rt_dir)?;
    sh.copy_file(COMPILER_RT_A, rt_dir.join("lib.a"))
        .with_context(|| {
            format!("{COMPILER_RT_A} is missing (Debian package libclang-rt-{LLVM}-dev-wasm32)")
        })?;
    Ok(())
}

/// `bin/tinygo`: sets TINYGOROOT, moves TinyGo's cache under the prefix (TinyGo only honours
/// XDG_CACHE_HOME for it) while Go's build cache stays where it was, and restores the seeded
/// libraries if `tinygo clean` removed them. It finds the prefix from its own location, so a
/// moved or copied checkout keeps working.
fn write_wrapper(sh: &Shell) -> anyhow::Result<()> {
    let script = format!(
        r#"#!/bin/sh
# Written by `cargo xtask setup`: TinyGo {VERSION} built against Debian's LLVM {LLVM}.
prefix=$(cd "$(dirname "$0")/.." && pwd) || exit 1
if [ -z "${{GOCACHE:-}}" ]; then
  GOCACHE=$(go env GOCACHE) && export GOCACHE
fi
for lib in {WASI_LIBC} {COMPILER_RT}; do
  if [ ! -f "$prefix/cache/tinygo/$lib/lib.a" ]; then
    mkdir -p "$prefix/cache/tinygo" && rm -rf "$prefix/cache/tinygo/$lib" &&
      cp -R "$prefix/prebuilt/$lib" "$prefix/cache/tinygo/$lib"
  fi
done
XDG_CACHE_HOME="$prefix/cache" TINYGOROOT="$prefix" exec "$prefix/libexec/tinygo" "$@"
"#
    );
    let wrapper = wrapper();
    sh.write_file(&wrapper, script)?;
    cmd!(sh, "chmod 755 {wrapper}").quiet().run()?;
    Ok(())
}
