"""The request reader's refusals and the serve loop (python -m unittest, from host-python/)."""

import base64
import io
import json
import time
import unittest
from pathlib import Path

import protocol
import runner

RUST = Path(__file__).resolve().parent.parent / "target/plugins/rust/conformance.wasm"


def good(**changes) -> dict:
    request = {
        "protocol": 2,
        "id": 7,
        "wasm": str(RUST),
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
        self.refused(b'{"protocol": 2, "id": 7, "id": 8}', request_id=None, says="twice")

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
        # A version 1 request (no log_level) is refused as such, and the answer says version 2.
        request = good(protocol=1)
        del request["log_level"]
        message = self.refused(line(request), kind="unsupported_protocol")
        self.assertEqual(message, "protocol 1 is not supported: host-python speaks protocol 2")
        answer = protocol.answer(runner.Compiler(), line(request))
        self.assertEqual(
            answer,
            {"protocol": 2, "id": 7, "error": {"kind": "unsupported_protocol", "message": message}},
        )
        request = good(id="seven")
        self.refused(line(request), request_id=None, says="id")
        request = good()
        del request["protocol"]
        self.refused(line(request), says="missing field `protocol`")
        # Another version is refused as such whatever its fields.
        self.refused(b'{"protocol": 1, "id": 3, "x": 1}', kind="unsupported_protocol", request_id=3)


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


if __name__ == "__main__":
    unittest.main()
