//! The hostile plugins of `plugins-hostile/`, written with the real PDKs (`extism-pdk` for Rust,
//! `go-pdk` for standard Go), against the Rust host: every attack ends in a named failure, never
//! a crash, and after each one the same process makes a fresh instance of the honest Rust
//! conformance plugin and checks its output. `hostile.rs` makes the same attacks with
//! hand-written WAT; these show that what a compiler and a PDK actually emit ends the same way.
//! Every module is built by `xtask::build_hostile_plugins` (`cargo xtask build-hostile`).

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use host::{CompiledPlugin, Failure, HostCall, Limits, Store, HOST_MEMORY_GET};
use libtest_mimic::{Arguments, Completion, Trial};
use xshell::Shell;

use crate::common::{attack, failure, host_still_answers};
use crate::compile::compile;

/// The short timeout every attack but `million_host_calls` runs under.
const TIMEOUT: Duration = Duration::from_millis(500);
/// The memory cap of those attacks: 16 MiB, over what either module starts with.
const MEMORY_MAX_PAGES: u32 = 256;

/// One trial per hostile language, `hostile_plugins::<lang>`. When any of them runs, builds
/// every hostile module and the honest Rust plugin first, once; a language skipped for a
/// missing toolchain (never under CI=true, where the build fails instead) is an ignored trial
/// with the reason.
pub fn trials(args: &Arguments) -> anyhow::Result<Vec<Trial>> {
    let names: Vec<String> = xtask::HOSTILE
        .iter()
        .map(|hostile| crate::trial_name(module_path!(), hostile.name()))
        .collect();
    if !names.iter().any(|name| crate::runs(args, name)) {
        // `--list`, or a filter that leaves none of them: the names are all that is needed.
        return Ok(names
            .into_iter()
            .map(|name| Trial::test(name, || Err("filtered out, so not built".into())))
            .collect());
    }
    let sh = Shell::new()?;
    let hostile = xtask::build_hostile_plugins(&sh, &xtask::all(xtask::HOSTILE))?;
    let honest_language = xtask::Language::honest();
    let honest = xtask::build_plugins(&sh, &[honest_language])?;
    let honest: Result<PathBuf, String> = match (honest.ready.first(), honest.skipped.first()) {
        (Some((_, artifact)), _) => Ok(artifact.path.clone()),
        (None, Some((_, reason))) => Err(format!(
            "the honest {honest_language} plugin was not built: {reason}"
        )),
        (None, None) => {
            anyhow::bail!("building the honest {honest_language} plugin came to nothing")
        }
    };
    let mut trials = Vec::new();
    for (plugin, name) in xtask::HOSTILE.iter().zip(names) {
        let ready = hostile.ready.iter().find(|(built, _)| *built == plugin);
        let skipped = hostile.skipped.iter().find(|(built, _)| *built == plugin);
        let outcome = match (ready, skipped) {
            (Some((_, artifact)), _) => {
                honest.clone().map(|honest| (artifact.path.clone(), honest))
            }
            (None, Some((_, reason))) => Err(reason.clone()),
            (None, None) => anyhow::bail!("building the hostile {plugin} plugin came to nothing"),
        };
        trials.push(Trial::ignorable_test(name, move || {
            let (wasm, honest) = match outcome {
                Ok(paths) => paths,
                Err(reason) => return Ok(Completion::ignored_with(reason)),
            };
            attack_with(plugin.name(), &wasm, &honest)?;
            Ok(Completion::Completed)
        }));
    }
    Ok(trials)
}

