// host-node serve: answers conformance protocol requests (../docs/protocol.md), one JSON line
// on stdin each, with one line on stdout each, in order.

import { PROTOCOL_VERSION, RequestError, parseRequest, resultJson } from "./protocol.mjs";
import { Failure, checkModuleFile, compile, instantiate } from "./plugin.mjs";

/** An error answer, with every field the protocol asks of one. */
const errorAnswer = (id, kind, message) => ({
  protocol: PROTOCOL_VERSION,
  id,
  error: { kind, message },
});

export class Server {
  constructor() {
    // Compiled modules by path: the SDK's options (WASI, config, functions) are the instance's,
    // so one compile serves every request for a file while the host runs.
    this.modules = new Map();
  }

  /** The answer object for one request line; never throws. */
  async handle(line) {
    let request;
    try {
      request = parseRequest(line);
    } catch (error) {
      const id = Number.isInteger(error?.id) ? error.id : null;
      if (error instanceof RequestError) {
        return errorAnswer(id, error.kind, error.message);
      }
      // The runtime's own error while reading (a stack overflow, say): the request cannot be
      // read, and still gets an answer with a kind.
      console.error("host-node: exception while reading a request:", error);
      return errorAnswer(
        id,
        "malformed_request",
        `host-node cannot read the request: ${error?.message ?? error}`,
      );
    }
    return { protocol: PROTOCOL_VERSION, id: request.id, results: await this.run(request) };
  }

  /** The compiled module at path, compiled once while the host runs (see the constructor). */
  async module(path) {
    let compiled = this.modules.get(path);
    if (!compiled) {
      // A load failure is not cached: the file may be fixed while the host runs.
      compiled = await compile(path);
      this.modules.set(path, compiled);
    }
    return compiled;
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
      // Every file is checked before any is read, and before the cache is asked, so that a path
      // answers the same whether or not it was compiled before.
      for (const path of [request.wasm, ...request.links.map((link) => link.wasm)]) {
        await checkModuleFile(path);
      }
      const compiled = await this.module(request.wasm);
      const links = [];
      for (const { name, wasm } of request.links) {
        links.push({ name, compiled: await this.module(wasm) });
      }
      instance = await instantiate(compiled, request, links);
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

/**
 * The answer as one line of JSON. Results too large for one V8 string (2^29 - 24 characters: an
 * output of some 400 MB in base64) cannot be written, so every call of such an answer fails as
 * load, saying so, rather than the host ending.
 */
export function answerText(answer) {
  try {
    return JSON.stringify(answer);
  } catch (error) {
    console.error(`host-node: cannot write the answer to request ${answer.id}:`, error);
    const failure = {
      kind: "load",
      message: `host-node cannot write the answer as one JSON string: ${error?.message ?? error}`,
    };
    const results = (answer.results ?? []).map(() => ({
      output: null,
      failure,
      trace: [],
      logs: [],
    }));
    return JSON.stringify({ protocol: PROTOCOL_VERSION, id: answer.id, results });
  }
}

/** Writes one answer line; resolves once it is handed to the OS, since the client waits. */
function write(stdout, answer) {
  const text = `${answerText(answer)}\n`;
  return new Promise((resolve, reject) => {
    stdout.write(text, (error) => (error ? reject(error) : resolve()));
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
    } catch (error) {
      // TypeError is the decoder's refusal; anything else (a line longer than V8's strings) is
      // the runtime's, and the line is just as unreadable.
      const why =
        error instanceof TypeError
          ? "the line is not UTF-8"
          : `the line cannot be read: ${error?.message ?? error}`;
      await write(stdout, errorAnswer(null, "malformed_request", why));
      continue;
    }
    // A blank line is no request and gets no answer.
    if (text.trim() === "") {
      continue;
    }
    await write(stdout, await server.handle(text));
  }
}
