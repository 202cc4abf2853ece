//! The one table of everything the workspace builds: plugin languages, hosts and hostile
//! plugins. Each entry says where its sources are, what builds it, where the result lands and,
//! for a host, how to start it. Adding a language or a host is one entry here plus its
//! directory; nothing outside this module matches on a language or a host.

use std::fmt;
use std::path::{Path, PathBuf};

use xshell::{cmd, Shell};

use crate::toolchain::{self, Toolchain};

/// How one thing is built: the same shape for a plugin, a host and a hostile plugin, so one
/// loop (`crate::build`) builds, fingerprints and skips all of them.
pub struct Build {
    /// Short name used in paths, `--lang`, trial names and reports.
    pub name: &'static str,
    /// The sources, relative to the project root. Entries may share one.
    pub source_dir: &'static str,
    /// Directories under `source_dir` (relative to it) that hold build output, installed
    /// dependencies or virtual environments rather than sources: the fingerprint skips them.
    pub ignored: &'static [&'static str],
    /// The tools the build runs, its compiler first: the compiler's version line is recorded
    /// with the artifact, and a change of it rebuilds.
    pub toolchains: &'static [&'static Toolchain],
    /// A step before the build that installs dependencies, run only when its lock file changed.
    pub prepare: Option<Prepare>,
    /// Writes the artifact at `out` from the project root; `None` when cargo builds it as part
    /// of the workspace (the in-process Rust host), or nothing needs building (the page check).
    pub compile: Option<fn(&Shell, &Path) -> anyhow::Result<()>>,
    /// Where the artifact lands, relative to the project root.
    pub output: &'static str,
    /// How its formatter and linter run (`cargo xtask fmt`, `lint`).
    pub style: Style,
}

/// Installing dependencies before a build: `npm ci`, `pip install -r`, `go mod download`.
pub struct Prepare {
    /// The lock file, relative to the source directory: the step runs again when it changes.
    pub lock_file: &'static str,
    /// A file the step creates, relative to the project root: the step runs again when it is
    /// gone (a removed virtual environment or `node_modules/`), whatever the stamp says.
    pub creates: Option<&'static str>,
    /// Runs in the source directory.
    pub run: fn(&Shell) -> anyhow::Result<()>,
}

/// The formatter and linter of a source directory. Entries that share a directory share this.
#[derive(Clone, Copy)]
pub enum Style {
    /// A cargo workspace: `cargo fmt --check` and clippy `-D warnings`, for the wasm target when
    /// `wasm` is set.
    Cargo { manifest: &'static str, wasm: bool },
    /// A Go module: gofmt and `go vet`, for GOOS=wasip1 when `wasm` is set.
    Go { wasm: bool },
    /// Python sources: `ruff format` and `ruff check`, run from the virtual environment the
    /// build's prepare step installs them into.
    Python { venv: &'static str },
    /// An npm package: prettier and eslint from its own `node_modules/`.
    Node,
    /// C sources: clang-format; the build's `-Wall -Wextra -Werror` is the lint.
    C,
    /// Zig sources: `zig fmt`; the compiler's own errors are the lint.
    Zig,
    /// A Maven project: javac's `-Xlint:all -Werror` (in its pom) is the lint; no Java formatter
    /// is pinned, so `fmt` leaves it alone.
    Java,
    /// AssemblyScript sources: `asc` is their only check (prettier cannot parse AssemblyScript's
    /// function decorators).
    AssemblyScript,
}

/// A program and what comes before its subcommand: `program args... serve`.
pub struct Launch {
    pub program: Program,
    pub args: &'static [&'static str],
    pub env: &'static [(&'static str, &'static str)],
}

pub enum Program {
    /// The cargo that runs us (`crate::cargo()`).
    Cargo,
    /// The build's own artifact (`Build::output`).
    Artifact,
    /// A path relative to the project root, or a name on PATH.
    Path(&'static str),
}

/// One plugin language: a build that writes `target/plugins/<name>/conformance.wasm`
/// implementing every export of CONTRACT.md.
pub struct Language {
    pub build: Build,
    /// The plugin's main source file, relative to the project root, and how a line comment
    /// starts in it: the conformance-loop benchmark times an edit of it.
    pub main_source: (&'static str, &'static str),
    /// The largest module the benchmarks' size target accepts, in bytes; `None`: no target.
    pub size_target: Option<u64>,
}

/// One host the conformance run runs plugins on.
pub struct Host {
    pub build: Build,
    /// The Extism SDK and wasm engine, for people: the README and the reports.
    pub runtime: &'static str,
    /// The host's program: `<it> serve` speaks docs/protocol.md, `<it> demo LABEL=PATH...` is the
    /// seed's program, `<it> call` the command-line tool.
    pub command: Launch,
    /// The conformance run calls this host as a library in its own process instead of `serve`.
    pub in_process: bool,
    /// Its built file is the whole program (a static binary built reproducibly): what a
    /// verdict on it depends on is that file's bytes, so an edit that leaves them alone (a
    /// comment) reruns nothing. `false`: it runs its sources, which are then what counts.
    pub self_contained: bool,
    /// The host's own unit tests, run in its source directory as one conformance trial.
    pub unit_tests: Option<Launch>,
    /// Its benchmarks for `cargo xtask bench-report`; `None`: shown as not measured.
    pub bench: Option<&'static crate::bench::HostBench>,
    /// The adapter's file the edit-to-verdict benchmark edits (where its `hostMemoryGet` is),
    /// and how a comment starts in it.
    pub main_source: (&'static str, &'static str),
}

/// A hostile plugin: attacks written with one language's PDK, for the host's own tests.
pub struct Hostile {
    pub build: Build,
}

impl Language {
    pub fn name(&self) -> &'static str {
        self.build.name
    }

