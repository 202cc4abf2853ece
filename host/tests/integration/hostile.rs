//! Plugins that attack the host: each one runs to its end (a named failure, never a crash), and
//! after each the same process makes a fresh instance of an honest plugin and checks its output.
//! The figures these tests print are the ones in docs/reliability.md.

use std::time::Duration;

use host::{Failure, Limits, Store, HOST_MEMORY_GET};
use libtest_mimic::Trial;

use crate::common::{attack, failure, host_still_answers};
use crate::compile::{compile_wat, LOOKUP_WAT};

/// Every hostile behaviour as one export. `$key` makes a block holding "hello".
const HOSTILE: &str = r#"
(module
  (import "extism:host/env" "alloc" (func $alloc (param i64) (result i64)))
  (import "extism:host/env" "store_u8" (func $store_u8 (param i64 i32)))
  (import "extism:host/env" "output_set" (func $output_set (param i64 i64)))
  (import "env" "hostMemoryGet" (func $get (param i64) (result i64)))
  (memory 1)

  (func $key (result i64) (local $k i64)
    (local.set $k (call $alloc (i64.const 5)))
    (call $store_u8 (local.get $k) (i32.const 104))
    (call $store_u8 (i64.add (local.get $k) (i64.const 1)) (i32.const 101))
    (call $store_u8 (i64.add (local.get $k) (i64.const 2)) (i32.const 108))
    (call $store_u8 (i64.add (local.get $k) (i64.const 3)) (i32.const 108))
    (call $store_u8 (i64.add (local.get $k) (i64.const 4)) (i32.const 111))
    (local.get $k))

  (func (export "infinite_loop") (result i32) (loop $forever (br $forever)) (i32.const 0))

  ;; Grows one page at a time until memory.grow says no, then traps.
  (func (export "memory_bomb") (result i32)
    (loop $more (br_if $more (i32.ne (memory.grow (i32.const 1)) (i32.const -1))))
    unreachable)

  (func $recurse (param $depth i64) (result i64)
    (i64.add (call $recurse (i64.add (local.get $depth) (i64.const 1))) (i64.const 1)))
  (func (export "unbounded_recursion") (result i32) (drop (call $recurse (i64.const 0))) (i32.const 0))

  (func (export "unreachable") (result i32) unreachable)

  ;; hostMemoryGet with the offset given as the export's name says.
  (func (export "key_unallocated") (result i32) (drop (call $get (i64.const 99999))) (i32.const 0))
  (func (export "key_past_the_end") (result i32) (drop (call $get (i64.const 0x10000000000))) (i32.const 0))
  (func (export "key_negative") (result i32) (drop (call $get (i64.const -1))) (i32.const 0))
  (func (export "key_max") (result i32) (drop (call $get (i64.const 0x7fffffffffffffff))) (i32.const 0))
  (func (export "key_inside_a_block") (result i32)
    (drop (call $get (i64.add (call $key) (i64.const 1)))) (i32.const 0))

  ;; output_set with blocks the plugin never allocated.
  (func (export "output_unallocated") (result i32) (call $output_set (i64.const 99999) (i64.const 10)) (i32.const 0))
  (func (export "output_past_the_end") (result i32) (call $output_set (i64.const 100) (i64.const 0x7fffffff)) (i32.const 0))
  (func (export "output_huge_offset") (result i32)
    (call $output_set (i64.const 0x7fffffffffff) (i64.const 10)) (i32.const 0))

  ;; A million host calls with the empty key (offset 0), answered by offset 0: all host-call
  ;; overhead, no allocation.
  (func (export "million_host_calls") (result i32) (local $n i32)
    (loop $more
      (drop (call $get (i64.const 0)))
      (local.set $n (i32.add (local.get $n) (i32.const 1)))
      (br_if $more (i32.lt_u (local.get $n) (i32.const 1000000))))
    (i32.const 0))

  ;; 500 good host calls, then one with a forged offset in the middle of the run.
  (func (export "fails_mid_run") (result i32) (local $n i32) (local $k i64)
    (local.set $k (call $key))
    (loop $more
      (drop (call $get (local.get $k)))
      (local.set $n (i32.add (local.get $n) (i32.const 1)))
      (br_if $more (i32.lt_u (local.get $n) (i32.const 500))))
    (drop (call $get (i64.const 99999)))
    (drop (call $get (local.get $k)))
    (i32.const 0))

  ;; The kernel's memory is the plugin's to write, block headers included: these make the
  ;; header of its own key block claim 2 GiB, or 1 MiB - 16 bytes (under the default key limit,
  ;; and past the end of the kernel's first 16 pages). Without host/src/shadowed_memory.rs
  ;; either one kills the host with SIGSEGV.
  (func (export "forged_header_2gib") (result i32) (local $k i64)
    (local.set $k (call $key))
    (call $store_u8 (i64.sub (local.get $k) (i64.const 1)) (i32.const 0x7f))
    (drop (call $get (local.get $k)))
    (i32.const 0))
  (func (export "forged_header_under_the_limit") (result i32) (local $k i64)
    (local.set $k (call $key))
    (call $store_u8 (i64.sub (local.get $k) (i64.const 4)) (i32.const 0xf0))
    (call $store_u8 (i64.sub (local.get $k) (i64.const 3)) (i32.const 0xff))
    (call $store_u8 (i64.sub (local.get $k) (i64.const 2)) (i32.const 0x0f))
    (drop (call $get (local.get $k)))
    (i32.const 0))
)
"#;

pub fn trials() -> Vec<Trial> {
    tests!(
        every_attack_ends_in_a_named_failure_and_the_host_goes_on,
        fuel_and_length_limits_are_named_failures,
    )
}

fn every_attack_ends_in_a_named_failure_and_the_host_goes_on() {
    let timeout = Duration::from_millis(500);
    let limits = Limits {
        timeout: Some(timeout),
        memory_max_pages: Some(160),
        ..Limits::default()
    };
    let hostile = compile_wat("hostile", HOSTILE, limits);
    let honest = compile_wat("honest", LOOKUP_WAT, Limits::default());
    host_still_answers(&honest, "nothing");

    let (result, _, took) = attack(&hostile, "infinite_loop", b"");
    assert_eq!(failure(&result, "attack"), &Failure::Timeout);
    eprintln!("infinite_loop: stopped after {took:?} with a {timeout:?} timeout");
    assert!(took < 2 * timeout, "stopped after {took:?}");
    host_still_answers(&honest, "infinite_loop");

    let (result, _, took) = attack(&hostile, "memory_bomb", b"");
    assert_eq!(failure(&result, "attack"), &Failure::OutOfMemory);
    eprintln!("memory_bomb: stopped at the 160-page cap after {took:?}");
    host_still_answers(&honest, "memory_bomb");

    for export in ["unbounded_recursion", "unreachable"] {
        let (result, _, _) = attack(&hostile, export, b"");
        assert!(
            matches!(failure(&result, "attack"), Failure::Trap { .. }),
            "{export}: {result:?}"
        );
        host_still_answers(&honest, export);
    }

    for export in [
        "key_unallocated",
        "key_past_the_end",
        "key_negative",
        "key_max",
        "key_inside_a_block",
    ] {
        let (result, trace, _) = attack(&hostile, export, b"");
        match failure(&result, "attack") {
            Failure::HostFunction { message } => assert!(
                message.contains("is not an allocated Extism memory block"),
                "{export}: {message}"
            ),
            other => panic!("{export}: {other:?}"),
        }
        assert_eq!(trace, [], "{export}");
        host_still_answers(&honest, export);
    }

    // The kernel refuses an output block it did not hand out: the output is empty.
    for export in [
        "output_unallocated",
        "output_past_the_end",
        "output_huge_offset",
    ] {
        let (result, _, _) = attack(&hostile, export, b"");
        assert_eq!(
            result.as_deref().ok(),
            Some(&b""[..]),
            "{export}: {result:?}"
        );
        host_still_answers(&honest, export);
    }

    // A forged header that claims more than the key limit is refused before any byte is read.
    let (result, _, _) = attack(&hostile, "forged_header_2gib", b"");
    assert!(
        matches!(failure(&result, "attack"), Failure::KeyTooLong { len, .. } if *len > 1 << 30),
        "{result:?}"
    );
    host_still_answers(&honest, "forged_header_2gib");

    // Forged lengths that run past the end of the kernel's memory: one under the key limit, and
    // the 2 GiB one with no key limit at all. extism reads the block without a bounds check; the
    // host's shadowed memories keep that read mapped, and the host refuses the block.
    let unlimited = compile_wat("hostile, no limits", HOSTILE, Limits::none());
    for (compiled, export) in [
        (&hostile, "forged_header_under_the_limit"),
        (&unlimited, "forged_header_2gib"),
    ] {
        let (result, trace, _) = attack(compiled, export, b"");
        match failure(&result, export) {
            Failure::HostFunction { message } => assert!(
                message.contains("past the end of Extism memory"),
                "{export}: {message}"
            ),
            other => panic!("{export}: {other:?}"),
        }
        assert_eq!(trace, [], "{export}");
        host_still_answers(&honest, export);
    }

    // Default limits: a million calls take longer than the short timeout above.
    let busy = compile_wat("busy", HOSTILE, Limits::default());
    let (result, trace, took) = attack(&busy, "million_host_calls", b"");
    assert_eq!(result.as_deref().ok(), Some(&b""[..]), "{result:?}");
    assert_eq!(trace.len(), 1_000_000);
    eprintln!(
        "million_host_calls: {took:?}, {:?} per host call",
        took / 1_000_000
    );
    host_still_answers(&honest, "million_host_calls");

    let (result, trace, _) = attack(&hostile, "fails_mid_run", b"");
    assert!(
        matches!(failure(&result, "attack"), Failure::HostFunction { .. }),
        "{result:?}"
    );
    assert_eq!(trace.len(), 500, "the calls before the failure are traced");
    assert!(trace.iter().all(|call| call.function == HOST_MEMORY_GET));
    host_still_answers(&honest, "fails_mid_run");
}

fn fuel_and_length_limits_are_named_failures() {
    let fuel = Limits {
        fuel: Some(100_000),
        ..Limits::default()
    };
    let hostile = compile_wat("fuelled", HOSTILE, fuel);
    let (result, _, took) = attack(&hostile, "infinite_loop", b"");
    assert_eq!(failure(&result, "attack"), &Failure::OutOfFuel);
    eprintln!("infinite_loop: out of 100,000 fuel after {took:?}");

    let short = Limits {
        max_key_len: 4,
        ..Limits::default()
    };
    let honest = compile_wat("short keys", LOOKUP_WAT, short);
    let mut plugin = honest.instantiate(Store::seed()).unwrap();
    let result = plugin.call("lookup", b"hello");
    assert_eq!(
        failure(&result, "attack"),
        &Failure::KeyTooLong { len: 5, max: 4 }
    );
    assert!(
        plugin.call("lookup", b"four").is_ok(),
        "a key at the limit is read"
    );

    let small = Limits {
        max_value_len: 8,
        ..Limits::default()
    };
    let honest = compile_wat("small values", LOOKUP_WAT, small);
    let store = Store::from_iter([("hello", "nine bytes"), ("short", "8 bytes!")]);
    let mut plugin = honest.instantiate(store).unwrap();
    let result = plugin.call("lookup", b"hello");
    assert_eq!(
        failure(&result, "attack"),
        &Failure::ValueTooLong { len: 10, max: 8 }
    );
    assert_eq!(plugin.call("lookup", b"short").unwrap(), b"8 bytes!");
}
