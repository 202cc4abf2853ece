// The seed's store and call, and the contract's default limits, for demo and bench.

import { storeKey } from "./plugin.mjs";

export const SEED_INPUT = "👋 Hello from the Go Host app 🤗";

const encode = (text) => new TextEncoder().encode(text);

export const seedStore = () =>
  new Map([
    [storeKey(encode("hello")), encode("👋 Hello World 🌍")],
    [storeKey(encode("message")), encode("I 💜 Extism 😍")],
  ]);

/** The Rust host's host::Limits::default. */
export const DEFAULT_LIMITS = {
  timeout_ms: 30000,
  memory_max_pages: 4096,
  max_key_len: 1 << 20,
  max_value_len: 64 << 20,
};
