//! The host against hand-written modules, so each rule of `hostMemoryGet` is checked without a PDK.

use crate::{CompiledPlugin, Error, Failure, HostCall, Limits, Plugin, Store};

/// Imports the kernel functions it needs and `env.hostMemoryGet`; each export does one thing.
const PROBE: &str = r#"
(module
  (import "extism:host/env" "alloc" (func $alloc (param i64) (result i64)))
  (import "extism:host/env" "length" (func $length (param i64) (result i64)))
  (import "extism:host/env" "store_u8" (func $store_u8 (param i64 i32)))
  (import "extism:host/env" "store_u64" (func $store_u64 (param i64 i64)))
  (import "extism:host/env" "output_set" (func $output_set (param i64 i64)))
  (import "env" "hostMemoryGet" (func $get (param i64) (result i64)))

  ;; A new block holding "hello".
  (func $hello (result i64) (local $k i64)
    (local.set $k (call $alloc (i64.const 5)))
    (call $store_u8 (local.get $k) (i32.const 104))
    (call $store_u8 (i64.add (local.get $k) (i64.const 1)) (i32.const 101))
    (call $store_u8 (i64.add (local.get $k) (i64.const 2)) (i32.const 108))
    (call $store_u8 (i64.add (local.get $k) (i64.const 3)) (i32.const 108))
    (call $store_u8 (i64.add (local.get $k) (i64.const 4)) (i32.const 111))
    (local.get $k))

  (func $output_block (param $block i64)
    (call $output_set (local.get $block) (call $length (local.get $block))))

  ;; The key block after the host call: empty if the host freed it.
  (func (export "key_after_call") (result i32) (local $k i64)
    (local.set $k (call $hello))
    (drop (call $get (local.get $k)))
    (call $output_block (local.get $k))
    (i32.const 0))

  (func (export "value_of_hello") (result i32)
    (call $output_block (call $get (call $hello)))
    (i32.const 0))

  ;; The offset the host returns, as 8 little-endian bytes.
  (func (export "offset_for_hello") (result i32) (local $out i64)
    (local.set $out (call $alloc (i64.const 8)))
    (call $store_u64 (local.get $out) (call $get (call $hello)))
    (call $output_set (local.get $out) (i64.const 8))
    (i32.const 0))

  (func (export "value_of_empty_key") (result i32)
    (call $output_block (call $get (i64.const 0)))
    (i32.const 0))

  (func (export "unallocated_key") (result i32)
    (drop (call $get (i64.const 99999)))
    (i32.const 0))
)
"#;

#[track_caller]
fn call(store: Store, export: &str) -> Result<Vec<u8>, Error> {
    let wasm = wat::parse_str(PROBE).expect("the probe module is valid WAT");
    Plugin::from_bytes("probe", &wasm, store)?.call(export, b"")
}

#[test]
fn host_does_not_free_the_key_block() {
    assert_eq!(call(Store::seed(), "key_after_call").unwrap(), b"hello");
}

#[test]
fn value_comes_from_the_store() {
    assert_eq!(
        call(Store::seed(), "value_of_hello").unwrap(),
        "👋 Hello World 🌍".as_bytes()
    );
    let store = Store::from_iter([("hello", [0xff, 0x00, 0xfe])]);
    assert_eq!(call(store, "value_of_hello").unwrap(), [0xff, 0x00, 0xfe]);
}

#[test]
fn missing_key_gives_offset_zero() {
    assert_eq!(call(Store::empty(), "offset_for_hello").unwrap(), [0; 8]);
    let found = call(Store::seed(), "offset_for_hello").unwrap();
    assert_ne!(found, [0; 8], "a present key gives a non-zero offset");
    assert_eq!(call(Store::empty(), "value_of_hello").unwrap(), b"");
}

#[test]
fn offset_zero_is_the_empty_key() {
    let store = Store::from_iter([("", "for the empty key")]);
    assert_eq!(
        call(store, "value_of_empty_key").unwrap(),
        b"for the empty key"
    );
}

#[test]
fn unallocated_key_is_an_error_naming_plugin_and_export() {
    let error = call(Store::seed(), "unallocated_key")
        .unwrap_err()
        .to_string();
    assert!(
        error.starts_with("plugin probe failed in export unallocated_key: "),
        "{error}"
    );
    assert!(
        error.contains("hostMemoryGet: key offset 99999 is not an allocated"),
        "{error}"
    );
}

#[test]
fn missing_export_is_named() {
    let error = call(Store::seed(), "nope").unwrap_err().to_string();
    assert_eq!(error, "plugin probe has no export nope of type () -> i32");
}

#[test]
fn bytes_that_are_not_wasm_are_refused() {
    let error = Plugin::from_bytes("notes.txt", b"{\"wasm\": []}", Store::seed())
        .err()
        .expect("a manifest is not a module")
        .to_string();
    assert_eq!(
        error,
        "cannot load plugin notes.txt: not a WebAssembly module (it does not start with \\0asm)"
    );
}

/// A reactor module, as standard Go's `-buildmode=c-shared` makes: its exports may only run after
/// `_initialize`, which here counts how often it ran.
const REACTOR: &str = r#"
(module
  (import "extism:host/env" "alloc" (func $alloc (param i64) (result i64)))
  (import "extism:host/env" "store_u8" (func $store_u8 (param i64 i32)))
  (import "extism:host/env" "output_set" (func $output_set (param i64 i64)))
  (global $initialized (mut i32) (i32.const 0))

  (func (export "_initialize")
    (global.set $initialized (i32.add (global.get $initialized) (i32.const 1))))

  ;; Outputs one byte: how many times _initialize ran before this call.
  (func (export "times_initialized") (result i32) (local $out i64)
    (local.set $out (call $alloc (i64.const 1)))
    (call $store_u8 (local.get $out) (global.get $initialized))
    (call $output_set (local.get $out) (i64.const 1))
    (i32.const 0))
)
"#;

