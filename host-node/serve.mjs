// host-node serve: answers conformance protocol requests (../docs/protocol.md), one JSON line
// on stdin each, with one line on stdout each, in order.

import { PROTOCOL_VERSION, parseRequest, resultJson } from "./protocol.mjs";
import { Failure, compile, instantiate } from "./plugin.mjs";

export class Server {
  constructor() {
    // Compiled modules by path: the SDK's options (WASI, config, functions) are the instance's,
    // so one compile serves every request for a file while the host runs.
    this.modules = new Map();
  }

  /** The answer object for one request line. */
  async handle(line) {
    let request;
    try {
      request = parseRequest(line);
    } catch (error) {
      const { kind, message } = error;
      return { protocol: PROTOCOL_VERSION, id: error.id ?? null, error: { kind, message } };
    }
    return { protocol: PROTOCOL_VERSION, id: request.id, results: await this.run(request) };
  }

  /**
   * Makes the request's calls, in order, on one fresh instance, whatever the earlier ones came
   * to. A plugin that cannot be loaded or instantiated fails every call as load.
   */
  async run(request) {
    const results = [];
    const failRest = (failure) => {
      while (results.length < request.calls.length) {
        results.push(resultJson({ output: null, failure, trace: [], logs: [] }));
      }
      return results;
    };
    let instance = null;
    try {
      let compiled = this.modules.get(request.wasm);
      if (!compiled) {
        // A load failure is not cached: the file may be fixed while the host runs.
        compiled = await compile(request.wasm);
        this.modules.set(request.wasm, compiled);
      }
      instance = await instantiate(compiled, request);
      for (const call of request.calls) {
        results.push(resultJson(await instance.call(call.export, call.input)));
      }
      return results;
    } catch (error) {
      if (error instanceof Failure) {
        return failRest(error);
      }
      // A bug here or underneath, not something a request may end the host with.
      console.error(`host-node: exception while answering request ${request.id}:`, error);
      return failRest(
        new Failure("load", {
          message: `host-node threw while answering (a bug in host-node; the stack is on its stderr): ${error?.message ?? error}`,
        }),
      );
    } finally {
      await instance
        ?.close()
        .catch((error) => console.error("host-node: cannot close a plugin:", error));
    }
  }
}

/** The lines of a byte stream, split at "\n" (a trailing "\r" dropped), of any length. */
async function* lines(stream) {
  let pending = [];
  for await (const chunk of stream) {
    let start = 0;
    for (let end = chunk.indexOf(10); end !== -1; end = chunk.indexOf(10, start)) {
      pending.push(chunk.subarray(start, end));
      yield Buffer.concat(pending);
      pending = [];
      start = end + 1;
    }
    if (start < chunk.length) {
      pending.push(chunk.subarray(start));
    }
  }
  if (pending.length > 0) {
    yield Buffer.concat(pending);
  }
}

const decoder = new TextDecoder("utf-8", { fatal: true });

/** Writes one answer line; resolves once it is handed to the OS, since the client waits. */
function write(stdout, answer) {
  return new Promise((resolve, reject) => {
    stdout.write(`${JSON.stringify(answer)}\n`, (error) => (error ? reject(error) : resolve()));
  });
}

/** Serves until EOF. Only a failure to write stdout ends it early, never a request. */
export async function serve(stdin, stdout) {
  const server = new Server();
  for await (let line of lines(stdin)) {
    if (line.at(-1) === 13) {
      line = line.subarray(0, -1);
    }
    let text;
    try {
      text = decoder.decode(line);
    } catch {
      await write(stdout, {
        protocol: PROTOCOL_VERSION,
        id: null,
        error: { kind: "malformed_request", message: "the line is not UTF-8" },
      });
      continue;
    }
    // A blank line is no request and gets no answer.
    if (text.trim() === "") {
      continue;
    }
    await write(stdout, await server.handle(text));
  }
}
