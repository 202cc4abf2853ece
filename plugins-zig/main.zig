//! The conformance plugin contract (see CONTRACT.md at the root), in Zig on the raw Extism
//! kernel ABI: Zig has no Extism PDK in any registry, so this file carries the few PDK functions
//! it needs. Built for wasm32-freestanding by `cargo xtask build-plugins`, which names each export
//! with `--export=`: `-rdynamic` would export the `__stack_pointer` global too.
//!
//! Each helper makes the kernel calls extism-pdk and go-pdk make, in the same order, including
//! `alloc(0)` for empty bytes: the kernel answers 0, and the Node.js SDK's JavaScript kernel a
//! live empty block, so a shortcut here would show on that host where the PDKs do not.

const std = @import("std");

const kernel = struct {
    extern "extism:host/env" fn input_length() u64;
    extern "extism:host/env" fn input_load_u8(offset: u64) u8;
    extern "extism:host/env" fn input_load_u64(offset: u64) u64;
    extern "extism:host/env" fn alloc(length: u64) u64;
    extern "extism:host/env" fn free(offset: u64) void;
    extern "extism:host/env" fn length(offset: u64) u64;
    extern "extism:host/env" fn load_u8(offset: u64) u8;
    extern "extism:host/env" fn load_u64(offset: u64) u64;
    extern "extism:host/env" fn store_u8(offset: u64, byte: u8) void;
    extern "extism:host/env" fn store_u64(offset: u64, word: u64) void;
    extern "extism:host/env" fn output_set(offset: u64, length: u64) void;
    extern "extism:host/env" fn error_set(offset: u64) void;
    // The runtime's host functions (runtime/src/pdk.rs in extism/extism). Each takes over the
    // blocks passed to it (the Rust runtime frees them), so this module never frees them; the
    // block config_get or var_get returns is this module's, 0 for none.
    extern "extism:host/env" fn config_get(key: u64) u64;
    extern "extism:host/env" fn var_get(key: u64) u64;
    extern "extism:host/env" fn var_set(key: u64, value: u64) void;
    extern "extism:host/env" fn log_trace(message: u64) void;
    extern "extism:host/env" fn log_debug(message: u64) void;
    extern "extism:host/env" fn log_info(message: u64) void;
    extern "extism:host/env" fn log_warn(message: u64) void;
    extern "extism:host/env" fn log_error(message: u64) void;
};

/// Takes the offset of a key block, returns the offset of a value block (0 when empty).
extern "env" fn hostMemoryGet(key: u64) u64;

/// Where the linker ends the static data and the stack: this module's heap starts here.
extern var __heap_base: u8;

/// The heap is a bump region that every export empties first: nothing outlives a call.
var heap_used: usize = 0;

/// `len` fresh bytes of this module's memory, growing it when needed.
fn heapBytes(len: usize) []u8 {
    const page = 65536;
    const start = @intFromPtr(&__heap_base) + heap_used;
    const size = @wasmMemorySize(0) * page;
    if (start + len > size and @wasmMemoryGrow(0, (start + len - size + page - 1) / page) < 0) @trap();
    heap_used += len;
    return @as([*]u8, @ptrFromInt(start))[0..len];
}

/// The 8 bytes at `bytes[i..]` as one unaligned wasm load or store (wasm is little-endian).
/// std.mem.readInt and writeInt go byte by byte under ReleaseSmall: echo ran four times slower.
fn loadWord(bytes: []const u8, i: usize) u64 {
    return @as(*align(1) const u64, @ptrCast(bytes[i..].ptr)).*;
}

fn storeWord(bytes: []u8, i: usize, word: u64) void {
    @as(*align(1) u64, @ptrCast(bytes[i..].ptr)).* = word;
}

/// The call's input, copied in 8-byte steps, then single bytes.
fn input() []u8 {
    const bytes = heapBytes(@intCast(kernel.input_length()));
    var i: usize = 0;
    while (i + 8 <= bytes.len) : (i += 8) storeWord(bytes, i, kernel.input_load_u64(i));
    while (i < bytes.len) : (i += 1) bytes[i] = kernel.input_load_u8(i);
    return bytes;
}

