//! The conformance plugin contract (see `CONTRACT.md` at the root), written with `extism-pdk`.
//! Built for wasm by `cargo xtask build-plugins`; it never depends on the host crates.

use extism_pdk::{plugin_fn, Error, FnResult, Memory, WithReturnCode};

mod env {
    #[link(wasm_import_module = "env")]
    extern "C" {
        /// Takes the offset of a key block, returns the offset of a value block (0 when empty).
        pub fn hostMemoryGet(key: u64) -> u64;
    }
}

/// Looks `key` up through the host. This plugin owns both blocks, so it frees both: the key
/// after the call, the value once read (the host never frees the key).
fn host_memory_get(key: &[u8]) -> FnResult<Vec<u8>> {
    let key = Memory::from_bytes(key)?;
    let value = Memory::from(unsafe { env::hostMemoryGet(key.offset()) });
    key.free();
    let bytes = value.to_vec();
    value.free();
    Ok(bytes)
}

/// The seed's `say_hello`: a greeting, then the `hello` and `message` values from the host.
#[plugin_fn]
pub fn say_hello(input: Vec<u8>) -> FnResult<Vec<u8>> {
    let mut output = "👋 Hello ".as_bytes().to_vec();
    output.extend_from_slice(&input);
    for key in ["hello", "message"] {
        output.extend_from_slice(format!("\nkey: {key}, value: ").as_bytes());
        output.extend_from_slice(&host_memory_get(key.as_bytes())?);
    }
    Ok(output)
}

/// `lookup`: the value of the key given as input.
#[plugin_fn]
pub fn lookup(key: Vec<u8>) -> FnResult<Vec<u8>> {
    host_memory_get(&key)
}

/// How many times `count_calls` calls the host in one export call.
const MANY_CALLS: usize = 10_000;

/// `count_calls`: looks the input key up `MANY_CALLS` times and reports the bytes received.
#[plugin_fn]
pub fn count_calls(key: Vec<u8>) -> FnResult<String> {
    let mut bytes = 0;
    for _ in 0..MANY_CALLS {
        bytes += host_memory_get(&key)?.len();
    }
    Ok(format!("{MANY_CALLS} calls, {bytes} bytes"))
}

/// `echo`: the input, byte for byte.
#[plugin_fn]
pub fn echo(input: Vec<u8>) -> FnResult<Vec<u8>> {
    Ok(input)
}

/// `fail`: reports the input (UTF-8 text) as the call's error, with return code 1.
#[plugin_fn]
pub fn fail(message: Vec<u8>) -> FnResult<()> {
    let message = String::from_utf8_lossy(&message).into_owned();
    Err(WithReturnCode::new(Error::msg(message), 1))
}

/// `trap`: panics with the input as its message; with `panic = "abort"` that is a wasm trap.
#[plugin_fn]
pub fn trap(message: Vec<u8>) -> FnResult<()> {
    panic!("{}", String::from_utf8_lossy(&message));
}