    /// Parses a name as given to `--lang`; the error lists the names that exist.
    pub fn from_name(name: &str) -> anyhow::Result<&'static Language> {
        find(LANGUAGES, name, "language", |l| l.name())
    }
}

impl Host {
    pub fn name(&self) -> &'static str {
        self.build.name
    }
}

impl Hostile {
    pub fn name(&self) -> &'static str {
        self.build.name
    }
}

fn find<T>(
    table: &'static [T],
    name: &str,
    what: &str,
    name_of: fn(&T) -> &'static str,
) -> anyhow::Result<&'static T> {
    table.iter().find(|t| name_of(t) == name).ok_or_else(|| {
        let known: Vec<_> = table.iter().map(name_of).collect();
        anyhow::anyhow!("unknown {what} `{name}`; known: {}", known.join(", "))
    })
}

impl Launch {
    /// The program to run and its leading arguments, for `root` and the entry's artifact.
    pub fn resolve(&self, root: &Path, artifact: &Path) -> (PathBuf, Vec<String>) {
        let program = match self.program {
            Program::Cargo => PathBuf::from(crate::cargo()),
            Program::Artifact => artifact.to_owned(),
            Program::Path(path) if path.contains('/') => root.join(path),
            Program::Path(name) => PathBuf::from(name),
        };
        let args = self.args.iter().map(|arg| arg.to_string()).collect();
        (program, args)
    }
}

macro_rules! by_name {
    ($($ty:ty),*) => {$(
        impl PartialEq for $ty {
            fn eq(&self, other: &Self) -> bool {
                self.name() == other.name()
            }
        }
        impl Eq for $ty {}
        impl fmt::Display for $ty {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.pad(self.name())
            }
        }
        impl fmt::Debug for $ty {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.name())
            }
        }
    )*};
}
by_name!(Language, Host, Hostile);

