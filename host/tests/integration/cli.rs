//! The `host` binary as users meet it: every outcome's exit code and message, and the call's
//! options, against small hand-written modules and the workspace's built plugins.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use host::{Plugin, Store};
use libtest_mimic::{Completion, Trial};

pub const HOST: &str = env!("CARGO_BIN_EXE_host");

/// Each export does one thing with the kernel's functions; the input block doubles as a key.
const PROBE: &str = r#"
(module
  (import "extism:host/env" "input_offset" (func $input (result i64)))
  (import "extism:host/env" "length" (func $length (param i64) (result i64)))
  (import "extism:host/env" "output_set" (func $output_set (param i64 i64)))
  (import "extism:host/env" "error_set" (func $error_set (param i64)))
  (import "extism:host/env" "config_get" (func $config_get (param i64) (result i64)))
  (import "extism:host/env" "log_info" (func $log_info (param i64)))
  (import "env" "hostMemoryGet" (func $get (param i64) (result i64)))
  (memory 1)
  (func $output (param $block i64)
    (call $output_set (local.get $block) (call $length (local.get $block))))
  (func (export "echo") (result i32) (call $output (call $input)) (i32.const 0))
  (func (export "lookup") (result i32) (call $output (call $get (call $input))) (i32.const 0))
  (func (export "config") (result i32) (call $output (call $config_get (call $input))) (i32.const 0))
  (func (export "log") (result i32) (call $log_info (call $input)) (i32.const 0))
  (func (export "fail") (result i32) (call $error_set (call $input)) (i32.const 1))
  (func (export "trap") (result i32) unreachable)
  (func (export "spin") (result i32) (loop $forever (br $forever)) (i32.const 0))
  (func (export "grow") (result i32) (drop (memory.grow (i32.const 100))) (i32.const 0))
  (func (export "forged_key") (result i32) (drop (call $get (i64.const 99999))) (i32.const 0))
)
"#;

/// Imports from WASI without needing it.
const WASI_PROBE: &str = r#"
(module
  (import "wasi_snapshot_preview1" "sched_yield" (func (result i32)))
  (func (export "run") (result i32) (i32.const 0))
)
"#;

struct Run {
    code: i32,
    stdout: Vec<u8>,
    stderr: String,
}

impl Run {
    fn stdout(&self) -> &str {
        std::str::from_utf8(&self.stdout).expect("stdout is UTF-8 here")
    }

    /// The contract for bad input: one line on stderr, this code, nothing on stdout.
    #[track_caller]
    fn fails_with(&self, code: i32, needle: &str) {
        assert_eq!(self.code, code, "stderr: {}", self.stderr);
        assert_eq!(self.stderr.lines().count(), 1, "stderr: {}", self.stderr);
        assert!(
            self.stderr.starts_with("error: "),
            "stderr: {}",
            self.stderr
        );
        assert!(self.stderr.contains(needle), "stderr: {}", self.stderr);
        assert!(self.stdout.is_empty(), "stdout: {:?}", self.stdout);
    }
}

fn host(args: &[&str], stdin: &[u8]) -> Run {
    let mut child = Command::new(HOST)
        .args(args)
        // A panic would print a backtrace with this set; none may appear.
        .env("RUST_BACKTRACE", "1")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the host binary starts");
    // The host may exit before reading stdin (bad usage): a closed pipe is fine then.
    let _ = child.stdin.take().expect("stdin is piped").write_all(stdin);
    let output = child.wait_with_output().expect("the host binary ends");
    Run {
        code: output.status.code().expect("the host exits, not killed"),
        stdout: output.stdout,
        stderr: String::from_utf8(output.stderr).expect("stderr is UTF-8"),
    }
}

/// Writes `contents` to a file of this test's own, so tests can run in parallel.
fn file(name: &str, contents: &[u8]) -> PathBuf {
    let path = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("cli-{name}"));
    std::fs::write(&path, contents).expect("the test file is written");
    path
}

fn probe(name: &str, wat: &str) -> String {
    let wasm = wat::parse_str(wat).expect("the probe is valid WAT");
    file(&format!("{name}.wasm"), &wasm).display().to_string()
}

fn call(probe_name: &str, rest: &[&str], stdin: &[u8]) -> Run {
    let wasm = probe(probe_name, PROBE);
    let mut args = vec!["call", &wasm];
    args.extend_from_slice(rest);
    host(&args, stdin)
}

fn path(path: &Path) -> &str {
    path.to_str().expect("test paths are UTF-8")
}

