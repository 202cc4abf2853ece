"""Sorting the SDK's errors, reading imports, and a few calls on the Rust plugin."""

import unittest
from pathlib import Path

import runner
from runner import CallState, Limits

PLUGINS = Path(__file__).resolve().parent.parent / "target/plugins"
RUST = PLUGINS / "rust/conformance.wasm"
LIMITS = Limits(30_000, 4096, 100, 100)


class ClassifyTest(unittest.TestCase):
    def kind(self, message: str, limits=LIMITS, refusal=None) -> runner.Failure:
        state = CallState({}, limits, refusal=refusal)
        return runner.classify(message, state, limits)

    def test_kinds(self):
        self.assertEqual(self.kind("timeout").kind, "timeout")
        self.assertEqual(self.kind("oom").kind, "out_of_memory")
        self.assertEqual(self.kind("failed to allocate extism memory").kind, "out_of_memory")
        self.assertEqual(self.kind("Error code: 3").to_json(), {"kind": "return_code", "code": 3})
        trap = self.kind("error while executing at wasm backtrace:\n    0: 0x1 - f")
        self.assertEqual(trap.kind, "trap")
        self.assertEqual(self.kind("boom").to_json(), {"kind": "plugin", "message": "boom"})

    def test_limits_only_when_set(self):
        # A plugin may report an error called "timeout" itself.
        unlimited = Limits()
        self.assertEqual(self.kind("timeout", unlimited).to_json()["kind"], "plugin")
        self.assertEqual(self.kind("oom", unlimited).to_json()["kind"], "plugin")

    def test_refusal_first(self):
        refusal = runner.Failure("key_too_long", len=5, max=1)
        self.assertIs(self.kind("timeout", refusal=refusal), refusal)

    def test_refusal_on_a_zero_yields_to_a_limit(self):
        refusal = runner.Failure("host_function", message="not a block")
        state = CallState({}, LIMITS, refusal=refusal, refusal_on_zero=True)
        self.assertEqual(runner.classify("timeout", state, LIMITS).kind, "timeout")
        self.assertIs(runner.classify("boom", state, LIMITS), refusal)


class ImportsTest(unittest.TestCase):
    def test_wasi_imported(self):
        for lang, wasi in [("rust", False), ("go", True), ("tinygo", True)]:
            path = PLUGINS / lang / "conformance.wasm"
            if path.exists():
                with self.subTest(lang=lang):
                    self.assertEqual(runner.wasi_imported(path.read_bytes()), wasi)
        self.assertFalse(runner.wasi_imported(b"not wasm"))
        self.assertFalse(runner.wasi_imported(b"\0asm\1\0\0\0"))


@unittest.skipUnless(RUST.exists(), f"no plugin at {RUST}")
class CallTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        runner.quiet_refusals()
        cls.compiled = runner.Compiler().get(str(RUST), "auto", LIMITS)

    def call(self, export: str, data: bytes, store=None, limits=LIMITS) -> runner.Result:
        store = {b"hello": b"hi", b"big": b"v" * 101} if store is None else store
        with self.compiled.instance({}) as plugin:
            return runner.call(plugin, store, limits, export, data)

    def test_lookup_traces(self):
        result = self.call("lookup", b"hello")
        self.assertEqual(result.output, b"hi")
        self.assertEqual(
            result.trace, [{"function": "hostMemoryGet", "key": b"hello", "value_len": 2}]
        )
        self.assertEqual(self.call("lookup", b"nothing").output, b"")

    def test_failures(self):
        self.assertEqual(
            self.call("fail", b"no").failure.to_json(), {"kind": "plugin", "message": "no"}
        )
        self.assertEqual(
            self.call("fail", b"").failure.to_json(), {"kind": "return_code", "code": 1}
        )
        self.assertEqual(self.call("trap", b"x").failure.kind, "trap")
        self.assertEqual(self.call("nope", b"").failure.kind, "missing_export")

    def test_refusal_cannot_fail_the_call(self):
        # What the Python SDK does (a finding): the refusal is recorded, the traceback goes to
        # sys.unraisablehook, the plugin gets 0 and the call succeeds with an empty value.
        result = self.call("lookup", b"k" * 101)
        self.assertEqual((result.output, result.failure, result.trace), (b"", None, []))
        result = self.call("lookup", b"big")
        self.assertEqual((result.output, result.failure, result.trace), (b"", None, []))

    def test_limits_of_the_manifest(self):
        # Not 1 ms: libextism sends the timer its start event before it sets the call's epoch
        # deadline (plugin.rs, raw_call), so on a loaded machine a 1 ms timeout can strike in
        # between and be lost. This call would run for about 0.6 s.
        limits = Limits(100, None, None, None)
        compiled = runner.Compiled(str(RUST), "auto", limits)
        with compiled.instance({}) as plugin:
            result = runner.call(plugin, {b"k": b"v" * (1 << 16)}, limits, "count_calls", b"k")
            self.assertEqual(result.failure and result.failure.to_json(), {"kind": "timeout"})
        compiled = runner.Compiled(str(RUST), "auto", Limits(None, 1, None, None))
        with compiled.instance({}) as plugin:
            result = runner.call(plugin, {}, Limits(None, 1, None, None), "noop", b"")
            self.assertEqual(result.failure.kind, "out_of_memory")


if __name__ == "__main__":
    unittest.main()