/// Every plugin language, in the order reports list them.
pub static LANGUAGES: &[Language] = &[
    Language {
        main_source: ("plugins-rust/src/lib.rs", "//"),
        build: Build {
            name: "rust",
            source_dir: "plugins-rust",
            ignored: &["target"],
            toolchains: &[&toolchain::RUSTC, &toolchain::WASM32_UNKNOWN_TARGET],
            prepare: None,
            compile: Some(|sh, out| build_cdylib(sh, "plugins-rust", "conformance_plugin", out)),
            output: "target/plugins/rust/conformance.wasm",
            style: Style::Cargo {
                manifest: "plugins-rust/Cargo.toml",
                wasm: true,
            },
        },
        size_target: Some(40_000),
    },
    // plugins-go/ built by standard Go as a WASI reactor: -buildmode=c-shared keeps the
    // //go:wasmexport functions and adds _initialize, which the host runs before any export.
    Language {
        main_source: ("plugins-go/main.go", "//"),
        build: Build {
            name: "go",
            source_dir: "plugins-go",
            ignored: &[],
            toolchains: &[&toolchain::GO],
            prepare: None,
            compile: Some(|sh, out| go_wasm(sh, "plugins-go", out)),
            output: "target/plugins/go/conformance.wasm",
            style: Style::Go { wasm: true },
        },
        // No target: the page reports its size and instance cost and what shrinks them.
        size_target: None,
    },
    // plugins-go/ again, built by TinyGo (the seed's compiler) as a WASI reactor: the two
    // compilers must agree on one source. TinyGo runs `go` to load packages, so it needs both.
    Language {
        main_source: ("plugins-go/main.go", "//"),
        build: Build {
            name: "tinygo",
            source_dir: "plugins-go",
            ignored: &[],
            toolchains: &[&toolchain::TINYGO, &toolchain::GO],
            prepare: None,
            compile: Some(tinygo_wasm),
            output: "target/plugins/tinygo/conformance.wasm",
            style: Style::Go { wasm: true },
        },
        size_target: Some(200_000),
    },
    // plugins-c/: the contract on the raw kernel ABI, with no PDK and no libc: the reference of
    // what every PDK does. -mcpu=mvp keeps the instruction set fixed whatever clang's default;
    // -ffreestanding keeps clang from calling a memcpy it would have to import.
    Language {
        main_source: ("plugins-c/conformance.c", "//"),
        build: Build {
            name: "c",
            source_dir: "plugins-c",
            ignored: &[],
            toolchains: &[&toolchain::CLANG19, &toolchain::CLANG_FORMAT19],
            prepare: None,
            compile: Some(|sh, out| {
                let _dir = sh.push_dir("plugins-c");
                cmd!(
                    sh,
                    "clang-19 --target=wasm32-unknown-unknown -mcpu=mvp -nostdlib -ffreestanding -Oz
                     -Wall -Wextra -Werror -Wl,--no-entry -Wl,--strip-all -Wl,-z,stack-size=4096
                     -o {out} conformance.c"
                )
                .run()?;
                Ok(())
            }),
            output: "target/plugins/c/conformance.wasm",
            style: Style::C,
        },
        size_target: Some(4_000),
    },
    // plugins-zig/: the raw kernel ABI again, in Zig (its Extism PDK is in no registry), built by
    // PyPI's ziglang. Each export is named: -rdynamic would export __stack_pointer too.
    Language {
        main_source: ("plugins-zig/main.zig", "//"),
        build: Build {
            name: "zig",
            source_dir: "plugins-zig",
            ignored: &[],
            toolchains: &[&toolchain::ZIG],
            prepare: None,
            compile: Some(|sh, out| {
                let root = crate::project_root();
                let python = root.join(toolchain::ZIG_VENV).join("bin/python");
                // Zig's caches go under target/, not ~/.cache/zig.
                let cache = root.join("target/zig-cache");
                let exports = ZIG_EXPORTS.map(|name| format!("--export={name}"));
                let emit = format!("-femit-bin={}", out.display());
                let _dir = sh.push_dir("plugins-zig");
                cmd!(
                    sh,
                    "{python} -m ziglang build-exe main.zig -target wasm32-freestanding
                     -O ReleaseSmall -fno-entry --stack 65536 {exports...}
                     --cache-dir {cache} --global-cache-dir {cache} {emit}"
                )
                .run()?;
                Ok(())
            }),
            output: "target/plugins/zig/conformance.wasm",
            style: Style::Zig,
        },
        size_target: Some(4_000),
    },
    // plugins-assemblyscript/: the contract with @extism/as-pdk, compiled by asc, both pinned in
    // its package-lock.json. asconfig.json routes AssemblyScript's abort to the plugin's own
    // function, so the module imports no env.abort.
    Language {
        main_source: ("plugins-assemblyscript/assembly/index.ts", "//"),
        build: Build {
            name: "assemblyscript",
            source_dir: "plugins-assemblyscript",
            ignored: &["node_modules"],
            toolchains: &[&toolchain::NODE, &toolchain::NPM],
            prepare: Some(Prepare {
                lock_file: "package-lock.json",
                creates: Some("plugins-assemblyscript/node_modules/.package-lock.json"),
                run: npm_ci,
            }),
            compile: Some(|sh, out| {
                let _dir = sh.push_dir("plugins-assemblyscript");
                cmd!(
                    sh,
                    "node_modules/.bin/asc --config asconfig.json --outFile {out}"
                )
                .run()?;
                Ok(())
            }),
            output: "target/plugins/assemblyscript/conformance.wasm",
            style: Style::AssemblyScript,
        },
        size_target: Some(16_000),
    },
];

