//! `matrix call` on bad input and on fake protocol hosts (shell scripts given with `--host`):
//! every check it makes before a host starts, and its grouping, diff, JSON and exit statuses,
//! without building or starting any host of the table.

use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::time::Duration;

use clap::Parser;
use xshell::Shell;

use super::{call, CallArgs, Exit};

#[derive(Parser)]
struct Command {
    #[command(flatten)]
    args: CallArgs,
}

/// `matrix call` with `argv` (after `call`): its status, stdout and stderr. A usage error is
/// what `cargo xtask` prints for it.
fn run(argv: &[&str]) -> (Exit, String, String) {
    let argv: Vec<String> = argv.iter().map(|arg| arg.to_string()).collect();
    let (send, done) = mpsc::channel();
    let shown = argv.join(" ");
    // A check that blocks (a FIFO opened) fails the test instead of hanging it.
    std::thread::spawn(move || {
        let argv = std::iter::once("call".to_owned()).chain(argv);
        let ran = match Command::try_parse_from(argv) {
            Err(error) => (Exit::Usage, String::new(), crate::usage_line(&error) + "\n"),
            Ok(command) => {
                let sh = Shell::new().expect("a shell");
                let (mut out, mut err) = (Vec::new(), Vec::new());
                let exit = call(&command.args, &sh, &mut out, &mut err);
                let text = |bytes| String::from_utf8(bytes).expect("UTF-8");
                (exit, text(out), text(err))
            }
        };
        let _ = send.send(ran);
    });
    done.recv_timeout(Duration::from_secs(30))
        .unwrap_or_else(|_| panic!("matrix call {shown} did not return within 30 s"))
}

