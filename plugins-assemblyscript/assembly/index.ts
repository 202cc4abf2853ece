// The conformance plugin contract (see CONTRACT.md at the root), written with @extism/as-pdk.
// Built by `cargo xtask build-plugins` with asconfig.json beside this folder. It keeps the default
// runtime, incremental GC: with `minimal` or `stub` nothing is collected unless the host calls
// `__collect`, and a 1 MiB echo repeated on one instance runs out of a 16 MiB memory cap.
//
// Everything the contract defines on bytes goes through Uint8Array: `Host.inputString` decodes with
// AssemblyScript's UTF-8 decoder, which loses bytes that are not UTF-8 (`61 ff 62` comes back as
// `61`), and `Host.outputString` sets the output's length to the string's UTF-16 length rather
// than its UTF-8 length, so non-ASCII text comes out cut short.

import { Config, Host, LogLevel, Memory, Var } from "@extism/as-pdk";
// The PDK's index exports no error or length function: these come from its kernel bindings.
import { error_set, length } from "@extism/as-pdk/lib/env";

// Takes the offset of a key block (0 for an empty key), returns the offset of a value block
// (0 when the value is empty).
@external("env", "hostMemoryGet")
declare function hostMemoryGet(key: u64): u64;

// AssemblyScript's `abort`, which `throw` calls, would otherwise be imported as `env.abort`;
// asconfig.json points it here (`--use abort=...`, as the PDK's README shows). The message goes
// nowhere: the call ends in a wasm trap, like the other languages' panics.
function myAbort(
  message: string | null,
  fileName: string | null,
  lineNumber: u32,
  columnNumber: u32,
): void {
  unreachable();
}

// The UTF-8 bytes of `text`.
function utf8(text: string): Uint8Array {
  return Uint8Array.wrap(String.UTF8.encode(text));
}

// Looks `key` up through the host. This plugin owns both blocks, so it frees both: the key after
// the call, the value once read (the host never frees the key). An empty key is no block at all:
// the kernel's alloc(0) is 0, which is the contract's empty key; a 0 value has length 0.
function get(key: Uint8Array): Uint8Array {
  const keyBlock = Memory.allocateBytes(key);
  const offset = hostMemoryGet(keyBlock.offset);
  keyBlock.free();
  const valueBlock = new Memory(offset, length(offset));
  const value = valueBlock.toUint8Array();
  valueBlock.free();
  return value;
}

// `parts` joined into one array.
function concat(parts: Uint8Array[]): Uint8Array {
  let total = 0;
  for (let i = 0; i < parts.length; i++) total += parts[i].length;
  const out = new Uint8Array(total);
  let at = 0;
  for (let i = 0; i < parts.length; i++) {
    out.set(parts[i], at);
    at += parts[i].length;
  }
  return out;
}

// The seed's say_hello: a greeting, then the hello and message values from the host.
export function say_hello(): i32 {
  const parts: Uint8Array[] = [utf8("👋 Hello "), Host.input()];
  const keys = ["hello", "message"];
  for (let i = 0; i < keys.length; i++) {
    parts.push(utf8("\nkey: " + keys[i] + ", value: "));
    parts.push(get(utf8(keys[i])));
  }
  Host.output(concat(parts));
  return 0;
}

// lookup: the value of the key given as input.
export function lookup(): i32 {
  Host.output(get(Host.input()));
  return 0;
}

// How many times count_calls calls the host in one export call.
const MANY_CALLS = 10000;

// count_calls: looks the input key up MANY_CALLS times and reports the bytes received.
export function count_calls(): i32 {
  const key = Host.input();
  let bytes: u64 = 0;
  for (let i = 0; i < MANY_CALLS; i++) {
    bytes += get(key).length;
  }
  Host.output(utf8(MANY_CALLS.toString() + " calls, " + bytes.toString() + " bytes"));
  return 0;
}

// echo: the input, byte for byte.
export function echo(): i32 {
  Host.output(Host.input());
  return 0;
}

// A new block holding `bytes`, 0 when they are empty (the kernel's alloc(0) is 0). It copies 8
// bytes per kernel call: Memory.allocateBytes makes one store_u8 call per byte, which takes
// seconds for a block of a few MiB on the Go SDK. The PDK's store reads whole words from the start
// of the array's buffer, so `bytes` must not be a view into the middle of one.
function block(bytes: Uint8Array): Memory {
  const memory = Memory.allocate(bytes.length);
  memory.store(bytes);
  return memory;
}

// Sets `message` as the call's error. An empty message is no block, so error_set gets 0: no
// message.
function setError(message: Uint8Array): void {
  error_set(block(message).offset);
}

