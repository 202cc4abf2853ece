"""The request reader's refusals and the serve loop (python -m unittest, from host-python/)."""

import base64
import contextlib
import io
import json
import os
import resource
import signal
import subprocess
import sys
import tempfile
import time
import unittest
from pathlib import Path
from unittest import mock

import protocol
import runner

HERE = Path(__file__).resolve().parent
RUST = HERE.parent / "target/plugins/rust/conformance.wasm"
# tests/cases/linking/modules/answer_lib.wat and answer_main.wat, compiled: `run` outputs "42",
# the value of lib's `answer`.
ANSWER_LIB = bytes.fromhex(
    "0061736d010000000105016000017f03020100070a0106616e7377657200000a06010400412a0b"
)
ANSWER_MAIN = bytes.fromhex(
    "0061736d0100000001140460017e017e60027e7f0060027e7e006000017f025e040f65787469736d3a686f"
    "73742f656e7605616c6c6f6300000f65787469736d3a686f73742f656e760873746f72655f753800010f65"
    "787469736d3a686f73742f656e760a6f75747075745f7365740002036c696206616e737765720003030201"
    "030503010001071002066d656d6f727902000372756e00040a38013602017f017e10032100420210002101"
    "200141302000410a6e410a706a1001200142017c41302000410a706a100120014202100241000b003e046e"
    "616d650126040005616c6c6f63010873746f72655f7538020a6f75747075745f7365740306616e73776572"
    "020f010402000576616c756501036f7574"
)


def forwarder(module: str, name: str, export: str, memory: bool = False) -> bytes:
    """A module whose export (() -> i32) returns what its import module.name (() -> i32) does;
    with memory, it also has a memory of one page, exported as `memory`."""

    def section(section_id: int, *items: bytes) -> bytes:
        body = bytes([len(items)]) + b"".join(items)
        return bytes([section_id, len(body)]) + body

    def text(value: str) -> bytes:
        return bytes([len(value)]) + value.encode()

    exports = [text(export) + bytes([0, 1])] + ([text("memory") + bytes([2, 0])] if memory else [])
    return (
        b"\0asm\1\0\0\0"
        + section(1, bytes([0x60, 0, 1, 0x7F]))  # the type () -> i32
        + section(2, text(module) + text(name) + bytes([0, 0]))  # the import, a function
        + section(3, bytes([0]))  # the export's function, of type 0
        + (section(5, bytes([0, 1])) if memory else b"")  # one page, no maximum
        + section(7, *exports)
        + section(10, bytes([4, 0, 0x10, 0, 0x0B]))  # no locals, call the import
    )


def good(**changes) -> dict:
    request = {
        "protocol": 3,
        "id": 7,
        "wasm": str(RUST),
        "links": [],
        "wasi": "auto",
        "config": {},
        "log_level": "off",
        "store": [{"key": "aGVsbG8=", "value": "aGk="}],
        "limits": {
            "timeout_ms": 30000,
            "memory_max_pages": 4096,
            "max_key_len": 1048576,
            "max_value_len": 67108864,
        },
        "calls": [{"export": "lookup", "input": "aGVsbG8="}],
    }
    request.update(changes)
    return request


def line(request) -> bytes:
    return json.dumps(request).encode()


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


