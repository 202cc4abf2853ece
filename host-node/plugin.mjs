// Running plugins on @extism/extism 1.0.3 with env.hostMemoryGet, and sorting what the SDK
// gives back into the conformance protocol's failure kinds (../docs/protocol.md, "Failures").
//
// What 1.0.3 can express, read from its source (src/mod.ts, src/interfaces.ts): the options are
// useWasi, functions, config, logger, enableWasiOutput, allowedPaths, allowedHosts, fetch,
// runInWorker and sharedArrayBufferSize. It has no timeout, no memory limit and no log level
// (timeoutMs, memory and logLevel came with the 2.0.0 release candidates), and Extism memory is
// JavaScript (src/call-context.ts): each block its own ArrayBuffer, addressed as its
// index << 48, never in the module's linear memory.

import { constants } from "node:fs";
import { open, stat } from "node:fs/promises";
import createPlugin from "@extism/extism";

/** The SDK as the protocol's messages name it; the unit tests hold it to node_modules. */
export const SDK = "@extism/extism 1.0.3";

export const HOST_MEMORY_GET = "hostMemoryGet";
const WASI_MODULE = "wasi_snapshot_preview1";
/** The manifest's name of the plugin's own module (docs/protocol.md, "Linked modules"). */
export const MAIN_MODULE = "main";

/** The protocol's log levels, from the least severe; "off" lets no line through. */
export const LOG_LEVELS = ["trace", "debug", "info", "warn", "error", "off"];

// The logger methods a line can arrive by: 1.0.3's kernel calls debug, info, warn and error
// (call-context.ts, log_debug to log_error), each with the line's text decoded as UTF-8; trace
// comes from the log_trace below while the kernel lacks one.
const LOGGER_METHODS = ["trace", "debug", "info", "warn", "error"];

const EXTISM_ENV = "extism:host/env";

// Workaround: 1.0.3's kernel (call-context.ts:165, [ENV]) lacks log_trace and get_log_level,
// which the Rust, Go, TinyGo, C and Zig PDKs import, and V8 links no module with an import left
// unresolved, so such plugins would not load at all. The adapter supplies them by the documented
// `functions` option, which the SDK merges into the kernel's namespace (foreground-plugin.ts:170,
// as background-plugin.ts:471 adds http_request), and only those the kernel lacks (kernelGaps).
const KERNEL_WORKAROUNDS = {
  // () -> i32: the request's level as the Extism runtime numbers it (runtime/src/pdk.rs,
  // log_level_to_int; "off" is i32::MAX).
  get_log_level: { type: [0x60, 0, 1, 0x7f], make: (logLevel) => () => LOG_LEVEL_INTS[logLevel] },
  // (i64) -> (): the line read as 1.0.3's log_debug reads its own (call-context.ts:330), to the
  // same logger; like it, the block is not freed.
  log_trace: {
    type: [0x60, 1, 0x7e, 0],
    make: (logLevel, logger) => (context, offset) => {
      const block = context.read(offset);
      if (block === null) {
        logger.error(
          `failed to log(trace): bad block reference in addr 0x${offset.toString(16).padStart(64, "0")}`,
        );
        return;
      }
      logger.trace(block.text());
    },
  },
};

const LOG_LEVEL_INTS = { trace: 0, debug: 1, info: 2, warn: 3, error: 4, off: 2147483647 };

/** A module that imports only `fn` of the kernel, with the wasm function type `type`. */
function importing(fn, type) {
  const name = (text) => [text.length, ...new TextEncoder().encode(text)];
  const types = [1, ...type];
  const imports = [1, ...name(EXTISM_ENV), ...name(fn), 0, 0];
  const header = [0x00, 0x61, 0x73, 0x6d, 1, 0, 0, 0];
  return new Uint8Array([...header, 1, types.length, ...types, 2, imports.length, ...imports]);
}

let gaps = null;

/**
 * The names of KERNEL_WORKAROUNDS the installed SDK's kernel lacks, found once by asking the SDK
 * to load a module that imports each (without the workaround): a kernel that has one links it.
 */
