// Unit tests: the request reader's refusals, and a few calls through the server.
// Run from host-node/: node --test

import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { parseRequest } from "./protocol.mjs";
import { Server } from "./serve.mjs";

const RUST = fileURLToPath(new URL("../target/plugins/rust/conformance.wasm", import.meta.url));
const b64 = (text) => Buffer.from(text).toString("base64");

const good = (id = 1) => ({
  protocol: 1,
  id,
  wasm: RUST,
  wasi: "auto",
  config: {},
  store: [
    { key: b64("hello"), value: b64("hi") },
    { key: b64("message"), value: b64("there") },
  ],
  limits: { timeout_ms: 30000, memory_max_pages: 4096, max_key_len: 1000, max_value_len: 1000 },
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
  ];
  for (const [change, message] of cases) {
    const error = spoilt(change);
    assert.equal(error.kind, "malformed_request", message);
    assert.equal(error.id, 3, message);
    assert.ok(error.message.includes(message), `${error.message} lacks ${message}`);
  }
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
});

test(
  "calls on one instance, in order",
  { skip: !existsSync(RUST) && "no rust plugin" },
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
    });
    assert.deepEqual(long.failure, { kind: "key_too_long", len: 1001, max: 1000 });
    assert.deepEqual(long.trace, []);
    assert.equal(trap.failure.kind, "trap");
    assert.deepEqual(fail.failure, { kind: "plugin", message: "bad" });
    assert.equal(echo.output, b64("after"));
    assert.deepEqual(missing, { output: null, failure: { kind: "missing_export" }, trace: [] });
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
  }
});
