//! The one table of everything the workspace builds: plugin languages, hosts and hostile
//! plugins, as data. Each entry says where its sources are, which toolchains and flags build
//! it, where the result lands and, for a host, how to start it and benchmark it; the steps
//! themselves are functions of `crate::compile`, which the entries point to. Adding a language
//! or a host is one entry here, its module there and its directory; nothing outside this module
//! matches on a language or a host.

use std::fmt;
use std::path::{Path, PathBuf};

use xshell::Shell;

use crate::compile::{self, java_host};
use crate::figures::Figure;
use crate::toolchain::{self, Toolchain};
use suite::launch::Command;

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
    /// Another entry of the same table whose artifact this one's compile step uses: built
    /// first (java-aot-host's launcher runs java-host's build).
    pub needs: Option<&'static str>,
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
    pub bench: Option<HostBench>,
    /// The libraries it runs on whose exact versions the benchmark page lists, read from the
    /// lock files that pin them.
    pub pinned: &'static [Pinned],
    /// The adapter's file the edit-to-verdict benchmark edits (where its `hostMemoryGet` is),
    /// and how a comment starts in it.
    pub main_source: (&'static str, &'static str),
}

/// A library a host runs on, where its exact version is pinned.
pub enum Pinned {
    /// A crate of a Cargo.lock (relative to the project root).
    Crate {
        lock: &'static str,
        name: &'static str,
    },
    /// A module a go.mod (relative to the project root) requires.
    GoModule {
        go_mod: &'static str,
        path: &'static str,
    },
}

/// A hostile plugin: attacks written with one language's PDK, for the host's own tests.
pub struct Hostile {
    pub build: Build,
    /// Part of the Rust host's trap message when its `unbounded_recursion` attack ends: where the
    /// languages' stacks live differs (host/tests/integration/hostile_plugins.rs checks it).
    pub recursion_trap: &'static str,
}

/// How one host is benchmarked (`cargo xtask bench-report`): its benchmarks name their figures
/// `call/<language>/<scenario>`, `compile/<language>/cold|cached` and `instance/<language>`,
/// so the page sets hosts side by side by name.
#[derive(Clone, Copy)]
pub struct HostBench {
    /// Where the figures come from, for the page.
    pub what: &'static str,
    /// Runs the benchmarks from the project root, leaving their results in the directory given
    /// (the second argument; the third is the host's command as its `command` launches it,
    /// before a subcommand, the fourth every built plugin as `LANGUAGE=PATH`).
    pub run: fn(&Shell, &Path, &Command, &[String]) -> anyhow::Result<()>,
    /// Reads the results back from that directory: (figure id, mean nanoseconds).
    pub read: fn(&Path) -> anyhow::Result<Vec<Figure>>,
    /// Its `instance/<language>` figure includes one `noop` call (a runtime that instantiates at
    /// the first call), which the ready-instance figure subtracts.
    pub instance_includes_noop: bool,
    /// The target for the reference (in-process) host's lead over this host: at least this many
    /// times faster per `say_hello`. `None`: no target, the figures are only shown.
    pub reference_lead: Option<f64>,
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

    /// Parses a host's name; the error lists the names that exist.
    pub fn from_name(name: &str) -> anyhow::Result<&'static Host> {
        find(HOSTS, name, "host", |h| h.name())
    }

    /// The complete command that runs this host's `subcommand` (`serve`, `demo LABEL=PATH...`,
    /// `bench ...`), with `artifact` its build at `root`.
    pub fn launch(&self, root: &Path, artifact: &Path, subcommand: &[&str]) -> Command {
        self.command.command(root, artifact, subcommand)
    }
}