pub fn trials() -> Vec<Trial> {
    let seed = Trial::ignorable_test(
        crate::trial_name(
            module_path!(),
            "the_seed_call_on_every_built_plugin_prints_the_seed_output",
        ),
        || {
            the_seed_call_on_every_built_plugin_prints_the_seed_output()
                .map_err(|error| format!("{error:#}").into())
        },
    );
    let mut trials = vec![seed];
    trials.extend(tests!(
        output_bytes_go_to_stdout_unchanged,
        the_store_defaults_to_the_seed_and_takes_files_and_sets,
        config_trace_log_and_loop_report_on_stderr,
        each_outcome_of_a_call_has_its_own_exit_code,
        bad_files_give_one_line_and_code_3,
        modules_that_are_not_regular_files_are_refused_at_once_with_code_3,
        linked_modules_are_named_and_read_like_the_plugin,
        bad_usage_gives_one_line_and_code_2,
    ));
    trials
}

/// The seed's call, by the binary and by the crate docs' example (`host/src/lib.rs`), on every
/// plugin language built here. Ignored, with the reasons, only when no language could be built
/// for a missing toolchain outside CI (under CI=true that already failed the build).
fn the_seed_call_on_every_built_plugin_prints_the_seed_output() -> anyhow::Result<Completion> {
    let sh = xshell::Shell::new()?;
    let plugins = xtask::build_plugins(&sh, &xtask::all(xtask::LANGUAGES))?;
    if plugins.ready.is_empty() {
        anyhow::ensure!(
            !plugins.skipped.is_empty() && !xtask::in_ci(),
            "no plugin language was built"
        );
        let reasons: Vec<String> = plugins
            .skipped
            .iter()
            .map(|(language, reason)| format!("{language}: {reason}"))
            .collect();
        return Ok(Completion::ignored_with(format!(
            "no plugin language was built ({})",
            reasons.join("; ")
        )));
    }
    let input = "👋 Hello from the Go Host app 🤗";
    let store = Store::seed();
    // CONTRACT.md's say_hello, with the seed's store.
    let expected = [
        "👋 Hello ".as_bytes(),
        input.as_bytes(),
        b"\nkey: hello, value: ",
        store.get(b"hello"),
        b"\nkey: message, value: ",
        store.get(b"message"),
    ]
    .concat();
    for (language, artifact) in &plugins.ready {
        let language = language.name();
        let wasm = path(&artifact.path);
        let run = host(&["call", wasm, "say_hello", "--input", input], b"");
        assert_eq!(run.code, 0, "{language}: {}", run.stderr);
        assert_eq!(run.stdout, expected, "{language}");
        assert_eq!(run.stderr, "", "{language}");

        // The crate docs' example, with this language's path.
        let mut plugin = Plugin::from_file(&artifact.path, Store::seed())?;
        let output = plugin.call("say_hello", input.as_bytes())?;
        assert_eq!(output, expected, "{language}: the library's say_hello");
    }
    Ok(Completion::Completed)
}

fn output_bytes_go_to_stdout_unchanged() {
    let bytes: Vec<u8> = (0..=255).collect();
    let run = call("echo-stdin", &["echo"], &bytes);
    assert_eq!((run.code, run.stderr.as_str()), (0, ""));
    assert_eq!(run.stdout, bytes);
    let input = file("echo-input", b"\xff\x00bytes\r\n");
    let run = call("echo-file", &["echo", "--input-file", path(&input)], b"");
    assert_eq!(run.stdout, b"\xff\x00bytes\r\n");
    let run = call("echo-dash", &["echo", "--input-file", "-"], b"from stdin");
    assert_eq!(run.stdout, b"from stdin");
}

fn the_store_defaults_to_the_seed_and_takes_files_and_sets() {
    let seed = call("store-seed", &["lookup", "--input", "hello"], b"");
    assert_eq!(seed.stdout, Store::seed().get(b"hello"));
    let json = file("store.json", br#"{"hello": "from json", "other": "x"}"#);
    let run = call(
        "store-json",
        &["lookup", "--input", "hello", "--store", path(&json)],
        b"",
    );
    assert_eq!(run.stdout(), "from json");
    let toml = file("store.toml", b"hello = \"from toml\"\n");
    let run = call(
        "store-toml",
        &["lookup", "--input", "hello", "--store", path(&toml)],
        b"",
    );
    assert_eq!(run.stdout(), "from toml");
    let run = call(
        "store-set",
        &[
            "lookup",
            "--input",
            "hello",
            "--store",
            path(&toml),
            "--set",
            "hello=a=b",
        ],
        b"",
    );
    assert_eq!(run.stdout(), "a=b");
    // A file replaces the seed's entries.
    let run = call(
        "store-replaces",
        &["lookup", "--input", "message", "--store", path(&json)],
        b"",
    );
    assert_eq!((run.code, run.stdout()), (0, ""));
}

fn config_trace_log_and_loop_report_on_stderr() {
    let run = call(
        "config",
        &["config", "--input", "greeting", "--config", "greeting=hi"],
        b"",
    );
    assert_eq!((run.code, run.stdout()), (0, "hi"));

    let run = call("trace", &["lookup", "--input", "hello", "--trace"], b"");
    let value = Store::seed().get(b"hello").to_vec();
    assert_eq!(run.stdout, value);
    assert_eq!(
        run.stderr,
        format!(
            "trace: hostMemoryGet key \"hello\" -> {} bytes\n",
            value.len()
        )
    );

    let line = "a line from the plugin";
    let run = call("log", &["log", "--input", line, "--log-level", "info"], b"");
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stderr.contains(line), "{}", run.stderr);
    let quiet = call("log-off", &["log", "--input", line], b"");
    assert_eq!(quiet.stderr, "");

    let run = call("loop", &["echo", "--input", "x", "--loop", "50"], b"");
    assert_eq!((run.code, run.stdout()), (0, "x"));
    assert!(
        run.stderr.starts_with("loop: 50 calls in "),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains(" per call (min "), "{}", run.stderr);
}