/// Every host, in the order reports list them.
pub static HOSTS: &[Host] = &[
    Host {
        build: Build {
            name: "rust-host",
            source_dir: "host",
            ignored: &[],
            toolchains: &[&toolchain::RUSTC],
            prepare: None,
            compile: None,
            output: "target/debug/host",
            style: Style::Cargo {
                manifest: "Cargo.toml",
                wasm: false,
            },
        },
        runtime: "extism 1.41 on wasmtime 49",
        command: Launch {
            program: Program::Cargo,
            args: &["run", "--quiet", "--package", "host", "--bin", "host", "--"],
            env: &[],
        },
        in_process: true,
        self_contained: false,
        main_source: ("host/src/memory_get.rs", "//"),
        // `cargo test` runs them itself.
        unit_tests: None,
        bench: Some(&crate::bench::RUST_HOST),
    },
    Host {
        build: Build {
            name: "go-host",
            source_dir: "host-go",
            ignored: &[],
            toolchains: &[&toolchain::GO],
            prepare: Some(Prepare {
                lock_file: "go.sum",
                creates: None,
                run: |sh| toolchain::run_to_stderr(cmd!(sh, "go mod download")),
            }),
            compile: Some(|sh, out| {
                let _dir = sh.push_dir("host-go");
                // No build ID (a hash of the sources): the same code gives the same binary,
                // which is what a verdict on this host is keyed by (`self_contained`).
                Ok(cmd!(sh, "go build -trimpath -ldflags=-buildid= -o {out} .").run()?)
            }),
            output: "target/hosts/go-host/host-go",
            style: Style::Go { wasm: false },
        },
        runtime: "github.com/extism/go-sdk 1.7.1 on wazero 1.9",
        command: Launch {
            program: Program::Artifact,
            args: &[],
            env: &[],
        },
        in_process: false,
        self_contained: true,
        main_source: ("host-go/memoryget.go", "//"),
        unit_tests: Some(Launch {
            program: Program::Path("go"),
            args: &["test", "./..."],
            env: &[],
        }),
        bench: Some(&crate::bench::GO_HOST),
    },
    // host-python/ needs no compiling: its build writes a launcher that runs main.py in the
    // virtual environment the prepare step made, after checking that every file compiles.
    Host {
        build: Build {
            name: "python-host",
            source_dir: "host-python",
            ignored: &["__pycache__"],
            toolchains: &[&toolchain::PYTHON3],
            prepare: Some(Prepare {
                lock_file: "requirements.txt",
                creates: Some("target/venv/host-python/bin/python"),
                run: |sh| {
                    let venv = crate::project_root().join(PYTHON_VENV);
                    toolchain::run_to_stderr(cmd!(sh, "python3 -m venv --clear {venv}"))?;
                    let pip = venv.join("bin/pip");
                    toolchain::run_to_stderr(cmd!(
                        sh,
                        "{pip} install --quiet --disable-pip-version-check --require-hashes --only-binary :all: -r requirements.txt"
                    ))
                },
            }),
            compile: Some(|sh, out| {
                let python = format!("{PYTHON_VENV}/bin/python");
                let cache = "target/tmp/pycache/python-host";
                cmd!(
                    sh,
                    "{python} -X pycache_prefix={cache} -m compileall -q host-python"
                )
                .quiet()
                .run()?;
                write_launcher(
                    out,
                    &format!(
                        "PYTHONPYCACHEPREFIX=\"$root/{cache}\" exec \"$root/{python}\" \
                         \"$root/host-python/main.py\" \"$@\""
                    ),
                )
            }),
            output: "target/hosts/python-host/host-python",
            style: Style::Python { venv: PYTHON_VENV },
        },
        runtime: "extism 1.1.1 (Python) on extism-sys 1.41.0: libextism on wasmtime",
        command: Launch {
            program: Program::Artifact,
            args: &[],
            env: &[],
        },
        in_process: false,
        self_contained: false,
        main_source: ("host-python/runner.py", "#"),
        unit_tests: Some(Launch {
            program: Program::Path("target/venv/host-python/bin/python"),
            args: &["-B", "-m", "unittest", "--quiet"],
            env: &[],
        }),
        bench: Some(&crate::bench::PYTHON_HOST),
    },
    // host-node/ needs no compiling either: `node --check` on every module, then a launcher.
    Host {
        build: Build {
            name: "node-host",
            source_dir: "host-node",
            ignored: &["node_modules"],
            toolchains: &[&toolchain::NODE, &toolchain::NPM],
            prepare: Some(Prepare {
                lock_file: "package-lock.json",
                creates: Some("host-node/node_modules/.package-lock.json"),
                run: npm_ci,
            }),
            compile: Some(|sh, out| {
                let dir = crate::project_root().join("host-node");
                for module in crate::fingerprint::source_files(&dir, &["node_modules"])? {
                    if module.ends_with(".mjs") || module.ends_with(".js") {
                        let path = dir.join(&module);
                        cmd!(sh, "node --check {path}").quiet().run()?;
                    }
                }
                write_launcher(out, "exec node \"$root/host-node/main.mjs\" \"$@\"")
            }),
            output: "target/hosts/node-host/host-node",
            style: Style::Node,
        },
        runtime: "@extism/extism 1.0.3 (Node.js) on V8, Extism memory in JavaScript",
        command: Launch {
            program: Program::Artifact,
            args: &[],
            env: &[],
        },
        in_process: false,
        self_contained: false,
        main_source: ("host-node/plugin.mjs", "//"),
        unit_tests: Some(Launch {
            program: Program::Path("node"),
            args: &["--test"],
            env: &[],
        }),
        bench: Some(&crate::bench::NODE_HOST),
    },
    // host-java/: one Maven project, two hosts. java-host runs it on Chicory's interpreter; its
    // build resolves the pom's pinned dependencies into target/maven-repo once (online), then
    // builds offline into target/hosts/java-host/build: host-java.jar, with lib/ as its
    // Class-Path, and test-lib/ for the unit tests.
    Host {
        build: Build {
            name: "java-host",
            source_dir: "host-java",
            ignored: &[],
            toolchains: &[&toolchain::JAVA, &toolchain::MAVEN],
            prepare: Some(MAVEN_PREPARE),
            compile: Some(|sh, out| {
                maven_package(sh, true)?;
                write_launcher(
                    out,
                    "exec java -jar \"$root/target/hosts/java-host/build/host-java.jar\" \"$@\"",
                )
            }),
            output: "target/hosts/java-host/host-java",
            style: Style::Java,
        },
        runtime: "chicory-sdk-core 0.3.0 (Java) on Chicory 1.4.0, interpreter",
        command: Launch {
            program: Program::Artifact,
            args: &[],
            env: &[],
        },
        in_process: false,
        self_contained: false,
        main_source: ("host-java/src/main/java/hostjava/Runner.java", "//"),
        // JUnit's console launcher on the classpath the build copied, without Maven's start-up.
        unit_tests: Some(Launch {
            program: Program::Path("java"),
            args: &[
                "-cp",
                "../target/hosts/java-host/build/test-classes:../target/hosts/java-host/build/classes:../target/hosts/java-host/build/test-lib/*",
                "org.junit.platform.console.ConsoleLauncher",
                "execute",
                "--disable-banner",
                "--details=summary",
                "--fail-if-no-tests",
                "--scan-classpath",
                "../target/hosts/java-host/build/test-classes",
            ],
            env: &[],
        }),
        bench: Some(&crate::bench::JAVA_HOST),
    },
    // The same program with Chicory's AoT compiler (wasm to JVM bytecode), selected by its
    // `--engine aot` argument: its build is java-host's and a launcher that passes it.
    Host {
        build: Build {
            name: "java-aot-host",
            source_dir: "host-java",
            ignored: &[],
            toolchains: &[&toolchain::JAVA, &toolchain::MAVEN],
            prepare: Some(MAVEN_PREPARE),
            compile: Some(|sh, out| {
                let java_host = HOSTS
                    .iter()
                    .find(|host| host.name() == "java-host")
                    .expect("java-host is in the table");
                crate::build::build_hosts(sh, &[java_host])?.require_all()?;
                write_launcher(
                    out,
                    "exec \"$root/target/hosts/java-host/host-java\" --engine aot \"$@\"",
                )
            }),
            output: "target/hosts/java-aot-host/host-java",
            style: Style::Java,
        },
        runtime: "chicory-sdk-core 0.3.0 (Java) on Chicory 1.4.0, AoT compiler to JVM bytecode",
        command: Launch {
            program: Program::Artifact,
            args: &[],
            env: &[],
        },
        in_process: false,
        self_contained: false,
        main_source: ("host-java/src/main/java/hostjava/Runner.java", "//"),
        // The same program as java-host's: its unit tests run there, on both engines.
        unit_tests: None,
        bench: Some(&crate::bench::JAVA_AOT_HOST),
    },
];