/// Bad input: `exit`, one line on stderr holding `says`, nothing on stdout. Never a build: a
/// check that let the input through would otherwise build every host.
#[track_caller]
fn check(argv: &[&str], exit: Exit, says: &str) {
    let (got, out, err) = run(&[argv, &["--no-build"]].concat());
    assert_eq!(got, exit, "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.starts_with("error: ") && err.contains(says), "{err}");
    assert_eq!(out, "");
}

/// A directory of this test's own.
fn scratch(test: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("xtask-matrix-{}-{test}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("a scratch directory");
    dir
}

fn path(path: &Path) -> &str {
    path.to_str().expect("test paths are UTF-8")
}

const ECHO: &str = r#"(module
  (import "extism:host/env" "input_offset" (func $input (result i64)))
  (import "extism:host/env" "length" (func $length (param i64) (result i64)))
  (import "extism:host/env" "output_set" (func $output_set (param i64 i64)))
  (func (export "echo") (result i32)
    (call $output_set (call $input) (call $length (call $input)))
    (i32.const 0)))"#;

#[test]
fn unusable_module_files_are_refused_before_any_host_starts() {
    let dir = scratch("files");
    let fifo = dir.join("fifo.wasm");
    let made = std::process::Command::new("mkfifo").arg(&fifo).status();
    assert!(made.is_ok_and(|status| status.success()), "mkfifo");
    let sparse = dir.join("over-the-cap.wasm");
    let file = std::fs::File::create(&sparse).expect("the oversized file");
    file.set_len(suite::protocol::MODULE_MAX_BYTES + 1)
        .expect("a sparse file");
    let text = dir.join("text.wasm");
    std::fs::write(&text, "(module)").expect("a text file");
    let bad_wat = dir.join("bad.wat");
    std::fs::write(&bad_wat, "(module (func (export \"x\")").expect("bad.wat");
    let missing = dir.join("missing.wasm");
    let bad_file = Exit::BadFile;
    check(
        &["/dev/zero", "x", "--input", ""],
        bad_file,
        "plugin /dev/zero: not a regular file",
    );
    check(
        &[path(&fifo), "x", "--input", ""],
        bad_file,
        "fifo.wasm: not a regular file",
    );
    check(
        &[path(&dir), "x", "--input", ""],
        bad_file,
        "a directory, not a regular file",
    );
    check(
        &[path(&sparse), "x"],
        bad_file,
        "134217729 bytes, over the 128 MiB cap",
    );
    check(
        &[path(&missing), "x"],
        bad_file,
        "missing.wasm: no such file",
    );
    check(&[path(&text), "x"], bad_file, "not a WebAssembly module");
    check(
        &[path(&bad_wat), "x"],
        bad_file,
        "not valid WebAssembly text",
    );
    let echo = dir.join("echo.wat");
    std::fs::write(&echo, ECHO).expect("echo.wat");
    let link = format!("lib={}", path(&fifo));
    check(
        &[path(&echo), "echo", "--link", &link],
        bad_file,
        "--link lib ",
    );
    let store = format!("--store={}", path(&missing));
    check(
        &[path(&echo), "echo", &store],
        bad_file,
        "cannot read store file",
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn an_export_the_module_lacks_is_named_with_those_it_has() {
    let dir = scratch("exports");
    let echo = dir.join("echo.wat");
    std::fs::write(&echo, ECHO).expect("echo.wat");
    let no_export = Exit::NoExport;
    check(
        &[path(&echo), "echo", "nope"],
        no_export,
        "has no export `nope`; its functions: echo",
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn bad_hosts_and_links_are_usage_errors() {
    let dir = scratch("usage");
    let echo = dir.join("echo.wat");
    std::fs::write(&echo, ECHO).expect("echo.wat");
    let echo = path(&echo);
    let usage = Exit::Usage;
    check(
        &[echo, "echo", "--host", "mine"],
        usage,
        "expected NAME=COMMAND",
    );
    check(
        &[echo, "echo", "--host", "mine="],
        usage,
        "expected NAME=COMMAND",
    );
    check(
        &[echo, "echo", "--hosts", "nosuch"],
        usage,
        "--hosts: unknown host `nosuch`; known: ",
    );
    let table = crate::HOSTS[0].name();
    let clash = format!("{table}=true");
    check(
        &[echo, "echo", "--host", &clash],
        usage,
        "the table has a host of that name",
    );
    check(
        &[echo, "echo", "--host", "a=x", "--host", "a=y"],
        usage,
        "--host a: given twice",
    );
    let lib = format!("main={echo}");
    check(
        &[echo, "echo", "--link", &lib],
        usage,
        "`main` is the main module's name",
    );
    check(
        &[echo, "echo", "--link", "lib"],
        usage,
        "expected NAME=WASM",
    );
    check(&[echo], usage, "required");
    check(&[echo, "echo", "--timeout", "5"], usage, "has no unit");
    check(&[echo, "echo", "--times", "0"], usage, "--times");
}

#[test]
fn a_command_that_is_not_a_protocol_host_is_named_with_what_happened() {
    let dir = scratch("not-hosts");
    let echo = dir.join("echo.wat");
    std::fs::write(&echo, ECHO).expect("echo.wat");
    let echo = path(&echo);
    let failed = Exit::HostFailed;
    let cat = [
        echo, "echo", "--input", "", "--host", "cat=cat", "--hosts", "cat",
    ];
    check(&cat, failed, "cat does not speak docs/protocol.md");
    let t = [
        echo, "echo", "--input", "", "--host", "t=true", "--hosts", "t",
    ];
    check(&t, failed, "t (sh): it ended without answering");
}

/// A protocol host in a few lines of shell: it greets as protocol `$VERSION` and answers every
/// request with one result whose output is `$OUTPUT` (base64).
const FAKE: &str = r#"
while IFS= read -r line; do
  [ -z "$line" ] && continue
  id=${line#*\"id\":}; id=${id%%[!0-9]*}
  case "$line" in
    '{"protocol":0,'*) printf '{"protocol":%s,"id":%s,"error":{"kind":"unsupported_protocol","message":"no"}}\n' "$VERSION" "$id" ;;
    *) printf '{"protocol":3,"id":%s,"results":[{"output":"%s","failure":null,"trace":[],"logs":[]}]}\n' "$id" "$OUTPUT" ;;
  esac
done
"#;

/// `matrix call` of a module on the fake hosts `hosts`, each `(name, version, output)`, and
/// only on them.
fn on_fakes(test: &str, hosts: &[(&str, u32, &str)], more: &[&str]) -> (Exit, String, String) {
    let dir = scratch(test);
    std::fs::write(dir.join("fake.sh"), FAKE).expect("fake.sh");
    std::fs::write(dir.join("echo.wat"), ECHO).expect("echo.wat");
    let fake = dir.join("fake.sh");
    let mut argv = vec![path(&dir.join("echo.wat")).to_owned(), "echo".into()];
    argv.extend(["--input", "", "--no-build"].map(str::to_owned));
    let names: Vec<&str> = hosts.iter().map(|(name, _, _)| *name).collect();
    argv.push(format!("--hosts={}", names.join(",")));
    for (name, version, output) in hosts {
        let command = format!("VERSION={version} OUTPUT={output} sh {}", path(&fake));
        argv.push(format!("--host={name}={command}"));
    }
    argv.extend(more.iter().map(|arg| arg.to_string()));
    let ran = run(&argv.iter().map(String::as_str).collect::<Vec<_>>());
    let _ = std::fs::remove_dir_all(&dir);
    ran
}

#[test]
fn hosts_that_agree_exit_0_and_those_that_differ_are_grouped_named_and_diffed() {
    let (exit, out, err) = on_fakes("agree", &[("a", 3, "aGk="), ("b", 3, "aGk=")], &[]);
    assert_eq!((exit, err.as_str()), (Exit::Agree, ""));
    assert!(
        out.starts_with("every host agrees (a, b):\nhost calls: 0\noutcome: ok\n"),
        "{out}"
    );
    assert!(out.ends_with("\nhi\n"), "{out}");

    let hosts = [("a", 3, "aGk="), ("b", 3, "aG8="), ("c", 3, "aGk=")];
    let (exit, out, err) = on_fakes("differ", &hosts, &["--timings"]);
    assert_eq!(exit, Exit::Differ, "{err}");
    assert!(
        out.starts_with("── 2 hosts: a, c\nhost calls: 0\n"),
        "{out}"
    );
    assert!(out.contains("\n── 1 host: b\n"), "{out}");
    assert!(
        out.contains("\ndiffer from a, c: b\n--- a, c\n+++ b\n@@"),
        "{out}"
    );
    assert!(
        out.contains("\n-hi\n+output: 2 bytes") && out.ends_with("\n+ho\n"),
        "{out}"
    );
    // One line per host, and the whole.
    assert_eq!(
        err.lines().filter(|l| l.starts_with("time: ")).count(),
        4,
        "{err}"
    );
}

#[test]
fn json_has_every_host_the_groups_the_diffs_and_the_times() {
    let hosts = [("a", 3, "aGk="), ("b", 3, "aG8="), ("old", 2, "aGk=")];
    let (exit, out, err) = on_fakes("json", &hosts, &["--json"]);
    assert_eq!(exit, Exit::Differ, "{err}");
    assert!(err.contains("error: old speaks protocol 2, not 3"), "{err}");
    let json: serde_json::Value = serde_json::from_str(&out).expect("JSON on stdout");
    assert_eq!(json["agree"], false);
    assert_eq!(json["exit"], 1);
    assert_eq!(json["differ"], serde_json::json!(["b"]));
    assert_eq!(json["groups"].as_array().map(Vec::len), Some(2));
    assert_eq!(json["hosts"][0]["name"], "a");
    assert!(json["hosts"][0]["rendering"]
        .as_str()
        .is_some_and(|r| r.ends_with("\nhi")));
    assert!(json["hosts"][0]["ready_seconds"].is_f64());
    let old = &json["hosts"][2];
    assert!(
        old["rendering"].is_null()
            && old["error"]
                .as_str()
                .is_some_and(|e| e.contains("protocol 2"))
    );
    assert!(json["diffs"][0]["diff"]
        .as_str()
        .is_some_and(|d| d.contains("+ho")));
    assert!(json["asking_seconds"].is_f64());

    // With the hosts that answer agreeing, the one that could not be asked decides.
    let hosts = [("a", 3, "aGk="), ("old", 2, "aGk=")];
    let (exit, _, err) = on_fakes("json-failed", &hosts, &["--json"]);
    assert_eq!(exit, Exit::HostFailed, "{err}");
}

#[test]
fn a_host_given_with_host_is_asked_beside_the_table_hosts_hosts_chooses() {
    let given = [("mine".to_owned(), "true".to_owned())];
    let names = |only: &[&str]| -> Vec<String> {
        let only: Vec<String> = only.iter().map(|name| name.to_string()).collect();
        let chosen = super::hosts::choose(&only, &given).expect("chosen");
        chosen.into_iter().map(|chosen| chosen.name).collect()
    };
    let table = crate::table::HOSTS
        .iter()
        .map(|host| host.name().to_owned());
    let every: Vec<String> = table.chain(["mine".to_owned()]).collect();
    assert_eq!(names(&[]), every);
    let first = crate::table::HOSTS[0].name();
    assert_eq!(names(&[first]), [first, "mine"]);
    assert_eq!(names(&[first, "mine"]), [first, "mine"]);
}
