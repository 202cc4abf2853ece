"""host-python runs Extism plugins with env.hostMemoryGet on the Extism Python SDK (extism 1.1.1 on
libextism, wasmtime): a conformance adapter beside host-go. See ../CONTRACT.md and
../docs/protocol.md."""

import os
import sys

# Run from anywhere, and write nothing into host-python/ at run time: the launcher sets
# PYTHONPYCACHEPREFIX, and without it no bytecode is written at all.
sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import runner  # noqa: E402

USAGE = """host-python runs Extism plugins with env.hostMemoryGet (Extism Python SDK on libextism)

usage:
  host-python serve                        answer conformance protocol v3 requests on stdin
  host-python demo LABEL=PATH...           say_hello of each plugin, as the seed's Go host calls it
  host-python bench --out DIR LANG=PATH... time calls, instances and compiles; DIR/figures.json
"""

# The seed's call: its store and what its Go host passes to say_hello.
SEED_STORE = {
    b"hello": "👋 Hello World 🌍".encode(),
    b"message": "I 💜 Extism 😍".encode(),
}
SEED_INPUT = "👋 Hello from the Go Host app 🤗".encode()


class UsageError(Exception):
    pass


def labelled(args: list) -> list:
    plugins = []
    for arg in args:
        label, sep, path = arg.partition("=")
        if not sep or not label or not path:
            raise UsageError(f"expected LABEL=PATH, got {arg!r}")
        plugins.append((label, path))
    if not plugins:
        raise UsageError("at least one LABEL=PATH is needed")
    return plugins


def first_line(text) -> str:
    lines = str(text).splitlines()
    return lines[0] if lines else ""


def demo(args: list) -> int:
    compiler = runner.Compiler()
    for label, path in labelled(args):
        print(f"── {label}: {path}", file=sys.stderr, flush=True)
        try:
            compiled = compiler.get(path, "auto", runner.DEFAULT_LIMITS)
            with compiled.instance({}) as plugin:
                result = runner.call(
                    plugin, SEED_STORE, runner.DEFAULT_LIMITS, "say_hello", SEED_INPUT
                )
        except runner.Failure as failure:
            print(f"error: {failure.fields.get('message', failure)}", file=sys.stderr)
            return 3
        if result.failure is not None:
            print(
                f"error: plugin {path} failed in export say_hello: {result.failure}",
                file=sys.stderr,
            )
            return 1
        sys.stdout.buffer.write("🙂 ".encode() + result.output + b"\n")
        sys.stdout.buffer.flush()
    return 0


def main(argv: list) -> int:
    runner.quiet_refusals()
    command, rest = (argv[0], argv[1:]) if argv else (None, [])
    try:
        if command in ("-h", "--help"):
            print(USAGE, end="")
            return 0
        if command == "serve":
            if rest:
                raise UsageError(f"serve takes no arguments, got {rest[0]!r}")
            import protocol

            # Nothing but answers may reach stdout: the answers get a descriptor of their own, and
            # whatever else writes to descriptor 1 goes to stderr (libextism hands a WASI
            # plugin's stdout to this process's when EXTISM_ENABLE_WASI_OUTPUT is set).
            sys.stdout.flush()
            answers = os.fdopen(os.dup(1), "wb")
            os.dup2(2, 1)
            sys.stdout = sys.stderr
            protocol.serve(sys.stdin.buffer, answers)
            return 0
        if command == "demo":
            return demo(rest)
        if command == "bench":
            import bench

            if len(rest) < 2 or rest[0] != "--out":
                raise UsageError("bench needs --out DIR, then LANG=PATH...")
            return bench.bench(rest[1], labelled(rest[2:]))
        raise UsageError(
            "missing subcommand" if command is None else f"unknown subcommand {command!r}"
        )
    except UsageError as error:
        print(f"error: {error}; see host-python --help", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