class ReaderTest(unittest.TestCase):
    def refused(self, raw: bytes, kind="malformed_request", request_id=7, says=""):
        request, got_id, error = protocol.parse_request(raw)
        self.assertIsNone(request)
        self.assertEqual(error["kind"], kind, error)
        self.assertEqual(got_id, request_id)
        self.assertIn(says, error["message"])
        return error["message"]

    def test_good_request(self):
        request, request_id, error = protocol.parse_request(line(good()))
        self.assertIsNone(error)
        self.assertEqual(request_id, 7)
        self.assertEqual(request.store, {b"hello": b"hi"})
        self.assertEqual(request.calls, [("lookup", b"hello")])
        self.assertEqual(request.limits.timeout_ms, 30000)
        self.assertEqual(request.log_level, "off")

    def test_not_json(self):
        self.refused(b"{not json", request_id=None, says="not JSON")
        self.refused(b"[1, 2]", request_id=None, says="not a JSON object")
        self.refused(b'{"protocol": NaN}', request_id=None)
        self.refused(b"\xff{}", request_id=None, says="not UTF-8")

    def test_fields(self):
        self.refused(line(good(wams="typo")), says="unknown field `wams`")
        request = good()
        del request["limits"]
        self.refused(line(request), says="missing field `limits`")
        request = good()
        request["limits"]["fuel"] = 1
        self.refused(line(request), says="unknown field `limits.fuel`")
        self.refused(b'{"protocol": 3, "id": 7, "id": 8}', request_id=None, says="twice")

    def test_log_level(self):
        for level in ["trace", "debug", "info", "warn", "error", "off"]:
            with self.subTest(level=level):
                request, _, error = protocol.parse_request(line(good(log_level=level)))
                self.assertIsNone(error)
                self.assertEqual(request.log_level, level)
        for level in ["loud", "INFO", "warning", "", 2, None, ["info"]]:
            with self.subTest(level=level):
                self.refused(line(good(log_level=level)), says="log_level")
        request = good()
        del request["log_level"]
        self.refused(line(request), says="missing field `log_level`")

    def test_types_name_the_field(self):
        request = good()
        request["limits"]["timeout_ms"] = "soon"
        self.refused(line(request), says="limits.timeout_ms")
        request["limits"]["timeout_ms"] = True
        self.refused(line(request), says="limits.timeout_ms")
        request["limits"]["timeout_ms"] = 1.5
        self.refused(line(request), says="limits.timeout_ms")
        request["limits"]["timeout_ms"] = -1
        self.refused(line(request), says="limits.timeout_ms")
        request["limits"]["timeout_ms"] = 1 << 64
        self.refused(line(request), says="limits.timeout_ms")
        self.refused(line(good(config={"a": 1})), says="config['a']")
        self.refused(line(good(wasi="maybe")), says="wasi")
        self.refused(line(good(calls=[{"export": 1, "input": ""}])), says="calls[0].export")

    def test_nulls_and_zeros(self):
        limits = {
            "timeout_ms": None,
            "memory_max_pages": 0,
            "max_key_len": None,
            "max_value_len": 0,
        }
        request, _, error = protocol.parse_request(line(good(limits=limits)))
        self.assertIsNone(error)
        self.assertIsNone(request.limits.timeout_ms)
        self.assertEqual(request.limits.memory_max_pages, 0)
        request = good(limits={**limits, "memory_max_pages": 1 << 32})
        self.refused(line(request), says="memory_max_pages")

    def test_base64_is_strict(self):
        for text in ["@@@", "aGk", "aGl=", "aG k=", "aGk=\n", "aGk==", "-_8="]:
            with self.subTest(text=text):
                self.refused(line(good(calls=[{"export": "echo", "input": text}])), says="base64")
        request, _, _ = protocol.parse_request(line(good(calls=[{"export": "e", "input": ""}])))
        self.assertEqual(request.calls, [("e", b"")])

    def test_calls_and_store(self):
        self.refused(line(good(calls=[])), says="at least one")
        entry = {"key": "aGVsbG8=", "value": ""}
        self.refused(line(good(store=[entry, entry])), says="store[1].key repeats store[0].key")

    def test_id_and_version(self):
        self.refused(line(good(protocol=99)), kind="unsupported_protocol")
        # A version 2 request (no links) is refused as such, and the answer says version 3.
        request = good(protocol=2)
        del request["links"]
        message = self.refused(line(request), kind="unsupported_protocol")
        self.assertEqual(message, "protocol 2 is not supported: host-python speaks protocol 3")
        answer = protocol.answer(runner.Compiler(), line(request))
        self.assertEqual(
            answer,
            {"protocol": 3, "id": 7, "error": {"kind": "unsupported_protocol", "message": message}},
        )
        # So is a version 1 request (no log_level either).
        del request["log_level"]
        request["protocol"] = 1
        self.refused(line(request), kind="unsupported_protocol", says="speaks protocol 3")
        request = good(id="seven")
        self.refused(line(request), request_id=None, says="id")
        request = good()
        del request["protocol"]
        self.refused(line(request), says="missing field `protocol`")
        # Another version is refused as such whatever its fields.
        self.refused(b'{"protocol": 1, "id": 3, "x": 1}', kind="unsupported_protocol", request_id=3)

    def test_links(self):
        links = [{"name": "lib", "wasm": "/x/lib.wasm"}, {"name": "a", "wasm": "/x/a.wasm"}]
        request, _, error = protocol.parse_request(line(good(links=links)))
        self.assertIsNone(error)
        self.assertEqual(request.links, [("lib", "/x/lib.wasm"), ("a", "/x/a.wasm")])
        lib = links[0]
        self.refused(line(good(links=[{**lib, "name": ""}])), says="links[0].name: a link's name")
        self.refused(line(good(links=[{**lib, "name": "main"}])), says='links[0].name: "main"')
        self.refused(
            line(good(links=[lib, links[1], lib])), says='links[2].name "lib" repeats links[0]'
        )
        self.refused(line(good(links=[{**lib, "hash": "x"}])), says="unknown field `links[0].hash`")
        self.refused(line(good(links=[{"name": "lib"}])), says="missing field `links[0].wasm`")
        self.refused(
            line(good(links=[{**lib, "name": 1}])), says="links[0].name: expected a string"
        )
        self.refused(line(good(links=[{**lib, "wasm": None}])), says="links[0].wasm")
        self.refused(line(good(links=["lib"])), says="links[0]: expected an object")
        self.refused(line(good(links={"lib": "/x"})), says="links: expected an array")
        request = good()
        del request["links"]
        self.refused(line(request), says="missing field `links`")

    def test_deeply_nested_lines(self):
        for raw in [b"[" * 200_000, b"[" * 200_000 + b"]" * 200_000, b'{"a":' * 200_000]:
            with self.subTest(raw=raw[:10]):
                self.refused(raw, request_id=None, says="nested too deeply")
                answer = json.loads(protocol.answer_line(runner.Compiler(), raw))
                self.assertEqual(answer["protocol"], 3)
                self.assertIsNone(answer["id"])
                self.assertEqual(answer["error"]["kind"], "malformed_request")
                self.assertIn("nested too deeply", answer["error"]["message"])
        # Nested as deep as the reader takes, in a field: refused naming it, with the id.
        deep = b"[" * 900 + b"]" * 900
        raw = line(good(wasm="X")).replace(b'"X"', deep)
        self.refused(raw, says="wasm: expected a string")
        nested = []
        for _ in range(100_000):
            nested = [nested]
        self.assertEqual(protocol.show(nested), "a value nested too deeply to show")

    def test_lines_python_cannot_hold(self):
        # A number over Python's 4,300 digits is a ValueError of its own, not a JSONDecodeError.
        self.refused(b'{"protocol": 3, "id": ' + b"9" * 5000 + b"}", request_id=None)
        # A lone surrogate in a field's name or value cannot be UTF-8: it is spelled out.
        for raw in [b'{"protocol": 3, "id": 7, "wams\\ud800": 1}', b'{"protocol": "\\ud800"}']:
            with self.subTest(raw=raw):
                answer = protocol.answer_line(runner.Compiler(), raw)
                error = json.loads(answer.decode("utf-8"))["error"]
                self.assertEqual(error["kind"], "malformed_request")
                self.assertIn("\\ud800", error["message"])