#[test]
fn reactor_is_initialized_once_before_its_first_export() {
    let wasm = wat::parse_str(REACTOR).expect("the reactor module is valid WAT");
    let mut plugin = Plugin::from_bytes("reactor", &wasm, Store::seed()).unwrap();
    assert_eq!(plugin.call("times_initialized", b"").unwrap(), [1]);
    assert_eq!(plugin.call("times_initialized", b"").unwrap(), [1]);
}

/// One export per kind of failure a call can end in.
const FAILURES: &str = r#"
(module
  (import "extism:host/env" "alloc" (func $alloc (param i64) (result i64)))
  (import "extism:host/env" "store_u8" (func $store_u8 (param i64 i32)))
  (import "extism:host/env" "error_set" (func $error_set (param i64)))
  (import "wasi_snapshot_preview1" "proc_exit" (func $proc_exit (param i32)))
  ;; WASI functions find their memory through this export, as in any WASI module.
  (memory (export "memory") 1)

  ;; Reports the error "no" and returns 1.
  (func (export "plugin_error") (result i32) (local $m i64)
    (local.set $m (call $alloc (i64.const 2)))
    (call $store_u8 (local.get $m) (i32.const 110))
    (call $store_u8 (i64.add (local.get $m) (i64.const 1)) (i32.const 111))
    (call $error_set (local.get $m))
    (i32.const 1))
  (func (export "return_code") (result i32) (i32.const 3))
  (func (export "trap") (result i32) unreachable)
  (func (export "exit") (result i32) (call $proc_exit (i32.const 2)) (i32.const 0))
)
"#;

fn failure(export: &str) -> Failure {
    let wasm = wat::parse_str(FAILURES).expect("the failures module is valid WAT");
    let mut plugin = Plugin::from_bytes("failures", &wasm, Store::seed()).unwrap();
    match plugin.call(export, b"") {
        Err(Error::Call { failure, .. }) => failure,
        other => panic!("{export}: expected a failed call, got {other:?}"),
    }
}

#[test]
fn failures_are_told_apart() {
    let message = "no".to_owned();
    assert_eq!(failure("plugin_error"), Failure::Plugin { message });
    assert_eq!(failure("return_code"), Failure::ReturnCode { code: 3 });
    assert!(matches!(failure("trap"), Failure::Trap { trap } if trap.contains("unreachable")));
    assert_eq!(failure("exit"), Failure::Exit { code: 2 });
    let bad_key = call(Store::seed(), "unallocated_key").unwrap_err();
    assert!(
        matches!(
            &bad_key,
            Error::Call {
                failure: Failure::HostFunction { .. },
                ..
            }
        ),
        "{bad_key:?}"
    );
}

#[test]
fn host_calls_are_traced_in_order_even_when_the_call_fails() {
    let wasm = wat::parse_str(PROBE).expect("the probe module is valid WAT");
    let mut plugin = Plugin::from_bytes("probe", &wasm, Store::seed()).unwrap();
    let (result, trace) = plugin.call_traced("value_of_hello", b"");
    assert!(result.is_ok());
    let hello = HostCall {
        function: "hostMemoryGet",
        key: b"hello".to_vec(),
        value_len: "👋 Hello World 🌍".len(),
    };
    assert_eq!(trace, [hello]);
    let (result, trace) = plugin.call_traced("unallocated_key", b"");
    assert!(result.is_err());
    assert_eq!(trace, [], "the refused call is not traced");
    assert_eq!(plugin.call_traced("value_of_empty_key", b"").1.len(), 1);
}

#[test]
fn limits_are_named_failures() {
    let wasm = wat::parse_str(
        r#"(module
             (memory (export "memory") 1)
             (func (export "spin") (result i32) (loop (br 0)) (i32.const 0))
             (func (export "grow") (result i32) (drop (memory.grow (i32.const 100))) (i32.const 0)))"#,
    )
    .unwrap();
    let limits = Limits {
        timeout: Some(std::time::Duration::from_millis(50)),
        memory_max_pages: Some(10),
        ..Limits::default()
    };
    let compiled = CompiledPlugin::with_limits("limited", &wasm, limits).unwrap();
    let failure = |export: &str| match compiled
        .instantiate(Store::seed())
        .unwrap()
        .call(export, b"")
    {
        Err(Error::Call { failure, .. }) => failure,
        other => panic!("{export}: expected a failed call, got {other:?}"),
    };
    let started = std::time::Instant::now();
    assert_eq!(failure("spin"), Failure::Timeout);
    assert!(started.elapsed() < std::time::Duration::from_secs(5));
    assert_eq!(failure("grow"), Failure::OutOfMemory);
}

#[test]
fn a_panicking_host_function_fails_the_call_instead_of_unwinding() {
    // The default hook prints the panic; the test harness captures that output.
    let error = crate::memory_get::guarded("probe_fn", || panic!("the store is broken"));
    assert_eq!(
        error.unwrap_err().to_string(),
        "host function error: probe_fn panicked: the store is broken"
    );
    let refused =
        crate::memory_get::guarded("probe_fn", || Err(Failure::KeyTooLong { len: 9, max: 8 }));
    assert_eq!(
        refused.unwrap_err().to_string(),
        "hostMemoryGet: key of 9 bytes is over the limit of 8"
    );
}