/// A new block of Extism memory holding `bytes`.
fn blockOf(bytes: []const u8) u64 {
    const offset = kernel.alloc(bytes.len);
    // The kernel answers 0 when its memory is exhausted: storing there would overwrite its
    // own bookkeeping.
    if (offset == 0 and bytes.len != 0) @trap();
    var i: usize = 0;
    while (i + 8 <= bytes.len) : (i += 8) kernel.store_u64(offset + i, loadWord(bytes, i));
    while (i < bytes.len) : (i += 1) kernel.store_u8(offset + i, bytes[i]);
    return offset;
}

/// The bytes of the block at `offset` (0 is the empty block).
fn read(offset: u64) []u8 {
    const bytes = heapBytes(@intCast(kernel.length(offset)));
    var i: usize = 0;
    while (i + 8 <= bytes.len) : (i += 8) storeWord(bytes, i, kernel.load_u64(offset + i));
    while (i < bytes.len) : (i += 1) bytes[i] = kernel.load_u8(offset + i);
    return bytes;
}

/// Sets the call's output to a new block holding `bytes`, and returns the success code.
fn output(bytes: []const u8) i32 {
    kernel.output_set(blockOf(bytes), bytes.len);
    return 0;
}

/// Looks `key` up through the host. This plugin owns both blocks, so it frees both: the key
/// after the call, the value once read (the host never frees the key).
fn get(key: []const u8) []u8 {
    const key_block = blockOf(key);
    const value_block = hostMemoryGet(key_block);
    kernel.free(key_block);
    const value = read(value_block);
    kernel.free(value_block);
    return value;
}

/// The seed's `say_hello`: a greeting, then the `hello` and `message` values from the host.
export fn say_hello() i32 {
    heap_used = 0;
    const name = input();
    const hello = get("hello");
    const message = get("message");
    const parts = [_][]const u8{ "👋 Hello ", name, "\nkey: hello, value: ", hello, "\nkey: message, value: ", message };
    return output(concat(&parts));
}

/// `parts`, one after another, in a new stretch of the heap.
fn concat(parts: []const []const u8) []u8 {
    var len: usize = 0;
    for (parts) |part| len += part.len;
    const bytes = heapBytes(len);
    var at: usize = 0;
    for (parts) |part| {
        @memcpy(bytes[at..][0..part.len], part);
        at += part.len;
    }
    return bytes;
}

/// `lookup`: the value of the key given as input.
export fn lookup() i32 {
    heap_used = 0;
    return output(get(input()));
}

/// How many times `count_calls` calls the host in one export call.
const many_calls = 10_000;

/// `count_calls`: looks the input key up `many_calls` times and reports the bytes received.
export fn count_calls() i32 {
    heap_used = 0;
    const key = input();
    var total: u64 = 0;
    for (0..many_calls) |_| {
        // Each value is dropped once counted, so the heap goes back to where it was.
        const mark = heap_used;
        total += get(key).len;
        heap_used = mark;
    }
    return outputNumber(std.fmt.comptimePrint("{d} calls, ", .{many_calls}), total, " bytes");
}

/// Sets the output to `before`, `n` in decimal and `after`.
fn outputNumber(before: []const u8, n: u64, after: []const u8) i32 {
    var digits: [20]u8 = undefined;
    return output(concat(&.{ before, decimal(n, &digits), after }));
}

/// `n` in decimal, written at the end of `buf` (20 digits hold any u64).
fn decimal(n: u64, buf: *[20]u8) []const u8 {
    var rest = n;
    var start: usize = buf.len;
    while (true) {
        start -= 1;
        buf[start] = '0' + @as(u8, @intCast(rest % 10));
        rest /= 10;
        if (rest == 0) break;
    }
    return buf[start..];
}

/// `echo`: the input, byte for byte.
export fn echo() i32 {
    heap_used = 0;
    return output(input());
}

/// `fail`: reports the input as the call's error, with return code 1. An empty message is an
/// empty block, offset 0 from the kernel, which the host reads as no message.
export fn fail() i32 {
    heap_used = 0;
    kernel.error_set(inputBlock());
    return 1;
}

/// `trap`: panics with the input as its message. On wasm32-freestanding Zig's default panic
/// handler has nowhere to print the message and traps (`unreachable`).
export fn trap() i32 {
    heap_used = 0;
    @panic(input());
}

/// `noop`: reads no input, writes no output, returns 0: the fixed cost of a call.
export fn noop() i32 {
    return 0;
}

/// The counter `spin` bumps, through a volatile pointer so the optimiser keeps the loop.
var spins: u64 = 0;