/// Every export of one language's hostile module, each followed by the honest plugin's check.
fn attack_with(language: &str, wasm: &Path, honest: &Path) -> Result<(), String> {
    let expected = xtask::Hostile::from_name(language).map_err(|error| format!("{error:#}"))?;
    let honest = &CompiledPlugin::from_file(honest).expect("the honest plugin compiles");
    host_still_answers(honest, "nothing");
    let wasm = std::fs::read(wasm).expect("the module was built");
    let short = Limits {
        timeout: Some(TIMEOUT),
        memory_max_pages: Some(MEMORY_MAX_PAGES),
        ..Limits::default()
    };
    let started = Instant::now();
    let hostile = compile(&format!("hostile-{language}"), &wasm, short);
    // A million host calls take about as long as the short timeout: the default limits.
    let busy = compile(&format!("hostile-{language}"), &wasm, Limits::default());
    eprintln!("{language}: compiled twice in {:?}", started.elapsed());

    let (result, _, took) = attack(&hostile, "infinite_loop", b"");
    assert_eq!(failure(&result, "infinite_loop"), &Failure::Timeout);
    eprintln!("{language} infinite_loop: stopped after {took:?} with a {TIMEOUT:?} timeout");
    assert!(took < 2 * TIMEOUT, "{language}: stopped after {took:?}");
    host_still_answers(honest, &format!("{language} infinite_loop"));

    // Extism's memory limiter makes a memory.grow past the cap trap ("oom") rather than return
    // -1, so neither dlmalloc (Rust) nor the Go runtime ever sees a refused growth: no allocator
    // error path runs, and the host names the failure.
    let (result, _, took) = attack(&hostile, "memory_bomb", b"");
    assert_eq!(
        failure(&result, "memory_bomb"),
        &Failure::OutOfMemory,
        "{language}"
    );
    eprintln!("{language} memory_bomb: stopped at the {MEMORY_MAX_PAGES}-page cap after {took:?}");
    host_still_answers(honest, &format!("{language} memory_bomb"));

    let (result, _, took) = attack(&hostile, "unbounded_recursion", b"");
    match failure(&result, "unbounded_recursion") {
        Failure::Trap { trap } if trap.contains(expected.recursion_trap) => {
            eprintln!("{language} unbounded_recursion: {trap} after {took:?}")
        }
        other => panic!("{language} unbounded_recursion: {other:?}"),
    }
    host_still_answers(honest, &format!("{language} unbounded_recursion"));

    for offset in ["99999", "1099511627776", "-1"] {
        let what = format!("{language} forged_key_offset({offset})");
        let (result, trace, _) = attack(&hostile, "forged_key_offset", offset.as_bytes());
        let message = format!(
            "{HOST_MEMORY_GET}: key offset {offset} is not an allocated Extism memory block"
        );
        assert_eq!(
            failure(&result, &what),
            &Failure::HostFunction { message },
            "{what}"
        );
        assert_eq!(trace, [], "{what}");
        host_still_answers(honest, &what);
    }

    // The kernel's output_set refuses a block it did not hand out: the output stays empty.
    for block in ["99999 10", "100 2147483647", "140737488355327 10"] {
        let what = format!("{language} forged_output_offset({block})");
        let (result, trace, _) = attack(&hostile, "forged_output_offset", block.as_bytes());
        assert_eq!(result.as_deref().ok(), Some(&b""[..]), "{what}: {result:?}");
        assert_eq!(trace, [], "{what}");
        host_still_answers(honest, &what);
    }

    let (result, trace, took) = attack(&busy, "million_host_calls", b"");
    assert_eq!(
        result.as_deref().ok(),
        Some(&b"1000000"[..]),
        "{language}: {result:?}"
    );
    assert_eq!(trace.len(), 1_000_000, "{language}");
    let empty = HostCall {
        function: HOST_MEMORY_GET,
        key: Vec::new(),
        value_len: 0,
    };
    assert!(trace.iter().all(|call| *call == empty), "{language}");
    eprintln!(
        "{language} million_host_calls: {took:?}, {:?} per host call",
        took / 1_000_000
    );
    host_still_answers(honest, &format!("{language} million_host_calls"));

    let (result, trace, _) = attack(&hostile, "fails_mid_host_calls", b"");
    let message =
        format!("{HOST_MEMORY_GET}: key offset 99999 is not an allocated Extism memory block");
    assert_eq!(
        failure(&result, "fails_mid_host_calls"),
        &Failure::HostFunction { message },
        "{language}"
    );
    let hello = HostCall {
        function: HOST_MEMORY_GET,
        key: b"hello".to_vec(),
        value_len: Store::seed().get(b"hello").len(),
    };
    assert_eq!(trace.len(), 500, "{language}: the calls before the failure");
    assert!(trace.iter().all(|call| *call == hello), "{language}");
    host_still_answers(honest, &format!("{language} fails_mid_host_calls"));

    // Rust emits the instruction itself; Go has no way to, so its export panics, and a Go panic
    // in a c-shared module ends in the runtime's own `unreachable` (not a WASI exit).
    let (result, _, _) = attack(&hostile, "unreachable", b"");
    match failure(&result, "unreachable") {
        Failure::Trap { trap } if trap.contains("wasm `unreachable` instruction executed") => {}
        other => panic!("{language} unreachable: {other:?}"),
    }
    host_still_answers(honest, &format!("{language} unreachable"));
    Ok(())
}