/// Maven's local repository for host-java, relative to the project root: nothing goes to ~/.m2.
const MAVEN_REPO: &str = "target/maven-repo";

/// host-java's dependencies, shared by its two entries (one stamp: `crate::build`).
const MAVEN_PREPARE: Prepare = Prepare {
    lock_file: "pom.xml",
    creates: Some(MAVEN_REPO),
    run: |sh| maven_package(sh, false),
};

/// `mvn package` in host-java/ without running tests (the conformance run runs them): online
/// for the prepare step, which resolves every dependency and plugin the build needs, offline
/// for the build.
fn maven_package(sh: &Shell, offline: bool) -> anyhow::Result<()> {
    let repo = format!(
        "-Dmaven.repo.local={}",
        crate::project_root().join(MAVEN_REPO).display()
    );
    let offline = offline.then_some("--offline");
    let _dir = sh.push_dir(crate::project_root().join("host-java"));
    let mvn = cmd!(
        sh,
        "mvn --batch-mode --quiet --no-transfer-progress {offline...} {repo} -DskipTests package"
    );
    let shown = mvn.to_string();
    // Maven 3.8 writes colour resets on stdout even when quiet: its output is shown only when
    // it fails (javac's errors are in it).
    let output = std::process::Command::from(mvn)
        .output()
        .map_err(|error| anyhow::anyhow!("cannot run `{shown}`: {error}"))?;
    if !output.status.success() {
        use std::io::Write;
        let mut stderr = std::io::stderr();
        stderr.write_all(&output.stdout)?;
        stderr.write_all(&output.stderr)?;
        anyhow::bail!("`{shown}` failed: {}", output.status);
    }
    Ok(())
}

