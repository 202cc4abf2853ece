"""host-python bench: the scenarios and names of ../host-go/bench_test.go, timed with
time.perf_counter_ns, written to DIR/figures.json as {"figures": [{"id", "mean_ns"}, ...]}."""

import json
import os
import sys
import time

import extism

import runner
from main import SEED_INPUT, SEED_STORE

VALUES = {
    b"empty": b"",
    b"1KiB": b"0123456789abcdef" * (1024 // 16),
    b"1MiB": b"0123456789abcdef" * ((1 << 20) // 16),
}
HELLO = (
    "👋 Hello ".encode()
    + SEED_INPUT
    + "\nkey: hello, value: 👋 Hello World 🌍\nkey: message, value: I 💜 Extism 😍".encode()
)
SCENARIOS = [
    # name, export, store, input, expected output
    ("noop", "noop", SEED_STORE, b"", b""),
    ("say_hello", "say_hello", SEED_STORE, SEED_INPUT, HELLO),
    ("get_0B", "lookup", VALUES, b"empty", b""),
    ("get_1KiB", "lookup", VALUES, b"1KiB", VALUES[b"1KiB"]),
    ("get_1MiB", "lookup", VALUES, b"1MiB", VALUES[b"1MiB"]),
]
# Each figure runs for about this long (after one untimed call), and at least MIN_RUNS times.
BUDGET_NS = 1_500_000_000
MIN_RUNS = 3


class BenchError(Exception):
    pass


def mean_ns(step) -> float:
    """The mean of what step() returns, the nanoseconds it counts, over a loop of about
    BUDGET_NS of wall time."""
    runs = counted = 0
    start = time.perf_counter_ns()
    while runs < MIN_RUNS or time.perf_counter_ns() - start < BUDGET_NS:
        counted += step()
        runs += 1
    return counted / runs


def timed(action):
    """A step that counts all of action()."""

    def step():
        start = time.perf_counter_ns()
        action()
        return time.perf_counter_ns() - start

    return step


def compile_plugin(path: str) -> runner.Compiled:
    return runner.Compiled(path, "auto", runner.DEFAULT_LIMITS)


def check(result: runner.Result, name: str, expected: bytes) -> None:
    if result.failure is not None or result.output != expected:
        got = result.failure or f"{len(result.output)} bytes"
        raise BenchError(f"{name}: got {got}, expected {len(expected)} bytes")


def bench_call(compiled, name: str, export: str, store: dict, data: bytes, expected: bytes):
    """One instance made once and reused; the first call (which instantiates the module and runs
    a reactor's _initialize) is checked against the contract's output, the others by length."""
    limits = runner.DEFAULT_LIMITS
    with compiled.instance({}) as plugin:
        check(runner.call(plugin, store, limits, export, data), name, expected)

        def step():
            result = runner.call(plugin, store, limits, export, data)
            if result.failure is not None or len(result.output) != len(expected):
                raise BenchError(f"{name}: {result.failure or len(result.output)}")

        return mean_ns(timed(step))


def bench_language(lang: str, path: str, figures: list) -> None:
    def figure(kind: str, ns: float, scenario: str = "") -> None:
        figure_id = f"{kind}/{lang}/{scenario}" if scenario else f"{kind}/{lang}"
        figures.append({"id": figure_id, "mean_ns": ns})
        print(f"  {figure_id}: {ns / 1000:.1f} µs", file=sys.stderr, flush=True)

    limits = runner.DEFAULT_LIMITS
    compiled = compile_plugin(path)
    for name, export, store, data, expected in SCENARIOS:
        figure("call", bench_call(compiled, name, export, store, data, expected), name)

    # extism.Plugin instantiates lazily, in its first call (extism-1.41.0 plugin.rs, instantiate:
    # "done lazily to avoid running any code outside of the call function"), so a ready instance
    # is Plugin() and one noop call; freeing it is not counted.
    def instance():
        start = time.perf_counter_ns()
        plugin = compiled.instance({})
        check(runner.call(plugin, SEED_STORE, limits, "noop", b""), "instance", b"")
        elapsed = time.perf_counter_ns() - start
        plugin.__exit__(None, None, None)
        return elapsed

    figure("instance", mean_ns(instance))

    # libextism compiles each CompiledPlugin with wasmtime's on-disk cache unless
    # EXTISM_CACHE_CONFIG is set and empty (extism-1.41.0 plugin.rs, configure_cache): cold is
    # without it, so the Extism kernel is compiled each time too; cached is with it, warm.
    def compiled_once():
        start = time.perf_counter_ns()
        compiled = compile_plugin(path)
        elapsed = time.perf_counter_ns() - start
        compiled.plugin.__del__()  # freeing it is not counted
        return elapsed

    saved = os.environ.get("EXTISM_CACHE_CONFIG")
    try:
        os.environ["EXTISM_CACHE_CONFIG"] = ""
        figure("compile", mean_ns(compiled_once), "cold")
    finally:
        if saved is None:
            del os.environ["EXTISM_CACHE_CONFIG"]
        else:
            os.environ["EXTISM_CACHE_CONFIG"] = saved
    compiled_once()  # the cache now holds this module
    figure("compile", mean_ns(compiled_once), "cached")


def bench(out: str, plugins: list) -> int:
    print(f"host-python bench: extism {extism.extism_version()} (libextism)", file=sys.stderr)
    figures = []
    for lang, path in plugins:
        print(f"── {lang}: {path}", file=sys.stderr, flush=True)
        try:
            bench_language(lang, path, figures)
        except (BenchError, runner.Failure) as error:
            print(f"error: bench of {lang} ({path}): {error}", file=sys.stderr)
            return 1
    os.makedirs(out, exist_ok=True)
    with open(os.path.join(out, "figures.json"), "w", encoding="utf-8") as file:
        json.dump({"figures": figures}, file, indent=1)
        file.write("\n")
    print(f"host-python bench: {len(figures)} figures in {out}/figures.json", file=sys.stderr)
    return 0
