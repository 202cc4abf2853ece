"""host-python serve: the conformance protocol, version 3, as ../docs/protocol.md writes it down.
Each line of stdin is a request; each gets one answer line on stdout, flushed, in order. Requests
are read strictly: every field present, none unknown, each of its type (naming the field). No
line ends the host: whatever goes wrong inside it (a line nested too deeply for Python's JSON
reader, a MemoryError, a bug of its own) is answered with an error that has every field.

The Python SDK enforces limits.timeout_ms (the manifest's timeout_ms), so no request is refused as
unsupported_limit. Each result's logs are the plugin's log lines libextism gave the SDK during the
call (runner.PluginLogs: the SDK's level is the process's, set once, so the request's level is
applied here)."""

import base64
import binascii
import json
import sys
import traceback
from dataclasses import dataclass

import runner
from runner import Failure, Limits

VERSION = 3
U64_MAX = (1 << 64) - 1
U32_MAX = (1 << 32) - 1

REQUEST_FIELDS = [
    "protocol",
    "id",
    "wasm",
    "links",
    "wasi",
    "config",
    "log_level",
    "store",
    "limits",
    "calls",
]
STORE_FIELDS = ["key", "value"]
LINK_FIELDS = ["name", "wasm"]
LIMIT_FIELDS = ["timeout_ms", "memory_max_pages", "max_key_len", "max_value_len"]
CALL_FIELDS = ["export", "input"]
WASI_MODES = ("auto", "on", "off")
LOG_LEVELS = (*runner.LOG_LEVELS, "off")


class Malformed(Exception):
    """Why a request cannot be acted on: the answer's error message."""


class Unsupported(Exception):
    """A protocol version host-python does not speak."""


@dataclass
class Request:
    id: int
    wasm: str
    links: list  # of (name, path), in the manifest's order
    wasi: str
    config: dict
    log_level: str  # one of LOG_LEVELS
    store: dict
    limits: Limits
    calls: list  # of (export, input bytes)


def refuse_constant(text):
    raise Malformed(f"the line is not JSON: {text} is not a JSON value")


def pairs(items):
    """A JSON object, refusing a repeated name (Python would keep the last one silently)."""
    obj = {}
    for key, value in items:
        if key in obj:
            raise Malformed(f"the field `{key}` is given twice")
        obj[key] = value
    return obj


def show(value) -> str:
    try:
        text = json.dumps(value, ensure_ascii=False)
    except RecursionError:
        return "a value nested too deeply to show"
    return text if len(text) <= 40 else text[:40] + "..."


def printable(text: str) -> str:
    """text with each lone surrogate (JSON's "\\ud800") spelled out, so that it can be UTF-8."""
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


def parse_request(line: bytes) -> tuple[Request | None, int | None, dict | None]:
    """Reads one request line: (request, id, None), or (None, id or None, error)."""
    try:
        top = json.loads(
            line.decode("utf-8"), object_pairs_hook=pairs, parse_constant=refuse_constant
        )
    except UnicodeDecodeError as error:
        return None, None, malformed(f"the line is not UTF-8: {error}")
    except RecursionError:
        # Python's JSON reader recurses once per array or object: a line of 200,000 `[` ends here.
        return None, None, malformed("the line is not JSON: nested too deeply for the reader")
    except ValueError as error:
        # JSONDecodeError, and also the ValueError of a number over Python's 4,300 digits.
        return None, None, malformed(f"the line is not JSON: {error}")
    except Malformed as error:
        return None, None, malformed(str(error))
    if not isinstance(top, dict):
        return None, None, malformed(f"the line is not a JSON object: {show(top)}")
    # The id first, so that every other refusal can carry it.
    request_id = None
    if "id" in top:
        try:
            request_id = read_uint(top["id"], "id")
        except Malformed:
            pass
    try:
        if "protocol" not in top:
            raise Malformed("missing field `protocol`")
        # A request of another version is refused as such, whatever its other fields.
        version = read_uint(top["protocol"], "protocol")
        if version != VERSION:
            raise Unsupported(
                f"protocol {version} is not supported: host-python speaks protocol {VERSION}"
            )
        return read_request(top), request_id, None
    except Unsupported as error:
        return None, request_id, {"kind": "unsupported_protocol", "message": str(error)}
    except Malformed as error:
        return None, request_id, malformed(str(error))


def malformed(message: str) -> dict:
    return {"kind": "malformed_request", "message": printable(message)}