/// The results page's browser check (tests/page/check.mjs): Playwright's `playwright-core`
/// driving Debian's Chromium. Not a language or a host, but built like one: its dependencies
/// pinned in its lock file, its toolchains in the doctor's table, its style checked.
pub const RESULTS_PAGE: Build = Build {
    name: "results-page",
    source_dir: "tests/page",
    ignored: &["node_modules"],
    toolchains: &[&toolchain::NODE, &toolchain::NPM, &toolchain::CHROMIUM],
    prepare: Some(Prepare {
        lock_file: "package-lock.json",
        creates: Some("tests/page/node_modules/.package-lock.json"),
        run: npm_ci,
    }),
    compile: None,
    output: "tests/page/check.mjs",
    style: Style::Node,
};

/// An npm package's pinned dependencies, from its package-lock.json into its own node_modules/.
fn npm_ci(sh: &Shell) -> anyhow::Result<()> {
    toolchain::run_to_stderr(cmd!(sh, "npm ci --no-audit --no-fund --loglevel=error"))
}

/// The exports of CONTRACT.md, which the Zig build names one by one (the conformance run's ABI
/// lint, tests/src/abi.rs, checks that every language has them).
const ZIG_EXPORTS: [&str; 16] = [
    "say_hello",
    "lookup",
    "count_calls",
    "echo",
    "noop",
    "fail",
    "trap",
    "spin",
    "config_get",
    "var_count",
    "var_get",
    "var_remove",
    "var_store",
    "log_levels",
    "return_code",
    "error_then_zero",
];