@unittest.skipUnless(RUST.exists(), f"no plugin at {RUST}")
class ServeTest(unittest.TestCase):
    def serve(self, *lines: bytes) -> list:
        stdout = io.BytesIO()
        protocol.serve(io.BytesIO(b"".join(lines)), stdout)
        return [json.loads(text) for text in stdout.getvalue().splitlines()]

    def test_answers_in_order_and_goes_on(self):
        calls = [
            {"export": "lookup", "input": "aGVsbG8="},
            {"export": "fail", "input": base64.b64encode(b"no luck").decode()},
            {"export": "no_such_export", "input": ""},
            {"export": "lookup", "input": "bWlzc2luZw=="},
        ]
        answers = self.serve(b"{oops\n", b"\n", b"   \n", line(good(calls=calls)) + b"\n")
        self.assertEqual(len(answers), 2)
        self.assertEqual(answers[0]["error"]["kind"], "malformed_request")
        self.assertIsNone(answers[0]["id"])
        results = answers[1]["results"]
        self.assertEqual(answers[1]["id"], 7)
        trace = [{"function": "hostMemoryGet", "key": "aGVsbG8=", "value_len": 2}]
        self.assertEqual(
            results[0], {"output": "aGk=", "failure": None, "trace": trace, "logs": []}
        )
        self.assertEqual(results[1]["failure"], {"kind": "plugin", "message": "no luck"})
        self.assertEqual(results[2]["failure"], {"kind": "missing_export"})
        self.assertEqual(results[3]["output"], "")

    def test_load_failure_fails_every_call(self):
        calls = [{"export": "lookup", "input": ""}] * 2
        (answer,) = self.serve(line(good(wasm="/no/such/file.wasm", calls=calls)))
        self.assertEqual([r["failure"]["kind"] for r in answer["results"]], ["load", "load"])
        self.assertIn("/no/such/file.wasm", answer["results"][0]["failure"]["message"])
        self.assertEqual([r["logs"] for r in answer["results"]], [[], []])

    def test_logs_by_level_and_call(self):
        hi = {"export": "log_levels", "input": b64(b"hi")}
        noop = {"export": "noop", "input": ""}
        requests = [
            good(id=1, log_level="trace", calls=[hi, noop, hi]),
            good(id=2, log_level="warn", calls=[hi]),
            good(id=3, log_level="off", calls=[hi]),
            good(id=4, log_level="trace", calls=[noop]),
        ]
        answers = self.serve(*(line(request) + b"\n" for request in requests))

        def logs(answer) -> list:
            return [
                [(entry["level"], base64.b64decode(entry["text"])) for entry in result["logs"]]
                for result in answer["results"]
            ]

        every = [(level, level.encode() + b": hi") for level in runner.LOG_LEVELS]
        # Each call has its own lines: none of the first call's reach the second.
        self.assertEqual(logs(answers[0]), [every, [], every])
        self.assertEqual(logs(answers[1]), [every[3:]])
        self.assertEqual(logs(answers[2]), [[]])
        self.assertEqual(logs(answers[3]), [[]])

    def test_timeout_is_the_sdks(self):
        # The SDK has a timeout, so a request with one is run, never refused as unsupported_limit.
        request = good(calls=[{"export": "spin", "input": ""}])
        request["limits"]["timeout_ms"] = 200
        started = time.monotonic()
        (answer,) = self.serve(line(request))
        self.assertLess(time.monotonic() - started, 10)
        self.assertEqual(answer["results"][0]["failure"], {"kind": "timeout"})

    def test_config_and_vars(self):
        config = {"greeting": "hi"}
        calls = [
            {"export": "config_get", "input": b64(b"greeting")},
            {"export": "config_get", "input": b64(b"nothing")},
            {"export": "var_count", "input": ""},
            {"export": "var_count", "input": ""},
        ]
        requests = [good(config=config, calls=calls), good(calls=calls[2:3])]
        answers = self.serve(*(line(request) + b"\n" for request in requests))
        outputs = [
            [base64.b64decode(result["output"]) for result in answer["results"]]
            for answer in answers
        ]
        # Vars last as long as the instance: the second request's is a fresh one.
        self.assertEqual(
            outputs, [[b"value: hi", b"missing", b"count: 1", b"count: 2"], [b"count: 1"]]
        )