export function kernelGaps() {
  gaps ??= (async () => {
    const lacking = [];
    for (const [fn, { type }] of Object.entries(KERNEL_WORKAROUNDS)) {
      const module = await WebAssembly.compile(importing(fn, type));
      try {
        await (await createPlugin({ wasm: [{ module }] }, { useWasi: false })).close();
      } catch (error) {
        if (!(error instanceof WebAssembly.LinkError)) {
          throw error;
        }
        lacking.push(fn);
      }
    }
    return lacking;
  })();
  return gaps;
}

/**
 * The limit of `limits` this SDK cannot enforce, as the unsupported_limit message names it, or
 * null. Running such a request would ignore the limit: a spinning plugin would hang the host.
 */
export function unsupportedLimit(limits) {
  if (limits.timeout_ms !== null) {
    return `limits.timeout_ms: ${SDK} has no timeout`;
  }
  return null;
}

/**
 * The SDK's logger (an object with the methods the `logger` option's documentation asks for:
 * info, debug, warn and error, and trace for log_trace), which keeps the lines at or above
 * `logLevel` in `state.logs`.
 * 1.0.3 takes no log level, so the logger is where the host's level is applied; the SDK's
 * console default would write to stdout, which belongs to the protocol.
 */
function captureLogger(state, logLevel) {
  const least = LOG_LEVELS.indexOf(logLevel);
  const encoder = new TextEncoder();
  const logger = {};
  for (const level of LOGGER_METHODS) {
    logger[level] =
      LOG_LEVELS.indexOf(level) >= least
        ? (text) => state.logs.push({ level, text: encoder.encode(String(text)) })
        : () => {};
  }
  return logger;
}

/** A failure: its kind and the fields that kind takes, as the protocol spells them. */
export class Failure extends Error {
  constructor(kind, fields = {}) {
    super(fields.message ?? kind);
    this.kind = kind;
    this.fields = fields;
  }
}

const loadFailure = (path, why) =>
  new Failure("load", { message: `cannot load module ${path}: ${why}` });

/** The largest module file the adapter reads (docs/protocol.md, "Module files"): 128 MiB. */
export const MAX_MODULE_BYTES = 128 * 1024 * 1024;

/** A load Failure for a module file the adapter will not read: the path, then what is wrong. */
const fileFailure = (path, why) => new Failure("load", { message: `${path}: ${why}` });

/** Why the file behind `stats` (symbolic links followed) may not be read as a module, or null. */
function unusable(stats) {
  if (!stats.isFile()) {
    return "not a regular file";
  }
  if (stats.size > MAX_MODULE_BYTES) {
    return `${stats.size} bytes, over the 128 MiB cap for a module`;
  }
  return null;
}

/**
 * Checks the module file at path before anything opens it: it exists and, symbolic links
 * followed, is a regular file of at most MAX_MODULE_BYTES. Throws a load Failure naming the path,
 * so that a device that never ends or a FIFO without a writer is never opened.
 */
export async function checkModuleFile(path) {
  let stats;
  try {
    stats = await stat(path);
  } catch (error) {
    const missing = error.code === "ENOENT" || error.code === "ENOTDIR";
    throw fileFailure(path, missing ? "no such file" : `cannot stat it: ${error.code ?? error}`);
  }
  const why = unusable(stats);
  if (why) {
    throw fileFailure(path, why);
  }
}

/**
 * The bytes of a module file that checkModuleFile passed. The file may have changed since, so it
 * is opened without blocking (a FIFO put there would otherwise hold open() until a writer came),
 * checked again through the open descriptor, and read for at most the size that check saw.
 */