/// The Python host's virtual environment, relative to the project root.
const PYTHON_VENV: &str = "target/venv/host-python";

/// Writes an executable shell script that runs `line`, in which `$root` is the project root:
/// how a host that is a script becomes an artifact that starts like any other
/// (`<artifact> serve`). The root is found from the script's own place, so a checkout that
/// moves (target/ with it) runs its own sources, not the old place's.
fn write_launcher(out: &Path, line: &str) -> anyhow::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    let root = crate::project_root();
    let depth = out
        .strip_prefix(&root)
        .map_err(|_| anyhow::anyhow!("{} is not under {}", out.display(), root.display()))?
        .components()
        .count()
        - 1;
    let up = vec![".."; depth].join("/");
    let script = format!(
        "#!/bin/sh\n# Written by `cargo xtask build-hosts`.\nroot=$(cd \"$(dirname \"$0\")/{up}\" && pwd) || exit 1\n{line}\n"
    );
    std::fs::write(out, script)
        .and_then(|()| std::fs::set_permissions(out, std::fs::Permissions::from_mode(0o755)))
        .map_err(|error| anyhow::anyhow!("cannot write {}: {error}", out.display()))
}

/// The hostile plugins of `plugins-hostile/`, one module per language whose every export
/// attacks the host, for `host/tests/integration/hostile_plugins.rs`. They are not contract
/// plugins: no conformance case runs them.
pub static HOSTILE: &[Hostile] = &[
    Hostile {
        build: Build {
            name: "rust",
            source_dir: "plugins-hostile/rust",
            ignored: &["target"],
            toolchains: &[&toolchain::RUSTC, &toolchain::WASM32_UNKNOWN_TARGET],
            prepare: None,
            compile: Some(|sh, out| build_cdylib(sh, "plugins-hostile/rust", "hostile", out)),
            output: "target/hostile/rust/hostile.wasm",
            style: Style::Cargo {
                manifest: "plugins-hostile/rust/Cargo.toml",
                wasm: true,
            },
        },
    },
    Hostile {
        build: Build {
            name: "go",
            source_dir: "plugins-hostile/go",
            ignored: &[],
            toolchains: &[&toolchain::GO],
            prepare: None,
            compile: Some(|sh, out| go_wasm(sh, "plugins-hostile/go", out)),
            output: "target/hostile/go/hostile.wasm",
            style: Style::Go { wasm: true },
        },
    },
];

/// The Rust plugins' target, and their target dir: kept apart from the host's, whose lock the
/// host build may hold while the conformance tests build plugins.
pub(crate) const WASM_TARGET: &str = toolchain::WASM32_UNKNOWN;
pub(crate) const WASM_TARGET_DIR: &str = "target/wasm";

/// Builds the cdylib crate `name` in `dir` (its own cargo workspace) for wasm and copies the
/// module to `out`; the shell is at the project root.
fn build_cdylib(sh: &Shell, dir: &str, name: &str, out: &Path) -> anyhow::Result<()> {
    let cargo = crate::cargo();
    let target_dir = sh.current_dir().join(WASM_TARGET_DIR);
    let _dir = sh.push_dir(dir);
    cmd!(
        sh,
        "{cargo} build --release --locked --target {WASM_TARGET} --target-dir {target_dir}"
    )
    .run()?;
    let built = target_dir
        .join(WASM_TARGET)
        .join("release")
        .join(format!("{name}.wasm"));
    sh.copy_file(&built, out)
        .map_err(|error| anyhow::anyhow!("{dir}: cargo built no {}: {error}", built.display()))?;
    Ok(())
}

