// Unit tests: the request reader's refusals, and a few calls through the server.
// Run from host-node/: node --test

import { after, test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseRequest } from "./protocol.mjs";
import createPlugin from "@extism/extism";
import { SDK, kernelGaps } from "./plugin.mjs";
import { Server } from "./serve.mjs";

// AssemblyScript's: its PDK imports only kernel functions 1.0.3 has, so these tests do not lean
// on the adapter's log_trace and get_log_level (see "kernel functions 1.0.3 lacks" below).
const PLUGIN = fileURLToPath(
  new URL("../target/plugins/assemblyscript/conformance.wasm", import.meta.url),
);
const b64 = (text) => Buffer.from(text).toString("base64");

const good = (id = 1) => ({
  protocol: 2,
  id,
  wasm: PLUGIN,
  wasi: "auto",
  config: {},
  log_level: "off",
  store: [
    { key: b64("hello"), value: b64("hi") },
    { key: b64("message"), value: b64("there") },
  ],
  limits: { timeout_ms: null, memory_max_pages: 4096, max_key_len: 1000, max_value_len: 1000 },
  calls: [{ export: "lookup", input: b64("hello") }],
});

const refusal = (request) => {
  try {
    parseRequest(typeof request === "string" ? request : JSON.stringify(request));
  } catch (error) {
    return { kind: error.kind, id: error.id, message: error.message };
  }
  assert.fail("the request was read");
};

test("a good request is read", () => {
  const request = parseRequest(JSON.stringify(good(7)));
  assert.equal(request.id, 7);
  assert.equal(request.limits.max_key_len, 1000);
  assert.equal(request.store.size, 2);
  assert.deepEqual([...request.calls[0].input], [...Buffer.from("hello")]);
});

test("refusals name the field and keep the id", () => {
  const spoilt = (change) => {
    const request = good(3);
    change(request);
    return refusal(request);
  };
  const cases = [
    [(r) => (r.wams = "x"), "unknown field `wams`"],
    [(r) => delete r.limits, "missing field `limits`"],
    [(r) => delete r.limits.max_key_len, "missing field `limits.max_key_len`"],
    [(r) => (r.limits.timeout_ms = "soon"), "limits.timeout_ms: expected"],
    [(r) => (r.limits.timeout_ms = -1), "limits.timeout_ms: expected"],
    [(r) => (r.limits.timeout_ms = 1.5), "limits.timeout_ms: expected"],
    [(r) => (r.calls[0].input = "@@@"), "calls[0].input: not standard base64"],
    [(r) => (r.calls[0].input = "aGk"), "calls[0].input: not standard base64"],
    [(r) => (r.calls[0].input = "aGl="), "calls[0].input: not standard base64"],
    [(r) => (r.calls[0].input = "a-_A"), "calls[0].input: not standard base64"],
    [(r) => (r.calls = []), "calls: empty"],
    [(r) => r.store.push(r.store[0]), "store keys must be distinct"],
    [(r) => (r.wasi = "maybe"), "wasi: expected"],
    [(r) => (r.config = { a: 1 }), 'config["a"]: expected a string'],
    [(r) => (r.calls[0].extra = 1), "unknown field `calls[0].extra`"],
    [(r) => (r.limits.memory_max_pages = 70000), "limits.memory_max_pages"],
    [(r) => delete r.log_level, "missing field `log_level`"],
    [(r) => (r.log_level = "verbose"), "log_level: expected"],
    [(r) => (r.log_level = "INFO"), "log_level: expected"],
    [(r) => (r.log_level = 2), "log_level: expected"],
    [(r) => (r.log_level = null), "log_level: expected"],
    // Malformed before unsupported: the request is not read, so its limits are not weighed.
    [(r) => ((r.limits.timeout_ms = 200), (r.wams = 1)), "unknown field `wams`"],
  ];
  for (const [change, message] of cases) {
    const error = spoilt(change);
    assert.equal(error.kind, "malformed_request", message);
    assert.equal(error.id, 3, message);
    assert.ok(error.message.includes(message), `${error.message} lacks ${message}`);
  }
});

test("each log level is read", () => {
  for (const level of ["trace", "debug", "info", "warn", "error", "off"]) {
    assert.equal(parseRequest(JSON.stringify({ ...good(), log_level: level })).logLevel, level);
  }
});