def no_core_dump() -> None:
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))


class ModuleDir:
    """A temporary directory with the answer plugin's modules in it."""

    def setUp(self):
        self.dir = tempfile.TemporaryDirectory(prefix="host-python-test-")
        self.addCleanup(self.dir.cleanup)
        self.main = self.write("answer_main.wasm", ANSWER_MAIN)
        self.lib = self.write("answer_lib.wasm", ANSWER_LIB)

    def write(self, name: str, data: bytes) -> str:
        path = os.path.join(self.dir.name, name)
        with open(path, "wb") as file:
            file.write(data)
        return path

    def request(self, request_id: int, wasm: str, links: list, **changes) -> dict:
        links = [{"name": name, "wasm": path} for name, path in links]
        calls = [{"export": "run", "input": ""}] * 2
        return good(id=request_id, wasm=wasm, links=links, calls=calls, **changes)


class LinkTest(ModuleDir, unittest.TestCase):
    def serve(self, *requests: dict) -> list:
        stdout = io.BytesIO()
        protocol.serve(io.BytesIO(b"".join(line(r) + b"\n" for r in requests)), stdout)
        return [json.loads(text) for text in stdout.getvalue().splitlines()]

    def test_linked_call(self):
        (answer,) = self.serve(self.request(1, self.main, [("lib", self.lib)]))
        self.assertEqual(answer["id"], 1)
        outputs = [base64.b64decode(result["output"]) for result in answer["results"]]
        self.assertEqual(outputs, [b"42", b"42"])

    def test_what_the_sdk_cannot_link(self):
        # An import no module provides: lib.answer without lib, or a lib without `answer`.
        other = self.write("other.wasm", b"\0asm\1\0\0\0")  # exports nothing
        answers = self.serve(
            self.request(1, self.main, []), self.request(2, self.main, [("lib", other)])
        )
        for answer in answers:
            failures = [result["failure"] for result in answer["results"]]
            self.assertEqual([f["kind"] for f in failures], ["load", "load"])
            self.assertIn("lib::answer", failures[0]["message"])

    def test_wasi_auto_looks_at_links(self):
        # lib's answer returns WASI's sched_yield, 0: only a link imports WASI.
        # (WASI's functions take the memory of the module calling them: lib has one.)
        wasi = "wasi_snapshot_preview1"
        lib = self.write("yield.wasm", forwarder(wasi, "sched_yield", "answer", memory=True))
        answers = self.serve(
            self.request(1, self.main, [("lib", lib)], wasi="auto"),
            self.request(2, self.main, [("lib", lib)], wasi="off"),
        )
        self.assertEqual(answers[0]["results"][0]["output"], b64(b"00"))
        self.assertEqual(answers[1]["results"][0]["failure"]["kind"], "load")


