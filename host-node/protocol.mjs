// Reading requests of the conformance protocol, version 3 (../docs/protocol.md), strictly:
// every field present, none unknown, each of its type, named when it is wrong.

import { LOG_LEVELS, MAIN_MODULE, storeKey, unsupportedLimit } from "./plugin.mjs";

export const PROTOCOL_VERSION = 3;

/** Why a request cannot be acted on: the answer's error. */
export class RequestError extends Error {
  constructor(kind, message) {
    super(message);
    this.kind = kind;
  }
}

const malformed = (message) => new RequestError("malformed_request", message);

const REQUEST_FIELDS = [
  "protocol",
  "id",
  "wasm",
  "links",
  "wasi",
  "config",
  "log_level",
  "store",
  "limits",
  "calls",
];
const LINK_FIELDS = ["name", "wasm"];
const STORE_FIELDS = ["key", "value"];
const LIMIT_FIELDS = ["timeout_ms", "memory_max_pages", "max_key_len", "max_value_len"];
const CALL_FIELDS = ["export", "input"];
const WASI_MODES = ["auto", "on", "off"];
// wasm's whole 32-bit address space.
const MAX_PAGES = 65536;

/**
 * JSON text for a message: whole when short, else its first 40 code points (cut from its first 80
 * UTF-16 units: spreading a string of many MB into code points would take the heap).
 * JSON.stringify recurses, so a value nested deeper than V8's stack (JSON.parse reads 200,000
 * arrays deep without one) is only named.
 */
function show(value) {
  let text;
  try {
    text = JSON.stringify(value) ?? String(value);
  } catch {
    return Array.isArray(value) ? "an array nested too deep to show" : "an object too deep to show";
  }
  const points = [...text.slice(0, 80)];
  return points.length <= 40 && text.length <= 80 ? text : `${points.slice(0, 40).join("")}...`;
}

const isObject = (value) => value !== null && typeof value === "object" && !Array.isArray(value);

const has = (object, name) => Object.prototype.hasOwnProperty.call(object, name);

/** Refuses an object with a field it does not know, then one without a field it needs. */
function checkFields(object, path, names) {
  const join = (name) => (path ? `${path}.${name}` : name);
  const unknown = Object.keys(object)
    .filter((name) => !names.includes(name))
    .sort();
  if (unknown.length > 0) {
    throw malformed(`unknown field \`${join(unknown[0])}\``);
  }
  for (const name of names) {
    if (!has(object, name)) {
      throw malformed(`missing field \`${join(name)}\``);
    }
  }
}

function readFields(value, path, names) {
  if (!isObject(value)) {
    throw malformed(`${path}: expected an object, got ${show(value)}`);
  }
  checkFields(value, path, names);
  return value;
}

function readString(value, path) {
  if (typeof value !== "string") {
    throw malformed(`${path}: expected a string, got ${show(value)}`);
  }
  return value;
}

/**
 * A non-negative integer, or with nullable also null (no limit). JSON.parse reads numbers as
 * doubles, so one past 2^53 - 1 is refused rather than read inexactly.
 */
function readUint(value, path, nullable = false) {
  if (nullable && value === null) {
    return null;
  }
  if (!Number.isInteger(value) || value < 0) {
    const expected = nullable ? "a non-negative integer or null" : "a non-negative integer";
    throw malformed(`${path}: expected ${expected}, got ${show(value)}`);
  }
  if (!Number.isSafeInteger(value)) {
    throw malformed(
      `${path}: ${show(value)} is over 2^53 - 1, the largest integer host-node reads exactly`,
    );
  }
  return value;
}

/**
 * Standard base64 with padding (RFC 4648), as Go's strict decoder reads it: Buffer.from is
 * lenient (it skips what is not base64), so the text must be what encoding the bytes gives.
 * The result owns its whole ArrayBuffer (Buffer.from may hand out a view of a shared pool), as
 * the SDK's input and store() need (see plugin.mjs).
 */
function readBytes(value, path) {
  if (typeof value !== "string") {
    throw malformed(`${path}: expected a base64 string, got ${show(value)}`);
  }
  const decoded = Buffer.from(value, "base64");
  if (decoded.toString("base64") !== value) {
    throw malformed(`${path}: not standard base64 (RFC 4648, +/ and = padding): ${show(value)}`);
  }
  return new Uint8Array(decoded);
}

/**
 * Reads one request line (a string). Returns the request, or throws a RequestError whose `id`
 * is the request's when it could be read, else null.
 */
export function parseRequest(line) {
  let top;
  try {
    top = JSON.parse(line);
  } catch (error) {
    throw Object.assign(malformed(`the line is not JSON: ${error.message}`), { id: null });
  }
  if (!isObject(top)) {
    throw Object.assign(malformed(`the line is not a JSON object: ${show(top)}`), { id: null });
  }
  // The id first, so that every other refusal can carry it.
  let id;
  try {
    id = has(top, "id") ? readUint(top.id, "id") : null;
  } catch {
    id = null;
  }
  try {
    return readRequest(top);
  } catch (error) {
    throw Object.assign(error, { id });
  }
}