test("a timeout is refused as unsupported, naming the limit and the SDK", async () => {
  const request = good(11);
  request.limits.timeout_ms = 200;
  const message = `limits.timeout_ms: ${SDK} has no timeout`;
  assert.deepEqual(refusal(request), { kind: "unsupported_limit", id: 11, message });
  assert.deepEqual(await new Server().handle(JSON.stringify(request)), {
    protocol: 2,
    id: 11,
    error: { kind: "unsupported_limit", message },
  });
  // 0 is a limit too (zero), not "none".
  request.limits.timeout_ms = 0;
  assert.equal(refusal(request).kind, "unsupported_limit");
});

test("the SDK named in messages is the one installed", () => {
  const read = (path) => JSON.parse(readFileSync(new URL(path, import.meta.url)));
  const { name, version } = read("./node_modules/@extism/extism/package.json");
  assert.equal(SDK, `${name} ${version}`);
  assert.equal(read("./package.json").dependencies[name], version);
});

test("config keys are the request's own, whatever their names", () => {
  const config = JSON.parse('{"__proto__": "a", "toString": "b"}');
  const read = parseRequest(JSON.stringify({ ...good(), config })).config;
  assert.deepEqual(Object.entries(read), [
    ["__proto__", "a"],
    ["toString", "b"],
  ]);
  assert.equal("constructor" in read, false);
});

test("null is no limit, 0 is zero", () => {
  const request = good();
  request.limits.max_key_len = null;
  request.limits.max_value_len = 0;
  const { limits } = parseRequest(JSON.stringify(request));
  assert.equal(limits.max_key_len, null);
  assert.equal(limits.max_value_len, 0);
});

test("unreadable lines and other versions", () => {
  assert.deepEqual(refusal("{nope"), {
    kind: "malformed_request",
    id: null,
    message: refusal("{nope").message,
  });
  assert.equal(refusal("[1]").kind, "malformed_request");
  assert.equal(refusal({ ...good(9), id: "nine" }).id, null);
  const other = refusal({ protocol: 99, id: 4 });
  assert.equal(other.kind, "unsupported_protocol");
  assert.equal(other.id, 4);
  assert.equal(refusal({ ...good(4), protocol: 1 }).kind, "unsupported_protocol");
});

test("another version is answered with the version this host speaks", async () => {
  const answer = await new Server().handle(JSON.stringify({ ...good(4), protocol: 1 }));
  assert.equal(answer.protocol, 2);
  assert.equal(answer.id, 4);
  assert.equal(answer.error.kind, "unsupported_protocol");
});

test(
  "calls on one instance, in order",
  { skip: !existsSync(PLUGIN) && "no assemblyscript plugin" },
  async () => {
    const request = good(5);
    request.calls = [
      { export: "lookup", input: b64("hello") },
      { export: "lookup", input: b64("k".repeat(1001)) },
      { export: "trap", input: b64("boom") },
      { export: "fail", input: b64("bad") },
      { export: "echo", input: b64("after") },
      { export: "no_such_export", input: "" },
    ];
    const request2 = { ...good(6), store: [{ key: b64("hello"), value: b64("v".repeat(1001)) }] };
    const server = new Server();
    const answer = await server.handle(JSON.stringify(request));
    assert.equal(answer.id, 5);
    const [hello, long, trap, fail, echo, missing] = answer.results;
    assert.deepEqual(hello, {
      output: b64("hi"),
      failure: null,
      trace: [{ function: "hostMemoryGet", key: b64("hello"), value_len: 2 }],
      logs: [],
    });
    assert.deepEqual(long.failure, { kind: "key_too_long", len: 1001, max: 1000 });
    assert.deepEqual(long.trace, []);
    assert.equal(trap.failure.kind, "trap");
    assert.deepEqual(fail.failure, { kind: "plugin", message: "bad" });
    assert.equal(echo.output, b64("after"));
    assert.deepEqual(missing, {
      output: null,
      failure: { kind: "missing_export" },
      trace: [],
      logs: [],
    });
    const [value] = (await server.handle(JSON.stringify(request2))).results;
    assert.deepEqual(value.failure, { kind: "value_too_long", len: 1001, max: 1000 });
  },
);

