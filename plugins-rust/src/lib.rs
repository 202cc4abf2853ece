//! The conformance plugin contract (see `CONTRACT.md` at the root), written with `extism-pdk`.
//! Built for wasm by `cargo xtask build-plugins`; it never depends on the host crates.
//!
//! The exports are plain `extern "C"` functions over the PDK's input, output and error functions
//! rather than `#[plugin_fn]`: that macro's error path formats an `anyhow::Error` with `{:?}`,
//! which links anyhow's report printer, std's backtrace printer and rustc-demangle, about 60 KB
//! of the 82 KB module it made. Each export makes the same kernel calls the macro's code made.

use extism_pdk::{extism, input_bytes, Memory};

mod env {
    #[link(wasm_import_module = "env")]
    extern "C" {
        /// Takes the offset of a key block, returns the offset of a value block (0 when empty).
        pub fn hostMemoryGet(key: u64) -> u64;
    }
}

/// Copies `bytes` into a new block of Extism memory. Copying bytes cannot fail; the `Err` arm
/// aborts instead of formatting the `anyhow::Error` it never gets.
fn block(bytes: &[u8]) -> Memory {
    match Memory::from_bytes(bytes) {
        Ok(memory) => memory,
        Err(_) => std::process::abort(),
    }
}

/// Sets the call's output and returns the success code.
fn output(bytes: &[u8]) -> i32 {
    block(bytes).set_output();
    0
}

/// Looks `key` up through the host. This plugin owns both blocks, so it frees both: the key
/// after the call, the value once read (the host never frees the key).
fn host_memory_get(key: &[u8]) -> Vec<u8> {
    let key = block(key);
    let value = Memory::from(unsafe { env::hostMemoryGet(key.offset()) });
    key.free();
    let bytes = value.to_vec();
    value.free();
    bytes
}

/// The seed's `say_hello`: a greeting, then the `hello` and `message` values from the host.
#[no_mangle]
pub extern "C" fn say_hello() -> i32 {
    let input = input_bytes();
    let mut out = "👋 Hello ".as_bytes().to_vec();
    out.extend_from_slice(&input);
    for key in ["hello", "message"] {
        out.extend_from_slice(b"\nkey: ");
        out.extend_from_slice(key.as_bytes());
        out.extend_from_slice(b", value: ");
        out.extend_from_slice(&host_memory_get(key.as_bytes()));
    }
    output(&out)
}

/// `lookup`: the value of the key given as input.
#[no_mangle]
pub extern "C" fn lookup() -> i32 {
    output(&host_memory_get(&input_bytes()))
}

/// How many times `count_calls` calls the host in one export call.
const MANY_CALLS: usize = 10_000;

/// `count_calls`: looks the input key up `MANY_CALLS` times and reports the bytes received.
#[no_mangle]
pub extern "C" fn count_calls() -> i32 {
    let key = input_bytes();
    let mut bytes = 0;
    for _ in 0..MANY_CALLS {
        bytes += host_memory_get(&key).len();
    }
    let mut out = Vec::new();
    push_decimal(&mut out, MANY_CALLS);
    out.extend_from_slice(b" calls, ");
    push_decimal(&mut out, bytes);
    out.extend_from_slice(b" bytes");
    output(&out)
}

/// Appends `n` in decimal, as `format!("{n}")` writes it, without `core::fmt`'s formatting.
fn push_decimal(out: &mut Vec<u8>, mut n: usize) {
    let mut digits = [0u8; 20];
    let mut start = digits.len();
    loop {
        start -= 1;
        digits[start] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    out.extend_from_slice(&digits[start..]);
}

/// `echo`: the input, byte for byte.
#[no_mangle]
pub extern "C" fn echo() -> i32 {
    output(&input_bytes())
}

/// `fail`: reports the input (UTF-8 text) as the call's error, with return code 1. Bytes that are
/// not UTF-8 become U+FFFD, as they did through `Error::msg`; an empty message is an empty
/// block, which the host reads as no message.
#[no_mangle]
pub extern "C" fn fail() -> i32 {
    let input = input_bytes();
    let message = String::from_utf8_lossy(&input);
    unsafe { extism::error_set(block(message.as_bytes()).offset()) };
    1
}

/// `trap`: panics with the input as its message; with `panic = "abort"` that is a wasm trap.
#[no_mangle]
pub extern "C" fn trap() -> i32 {
    panic!("{}", String::from_utf8_lossy(&input_bytes()));
}

/// `noop`: reads no input, writes no output, returns 0: the fixed cost of a call.
#[no_mangle]
pub extern "C" fn noop() -> i32 {
    0
}