/// `spin`: loops until the host stops the call; no input, output or kernel call.
export fn spin() i32 {
    const counter: *volatile u64 = &spins;
    while (true) counter.* +%= 1;
}

/// A new block of Extism memory holding the call's input.
fn inputBlock() u64 {
    return blockOf(input());
}

/// The output of `config_get` and `var_get` for the block the kernel returned: "missing" for 0
/// and for an empty block, as the PDKs read both as no value. Like the PDKs, this never frees
/// the block: the Node.js SDK's `var_get` hands out the var's own block, and freeing it would
/// destroy the var.
fn outputFound(offset: u64) i32 {
    if (offset != 0) {
        const value = read(offset);
        if (value.len != 0) return output(concat(&.{ "value: ", value }));
    }
    return output("missing");
}

/// `config_get`: the config value whose key is the input.
export fn config_get() i32 {
    heap_used = 0;
    return outputFound(kernel.config_get(inputBlock()));
}

/// `var_get`: the var whose name is the input.
export fn var_get() i32 {
    heap_used = 0;
    return outputFound(kernel.var_get(inputBlock()));
}

/// Sets the var `name` to the block `value`, which the caller makes before this makes the name's:
/// extism-pdk's var::set makes the value's block first.
fn setVar(name: []const u8, value: u64) void {
    kernel.var_set(blockOf(name), value);
}

/// `var_count`: adds one to the decimal number in the var `count` (no var is 0).
export fn var_count() i32 {
    heap_used = 0;
    var n: u64 = 0;
    const old = kernel.var_get(blockOf("count"));
    if (old != 0) {
        for (read(old)) |c| n = n *% 10 +% (c -% '0');
    }
    n += 1;
    var digits: [20]u8 = undefined;
    setVar("count", blockOf(decimal(n, &digits)));
    return outputNumber("count: ", n, "");
}

/// `var_remove`: removes the var `count`, existing or not (value offset 0).
export fn var_remove() i32 {
    heap_used = 0;
    setVar("count", 0);
    return output("removed");
}

/// `var_store`: stores the input as the var `data` (an empty input is block 0, which removes it)
/// and reports the length read back.
export fn var_store() i32 {
    heap_used = 0;
    setVar("data", inputBlock());
    const stored = kernel.var_get(blockOf("data"));
    return outputNumber("stored ", if (stored == 0) 0 else kernel.length(stored), " bytes");
}

/// Each line of `log_levels`, lowest level first: its label and the kernel's log function.
const levels = [_]struct { []const u8, *const fn (u64) callconv(.c) void }{
    .{ "trace: ", kernel.log_trace },
    .{ "debug: ", kernel.log_debug },
    .{ "info: ", kernel.log_info },
    .{ "warn: ", kernel.log_warn },
    .{ "error: ", kernel.log_error },
};

/// `log_levels`: one line at each level, lowest first. extism-pdk's `log!` asks
/// `get_log_level` first and skips a line below it; this module leaves that to the host, which
/// drops the line itself.
export fn log_levels() i32 {
    heap_used = 0;
    const text = input();
    for (levels) |level| level[1](blockOf(concat(&.{ level[0], text })));
    return output("logged");
}

/// `return_code`: returns the input, an optional '-' and then decimal digits, as the return
/// code. Any other input is an error, as a PDK's failed parse would be.
export fn return_code() i32 {
    heap_used = 0;
    const text = input();
    const negative = text.len != 0 and text[0] == '-';
    const digits = text[@intFromBool(negative)..];
    // Magnitudes up to 2^31 fit in an i64 and cover every i32, -2^31 included.
    var code: i64 = 0;
    for (digits) |c| {
        if (c < '0' or c > '9' or code > 1 << 31) break;
        code = code * 10 + (c - '0');
    } else if (digits.len != 0) {
        if (negative) code = -code;
        if (code >= -(1 << 31) and code < 1 << 31) return @intCast(code);
    }
    kernel.error_set(blockOf("input is not a decimal i32"));
    return 1;
}

/// `error_then_zero`: sets the input as the call's error and returns 0, which the runtime still
/// reads as a failure. An empty message is an empty block, offset 0, as in `fail`.
export fn error_then_zero() i32 {
    heap_used = 0;
    kernel.error_set(inputBlock());
    return 0;
}