class ModuleFileTest(ModuleDir, unittest.TestCase):
    """Paths no module can be read from, on a host of its own (main.py serve): a host that
    opened the FIFO would wait for a writer, one that read /dev/zero would never end."""

    def serve_apart(self, *requests: dict) -> list:
        host = subprocess.Popen(
            [sys.executable, "-B", str(HERE / "main.py"), "serve"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
        )
        try:
            out, _ = host.communicate(b"".join(line(r) + b"\n" for r in requests), timeout=60)
        except subprocess.TimeoutExpired:
            host.kill()
            host.communicate()
            self.fail("host-python serve did not answer in 60 s: it waits on a module file")
        self.assertEqual(host.returncode, 0)
        return [json.loads(text) for text in out.splitlines()]

    def test_unusable_files(self):
        fifo = os.path.join(self.dir.name, "fifo.wasm")
        os.mkfifo(fifo)
        big = os.path.join(self.dir.name, "big.wasm")
        with open(big, "wb") as file:
            file.truncate(runner.MODULE_CAP + 1)  # sparse: nothing is written
        missing = os.path.join(self.dir.name, "missing.wasm")
        to_zero = os.path.join(self.dir.name, "zero.wasm")
        os.symlink("/dev/zero", to_zero)
        cases = [
            (fifo, [], f"{fifo}: not a regular file"),
            ("/dev/zero", [], "/dev/zero: not a regular file"),
            (to_zero, [], f"{to_zero}: not a regular file"),
            (self.dir.name, [], f"{self.dir.name}: not a regular file"),
            (missing, [], f"{missing}: no such file"),
            (big, [], f"{big}: 134217729 bytes, over the 128 MiB cap for a module"),
            (self.main, [("lib", fifo)], f"link `lib`: {fifo}: not a regular file"),
            (self.main, [("lib", big)], f"link `lib`: {big}: 134217729 bytes"),
            (self.main, [("lib", "/dev/zero")], "link `lib`: /dev/zero: not a regular file"),
        ]
        requests = [self.request(i, wasm, links) for i, (wasm, links, _) in enumerate(cases)]
        # Then a good request, through a symbolic link: stat follows it.
        to_main = os.path.join(self.dir.name, "main.wasm")
        os.symlink(self.main, to_main)
        requests.append(self.request(99, to_main, [("lib", self.lib)]))
        answers = self.serve_apart(*requests)
        self.assertEqual([answer["id"] for answer in answers], [*range(len(cases)), 99])
        for answer, (_, _, says) in zip(answers, cases, strict=False):
            with self.subTest(says=says):
                failures = [result["failure"] for result in answer["results"]]
                self.assertEqual([f["kind"] for f in failures], ["load", "load"])
                self.assertIn(says, failures[0]["message"])
        self.assertEqual([r["output"] for r in answers[-1]["results"]], [b64(b"42")] * 2)

    def test_checked_before_the_cache(self):
        # A path compiled once, then turned into a FIFO, is refused, never read.
        compiler = runner.Compiler()
        compiler.get(self.main, "auto", runner.DEFAULT_LIMITS, [("lib", self.lib)])
        os.remove(self.lib)
        os.mkfifo(self.lib)
        with self.assertRaises(runner.Failure) as caught:
            compiler.get(self.main, "auto", runner.DEFAULT_LIMITS, [("lib", self.lib)])
        self.assertIn(f"{self.lib}: not a regular file", str(caught.exception))

    def test_sdk_crashes(self):
        # FIXME: libextism ends the whole process on these modules, so host-python does too
        # (docs/protocol.md wants a load failure). A file that is not wasm and holds a NUL: the
        # WAT parser's message quotes it and extism_compiled_plugin_new unwraps CString::new of
        # it (extism-1.41.0/src/sdk.rs:355), a panic across the C API, so an abort. An import
        # cycle: add_module recurses without end (extism-1.41.0/src/plugin.rs:279-316).
        zeros = self.write("zeros.wasm", bytes(16))
        a = self.write("a.wasm", forwarder("b", "f", "answer"))
        b = self.write("b.wasm", forwarder("lib", "answer", "f"))
        for request, dies_of in [
            (self.request(1, zeros, []), signal.SIGABRT),
            (self.request(2, self.main, [("lib", a), ("b", b)]), signal.SIGSEGV),
        ]:
            with self.subTest(dies_of=dies_of.name):
                host = subprocess.run(
                    [sys.executable, "-B", str(HERE / "main.py"), "serve"],
                    input=line(request) + b"\n",
                    capture_output=True,
                    timeout=60,
                    preexec_fn=no_core_dump,
                )
                self.assertEqual((host.returncode, host.stdout), (-dies_of, b""))


class NothingEndsTheHostTest(unittest.TestCase):
    def setUp(self):
        # The tracebacks host-python prints for each.
        quiet = contextlib.redirect_stderr(io.StringIO())
        quiet.__enter__()
        self.addCleanup(quiet.__exit__, None, None, None)

    def test_exceptions_are_answers(self):
        stdout = io.BytesIO()
        requests = [good(id=1, wasm="/no/such.wasm"), good(id=2, wasm="/no/such.wasm")]
        with mock.patch.object(protocol, "run", side_effect=[MemoryError(), RecursionError()]):
            protocol.serve(io.BytesIO(b"\n".join(line(r) for r in requests)), stdout)
        answers = [json.loads(text) for text in stdout.getvalue().splitlines()]
        self.assertEqual([answer["id"] for answer in answers], [1, 2])
        for answer in answers:
            self.assertEqual(answer["protocol"], 3)
            self.assertEqual(answer["error"]["kind"], "malformed_request")
            self.assertIn("host-python failed", answer["error"]["message"])

    def test_an_answer_that_cannot_be_written(self):
        raw = line(good(wasm="/no/such.wasm"))
        with mock.patch.object(protocol, "result_json", side_effect=MemoryError()):
            with mock.patch.object(protocol.json, "dumps", side_effect=MemoryError()):
                text = protocol.answer_line(runner.Compiler(), raw)
        answer = json.loads(text)
        self.assertEqual(answer, json.loads(protocol.FALLBACK))
        self.assertEqual(answer["error"]["kind"], "malformed_request")

    def test_a_line_too_long_for_memory(self):
        class Stdin(io.BytesIO):
            failed = False

            def readline(self, size=-1):
                if not self.failed and size == -1:
                    self.failed = True
                    super().readline(5)  # what was read before memory ran out
                    raise MemoryError()
                return super().readline(size)

        stdout = io.BytesIO()
        request = good(id=4, wasm="/no/such.wasm")
        protocol.serve(Stdin(b"[" * (3 << 20) + b"\n" + line(request) + b"\n"), stdout)
        answers = [json.loads(text) for text in stdout.getvalue().splitlines()]
        self.assertEqual([answer["id"] for answer in answers], [None, 4])
        self.assertIn("too long", answers[0]["error"]["message"])
        self.assertEqual(answers[1]["results"][0]["failure"]["kind"], "load")


if __name__ == "__main__":
    unittest.main()
