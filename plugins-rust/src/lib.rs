//! The conformance plugin contract (see `CONTRACT.md` at the root), written with `extism-pdk`.
//! Built for wasm by `cargo xtask build-plugins`; it never depends on the host crates.
//!
//! The exports are plain `extern "C"` functions over the PDK's input, output and error functions
//! rather than `#[plugin_fn]`: that macro's error path formats an `anyhow::Error` with `{:?}`,
//! which links anyhow's report printer, std's backtrace printer and rustc-demangle, about 60 KB
//! of the 82 KB module it made. Each export makes the same kernel calls the macro's code made.

use extism_pdk::{config, extism, input_bytes, var, Error, LogLevel, Memory};

mod env {
    #[link(wasm_import_module = "env")]
    extern "C" {
        /// Takes the offset of a key block, returns the offset of a value block (0 when empty).
        pub fn hostMemoryGet(key: u64) -> u64;
    }
}

/// The value of a PDK call whose only failure is copying bytes into a new block, which cannot
/// fail; the `Err` arm aborts instead of formatting the `anyhow::Error` it never gets.
fn ok<T>(result: Result<T, Error>) -> T {
    match result {
        Ok(value) => value,
        Err(_) => std::process::abort(),
    }
}

/// Copies `bytes` into a new block of Extism memory.
fn block(bytes: &[u8]) -> Memory {
    ok(Memory::from_bytes(bytes))
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

/// Sets `message` (UTF-8 text) as the call's error. Bytes that are not UTF-8 become U+FFFD, as
/// they did through `Error::msg`; an empty message is an empty block, which the host reads as no
/// message.
fn set_error(message: &[u8]) {
    let message = String::from_utf8_lossy(message);
    unsafe { extism::error_set(block(message.as_bytes()).offset()) };
}

/// `fail`: reports the input as the call's error, with return code 1.
#[no_mangle]
pub extern "C" fn fail() -> i32 {
    set_error(&input_bytes());
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

/// `spin`: loops until the host stops it (the case's timeout). A `loop` without a `break` loops
/// forever by Rust's definition, so the optimiser keeps it.
#[no_mangle]
pub extern "C" fn spin() -> i32 {
    loop {
        std::hint::spin_loop();
    }
}

/// The bytes of a block the kernel handed over (`None` for none), which this plugin then frees:
/// the PDK's `config::get` and `var::get` leave it allocated, and `config::get` adds a UTF-8
/// check (a panic) the contract does not make.
fn take(memory: Option<Memory>) -> Option<Vec<u8>> {
    memory.map(|memory| {
        let bytes = memory.to_vec();
        memory.free();
        bytes
    })
}

/// Outputs `value: ` and the value, or `missing` when there is none.
fn output_found(value: Option<Vec<u8>>) -> i32 {
    match value {
        Some(value) => {
            let mut out = b"value: ".to_vec();
            out.extend_from_slice(&value);
            output(&out)
        }
        None => output(b"missing"),
    }
}

/// `config_get`: the config value whose key is the input. The PDK takes keys as `str`; keys are
/// text, and bytes that are not UTF-8 become U+FFFD, as in `fail`.
#[no_mangle]
pub extern "C" fn config_get() -> i32 {
    let key = input_bytes();
    output_found(take(ok(config::get_memory(String::from_utf8_lossy(&key)))))
}

/// The var `name`, or `None` when there is none.
fn var_bytes(name: &str) -> Option<Vec<u8>> {
    take(ok(var::get_memory(name)))
}

/// Parses `bytes` as `str::parse` does, `None` when they are not such text.
fn parse<T: std::str::FromStr>(bytes: &[u8]) -> Option<T> {
    std::str::from_utf8(bytes).ok()?.parse().ok()
}

/// `var_count`: adds one to the var `count`, kept as decimal text, and outputs the new count.
#[no_mangle]
pub extern "C" fn var_count() -> i32 {
    let n = match var_bytes("count") {
        None => 0,
        // Only `var_count` sets `count`, so it is always decimal text.
        Some(count) => match parse::<usize>(&count) {
            Some(n) => n,
            None => std::process::abort(),
        },
    } + 1;
    let mut text = Vec::new();
    push_decimal(&mut text, n);
    ok(var::set("count", text.as_slice()));
    let mut out = b"count: ".to_vec();
    out.extend_from_slice(&text);
    output(&out)
}

/// `var_get`: the var whose name is the input (as a key in `config_get`).
#[no_mangle]
pub extern "C" fn var_get() -> i32 {
    let name = input_bytes();
    output_found(var_bytes(&String::from_utf8_lossy(&name)))
}

/// `var_remove`: removes the var `count`; removing a var that does not exist is no error.
#[no_mangle]
pub extern "C" fn var_remove() -> i32 {
    ok(var::remove("count"));
    output(b"removed")
}

/// `var_store`: stores the input as the var `data` and reports how many bytes read back. A store
/// past the host's var limit fails in the host's `var_set`; an empty input removes `data`.
#[no_mangle]
pub extern "C" fn var_store() -> i32 {
    ok(var::set("data", input_bytes().as_slice()));
    let mut out = b"stored ".to_vec();
    push_decimal(&mut out, var_bytes("data").map_or(0, |data| data.len()));
    out.extend_from_slice(b" bytes");
    output(&out)
}

/// Logs `name: text` at `level` as `extism_pdk::log!` does: only when the host's level (kernel
/// `get_log_level`, `i32::MAX` for off) lets it through. The macro itself would `format!` the line
/// and `unwrap` the block, linking anyhow's report printer as `#[plugin_fn]` does (79 KB module).
fn log(level: LogLevel, name: &[u8], text: &[u8]) {
    let host_level = unsafe { extism::get_log_level() };
    if level.to_int() >= host_level && host_level != i32::MAX {
        let mut line = name.to_vec();
        line.extend_from_slice(b": ");
        line.extend_from_slice(text);
        block(&line).log(level);
    }
}

/// `log_levels`: one line at each Extism level, lowest first.
#[no_mangle]
pub extern "C" fn log_levels() -> i32 {
    let input = input_bytes();
    log(LogLevel::Trace, b"trace", &input);
    log(LogLevel::Debug, b"debug", &input);
    log(LogLevel::Info, b"info", &input);
    log(LogLevel::Warn, b"warn", &input);
    log(LogLevel::Error, b"error", &input);
    output(b"logged")
}

/// `return_code`: returns the input, a decimal i32, with no error message and no output. Input
/// that is not one is reported as an error with return code 1.
#[no_mangle]
pub extern "C" fn return_code() -> i32 {
    let input = input_bytes();
    // `i32::from_str` also takes a leading `+`, which the contract does not.
    match parse::<i32>(&input).filter(|_| input.first() != Some(&b'+')) {
        Some(code) => code,
        None => {
            set_error(b"input is not a decimal i32");
            1
        }
    }
}

/// `error_then_zero`: sets the input as the call's error message, as `fail` does, but returns 0.
#[no_mangle]
pub extern "C" fn error_then_zero() -> i32 {
    set_error(&input_bytes());
    0
}