def read_request(top: dict) -> Request:
    check_fields(top, "", REQUEST_FIELDS)
    wasi = read_string(top["wasi"], "wasi")
    if wasi not in WASI_MODES:
        raise Malformed(f'wasi: expected "auto", "on" or "off", got {show(top["wasi"])}')
    log_level = read_string(top["log_level"], "log_level")
    if log_level not in LOG_LEVELS:
        raise Malformed(
            'log_level: expected "trace", "debug", "info", "warn", "error" or "off", '
            f"got {show(top['log_level'])}"
        )
    calls = read_array(top["calls"], "calls")
    if not calls:
        raise Malformed("calls: at least one call is needed")
    return Request(
        id=read_uint(top["id"], "id"),
        wasm=read_string(top["wasm"], "wasm"),
        links=read_links(top["links"]),
        wasi=wasi,
        config=read_config(top["config"]),
        log_level=log_level,
        store=read_store(top["store"]),
        limits=read_limits(top["limits"]),
        calls=[read_call(call, f"calls[{i}]") for i, call in enumerate(calls)],
    )


def check_fields(obj, path: str, names: list) -> None:
    if not isinstance(obj, dict):
        raise Malformed(f"{path}: expected an object, got {show(obj)}")
    unknown = sorted(set(obj) - set(names))
    if unknown:
        raise Malformed(f"unknown field `{join(path, unknown[0])}`")
    for field_name in names:
        if field_name not in obj:
            raise Malformed(f"missing field `{join(path, field_name)}`")


def join(path: str, name: str) -> str:
    return f"{path}.{name}" if path else name


def read_uint(value, path: str, maximum: int = U64_MAX, nullable: bool = False) -> int | None:
    if value is None and nullable:
        return None
    # bool is a subclass of int in Python; JSON's true is not a number.
    if type(value) is not int or value < 0:
        expected = "a non-negative integer" + (" or null" if nullable else "")
        raise Malformed(f"{path}: expected {expected}, got {show(value)}")
    if value > maximum:
        raise Malformed(f"{path}: {value} is over the largest the SDK takes, {maximum}")
    return value


def read_string(value, path: str) -> str:
    if not isinstance(value, str):
        raise Malformed(f"{path}: expected a string, got {show(value)}")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise Malformed(f"{path}: not valid Unicode (a lone surrogate escape)") from None
    return value


def read_bytes(value, path: str) -> bytes:
    if not isinstance(value, str):
        raise Malformed(f"{path}: expected a base64 string, got {show(value)}")
    try:
        data = base64.b64decode(value.encode("ascii"), validate=True)
    except (UnicodeEncodeError, binascii.Error, ValueError) as error:
        raise Malformed(
            f"{path}: not standard base64 (RFC 4648, +/ and = padding): {error}"
        ) from None
    # b64decode ignores non-zero padding bits; strict base64 has one spelling for each bytes.
    if base64.b64encode(data).decode("ascii") != value:
        raise Malformed(f"{path}: not standard base64 (RFC 4648, +/ and = padding): {show(value)}")
    return data


def read_array(value, path: str) -> list:
    if not isinstance(value, list):
        raise Malformed(f"{path}: expected an array, got {show(value)}")
    return value


def read_config(value) -> dict:
    if not isinstance(value, dict):
        raise Malformed(f"config: expected an object, got {show(value)}")
    return {read_string(k, "config"): read_string(v, f"config[{k!r}]") for k, v in value.items()}


def read_store(value) -> dict:
    store, first = {}, {}
    for i, entry in enumerate(read_array(value, "store")):
        path = f"store[{i}]"
        check_fields(entry, path, STORE_FIELDS)
        key = read_bytes(entry["key"], f"{path}.key")
        if key in first:
            raise Malformed(
                f"store keys must be distinct: {path}.key repeats store[{first[key]}].key"
            )
        first[key] = i
        store[key] = read_bytes(entry["value"], f"{path}.value")
    return store


def read_links(value) -> list:
    links, first = [], {}
    for i, entry in enumerate(read_array(value, "links")):
        path = f"links[{i}]"
        check_fields(entry, path, LINK_FIELDS)
        name = read_string(entry["name"], f"{path}.name")
        wasm = read_string(entry["wasm"], f"{path}.wasm")
        if not name:
            raise Malformed(f"{path}.name: a link's name cannot be empty")
        if name == runner.MAIN:
            raise Malformed(f"{path}.name: \"main\" is the main module's name, not a link's")
        if name in first:
            raise Malformed(
                f"link names must be distinct: {path}.name {show(name)} repeats "
                f"links[{first[name]}].name"
            )
        first[name] = i
        links.append((name, wasm))
    return links


def read_limits(value) -> Limits:
    check_fields(value, "limits", LIMIT_FIELDS)
    return Limits(
        # The manifest's timeout_ms is a u64 and memory.max_pages a u32 (extism-manifest).
        timeout_ms=read_uint(value["timeout_ms"], "limits.timeout_ms", nullable=True),
        memory_max_pages=read_uint(
            value["memory_max_pages"], "limits.memory_max_pages", U32_MAX, nullable=True
        ),
        max_key_len=read_uint(value["max_key_len"], "limits.max_key_len", nullable=True),
        max_value_len=read_uint(value["max_value_len"], "limits.max_value_len", nullable=True),
    )