function readRequest(top) {
  // The version before anything else: another version's request is refused as such.
  if (!has(top, "protocol")) {
    throw malformed("missing field `protocol`");
  }
  const version = readUint(top.protocol, "protocol");
  if (version !== PROTOCOL_VERSION) {
    throw new RequestError(
      "unsupported_protocol",
      `protocol ${version} is not supported: host-node speaks protocol ${PROTOCOL_VERSION}`,
    );
  }
  checkFields(top, "", REQUEST_FIELDS);
  const request = { id: readUint(top.id, "id"), wasm: readString(top.wasm, "wasm") };
  request.links = readLinks(top.links);
  request.wasi = readString(top.wasi, "wasi");
  if (!WASI_MODES.includes(request.wasi)) {
    throw malformed(`wasi: expected "auto", "on" or "off", got ${show(top.wasi)}`);
  }
  request.config = readConfig(top.config);
  request.logLevel = readLogLevel(top.log_level);
  request.store = readStore(top.store);
  request.limits = readLimits(top.limits);
  request.calls = readCalls(top.calls);
  // Only a request that is well formed is refused for what the SDK cannot do.
  const unsupported = unsupportedLimit(request.limits);
  if (unsupported) {
    throw new RequestError("unsupported_limit", unsupported);
  }
  return request;
}

/**
 * The config as an object without a prototype: JSON.parse makes "__proto__" an own key, which
 * assigning into a plain object would take as its prototype, and the SDK's config_get asks
 * `key in config`, which on a plain object holds for "toString" and the like.
 */
function readConfig(value) {
  if (!isObject(value)) {
    throw malformed(`config: expected an object, got ${show(value)}`);
  }
  const config = Object.create(null);
  for (const [key, text] of Object.entries(value)) {
    config[key] = readString(text, `config[${JSON.stringify(key)}]`);
  }
  return config;
}

function readLogLevel(value) {
  if (!LOG_LEVELS.includes(value)) {
    const names = LOG_LEVELS.map((name) => `"${name}"`);
    throw malformed(
      `log_level: expected ${names.slice(0, -1).join(", ")} or ${names.at(-1)}, got ${show(value)}`,
    );
  }
  return value;
}

/**
 * The modules linked beside the main one, in order, as `{name, wasm}`: each name a module name
 * other modules import from, so not empty, not the main module's and not another link's.
 */
function readLinks(value) {
  if (!Array.isArray(value)) {
    throw malformed(`links: expected an array, got ${show(value)}`);
  }
  const first = new Map(); // where each name was first given
  return value.map((entry, i) => {
    const path = `links[${i}]`;
    readFields(entry, path, LINK_FIELDS);
    const name = readString(entry.name, `${path}.name`);
    const wasm = readString(entry.wasm, `${path}.wasm`);
    if (name === "") {
      throw malformed(`${path}.name: empty; a link needs the module name others import it by`);
    }
    if (name === MAIN_MODULE) {
      throw malformed(`${path}.name: "${MAIN_MODULE}" is the plugin's own module, not a link's`);
    }
    if (first.has(name)) {
      throw malformed(
        `link names must be distinct: ${path}.name ${show(name)} repeats links[${first.get(name)}].name`,
      );
    }
    first.set(name, i);
    return { name, wasm };
  });
}

function readStore(value) {
  if (!Array.isArray(value)) {
    throw malformed(`store: expected an array, got ${show(value)}`);
  }
  const store = new Map();
  const first = new Map(); // where each key was first given
  value.forEach((entry, i) => {
    const path = `store[${i}]`;
    readFields(entry, path, STORE_FIELDS);
    const key = storeKey(readBytes(entry.key, `${path}.key`));
    const bytes = readBytes(entry.value, `${path}.value`);
    if (first.has(key)) {
      throw malformed(
        `store keys must be distinct: ${path}.key repeats store[${first.get(key)}].key`,
      );
    }
    first.set(key, i);
    store.set(key, bytes);
  });
  return store;
}

function readLimits(value) {
  readFields(value, "limits", LIMIT_FIELDS);
  const limits = {};
  for (const name of LIMIT_FIELDS) {
    limits[name] = readUint(value[name], `limits.${name}`, true);
  }
  if (limits.memory_max_pages !== null && limits.memory_max_pages > MAX_PAGES) {
    throw malformed(
      `limits.memory_max_pages: ${limits.memory_max_pages} is over wasm's ${MAX_PAGES} pages`,
    );
  }
  return limits;
}

function readCalls(value) {
  if (!Array.isArray(value)) {
    throw malformed(`calls: expected an array, got ${show(value)}`);
  }
  if (value.length === 0) {
    throw malformed("calls: empty; a request makes at least one call");
  }
  return value.map((entry, i) => {
    const path = `calls[${i}]`;
    readFields(entry, path, CALL_FIELDS);
    return {
      export: readString(entry.export, `${path}.export`),
      input: readBytes(entry.input, `${path}.input`),
    };
  });
}

const base64 = (bytes) =>
  Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("base64");

/** One call's result as the answer holds it: exactly one of output and failure is null. */
export function resultJson({ output, failure, trace, logs }) {
  return {
    output: failure ? null : base64(output),
    failure: failure ? { kind: failure.kind, ...failure.fields } : null,
    trace: trace.map((call) => ({
      function: call.function,
      key: base64(call.key),
      value_len: call.value_len,
    })),
    logs: logs.map((line) => ({ level: line.level, text: base64(line.text) })),
  };
}