impl Hostile {
    pub fn name(&self) -> &'static str {
        self.build.name
    }

    /// Parses a hostile plugin's name; the error lists the names that exist.
    pub fn from_name(name: &str) -> anyhow::Result<&'static Hostile> {
        find(HOSTILE, name, "hostile plugin", |h| h.name())
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
    /// The complete command: the program, its leading arguments, then `subcommand`, and the
    /// environment, for `root` and the entry's artifact.
    pub fn command(&self, root: &Path, artifact: &Path, subcommand: &[&str]) -> Command {
        let (program, mut args) = self.resolve(root, artifact);
        args.extend(subcommand.iter().map(|arg| arg.to_string()));
        let env = self.env.iter();
        Command {
            program,
            args,
            env: env.map(|(k, v)| (k.to_string(), v.to_string())).collect(),
        }
    }

    /// The program to run and its leading arguments, for `root` and the entry's artifact
    /// (without the environment: [`Launch::command`] is the whole command).
    fn resolve(&self, root: &Path, artifact: &Path) -> (PathBuf, Vec<String>) {
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
            compile: Some(|sh, out| {
                compile::rust::cdylib(sh, "plugins-rust", "conformance_plugin", out)
            }),
            needs: None,
            output: "target/plugins/rust/conformance.wasm",
            style: Style::Cargo {
                manifest: "plugins-rust/Cargo.toml",
                wasm: true,
            },
        },
        size_target: Some(40_000),
    },
    // plugins-go/ built by standard Go as a WASI reactor (`compile::go`).
    Language {
        main_source: ("plugins-go/main.go", "//"),
        build: Build {
            name: "go",
            source_dir: "plugins-go",
            ignored: &[],
            toolchains: &[&toolchain::GO],
            prepare: None,
            compile: Some(|sh, out| compile::go::wasm(sh, "plugins-go", out)),
            needs: None,
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
            compile: Some(|sh, out| compile::tinygo::wasm(sh, "plugins-go", out)),
            needs: None,
            output: "target/plugins/tinygo/conformance.wasm",
            style: Style::Go { wasm: true },
        },
        size_target: Some(200_000),
    },
    // plugins-c/: the contract on the raw kernel ABI, with no PDK and no libc: the reference of
    // what every PDK does.
    Language {
        main_source: ("plugins-c/conformance.c", "//"),
        build: Build {
            name: "c",
            source_dir: "plugins-c",
            ignored: &[],
            toolchains: &[&toolchain::CLANG19, &toolchain::CLANG_FORMAT19],
            prepare: None,
            compile: Some(|sh, out| compile::c::wasm(sh, "plugins-c", "conformance.c", out)),
            needs: None,
            output: "target/plugins/c/conformance.wasm",
            style: Style::C,
        },
        size_target: Some(4_000),
    },
    // plugins-zig/: the raw kernel ABI again, in Zig (its Extism PDK is in no registry), built by
    // PyPI's ziglang.
    Language {
        main_source: ("plugins-zig/main.zig", "//"),
        build: Build {
            name: "zig",
            source_dir: "plugins-zig",
            ignored: &[],
            toolchains: &[&toolchain::ZIG],
            prepare: None,
            compile: Some(|sh, out| compile::zig::wasm(sh, "plugins-zig", "main.zig", out)),
            needs: None,
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
                run: compile::npm_ci,
            }),
            compile: Some(|sh, out| {
                compile::assemblyscript::wasm(sh, "plugins-assemblyscript", out)
            }),
            needs: None,
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
            needs: None,
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
        pinned: &[
            Pinned::Crate {
                lock: "Cargo.lock",
                name: "extism",
            },
            Pinned::Crate {
                lock: "Cargo.lock",
                name: "wasmtime",
            },
        ],
        // `cargo test` runs them itself.
        unit_tests: None,
        bench: Some(HostBench {
            what: "`cargo bench` (criterion, release profile, `host/benches/host.rs`)",
            run: compile::rust_host::bench,
            read: compile::rust_host::read_bench,
            instance_includes_noop: true,
            reference_lead: None,
        }),
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
                run: compile::go_host::prepare,
            }),
            compile: Some(|sh, out| compile::go_host::compile(sh, "host-go", out)),
            needs: None,
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
        pinned: &[
            Pinned::GoModule {
                go_mod: "host-go/go.mod",
                path: "github.com/extism/go-sdk",
            },
            Pinned::GoModule {
                go_mod: "host-go/go.mod",
                path: "github.com/tetratelabs/wazero",
            },
        ],
        unit_tests: Some(Launch {
            program: Program::Path("go"),
            args: &["test", "./..."],
            env: &[],
        }),
        bench: Some(HostBench {
            what: "`go test -bench` in `host-go/`",
            run: |_, dir, _, _| compile::go_host::bench("host-go", dir),
            read: compile::go_host::read_bench,
            instance_includes_noop: false,
            reference_lead: Some(3.0),
        }),
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
                run: |sh| compile::python_host::prepare(sh, PYTHON_VENV),
            }),
            compile: Some(|sh, out| {
                compile::python_host::compile(sh, "host-python", PYTHON_VENV, out)
            }),
            needs: None,
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
        pinned: &[],
        unit_tests: Some(Launch {
            program: Program::Path("target/venv/host-python/bin/python"),
            args: &["-B", "-m", "unittest", "--quiet"],
            env: &[],
        }),
        bench: Some(HostBench {
            what: "`host-python bench` (`time.perf_counter_ns` loops, `host-python/bench.py`)",
            run: compile::adapter_bench,
            read: crate::figures::read_adapter_figures,
            // libextism instantiates a plugin at its first call.
            instance_includes_noop: true,
            reference_lead: None,
        }),
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
                run: compile::npm_ci,
            }),
            compile: Some(|sh, out| compile::node_host::compile(sh, "host-node", out)),
            needs: None,
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
        pinned: &[],
        unit_tests: Some(Launch {
            program: Program::Path("node"),
            args: &["--test"],
            env: &[],
        }),
        bench: Some(HostBench {
            what: "`host-node bench` (`process.hrtime.bigint()` loops, `host-node/bench.mjs`)",
            run: compile::adapter_bench,
            read: crate::figures::read_adapter_figures,
            instance_includes_noop: false,
            reference_lead: None,
        }),
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
            compile: Some(|sh, out| java_host::compile(sh, "host-java", MAVEN_REPO, JAVA_JAR, out)),
            needs: None,
            output: JAVA_LAUNCHER,
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
        pinned: &[],
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
        bench: Some(HostBench {
            what: "`host-java bench` (`System.nanoTime` loops after a warm-up, `host-java/src/main/java/hostjava/Bench.java`)",
            run: compile::adapter_bench,
            read: crate::figures::read_adapter_figures,
            instance_includes_noop: false,
            reference_lead: None,
        }),
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
            compile: Some(|_, out| java_host::wrap(out, JAVA_LAUNCHER, "--engine aot")),
            needs: Some("java-host"),
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
        pinned: &[],
        // The same program as java-host's: its unit tests run there, on both engines.
        unit_tests: None,
        bench: Some(HostBench {
            what: "`host-java --engine aot bench` (as java-host's, on Chicory's AoT compiler)",
            run: compile::adapter_bench,
            read: crate::figures::read_adapter_figures,
            instance_includes_noop: false,
            reference_lead: None,
        }),
    },
];