fn each_outcome_of_a_call_has_its_own_exit_code() {
    call("fail", &["fail", "--input", "it went wrong"], b"")
        .fails_with(1, "plugin error: it went wrong");
    call("trap", &["trap"], b"").fails_with(5, "trap: ");
    call("spin", &["spin", "--timeout", "50ms"], b"").fails_with(6, "timed out");
    call("grow", &["grow", "--memory-max", "4"], b"").fails_with(7, "out of memory");
    call("forged", &["forged_key"], b"").fails_with(
        8,
        "key offset 99999 is not an allocated Extism memory block",
    );
    call("no-export", &["nope"], b"").fails_with(4, "has no export nope");
    call("fuel", &["spin", "--fuel", "10000"], b"").fails_with(9, "out of fuel");
    call(
        "key-limit",
        &["lookup", "--input", "hello", "--max-key-len", "4"],
        b"",
    )
    .fails_with(8, "key of 5 bytes is over the limit of 4");
    call(
        "value-limit",
        &["lookup", "--input", "hello", "--max-value-len", "1"],
        b"",
    )
    .fails_with(
        8,
        &format!(
            "value of {} bytes is over the limit of 1",
            Store::seed().get(b"hello").len()
        ),
    );
    let unlimited = call(
        "no-limits",
        &["lookup", "--input", "hello", "--no-limits"],
        b"",
    );
    assert_eq!(unlimited.stdout, Store::seed().get(b"hello"));
}

