// Running plugins on @extism/extism 1.0.3 with env.hostMemoryGet, and sorting what the SDK
// gives back into the conformance protocol's failure kinds (../docs/protocol.md, "Failures").
//
// What 1.0.3 can express, read from its source (src/mod.ts, src/interfaces.ts): the options are
// useWasi, functions, config, logger, enableWasiOutput, allowedPaths, allowedHosts, fetch,
// runInWorker and sharedArrayBufferSize. It has no timeout and no memory limit, and Extism
// memory is JavaScript (src/call-context.ts): each block its own ArrayBuffer, addressed as its
// index << 48, never in the module's linear memory.

import { readFile } from "node:fs/promises";
import { Console } from "node:console";
import createPlugin from "@extism/extism";

export const HOST_MEMORY_GET = "hostMemoryGet";
const WASI_MODULE = "wasi_snapshot_preview1";

// The SDK logs a plugin's log_* calls to its logger, console by default: stdout, which belongs
// to the protocol.
const logger = new Console({ stdout: process.stderr, stderr: process.stderr });

/** A failure: its kind and the fields that kind takes, as the protocol spells them. */
export class Failure extends Error {
  constructor(kind, fields = {}) {
    super(fields.message ?? kind);
    this.kind = kind;
    this.fields = fields;
  }
}

const loadFailure = (path, why) =>
  new Failure("load", { message: `cannot load plugin ${path}: ${why}` });

/**
 * Compiles the module at path with V8 (the SDK takes a compiled WebAssembly.Module in its
 * manifest, src/manifest.ts), so one compile serves every instance. Throws a load Failure.
 */
export async function compile(path) {
  let bytes;
  try {
    bytes = await readFile(path);
  } catch (error) {
    throw loadFailure(path, `cannot read it: ${error.code ?? error.message}`);
  }
  try {
    const module = await WebAssembly.compile(bytes);
    const importsWasi = WebAssembly.Module.imports(module).some(
      (item) => item.module === WASI_MODULE,
    );
    return { path, module, importsWasi };
  } catch (error) {
    throw loadFailure(path, String(error?.message ?? error));
  }
}

/** WASI for a request's "auto", "on" or "off". */
function wasiEnabled(compiled, wasi) {
  return wasi === "on" || (wasi === "auto" && compiled.importsWasi);
}

/**
 * A fresh plugin instance with hostMemoryGet reading `store` (a Map of latin1 strings, one char a
 * byte, to Uint8Arrays) under `limits`. Throws a load Failure.
 */
export async function instantiate(compiled, { wasi, config, store, limits }) {
  // What the host function sees during one call; Instance.call resets it.
  const state = { trace: [], refusal: null };
  const functions = {
    env: {
      [HOST_MEMORY_GET]: (context, offset) => memoryGet(context, offset, state, store, limits),
    },
  };
  try {
    const plugin = await createPlugin(
      { wasm: [{ module: compiled.module }] },
      {
        useWasi: wasiEnabled(compiled, wasi),
        functions,
        // The manifest's config: 1.0.3 reads only this option (mod.ts builds its InternalConfig
        // from opts.config; toWasmModuleData drops manifest.config).
        config,
        logger,
        // WASI's stdout would be the protocol's stdout; off, the SDK points it at /dev/null.
        enableWasiOutput: false,
      },
    );
    return new Instance(compiled.path, plugin, state);
  } catch (error) {
    throw loadFailure(compiled.path, String(error?.message ?? error));
  }
}

class Instance {
  constructor(path, plugin, state) {
    this.path = path;
    this.plugin = plugin;
    this.state = state;
  }

  /** One export call: `{output, failure, trace}`, output a Uint8Array or null. */
  async call(name, input) {
    this.state.trace = [];
    this.state.refusal = null;
    // Nothing runs for a missing export, as in the Rust host.
    if (!(await this.plugin.functionExists(name))) {
      return { output: null, failure: new Failure("missing_export"), trace: [] };
    }
    let output;
    let failure = null;
    try {
      // The SDK wraps the input's whole ArrayBuffer as the input block (call-context.ts
      // [STORE]), so the input must own its buffer; parseRequest makes it so.
      const result = await this.plugin.call(name, input);
      // 1.0.3 answers null when the plugin set no output (foreground-plugin.ts call).
      output = result === null ? new Uint8Array(0) : result.bytes();
    } catch (error) {
      failure = classify(error, this.state.refusal);
    }
    const trace = this.state.trace;
    this.state.trace = [];
    return { output: failure ? null : output, failure, trace };
  }