/// Maven's local repository for host-java, relative to the project root: nothing goes to ~/.m2.
const MAVEN_REPO: &str = "target/maven-repo";

/// What java-host's build writes: the jar (with lib/ as its Class-Path, where the pom puts it)
/// and the launcher that runs it, which java-aot-host's launcher runs in turn.
const JAVA_JAR: &str = "target/hosts/java-host/build/host-java.jar";
const JAVA_LAUNCHER: &str = "target/hosts/java-host/host-java";

/// host-java's dependencies, shared by its two entries (one stamp: `crate::build`).
const MAVEN_PREPARE: Prepare = Prepare {
    lock_file: "pom.xml",
    creates: Some(MAVEN_REPO),
    run: |sh| java_host::package(sh, "host-java", MAVEN_REPO, false),
};

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
        run: compile::npm_ci,
    }),
    compile: None,
    needs: None,
    output: "tests/page/check.mjs",
    style: Style::Node,
};

/// The Python host's virtual environment, relative to the project root.
const PYTHON_VENV: &str = "target/venv/host-python";

/// The hostile plugins of `plugins-hostile/`, one module per language whose every export
/// attacks the host, for `host/tests/integration/hostile_plugins.rs`. They are not contract
/// plugins: no conformance case runs them.
/// The language whose contract plugin makes the honest call after each attack (the same host
/// must still answer the seed's call byte for byte): the reference PDK's.
pub const HONEST: &str = "rust";