test("a module that cannot be read fails every call as load", async () => {
  const request = { ...good(8), wasm: "/nonexistent/plugin.wasm" };
  request.calls.push({ export: "noop", input: "" });
  const answer = await new Server().handle(JSON.stringify(request));
  assert.equal(answer.results.length, 2);
  for (const result of answer.results) {
    assert.equal(result.failure.kind, "load");
    assert.ok(result.failure.message.includes("/nonexistent/plugin.wasm"));
    assert.deepEqual(result.logs, []);
  }
});

// A wasm module's binary encoding, enough for the small modules below.
const leb = (n) => (n < 0x80 ? [n] : [(n & 0x7f) | 0x80, ...leb(n >> 7)]);
const vec = (items) => [...leb(items.length), ...items.flat()];
const name = (text) => vec([...Buffer.from(text)]);
const section = (id, body) => [id, ...leb(body.length), ...body];
const MAGIC = [0x00, 0x61, 0x73, 0x6d, 1, 0, 0, 0];
const [I32, I64] = [0x7f, 0x7e];
const kernelImport = (fn, type) => [...name("extism:host/env"), ...name(fn), 0, type];
// local 0 = alloc(2), then "hi" stored in it, with alloc and store_u8 as functions 0 and 1
// ('h' is 104, two bytes of signed LEB128).
const hiBlock = () => [
  ...[0x42, 2, 0x10, 0, 0x21, 0],
  ...[0x20, 0, 0x41, 0xe8, 0, 0x10, 1],
  ...[0x20, 0, 0x42, 1, 0x7c, 0x41, 0xe9, 0, 0x10, 1],
];

/**
 * A module whose exports log "hi" with each of 1.0.3's kernel log functions, debug to error:
 * `log4` then returns 0, `log4_trap` traps. Assembled here, since no plugin of the contract's
 * logs at only the levels 1.0.3 has (a PDK's log_levels imports log_trace too).
 */
function loggingModule() {
  const types = [
    [0x60, 1, I64, 1, I64], // alloc
    [0x60, 2, I64, I32, 0], // store_u8
    [0x60, 1, I64, 0], // log_*
    [0x60, 0, 1, I32], // the exports
  ];
  const kernel = ["alloc", "store_u8", "log_debug", "log_info", "log_warn", "log_error"];
  const imports = kernel.map((fn, i) => kernelImport(fn, Math.min(i, 2)));
  // "hi" in a block, logged at each level (functions 2 to 5).
  const logs = hiBlock();
  for (const fn of [2, 3, 4, 5]) {
    logs.push(0x20, 0, 0x10, fn);
  }
  const body = (tail) => vec([1, 1, I64, ...logs, ...tail, 0x0b]);
  const exports = [
    [...name("log4"), 0, 6],
    [...name("log4_trap"), 0, 7],
  ];
  return new Uint8Array([
    ...MAGIC,
    ...section(1, vec(types)),
    ...section(2, vec(imports)),
    ...section(3, vec([[3], [3]])),
    ...section(7, vec(exports)),
    ...section(10, vec([body([0x41, 0]), body([0x00])])),
  ]);
}

const scratch = mkdtempSync(join(tmpdir(), "host-node-test-"));
after(() => rmSync(scratch, { recursive: true, force: true }));
let modules = 0;
const writeModule = (bytes) => {
  const path = join(scratch, `module${modules++}.wasm`);
  writeFileSync(path, bytes);
  return path;
};

test("log lines reach the result of their call, at or above the request's level", async () => {
  const wasm = writeModule(loggingModule());
  const server = new Server();
  const ask = async (logLevel, calls) =>
    (await server.handle(JSON.stringify({ ...good(), wasm, log_level: logLevel, calls }))).results;
  const lines = (...levels) => levels.map((level) => ({ level, text: b64("hi") }));
  const log4 = { export: "log4", input: "" };
  for (const [level, expected] of [
    ["trace", lines("debug", "info", "warn", "error")],
    ["debug", lines("debug", "info", "warn", "error")],
    ["info", lines("info", "warn", "error")],
    ["warn", lines("warn", "error")],
    ["error", lines("error")],
    ["off", []],
  ]) {
    const [result] = await ask(level, [log4]);
    assert.deepEqual(result, { output: "", failure: null, trace: [], logs: expected }, level);
  }
  // Each call has its own lines, a failed one too; a missing export logs nothing.
  const [first, trapped, missing, again] = await ask("warn", [
    log4,
    { export: "log4_trap", input: "" },
    { export: "no_such_export", input: "" },
    log4,
  ]);
  assert.deepEqual(first.logs, lines("warn", "error"));
  assert.equal(trapped.failure.kind, "trap");
  assert.deepEqual(trapped.logs, lines("warn", "error"));
  assert.deepEqual(missing.logs, []);
  assert.deepEqual(again.logs, lines("warn", "error"));
});