/// A Go module built by standard Go as a WASI reactor.
fn go_wasm(sh: &Shell, dir: &str, out: &Path) -> anyhow::Result<()> {
    let _dir = sh.push_dir(dir);
    let _os = sh.push_env("GOOS", "wasip1");
    let _arch = sh.push_env("GOARCH", "wasm");
    // -trimpath keeps this machine's paths out of the module, so builds compare across machines.
    // -ldflags=-s drops the name section (Go writes no DWARF for wasm, so -w adds nothing);
    // -buildid= drops the build ID, a hash of the sources, so an edit that leaves the code alone
    // (a comment) leaves the module's bytes, and every verdict keyed by them, alone.
    let ldflags = "-ldflags=-s -buildid=";
    cmd!(
        sh,
        "go build -buildmode=c-shared -trimpath {ldflags} -o {out} ."
    )
    .run()?;
    Ok(())
}

fn tinygo_wasm(sh: &Shell, out: &Path) -> anyhow::Result<()> {
    let tinygo = crate::tinygo_install::program();
    let _dir = sh.push_dir("plugins-go");
    // -no-debug drops DWARF. -scheduler=none drops asyncify, which ran every export as a
    // goroutine; the contract uses no goroutines. -panic=trap makes a panic `unreachable`
    // without printing code. The default optimisation, -opt=z, is already the smallest.
    cmd!(
        sh,
        "{tinygo} build -target wasip1 -buildmode=c-shared -no-debug -scheduler=none -panic=trap -o {out} ."
    )
    .run()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_and_outputs_distinct() {
        let builds: Vec<&Build> = LANGUAGES
            .iter()
            .map(|l| &l.build)
            .chain(HOSTS.iter().map(|h| &h.build))
            .collect();
        for (i, a) in builds.iter().enumerate() {
            for b in &builds[i + 1..] {
                assert_ne!(a.output, b.output, "{} and {}", a.name, b.name);
            }
        }
        for table in [
            LANGUAGES.iter().map(|l| l.name()).collect::<Vec<_>>(),
            HOSTS.iter().map(|h| h.name()).collect(),
            HOSTILE.iter().map(|h| h.name()).collect(),
        ] {
            let mut sorted = table.clone();
            sorted.sort();
            sorted.dedup();
            assert_eq!(sorted.len(), table.len(), "{table:?}");
        }
        assert_eq!(
            Language::from_name("cobol").unwrap_err().to_string(),
            "unknown language `cobol`; known: rust, go, tinygo, c, zig, assemblyscript"
        );
        assert_eq!(HOSTS.iter().filter(|h| h.in_process).count(), 1);
        // The SDK and version a host's runtime names are the ones its lock file pins.
        for host in HOSTS {
            let lock = match &host.build.prepare {
                Some(prepare) => Path::new(host.build.source_dir).join(prepare.lock_file),
                None => PathBuf::from("Cargo.lock"),
            };
            let text = std::fs::read_to_string(crate::project_root().join(&lock)).unwrap();
            let mut words = host.runtime.split(' ');
            let (sdk, version) = (words.next().unwrap(), words.next().unwrap());
            assert!(
                text.contains(sdk) && text.contains(version),
                "{host}: {} does not pin {sdk} {version}",
                lock.display()
            );
        }
        let sources = LANGUAGES
            .iter()
            .map(|l| (l.name(), l.build.source_dir, l.main_source.0))
            .chain(
                HOSTS
                    .iter()
                    .map(|h| (h.name(), h.build.source_dir, h.main_source.0)),
            );
        for (name, dir, file) in sources {
            assert!(file.starts_with(dir), "{name}: {file} is not in {dir}");
            assert!(crate::project_root().join(file).is_file(), "{name}: {file}");
        }
    }
}