// fail: reports the input (UTF-8 text, passed on as bytes) as the call's error, with return
// code 1.
export function fail(): i32 {
  setError(Host.input());
  return 1;
}

// trap: AssemblyScript's own panic, `throw`, with the input as its message; it calls `abort`.
export function trap(): i32 {
  throw new Error(Host.inputString());
}

// noop: reads no input, writes no output, returns 0: the fixed cost of a call.
export function noop(): i32 {
  return 0;
}

// spin: loops until the host stops it. A loop that never exits is kept by binaryen's optimiser:
// removing it would change what the module does.
export function spin(): i32 {
  while (true) {}
}

// What parseI32 returns for bytes that are not a decimal i32; no i32 is this value.
const NOT_AN_I32: i64 = i64.MIN_VALUE;

// The decimal i32 in `text` (an optional "-", then at least one digit), or NOT_AN_I32.
function parseI32(text: Uint8Array): i64 {
  const negative = text.length > 0 && text[0] == 0x2d; // "-"
  const start = negative ? 1 : 0;
  if (text.length == start) return NOT_AN_I32;
  let value: i64 = 0;
  for (let i = start; i < text.length; i++) {
    const digit = <i64>text[i] - 0x30; // "0"
    if (digit < 0 || digit > 9) return NOT_AN_I32;
    value = value * 10 + digit;
    // Past every i32: stop before the i64 could overflow on a long run of digits.
    if (value > 0x80000000) return NOT_AN_I32;
  }
  if (negative) value = -value;
  if (value < i32.MIN_VALUE || value > i32.MAX_VALUE) return NOT_AN_I32;
  return value;
}

// config_get: the config value whose key is the input. Config keys are text, and the PDK takes
// them as a string; the value is read as bytes (Config.get would decode it).
export function config_get(): i32 {
  const value = Config.getMemory(Host.inputString());
  if (value === null) {
    Host.output(utf8("missing"));
    return 0;
  }
  Host.output(concat([utf8("value: "), value.toUint8Array()]));
  value.free();
  return 0;
}

// var_count: adds one to the decimal number in the var `count` (none is 0) and reports it.
export function var_count(): i32 {
  const stored = Var.get("count");
  let count: i64 = 0;
  if (stored !== null) {
    count = parseI32(stored);
    if (count == NOT_AN_I32) {
      setError(utf8("var count is not a decimal i32"));
      return 1;
    }
  }
  count += 1;
  const text = count.toString();
  Var.set("count", utf8(text));
  Host.output(utf8("count: " + text));
  return 0;
}

// var_get: the var whose name is the input. Var names are text to the kernel, and the PDK takes
// them as a string.
export function var_get(): i32 {
  const value = Var.get(Host.inputString());
  if (value === null) {
    Host.output(utf8("missing"));
    return 0;
  }
  Host.output(concat([utf8("value: "), value]));
  return 0;
}

// var_remove: removes the var `count`; the kernel ignores a var that does not exist.
export function var_remove(): i32 {
  Var.remove("count");
  Host.output(utf8("removed"));
  return 0;
}

// var_store: stores the input as the var `data` and reports the length read back. An empty input
// allocates no block, so var_set gets 0 and removes `data`.
export function var_store(): i32 {
  Var.set("data", Host.input());
  const back = Var.get("data");
  const stored = back === null ? 0 : back.length;
  Host.output(utf8("stored " + stored.toString() + " bytes"));
  return 0;
}

// log_levels: one line per level, "<level>: " and the input, as bytes (Host.log takes a string,
// which would lose bytes that are not UTF-8). The PDK has no trace level (no LogLevel.Trace and
// no log_trace binding), so the trace line is missing.
export function log_levels(): i32 {
  const input = Host.input();
  const levels: LogLevel[] = [LogLevel.Debug, LogLevel.Info, LogLevel.Warn, LogLevel.Error];
  const names = ["debug", "info", "warn", "error"];
  for (let i = 0; i < levels.length; i++) {
    const line = block(concat([utf8(names[i] + ": "), input]));
    Host.logMemory(levels[i], line);
  }
  Host.output(utf8("logged"));
  return 0;
}

// return_code: returns the input's decimal i32, with no output and no error message.
export function return_code(): i32 {
  const code = parseI32(Host.input());
  if (code == NOT_AN_I32) {
    setError(utf8("input is not a decimal i32"));
    return 1;
  }
  return <i32>code;
}

// error_then_zero: sets the input as the call's error, as fail does, but returns 0.
export function error_then_zero(): i32 {
  setError(Host.input());
  return 0;
}