impl Language {
    /// The language of [`HONEST`].
    pub fn honest() -> &'static Language {
        Language::from_name(HONEST).expect("HONEST names a language of the table")
    }
}

pub static HOSTILE: &[Hostile] = &[
    Hostile {
        build: Build {
            name: "rust",
            source_dir: "plugins-hostile/rust",
            ignored: &["target"],
            toolchains: &[&toolchain::RUSTC, &toolchain::WASM32_UNKNOWN_TARGET],
            prepare: None,
            compile: Some(|sh, out| {
                compile::rust::cdylib(sh, "plugins-hostile/rust", "hostile", out)
            }),
            needs: None,
            output: "target/hostile/rust/hostile.wasm",
            style: Style::Cargo {
                manifest: "plugins-hostile/rust/Cargo.toml",
                wasm: true,
            },
        },
        // rustc puts the shadow stack (1 MiB, in linear memory) first, below the data, and each
        // `recurse` frame keeps a buffer there: the stack pointer runs below address 0, wraps,
        // and the first store there is out of bounds, long before wasmtime's own stack (512 KiB
        // of native frames) is full.
        recursion_trap: "out of bounds memory access",
    },
    Hostile {
        build: Build {
            name: "go",
            source_dir: "plugins-hostile/go",
            ignored: &[],
            toolchains: &[&toolchain::GO],
            prepare: None,
            compile: Some(|sh, out| compile::go::wasm(sh, "plugins-hostile/go", out)),
            needs: None,
            output: "target/hostile/go/hostile.wasm",
            style: Style::Go { wasm: true },
        },
        // Go grows goroutine stacks itself (in linear memory, up to 1 GB, far over the cap), but
        // its calls are wasm calls too: wasmtime's native stack runs out first. Not a WASI exit:
        // the runtime never gets to print "stack overflow" and exit.
        recursion_trap: "call stack exhausted",
    },
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_honest_language_is_in_the_table() {
        assert_eq!(Language::honest().name(), HONEST);
    }

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
        // An entry another needs is in the same table, before it.
        for (at, host) in HOSTS.iter().enumerate() {
            if let Some(needed) = host.build.needs {
                let before = HOSTS[..at].iter().any(|h| h.name() == needed);
                assert!(
                    before,
                    "{host} needs {needed}, which is not a host before it"
                );
            }
        }
        let others = LANGUAGES.iter().map(|l| &l.build);
        let others = others.chain(HOSTILE.iter().map(|h| &h.build));
        assert!(others
            .chain([&RESULTS_PAGE])
            .all(|build| build.needs.is_none()));
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
        // What the benchmark page reads a library's version from pins it.
        for pinned in HOSTS.iter().flat_map(|host| host.pinned) {
            let (file, name) = match *pinned {
                Pinned::Crate { lock, name } => (lock, name),
                Pinned::GoModule { go_mod, path } => (go_mod, path),
            };
            let text = std::fs::read_to_string(crate::project_root().join(file)).unwrap();
            assert!(text.contains(name), "{file} does not pin {name}");
        }
        // A host's launch is the whole command: program, leading arguments, subcommand, env.
        let (root, artifact) = (Path::new("/r"), Path::new("/r/target/hosts/x/x"));
        let rust = HOSTS.iter().find(|h| h.in_process).unwrap();
        let serve = rust.launch(root, artifact, &["serve"]);
        assert_eq!(serve.program, PathBuf::from(crate::cargo()));
        assert_eq!(serve.args.first().map(String::as_str), Some("run"));
        assert_eq!(serve.args.last().map(String::as_str), Some("serve"));
        for host in HOSTS
            .iter()
            .filter(|h| matches!(h.command.program, Program::Artifact))
        {
            let demo = host.launch(root, artifact, &["demo", "a=b"]);
            assert_eq!(demo.program, artifact);
            assert_eq!(demo.args, ["demo", "a=b"]);
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