async function readModuleFile(path) {
  let handle;
  try {
    handle = await open(path, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (error) {
    throw loadFailure(path, `cannot open it: ${error.code ?? error.message}`);
  }
  try {
    const stats = await handle.stat();
    const why = unusable(stats);
    if (why) {
      throw fileFailure(path, why);
    }
    const bytes = Buffer.alloc(stats.size);
    let filled = 0;
    while (filled < bytes.length) {
      const { bytesRead } = await handle.read(bytes, filled, bytes.length - filled, filled);
      if (bytesRead === 0) {
        break;
      }
      filled += bytesRead;
    }
    return bytes.subarray(0, filled);
  } catch (error) {
    if (error instanceof Failure) {
      throw error;
    }
    throw loadFailure(path, `cannot read it: ${error.code ?? error.message}`);
  } finally {
    await handle.close().catch(() => {});
  }
}

/**
 * Compiles the module at path with V8 (the SDK takes a compiled WebAssembly.Module in its
 * manifest, src/manifest.ts), so one compile serves every instance. The file is checked first
 * (checkModuleFile). Throws a load Failure.
 */
export async function compile(path) {
  await checkModuleFile(path);
  const bytes = await readModuleFile(path);
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

/** WASI for a request's "auto", "on" or "off": auto is on when any of the modules imports it. */
function wasiEnabled(modules, wasi) {
  return wasi === "on" || (wasi === "auto" && modules.some((compiled) => compiled.importsWasi));
}

/**
 * The SDK's manifest for the main module and its links (`[{name, compiled}]`), as its
 * ManifestWasm documentation names modules (interfaces.ts, `name`): each link in order under its
 * name, then the main module as "main".
 */
function manifest(compiled, links) {
  return {
    wasm: [
      ...links.map((link) => ({ name: link.name, module: link.compiled.module })),
      { name: MAIN_MODULE, module: compiled.module },
    ],
  };
}

/** The plugin as a load failure names it: the main module's path, and its links if any. */
function describe(compiled, links) {
  if (links.length === 0) {
    return compiled.path;
  }
  const linked = links.map((link) => `${link.name}=${link.compiled.path}`).join(", ");
  return `${compiled.path} (linked with ${linked})`;
}

/**
 * A fresh plugin instance of the compiled main module, with the compiled `links`
 * (`[{name, compiled}]`, in order) beside it, and hostMemoryGet reading `store` (a Map of latin1
 * strings, one char a byte, to Uint8Arrays) under `limits`, keeping the log lines at or above
 * `logLevel`. Throws a load Failure.
 *
 * What 1.0.3 does with several modules is its own (foreground-plugin.ts,
 * createForegroundPlugin): it instantiates each with the same import object (WASI, the kernel,
 * `env` and the `functions`), never with another module's exports, so a module that imports
 * from a link fails to instantiate; and a call by name goes to the first module in manifest order
 * that exports it (callBlock), a link before the main one. The adapter passes that on.
 */
export async function instantiate(compiled, { wasi, config, logLevel, store, limits }, links = []) {
  // What the host function and the logger see during one call; Instance.call resets it.
  const state = { trace: [], logs: [], refusal: null };
  const logger = captureLogger(state, logLevel);
  const functions = {
    env: {
      [HOST_MEMORY_GET]: (context, offset) => memoryGet(context, offset, state, store, limits),
    },
  };
  try {
    for (const fn of await kernelGaps()) {
      functions[EXTISM_ENV] ??= {};
      functions[EXTISM_ENV][fn] = KERNEL_WORKAROUNDS[fn].make(logLevel, logger);
    }
    const modules = [compiled, ...links.map((link) => link.compiled)];
    const plugin = await createPlugin(manifest(compiled, links), {
      useWasi: wasiEnabled(modules, wasi),
      functions,
      // The plugin's config, as the README's "Configuration" passes it: 1.0.3 reads only this
      // option (mod.ts builds its InternalConfig from opts.config; manifest.ts defaults
      // manifest.config and never reads it).
      config,
      logger,
      // WASI's stdout would be the protocol's stdout; off, the SDK points it at /dev/null.
      enableWasiOutput: false,
    });
    return new Instance(compiled.path, plugin, state);
  } catch (error) {
    throw new Failure("load", {
      message: `cannot load plugin ${describe(compiled, links)}: ${String(error?.message ?? error)}`,
    });
  }
}

class Instance {
  constructor(path, plugin, state) {
    this.path = path;
    this.plugin = plugin;
    this.state = state;
  }

  /**
   * One export call: `{output, failure, trace, logs}`, output a Uint8Array or null. The logs are
   * the lines the SDK logged during this call only (foreground, it logs synchronously inside it).
   */
  async call(name, input) {
    this.state.trace = [];
    this.state.logs = [];
    this.state.refusal = null;
    // Nothing runs for a missing export, as in the Rust host.
    if (!(await this.plugin.functionExists(name))) {
      return { output: null, failure: new Failure("missing_export"), trace: [], logs: [] };
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
    const { trace, logs } = this.state;
    this.state.trace = [];
    this.state.logs = [];
    return { output: failure ? null : output, failure, trace, logs };
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
