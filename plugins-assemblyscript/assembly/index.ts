// The conformance plugin contract (see CONTRACT.md at the root), written with @extism/as-pdk.
// Built by `cargo xtask build-plugins` with asconfig.json beside this folder. It keeps the default
// runtime, incremental GC: with `minimal` or `stub` nothing is collected unless the host calls
// `__collect`, and a 1 MiB echo repeated on one instance runs out of a 16 MiB memory cap.
//
// Everything the contract defines on bytes goes through Uint8Array: `Host.inputString` decodes with
// AssemblyScript's UTF-8 decoder, which loses bytes that are not UTF-8 (`61 ff 62` comes back as
// `61`), and `Host.outputString` sets the output's length to the string's UTF-16 length rather
// than its UTF-8 length, so non-ASCII text comes out cut short.

import { Host, Memory } from "@extism/as-pdk";
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

// fail: reports the input (UTF-8 text, passed on as bytes) as the call's error, with return
// code 1. An empty message allocates no block, so error_set gets 0: no message.
export function fail(): i32 {
  error_set(Memory.allocateBytes(Host.input()).offset);
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
