//! The conformance plugin contract (see `CONTRACT.md` at the root), written with `extism-pdk`.
//! Built for wasm by `cargo xtask build-plugins`; it never depends on the host crates.

use extism_pdk::{plugin_fn, FnResult, Memory};

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
