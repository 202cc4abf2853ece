// host-node runs Extism plugins with env.hostMemoryGet on the Extism Node.js SDK
// (@extism/extism 1.0.3, on V8): a conformance host adapter. See ../CONTRACT.md and
// ../docs/protocol.md.

import { serve } from "./serve.mjs";
import { bench } from "./bench.mjs";
import { compile, instantiate } from "./plugin.mjs";
import { DEFAULT_LIMITS, SEED_INPUT, seedStore } from "./seed.mjs";

const USAGE = `usage:
  host-node serve                          answer conformance protocol v3 requests on stdin
  host-node demo LABEL=PATH...             say_hello of each plugin, as the seed's Go host calls it
  host-node bench --out DIR LABEL=PATH...  time calls, instances and compiles into DIR/figures.json`;

class UsageError extends Error {}

/** LABEL=PATH arguments. */
export function labelled(args) {
  if (args.length === 0) {
    throw new UsageError("expected at least one LABEL=PATH");
  }
  return args.map((arg) => {
    const at = arg.indexOf("=");
    if (at <= 0 || at === arg.length - 1) {
      throw new UsageError(`expected LABEL=PATH, got ${JSON.stringify(arg)}`);
    }
    return { label: arg.slice(0, at), path: arg.slice(at + 1) };
  });
}

/** Writes bytes to stdout and waits until they are handed on. */
const writeOut = (bytes) =>
  new Promise((resolve, reject) =>
    process.stdout.write(bytes, (error) => (error ? reject(error) : resolve())),
  );

async function demo(args) {
  for (const { label, path } of labelled(args)) {
    process.stderr.write(`── ${label}: ${path}\n`);
    const compiled = await compile(path);
    const instance = await instantiate(compiled, {
      wasi: "auto",
      config: {},
      logLevel: "off",
      store: seedStore(),
      limits: DEFAULT_LIMITS,
    });
    const result = await instance.call("say_hello", new TextEncoder().encode(SEED_INPUT));
    await instance.close();
    if (result.failure) {
      const { kind, fields } = result.failure;
      throw new Error(
        `plugin ${path} failed in export say_hello: ${kind}${fields.message ? `: ${fields.message}` : ""}`,
      );
    }
    // The output's bytes go out unchanged after "🙂 ".
    await writeOut(Buffer.concat([Buffer.from("🙂 "), result.output, Buffer.from("\n")]));
  }
}

async function main(argv) {
  const [command, ...rest] = argv;
  switch (command) {
    case "-h":
    case "--help":
      return writeOut(Buffer.from(`${USAGE}\n`));
    case "serve":
      if (rest.length > 0) {
        throw new UsageError(`serve takes no arguments, got ${JSON.stringify(rest[0])}`);
      }
      return serve(process.stdin, process.stdout);
    case "demo":
      return demo(rest);
    case "bench": {
      if (rest[0] !== "--out" || rest.length < 3) {
        throw new UsageError("bench needs --out DIR and at least one LABEL=PATH");
      }
      return bench(rest[1], labelled(rest.slice(2)));
    }
    case undefined:
      throw new UsageError("missing subcommand (serve, demo or bench)");
    default:
      throw new UsageError(
        `unknown subcommand ${JSON.stringify(command)} (expected serve, demo or bench)`,
      );
  }
}

try {
  await main(process.argv.slice(2));
} catch (error) {
  if (error instanceof UsageError) {
    process.stderr.write(`error: ${error.message}; see host-node --help\n`);
    process.exitCode = 2;
  } else {
    process.stderr.write(`error: ${error?.message ?? error}\n`);
    process.exitCode = 1;
  }
}
