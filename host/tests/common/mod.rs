//! What the host's attack and resource tests share: the honest plugin they check the host with,
//! and how they compile, attack and judge.

// Each test binary uses its own part of this module.
#![allow(dead_code)]

use std::time::{Duration, Instant};

use host::{CompiledPlugin, Error, Failure, HostCall, Limits, Options, Store};

/// An honest plugin: outputs the store's value for the input (the input block is the key).
pub const LOOKUP_WAT: &str = r#"
(module
  (import "extism:host/env" "input_offset" (func $input (result i64)))
  (import "extism:host/env" "length" (func $length (param i64) (result i64)))
  (import "extism:host/env" "output_set" (func $output_set (param i64 i64)))
  (import "env" "hostMemoryGet" (func $get (param i64) (result i64)))
  (func (export "lookup") (result i32) (local $v i64)
    (local.set $v (call $get (call $input)))
    (call $output_set (local.get $v) (call $length (local.get $v)))
    (i32.const 0))
)
"#;

pub fn compile(name: &str, wasm: &[u8], limits: Limits) -> CompiledPlugin {
    let options = Options {
        limits,
        ..Options::default()
    };
    CompiledPlugin::with_options(name, wasm, options).expect("the module compiles")
}

pub fn compile_wat(name: &str, wat: &str, limits: Limits) -> CompiledPlugin {
    compile(name, &wat::parse_str(wat).expect("valid WAT"), limits)
}

/// What an attack came to on a fresh instance, and how long the call took.
pub fn attack(
    compiled: &CompiledPlugin,
    export: &str,
    input: &[u8],
) -> (Result<Vec<u8>, Error>, Vec<HostCall>, Duration) {
    let mut plugin = compiled.instantiate(Store::seed()).expect("an instance");
    let started = Instant::now();
    let (result, trace) = plugin.call_traced(export, input);
    (result, trace, started.elapsed())
}

#[track_caller]
pub fn failure<'a>(result: &'a Result<Vec<u8>, Error>, what: &str) -> &'a Failure {
    match result {
        Err(Error::Call { failure, .. }) => failure,
        other => panic!("{what}: expected a failed call, got {other:?}"),
    }
}

/// The host is still whole: a fresh instance of an honest plugin (one with a `lookup` export,
/// such as [`LOOKUP_WAT`] or the contract's plugins) answers correctly.
#[track_caller]
pub fn host_still_answers(honest: &CompiledPlugin, after: &str) {
    let mut plugin = honest.instantiate(Store::seed()).expect("an instance");
    let output = plugin.call("lookup", b"hello");
    assert_eq!(
        output.as_deref().ok(),
        Some(Store::seed().get(b"hello")),
        "after {after}: {output:?}"
    );
}
