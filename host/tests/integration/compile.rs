//! Compiling a module under given limits, and the honest plugin the attack and resource tests
//! check the host with. `resources.rs` includes this file by path, and uses all of it.

use host::{CompiledPlugin, Limits, Options};

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
