// host-node bench: the Go host's benchmark scenarios (../host-go/bench_test.go), timed with
// process.hrtime, written as DIR/figures.json.

import { mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { compile, instantiate, storeKey } from "./plugin.mjs";
import { DEFAULT_LIMITS, SEED_INPUT, seedStore } from "./seed.mjs";

// How long each figure's timed loop runs.
const TARGET_NS = 1_500_000_000n;

const encode = (text) => new TextEncoder().encode(text);
const repeat = (size) => encode("0123456789abcdef".repeat(size / 16));

/** Mean nanoseconds of `once` over a loop of about TARGET_NS, after a warm-up. */
async function time(once) {
  await once();
  let iterations = 0;
  let batch = 1;
  const start = process.hrtime.bigint();
  let elapsed = 0n;
  while (elapsed < TARGET_NS) {
    for (let i = 0; i < batch; i++) {
      await once();
    }
    iterations += batch;
    elapsed = process.hrtime.bigint() - start;
    batch = Math.min(batch * 2, 1024);
  }
  return Number(elapsed) / iterations;
}

const sameBytes = (a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)) === 0;

/**
 * A copy of the module's bytes with a custom section of its own appended, so that V8, which
 * shares compiled code between identical modules, compiles it from nothing.
 */
function unique(bytes, n) {
  const name = encode(`host-node-bench-${n}`);
  // section id 0, size, name length, name; the name stays under 128 bytes (one-byte LEB128s).
  return Buffer.concat([bytes, Buffer.from([0, name.length + 1, name.length]), name]);
}

export async function bench(dir, plugins) {
  const valueStore = new Map([
    [storeKey(encode("empty")), new Uint8Array(0)],
    [storeKey(encode("1KiB")), repeat(1 << 10)],
    [storeKey(encode("1MiB")), repeat(1 << 20)],
  ]);
  const seed = seedStore();
  const hello = encode(
    `👋 Hello ${SEED_INPUT}\nkey: hello, value: 👋 Hello World 🌍\nkey: message, value: I 💜 Extism 😍`,
  );
  const scenarios = [
    { name: "noop", export: "noop", store: seed, input: "", output: new Uint8Array(0) },
    { name: "say_hello", export: "say_hello", store: seed, input: SEED_INPUT, output: hello },
    {
      name: "get_0B",
      export: "lookup",
      store: valueStore,
      input: "empty",
      output: new Uint8Array(0),
    },
    {
      name: "get_1KiB",
      export: "lookup",
      store: valueStore,
      input: "1KiB",
      output: repeat(1 << 10),
    },
    {
      name: "get_1MiB",
      export: "lookup",
      store: valueStore,
      input: "1MiB",
      output: repeat(1 << 20),
    },
  ];
  const figures = [];
  const figure = (id, meanNs) => {
    process.stderr.write(`${id}: ${meanNs.toFixed(1)} ns\n`);
    figures.push({ id, mean_ns: meanNs });
  };
  for (const { label, path } of plugins) {
    process.stderr.write(`── ${label}: ${path}\n`);
    const compiled = await compile(path);
    const setup = (store) => ({
      wasi: "auto",
      config: {},
      logLevel: "off",
      store,
      limits: DEFAULT_LIMITS,
    });

    for (const s of scenarios) {
      // One instance, made once and reused: the steady-state cost of a call.
      const instance = await instantiate(compiled, setup(s.store));
      const input = encode(s.input);
      const first = await instance.call(s.export, input);
      if (first.failure || !sameBytes(first.output, s.output)) {
        // A wrong answer is not timed: the figure is left out, saying why.
        const got = first.failure ? first.failure.kind : `${first.output.length} bytes`;
        process.stderr.write(
          `call/${label}/${s.name} left out: ${s.export} of ${JSON.stringify(s.input)} gave ${got}, not the expected ${s.output.length} bytes\n`,
        );
        await instance.close();
        continue;
      }
      figure(`call/${label}/${s.name}`, await time(() => instance.call(s.export, input)));
      await instance.close();
    }

    // createPlugin instantiates eagerly (and runs a WASI reactor's _initialize then,
    // foreground-plugin.ts), so a ready instance needs no call.
    figure(
      `instance/${label}`,
      await time(async () => (await instantiate(compiled, setup(seed))).close()),
    );

    // The SDK takes a compiled WebAssembly.Module, so compiling is apart from instantiating:
    // cold is bytes V8 has not seen, cached is the same bytes again (V8's module cache).
    const bytes = await readFile(path);
    let n = 0;
    figure(`compile/${label}/cold`, await time(() => WebAssembly.compile(unique(bytes, n++))));
    figure(`compile/${label}/cached`, await time(() => WebAssembly.compile(bytes)));
  }
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, "figures.json"), `${JSON.stringify({ figures }, null, 2)}\n`);
  process.stderr.write(`wrote ${join(dir, "figures.json")}\n`);
}