  async close() {
    await this.plugin.close();
  }
}

// How foreground-plugin.ts (call) reports the kernel's error_set: a plain Error with this prefix
// and the message's text after it.
const PLUGIN_ERROR_PREFIX = "Plugin-originated error: ";

/**
 * Sorts a rejected plugin.call, in the contract's order: the host function's own refusal first;
 * then the limits, of which 1.0.3 has none to report; then what the runtime threw.
 */
export function classify(error, refusal) {
  if (refusal) {
    return refusal;
  }
  // V8 throws WebAssembly.RuntimeError for a trap (unreachable, out of bounds, division by
  // zero, ...), whatever its message.
  if (error instanceof WebAssembly.RuntimeError) {
    return new Failure("trap", { message: error.message });
  }
  // V8 reports wasm stack exhaustion as a RangeError, MessageTemplate::kStackOverflow
  // (src/common/message-template.h), not as a RuntimeError.
  if (error instanceof RangeError && error.message === "Maximum call stack size exceeded") {
    return new Failure("trap", { message: error.message });
  }
  // node:wasi's proc_exit (lib/wasi.js, wasiReturnOnProcExit) records the code on the WASI
  // object, which the SDK keeps to itself, and throws its kExitCode symbol: a WASI exit whose
  // code cannot be read, so it is an abort without one.
  if (typeof error === "symbol") {
    return new Failure("trap", {
      message: `the module exited through WASI proc_exit (node:wasi threw ${error.toString()}; the SDK does not show the code)`,
    });
  }
  const message = String(error?.message ?? error);
  if (error instanceof Error && message.startsWith(PLUGIN_ERROR_PREFIX)) {
    return new Failure("plugin", {
      message: message.slice(PLUGIN_ERROR_PREFIX.length),
    });
  }
  // Anything else the SDK's kernel or V8 threw out of the call (say the kernel's "cannot assign
  // to this block"): the call was aborted.
  return new Failure("trap", { message });
}

/** The key-value store as a Map from a key's bytes (latin1, one char a byte) to its value. */
export const storeKey = (bytes) => Buffer.from(bytes).toString("latin1");

/**
 * env.hostMemoryGet(key i64) -> i64 by CONTRACT.md. `offset` is the i64 argument as a BigInt
 * (signed, as the JS API converts i64); the result must be a BigInt too.
 */
function memoryGet(context, offset, state, store, limits) {
  const refuse = (failure) => {
    // Recorded first, so that the call's failure is the host function's own.
    state.refusal = failure;
    throw failure;
  };
  let key = new Uint8Array(0);
  // Offset 0 is how every PDK passes an empty key.
  if (offset !== 0n) {
    // The SDK's documented check: `read` is null for an address that is not a live block. (Its
    // blocks may be empty: `alloc(0)` makes one, so a length of 0 does not mean "no block".)
    const block = context.read(offset);
    if (block === null) {
      refuse(
        new Failure("host_function", {
          message: `${HOST_MEMORY_GET}: key offset ${offset} is not an allocated Extism memory block`,
        }),
      );
    }
    const length = context.length(offset);
    if (limits.max_key_len !== null && length > BigInt(limits.max_key_len)) {
      refuse(
        new Failure("key_too_long", {
          len: Number(length),
          max: limits.max_key_len,
        }),
      );
    }
    // A copy: the block belongs to the plugin, which may reuse it after the call.
    key = block.bytes().slice();
  }
  const value = store.get(storeKey(key)) ?? new Uint8Array(0);
  if (limits.max_value_len !== null && value.length > limits.max_value_len) {
    refuse(
      new Failure("value_too_long", {
        len: value.length,
        max: limits.max_value_len,
      }),
    );
  }
  let result = 0n;
  if (value.length > 0) {
    // store() wraps the array's buffer itself as the block (call-context.ts [STORE]), so a
    // plugin writing to the block would write to the store: it gets a copy of its own.
    result = context.store(value.slice());
  }
  state.trace.push({
    function: HOST_MEMORY_GET,
    key,
    value_len: value.length,
  });
  return result;
}
