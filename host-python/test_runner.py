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


class PdkLinesTest(unittest.TestCase):
    ID = "0b5a3d6e-8c1f-4c9e-9a57-3f4f3c1d2e10"

    def line(self, level: str, text: str, plugin_id: str = ID) -> str:
        # As libextism's buffer gets it from tracing-subscriber's default format.
        return f'2026-01-01T00:00:00.000000Z {level:>5} extism::pdk: {text} plugin="{plugin_id}"\n'

    def test_levels_and_instances(self):
        lines = [self.line(level.upper(), f"{level}: hi") for level in runner.LOG_LEVELS]
        lines.insert(
            2, self.line("ERROR", "someone else's", "11111111-2222-3333-4444-555555555555")
        )
        every = [(level, f"{level}: hi".encode()) for level in runner.LOG_LEVELS]
        self.assertEqual(runner.pdk_lines(lines, self.ID, "trace"), every)
        self.assertEqual(runner.pdk_lines(lines, self.ID, "info"), every[2:])
        self.assertEqual(runner.pdk_lines(lines, self.ID, "error"), every[4:])
        self.assertEqual(runner.pdk_lines(lines, self.ID, "off"), [])

    def test_text_is_kept_whole(self):
        text = 'two\nlines, a plugin="x" of its own, 👋'
        lines = [self.line(" INFO", text)]
        self.assertEqual(runner.pdk_lines(lines, self.ID, "info"), [("info", text.encode())])
        self.assertEqual(
            runner.pdk_lines([self.line(" INFO", "")], self.ID, "info"), [("info", b"")]
        )


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
        runner.plugin_logs()
        cls.compiled = runner.Compiler().get(str(RUST), "auto", LIMITS)

    def call(
        self, export: str, data: bytes, store=None, limits=LIMITS, log_level="off"
    ) -> runner.Result:
        store = {b"hello": b"hi", b"big": b"v" * 101} if store is None else store
        with self.compiled.instance({}) as plugin:
            return runner.call(plugin, store, limits, export, data, log_level)

    def test_logs(self):
        result = self.call("log_levels", b"hi", log_level="debug")
        self.assertEqual(result.output, b"logged")
        self.assertEqual(
            result.logs, [(level, level.encode() + b": hi") for level in runner.LOG_LEVELS[1:]]
        )
        # Also when the call fails; and nothing is left over for the next call.
        self.assertEqual(self.call("fail", b"no", log_level="trace").logs, [])

    def test_return_codes(self):
        self.assertEqual(
            self.call("return_code", b"2").failure.to_json(), {"kind": "return_code", "code": 2}
        )
        self.assertEqual(self.call("return_code", b"0").output, b"")
        self.assertEqual(
            self.call("error_then_zero", b"boom").failure.to_json(),
            {"kind": "plugin", "message": "boom"},
        )
        self.assertEqual(self.call("error_then_zero", b"").output, b"")

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
