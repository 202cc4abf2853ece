//! Hostile plugins written with `extism-pdk`: every export attacks the host in one way, and
//! `host/tests/integration/hostile_plugins.rs` checks that each ends in a named failure (never a crash of the
//! host process). Built for wasm by `cargo xtask build-hostile`; it never depends on the host
//! crates. `plugins-hostile/go/` has the same exports in Go.

use std::hint::black_box;

use extism_pdk::{plugin_fn, Error, FnResult, Memory};

mod env {
    #[link(wasm_import_module = "env")]
    extern "C" {
        /// The contract's host function, declared raw so that any offset can be passed to it.
        pub fn hostMemoryGet(key: i64) -> i64;
    }
}

/// `infinite_loop`: never returns; only the host's timeout (or fuel) can stop it.
#[plugin_fn]
pub fn infinite_loop() -> FnResult<()> {
    let mut n: u64 = 0;
    loop {
        n = black_box(n.wrapping_add(1));
    }
}

/// `memory_bomb`: allocates 1 MiB chunks and touches every page of each, keeping them all,
/// until the host's memory limit stops it. `black_box` keeps the optimiser from dropping the
/// allocations it never reads.
#[plugin_fn]
pub fn memory_bomb() -> FnResult<()> {
    let mut chunks: Vec<Vec<u8>> = Vec::new();
    loop {
        let mut chunk = vec![0u8; 1 << 20];
        for page in chunk.chunks_mut(4096) {
            page[0] = 1;
        }
        chunks.push(black_box(chunk));
        black_box(&mut chunks);
    }
}

/// A recursion the optimiser cannot turn into a loop: the result of the inner call is used after
/// it returns, each frame keeps a buffer in linear memory, and the stopping depth is hidden
/// behind `black_box` (so it is never reached in practice, and rustc sees a base case).
#[inline(never)]
fn recurse(depth: u64) -> u64 {
    let frame = black_box([depth; 16]);
    if depth == black_box(u64::MAX) {
        return 0;
    }
    let below = recurse(depth + 1);
    black_box(below.wrapping_add(frame[depth as usize % 16]))
}

/// `unbounded_recursion`: recurses until the stack runs out.
#[plugin_fn]
pub fn unbounded_recursion() -> FnResult<String> {
    Ok(recurse(0).to_string())
}

/// The input as a decimal integer (it may be negative).
fn decimal(text: &str) -> FnResult<i64> {
    Ok(text.trim().parse::<i64>().map_err(Error::msg)?)
}

/// `forged_key_offset`: calls `hostMemoryGet` with the input (decimal text) as the key offset, a
/// block the plugin never allocated. Outputs the offset it got back, if the host answers at all.
#[plugin_fn]
pub fn forged_key_offset(offset: String) -> FnResult<String> {
    let value = unsafe { env::hostMemoryGet(decimal(&offset)?) };
    Ok(value.to_string())
}

/// `forged_output_offset`: sets the output to the block given as input, "OFFSET LEN" in
/// decimal, which the plugin never allocated (returns 2 if the input is not two such numbers).
/// A raw export: `#[plugin_fn]` would set the output again after the body.
#[no_mangle]
pub extern "C" fn forged_output_offset() -> i32 {
    let input = String::from_utf8_lossy(&extism_pdk::input_bytes()).into_owned();
    let mut parts = input.split_whitespace().map(str::parse::<i64>);
    let (Some(Ok(offset)), Some(Ok(len)), None) = (parts.next(), parts.next(), parts.next()) else {
        return 2;
    };
    unsafe { extism_pdk::extism::output_set(offset as u64, len as u64) };
    0
}

/// How many host calls `million_host_calls` makes.
const MILLION: u32 = 1_000_000;

/// `million_host_calls`: a million calls of `hostMemoryGet` with the empty key (offset 0), which
/// the host answers with the empty value (offset 0): all host-call overhead, no allocation.
/// Outputs how many calls returned.
#[plugin_fn]
pub fn million_host_calls() -> FnResult<String> {
    let mut calls: u32 = 0;
    for _ in 0..MILLION {
        black_box(unsafe { env::hostMemoryGet(0) });
        calls += 1;
    }
    Ok(calls.to_string())
}

/// `fails_mid_host_calls`: 500 good calls with a real key block ("hello", allocated by the
/// PDK), freeing each value block, then one call with a forged key offset. The host fails that
/// call, so the output "unreachable" is never set.
#[plugin_fn]
pub fn fails_mid_host_calls() -> FnResult<String> {
    let key = Memory::from_bytes("hello")?;
    for _ in 0..500 {
        let value = unsafe { env::hostMemoryGet(key.offset() as i64) };
        Memory::from(value).free();
    }
    black_box(unsafe { env::hostMemoryGet(99999) });
    key.free();
    Ok("unreachable".to_owned())
}

/// `unreachable`: the wasm `unreachable` instruction itself.
#[plugin_fn]
pub fn unreachable() -> FnResult<()> {
    core::arch::wasm32::unreachable()
}