// What the SDK lacks, held here so that an SDK that has it fails this test (and its own is then
// used, not the adapter's): the kernel of 1.0.3 (call-context.ts, [ENV]) has neither log_trace
// nor get_log_level, and V8 does not link a module that imports either.
test("kernel functions 1.0.3 lacks: a module importing one does not load on the SDK", async () => {
  for (const [fn, type] of [
    ["get_log_level", [0x60, 0, 1, I32]],
    ["log_trace", [0x60, 1, I64, 0]],
  ]) {
    const module = await WebAssembly.compile(
      new Uint8Array([
        ...MAGIC,
        ...section(1, vec([type])),
        ...section(2, vec([kernelImport(fn, 0)])),
      ]),
    );
    await assert.rejects(createPlugin({ wasm: [{ module }] }, { useWasi: false }), (error) => {
      assert.ok(error instanceof WebAssembly.LinkError, String(error));
      assert.ok(error.message.includes(`"${fn}"`), error.message);
      return true;
    });
  }
  assert.deepEqual(await kernelGaps(), ["get_log_level", "log_trace"]);
});

/**
 * A module of the two kernel functions the adapter supplies: `trace` logs "hi" with log_trace,
 * `level` outputs get_log_level's i32, sign-extended, as 8 bytes little-endian.
 */
function workaroundModule() {
  const types = [
    [0x60, 1, I64, 1, I64], // alloc
    [0x60, 2, I64, I32, 0], // store_u8
    [0x60, 1, I64, 0], // log_trace
    [0x60, 0, 1, I32], // get_log_level and the exports
    [0x60, 2, I64, I64, 0], // store_u64, output_set
  ];
  const kernel = [
    ["alloc", 0],
    ["store_u8", 1],
    ["log_trace", 2],
    ["store_u64", 4],
    ["output_set", 4],
    ["get_log_level", 3],
  ];
  const imports = kernel.map(([fn, type]) => kernelImport(fn, type));
  // "hi" in a block, logged with log_trace (function 2).
  const trace = [...hiBlock(), 0x20, 0, 0x10, 2];
  // local 0 = alloc(8); store_u64(local 0, i64.extend_i32_s(get_log_level())); output_set it.
  const level = [0x42, 8, 0x10, 0, 0x21, 0];
  level.push(0x20, 0, 0x10, 5, 0xac, 0x10, 3);
  level.push(0x20, 0, 0x42, 8, 0x10, 4);
  const body = (code) => vec([1, 1, I64, ...code, 0x41, 0, 0x0b]);
  const exports = [
    [...name("trace"), 0, 6],
    [...name("level"), 0, 7],
  ];
  return new Uint8Array([
    ...MAGIC,
    ...section(1, vec(types)),
    ...section(2, vec(imports)),
    ...section(3, vec([[3], [3]])),
    ...section(7, vec(exports)),
    ...section(10, vec([body(trace), body(level)])),
  ]);
}

test("the adapter's log_trace and get_log_level follow the request's level", async () => {
  const wasm = writeModule(workaroundModule());
  const server = new Server();
  const calls = [
    { export: "level", input: "" },
    { export: "trace", input: "" },
  ];
  const int = (n) => {
    const bytes = Buffer.alloc(8);
    bytes.writeBigInt64LE(BigInt(n));
    return bytes.toString("base64");
  };
  for (const [logLevel, number, logs] of [
    ["trace", 0, [{ level: "trace", text: b64("hi") }]],
    ["debug", 1, []],
    ["info", 2, []],
    ["warn", 3, []],
    ["error", 4, []],
    ["off", 2147483647, []],
  ]) {
    const answer = await server.handle(
      JSON.stringify({ ...good(), wasm, log_level: logLevel, calls }),
    );
    const [level, trace] = answer.results;
    assert.deepEqual(level, { output: int(number), failure: null, trace: [], logs: [] }, logLevel);
    assert.deepEqual(trace, { output: "", failure: null, trace: [], logs }, logLevel);
  }
});