def read_call(value, path: str) -> tuple[str, bytes]:
    check_fields(value, path, CALL_FIELDS)
    return read_string(value["export"], f"{path}.export"), read_bytes(
        value["input"], f"{path}.input"
    )


def result_json(result: runner.Result) -> dict:
    return {
        "output": None if result.output is None else encode(result.output),
        "failure": None if result.failure is None else result.failure.to_json(),
        "trace": [{**entry, "key": encode(entry["key"])} for entry in result.trace],
        "logs": [{"level": level, "text": encode(text)} for level, text in result.logs],
    }


def encode(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def run(compiler: runner.Compiler, request: Request) -> list:
    """Makes the request's calls, in order, on one fresh instance, whatever each came to."""
    results = []

    def fail_rest(failure: Failure) -> list:
        return results + [runner.Result(None, failure)] * (len(request.calls) - len(results))

    try:
        compiled = compiler.get(request.wasm, request.wasi, request.limits, request.links)
        with compiled.instance(request.config) as plugin:
            for export, data in request.calls:
                results.append(
                    runner.call(
                        plugin, request.store, request.limits, export, data, request.log_level
                    )
                )
    except Failure as failure:
        return fail_rest(failure)
    except Exception as error:
        # A bug in host-python (or an exception the SDK should not raise), not something a
        # request may end the host with: the calls it left unanswered fail, saying so.
        print(f"host-python: exception while answering request {request.id}:", file=sys.stderr)
        traceback.print_exc(file=sys.stderr)
        return fail_rest(
            Failure(
                "load",
                message=f"host-python failed (a bug in the adapter; the traceback is on its "
                f"stderr): {type(error).__name__}: {error}",
            )
        )
    return results


def answer(compiler: runner.Compiler, line: bytes) -> dict:
    request_id = None
    try:
        request, request_id, error = parse_request(line)
        if error is not None:
            return error_answer(request_id, error)
        results = run(compiler, request)
        return {"protocol": VERSION, "id": request.id, "results": [result_json(r) for r in results]}
    except Exception as bug:
        # A bug in host-python, or a MemoryError: still an answer with every field.
        traceback.print_exc(file=sys.stderr)
        return error_answer(
            request_id,
            malformed(
                "host-python failed to answer the request (a bug in the adapter, or too little "
                f"memory; the traceback is on its stderr): {type(bug).__name__}: {bug}"
            ),
        )


def error_answer(request_id: int | None, error: dict) -> dict:
    return {"protocol": VERSION, "id": request_id, "error": error}


# The last resort, when even an answer could not be written out: made once, beforehand.
FALLBACK = (
    json.dumps(
        error_answer(
            None,
            malformed(
                "host-python could not write its answer (a bug in the adapter, or too little "
                "memory; the traceback is on its stderr)"
            ),
        ),
        separators=(",", ":"),
    ).encode("ascii")
    + b"\n"
)


def answer_line(compiler: runner.Compiler, line: bytes | None) -> bytes:
    """The answer to one request line (None: a line too long to hold), as the bytes to write."""
    try:
        if line is None:
            reply = error_answer(None, malformed("the line is too long to hold in memory"))
        else:
            reply = answer(compiler, line)
        text = json.dumps(reply, ensure_ascii=False, separators=(",", ":"))
        # No lone surrogate can reach the answer (printable), but if one did, it is not UTF-8.
        return text.encode("utf-8", "replace") + b"\n"
    except Exception:
        try:
            traceback.print_exc(file=sys.stderr)
        except Exception:
            pass
        return FALLBACK


def request_lines(stdin):
    """stdin's lines, each whole (readline has no length limit: a line can be megabytes of
    base64); None for a line too long for memory, whose rest is skipped."""
    while True:
        try:
            line = stdin.readline()
        except MemoryError:
            skip_line(stdin)
            yield None
            continue
        if not line:
            return
        yield line


def skip_line(stdin) -> None:
    while True:
        chunk = stdin.readline(1 << 20)
        if not chunk or chunk.endswith(b"\n"):
            return


def serve(stdin, stdout) -> None:
    """Answers request lines from stdin (binary) on stdout (binary) until EOF."""
    compiler = runner.Compiler()
    # Before the first request, so that no plugin sees libextism's logging off and then on.
    runner.plugin_logs()
    for line in request_lines(stdin):
        if line is not None and not line.strip():
            continue  # a blank line is no request and gets no answer
        stdout.write(answer_line(compiler, line))
        stdout.flush()