fn bad_files_give_one_line_and_code_3() {
    host(&["call", "no/such/plugin.wasm", "run"], b"")
        .fails_with(3, "cannot read plugin no/such/plugin.wasm");
    let text = file("not-wasm.txt", b"hello");
    host(&["call", path(&text), "run"], b"").fails_with(3, "not a WebAssembly module");
    let truncated = file("truncated.wasm", b"\0asm\x01\0\0\0\x01");
    host(&["call", path(&truncated), "run"], b"").fails_with(3, "cannot load plugin");
    let json = file("bad-store.json", br#"{"hello": 3}"#);
    call("bad-json", &["lookup", "--store", path(&json)], b"")
        .fails_with(3, "not a JSON object of string keys to string values");
    let toml = file("bad-store.toml", b"hello = [1]\n");
    call("bad-toml", &["lookup", "--store", path(&toml)], b"").fails_with(3, "at line 1");
    call(
        "no-store",
        &["lookup", "--store", "no/such/store.json"],
        b"",
    )
    .fails_with(3, "cannot read store file no/such/store.json");
    call("no-input", &["echo", "--input-file", "no/such/input"], b"")
        .fails_with(3, "cannot read input file no/such/input");
    let wasi = probe("wasi", WASI_PROBE);
    host(&["call", &wasi, "run", "--wasi", "off"], b"").fails_with(
        3,
        "imports wasi_snapshot_preview1.sched_yield, but WASI is off",
    );
    assert_eq!(host(&["call", &wasi, "run"], b"").code, 0);
}

/// `host` with `args`, which must end within `limit`: a host that reads a device that never
/// ends, or opens a FIFO nobody writes to, is killed and the test fails instead of hanging.
fn host_within(args: &[&str], limit: Duration) -> Run {
    let mut child = Command::new(HOST)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the host binary starts");
    let started = Instant::now();
    while child
        .try_wait()
        .expect("the host can be waited for")
        .is_none()
    {
        if started.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            panic!("host {} still ran after {limit:?}", args.join(" "));
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    let output = child.wait_with_output().expect("the host binary ends");
    Run {
        code: output.status.code().expect("the host exits, not killed"),
        stdout: output.stdout,
        stderr: String::from_utf8(output.stderr).expect("stderr is UTF-8"),
    }
}

/// A directory of this test's own, made afresh.
fn scratch(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("cli-{name}"));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("a scratch directory");
    dir
}

fn mkfifo(path: &Path) {
    let name = std::ffi::CString::new(path.as_os_str().as_encoded_bytes()).expect("no NUL");
    // SAFETY: a NUL-terminated path, which mkfifo only reads.
    let made = unsafe { libc::mkfifo(name.as_ptr(), 0o600) };
    assert_eq!(made, 0, "mkfifo: {}", std::io::Error::last_os_error());
}

/// docs/protocol.md's module-file rule, on the command line: nothing that is not a regular file
/// of at most 128 MiB is opened, so none of these can hold the host up.
fn modules_that_are_not_regular_files_are_refused_at_once_with_code_3() {
    let dir = scratch("unusable");
    let fifo = dir.join("fifo.wasm");
    mkfifo(&fifo);
    let sparse = dir.join("over-the-cap.wasm");
    // Sparse: the 128 MiB take no disk.
    let file = std::fs::File::create(&sparse).expect("the oversized file");
    file.set_len(host::MODULE_MAX_BYTES + 1)
        .expect("a sparse file");
    let missing = dir.join("missing.wasm");
    let cases = [
        ("/dev/zero", "/dev/zero: not a regular file".to_owned()),
        (path(&fifo), format!("{}: not a regular file", path(&fifo))),
        (
            path(&dir),
            format!("{}: a directory, not a regular file", path(&dir)),
        ),
        (
            path(&sparse),
            "134217729 bytes, over the 128 MiB cap".to_owned(),
        ),
        (path(&missing), format!("{}: no such file", path(&missing))),
    ];
    for (wasm, says) in &cases {
        host_within(&["call", wasm, "run"], Duration::from_secs(10)).fails_with(3, says);
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// A module the plugin imports from, by the name `--link` gives it.
const LIBRARY: &str = r#"(module (func (export "answer") (result i32) (i32.const 42)))"#;

/// Returns 0 exactly when the linked `lib.answer` gives 42.
const LINKING: &str = r#"
(module
  (import "lib" "answer" (func $answer (result i32)))
  (func (export "run") (result i32) (i32.sub (call $answer) (i32.const 42))))
"#;

fn linked_modules_are_named_and_read_like_the_plugin() {
    let main = probe("linking", LINKING);
    let lib = probe("library", LIBRARY);
    let link = format!("lib={lib}");
    let run = host(&["call", &main, "run", "--link", &link], b"");
    assert_eq!((run.code, run.stderr.as_str()), (0, ""));
    host(&["call", &main, "run"], b"").fails_with(3, "cannot load plugin");
    host_within(
        &["call", &main, "run", "--link", "lib=/dev/zero"],
        Duration::from_secs(10),
    )
    .fails_with(3, "/dev/zero: not a regular file");
    let bad_names = [
        (vec![format!("={lib}")], "the name is empty"),
        (
            vec![format!("main={lib}")],
            "`main` is the main module's name",
        ),
        (
            vec![link.clone(), link.clone()],
            "the name `lib` is given twice",
        ),
    ];
    for (links, says) in &bad_names {
        let mut args = vec!["call", main.as_str(), "run"];
        for link in links {
            args.extend(["--link", link.as_str()]);
        }
        host(&args, b"").fails_with(2, says);
    }
    host(&["call", &main, "run", "--link", "lib"], b"").fails_with(2, "expected NAME=WASM");
}

fn bad_usage_gives_one_line_and_code_2() {
    call("bad-set", &["lookup", "--set", "novalue"], b"")
        .fails_with(2, "expected KEY=VALUE, got `novalue`");
    call("bad-config", &["config", "--config", "x"], b"").fails_with(2, "expected KEY=VALUE");
    call("unknown-flag", &["echo", "--frobnicate"], b"")
        .fails_with(2, "unexpected argument '--frobnicate'");
    call("bad-timeout", &["echo", "--timeout", "5"], b"").fails_with(2, "has no unit");
    call("bad-memory", &["echo", "--memory-max", "lots"], b"").fails_with(2, "not a page count");
    call("bad-loop", &["echo", "--loop", "0"], b"").fails_with(2, "--loop");
    host(&["call"], b"").fails_with(2, "required");
    host(&["frobnicate"], b"").fails_with(2, "unrecognized subcommand 'frobnicate'");
    let help = host(&["call", "--help"], b"");
    assert_eq!(help.code, 0);
    assert!(help.stdout().contains("Exit codes:"), "{}", help.stdout());
}
