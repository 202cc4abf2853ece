"""Running plugins on the Extism Python SDK: module files checked before they are read, compiled
plugins (a main module and the modules linked beside it), env.hostMemoryGet, the plugin's log
lines, and sorting what the SDK reports into the conformance protocol's failure kinds
(../docs/protocol.md, "Module files" and "Failures")."""

import os
import re
import stat
import sys
from dataclasses import dataclass, field

import extism

# CompiledPlugin is documented in its docstring as `extism.CompiledPlugin`, but extism 1.1.1's
# __init__ does not export it; the SDK's own tests import it from here too.
from extism.extism import CompiledPlugin

HOST_MEMORY_GET = "hostMemoryGet"
WASI_MODULE = "wasi_snapshot_preview1"
# The name of the plugin's own module in a manifest of several.
MAIN = "main"
U64 = 1 << 64
# The protocol's log levels, lowest first ("off" is above them all).
LOG_LEVELS = ("trace", "debug", "info", "warn", "error")


@dataclass(frozen=True)
class Limits:
    """A limit of None is no limit; 0 is zero."""

    timeout_ms: int | None = None
    memory_max_pages: int | None = None
    max_key_len: int | None = None
    max_value_len: int | None = None


# The Rust host's defaults (host::Limits::default), for demo and bench.
DEFAULT_LIMITS = Limits(30_000, 4096, 1 << 20, 64 << 20)


class Failure(Exception):
    """A failed call: kind is the protocol's, fields are exactly the kind's own."""

    def __init__(self, kind: str, **fields):
        super().__init__(kind, fields)
        self.kind = kind
        self.fields = fields

    def to_json(self) -> dict:
        return {"kind": self.kind, **self.fields}

    def __str__(self) -> str:
        if "message" in self.fields:
            return f"{self.kind}: {self.fields['message']}"
        details = ", ".join(f"{k} {v}" for k, v in self.fields.items())
        return f"{self.kind} ({details})" if details else self.kind


class AdapterBug(Exception):
    """An exception of host-python's own while it answered: no request may end the host."""


@dataclass
class Result:
    output: bytes | None
    failure: Failure | None
    trace: list = field(default_factory=list)
    logs: list = field(default_factory=list)  # of (level name, text bytes)


@dataclass
class CallState:
    """What hostMemoryGet sees during one export call, handed to it as the SDK's host context."""

    store: dict
    limits: Limits
    trace: list = field(default_factory=list)
    refusal: Failure | None = None  # recorded before the host function fails
    # The refusal rests on a 0 from libextism, which is also what a failed kernel call gives.
    refusal_on_zero: bool = False
    bug: str | None = None  # an exception of host-python's own inside the host function


class Refusal(Exception):
    """hostMemoryGet refusing a call. Raising is how a Python host function fails, but the SDK's
    cffi callback (extism.py, handle_args) has no error path: cffi reports the exception to
    sys.unraisablehook and the plugin gets 0 back; see quiet_refusals."""


def quiet_refusals() -> None:
    """Let a refusal print one line (hostMemoryGet does) instead of a traceback per host call:
    count_calls makes 10,000 of them. Any other exception keeps Python's report."""
    default = sys.unraisablehook

    def hook(unraisable):
        if not isinstance(unraisable.exc_value, Refusal):
            default(unraisable)

    sys.unraisablehook = hook


def refuse(state: CallState, failure: Failure, on_zero: bool = False) -> None:
    if state.refusal is None:
        print(
            f"host-python: hostMemoryGet refuses the call ({failure}); the Python SDK cannot "
            "fail a call from a host function, so the plugin gets 0",
            file=sys.stderr,
        )
    state.refusal, state.refusal_on_zero = failure, on_zero
    raise Refusal(str(failure))


@extism.host_fn(
    name=HOST_MEMORY_GET,
    namespace="env",
    signature=([extism.ValType.I64], [extism.ValType.I64]),
)
def host_memory_get(plugin: extism.CurrentPlugin, inputs, outputs, *user_data):
    """env.hostMemoryGet(key i64) -> i64, by CONTRACT.md: the key block is the plugin's, never
    freed here; the value goes back in a new block, or 0 when it is empty."""
    state = plugin.host_context()
    if not isinstance(state, CallState):
        raise RuntimeError("hostMemoryGet was called outside a call made through host-python")
    try:
        key = read_key(plugin, state, inputs[0].value)
        value = state.store.get(key, b"")
        if state.limits.max_value_len is not None and len(value) > state.limits.max_value_len:
            refuse(
                state,
                Failure("value_too_long", len=len(value), max=state.limits.max_value_len),
            )
        outputs[0].value = write_value(plugin, state, value)
        state.trace.append({"function": HOST_MEMORY_GET, "key": key, "value_len": len(value)})
    except Refusal:
        raise
    except Exception as error:
        state.bug = f"hostMemoryGet: {type(error).__name__}: {error}"
        raise


def read_key(plugin: extism.CurrentPlugin, state: CallState, offset: int) -> bytes:
    # Offset 0 is how every PDK passes an empty key (the kernel never allocates 0 bytes).
    if offset == 0:
        return b""
    # The argument is a signed i64 and the kernel's handle a u64: cffi refuses a negative int.
    memory = plugin.memory_at_offset(offset % U64)
    # The kernel's length is 0 for anything but the start of a live block.
    if memory.length == 0:
        refuse(
            state,
            Failure(
                "host_function",
                message=f"{HOST_MEMORY_GET}: key offset {offset} "
                "is not an allocated Extism memory block",
            ),
            on_zero=True,
        )
    limit = state.limits.max_key_len
    if limit is not None and memory.length > limit:
        refuse(state, Failure("key_too_long", len=memory.length, max=limit))
    return bytes(plugin.memory(memory))


def write_value(plugin: extism.CurrentPlugin, state: CallState, value: bytes) -> int:
    if not value:
        return 0
    memory = plugin.alloc(len(value))
    # libextism answers 0 when the kernel cannot allocate (sdk.rs, memory_alloc's Err => 0);
    # writing there would overwrite the kernel's own bookkeeping.
    if memory.offset == 0:
        refuse(
            state,
            Failure(
                "host_function",
                message=f"{HOST_MEMORY_GET}: cannot allocate {len(value)} bytes for the value",
            ),
            on_zero=True,
        )
    plugin.memory(memory)[:] = value
    return memory.offset


# What libextism and wasmtime write, as the SDK hands it on in extism.Error's message (the SDK
# gives nothing else: no return code when there is a message, no error object).
# extism-1.41.0/src/plugin.rs:1086, a timeout: Err((Error::msg("timeout"), rc)).
TIMEOUT_MESSAGE = "timeout"
# extism-1.41.0/src/plugin.rs:1090-1095, the MemoryLimiter's "oom" (current_plugin.rs:46,52) as
# the root cause of a call's error, also when the plugin's initial memory is over the cap.
OOM_MESSAGES = {
    "oom",
    # extism-1.41.0/src/current_plugin.rs:241: the kernel's alloc failed, here for the input
    # (set_input, plugin.rs:652), whose root cause "oom" the C API's to_string() does not show.
    "failed to allocate extism memory",
}
# extism 1.1.1, extism.py Plugin._check_error: `raise Error(f"Error code: {rc}")` when the call
# returned non-zero and libextism has no error message.
RETURN_CODE = re.compile(r"Error code: (-?[0-9]+)")
# wasmtime-49.0.2/src/runtime/trap.rs:417, WasmBacktrace's Display: the outermost context of
# every error raised while wasm runs (a trap, and also WASI proc_exit's I32Exit, whose code the
# SDK does not show, so an exit cannot be told from a trap here).
TRAP_PREFIX = "error while executing at wasm backtrace:"


def classify(message: str, state: CallState, limits: Limits) -> Failure:
    """Sorts a failed call in the contract's order: the host function's own refusal, then the
    limits that are set (a plugin may report an error called "timeout" itself), then what the
    runtime saw.

    One exception, from what libextism does: its kernel calls for a host function answer 0 when
    they fail (sdk.rs, extism_current_plugin_memory_length's unwrap_or_default and
    memory_alloc's Err => 0), so a timeout or the memory cap striking inside the kernel's length
    or alloc reads as "not a block" or "cannot allocate". Such a refusal yields to the limit the
    SDK then reports."""
    limit = None
    if limits.timeout_ms is not None and message == TIMEOUT_MESSAGE:
        limit = Failure("timeout")
    elif limits.memory_max_pages is not None and message in OOM_MESSAGES:
        limit = Failure("out_of_memory")
    if state.refusal is not None and not (state.refusal_on_zero and limit is not None):
        return state.refusal
    if limit is not None:
        return limit
    if code := RETURN_CODE.fullmatch(message):
        return Failure("return_code", code=int(code.group(1)))
    if message.startswith(TRAP_PREFIX):
        return Failure("trap", message=message)
    return Failure("plugin", message=message)


def wasi_imported(wasm: bytes) -> bool:
    """Whether the module imports anything from wasi_snapshot_preview1 (its import section); a
    module this cannot read is the SDK's to refuse, with its own reasons."""
    try:
        body = section(wasm, 2)
        if body is None:
            return False
        count, at = uleb(body, 0)
        for _ in range(count):
            module, at = name(body, at)
            _, at = name(body, at)
            if module == WASI_MODULE:
                return True
            at = skip_import_desc(body, at)
    except (IndexError, ValueError):
        pass
    return False


def section(wasm: bytes, wanted: int) -> bytes | None:
    if wasm[:4] != b"\0asm":
        raise ValueError("not a wasm module")
    at = 8
    while at < len(wasm):
        section_id = wasm[at]
        size, at = uleb(wasm, at + 1)
        if section_id == wanted:
            return wasm[at : at + size]
        at += size
    return None


def uleb(data: bytes, at: int) -> tuple[int, int]:
    value = shift = 0
    while True:
        byte = data[at]
        at += 1
        value |= (byte & 0x7F) << shift
        if byte & 0x80 == 0:
            return value, at
        shift += 7


def name(data: bytes, at: int) -> tuple[str, int]:
    size, at = uleb(data, at)
    if at + size > len(data):
        raise ValueError("name past the end")
    return data[at : at + size].decode("utf-8", "replace"), at + size


def skip_import_desc(data: bytes, at: int) -> int:
    kind, at = data[at], at + 1
    if kind == 0x00:  # a function: its type index
        return uleb(data, at)[1]
    if kind == 0x01:  # a table: its element type, then limits
        at += 1
    if kind in (0x01, 0x02):  # limits: flags, minimum, maximum when flags say so
        flags = data[at]
        at = uleb(data, at + 1)[1]
        return uleb(data, at)[1] if flags & 1 else at
    if kind == 0x03:  # a global: its value type, its mutability
        return at + 2
    if kind == 0x04:  # a tag: its attribute, its type index
        return uleb(data, at + 1)[1]
    raise ValueError(f"unknown import kind {kind}")


# The largest module file a host reads (docs/protocol.md, "Module files").
MODULE_CAP = 128 << 20
# What stat says a path is, when it is not a regular file.
FILE_KINDS = [
    (stat.S_ISDIR, "a directory"),
    (stat.S_ISFIFO, "a FIFO"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISSOCK, "a socket"),
]


@dataclass(frozen=True)
class ModuleFile:
    """One module of a plugin's manifest, its file checked by module_files: name is `main` or a
    link's, stamp what stat saw (so that a changed file is compiled again)."""

    name: str
    path: str
    stamp: tuple


def module_files(path: str, links=()) -> list:
    """The manifest's modules in its order, each link (name, path) as given, then `main`, every
    file checked before any is opened: it must be a regular file (stat follows symbolic links) of
    at most MODULE_CAP bytes. A FIFO or a device is never opened, so none can hold the host up."""
    files, problems = [], []
    for name, file_path in [*links, (MAIN, path)]:
        try:
            files.append(ModuleFile(name, file_path, checked_stamp(file_path)))
        except Failure as failure:
            link = "" if name == MAIN else f"link `{name}`: "
            problems.append(link + failure.fields["message"])
    if problems:
        raise Failure("load", message="; ".join(problems))
    return files


def checked_stamp(path: str) -> tuple:
    try:
        info = os.stat(path)
    except FileNotFoundError:
        raise Failure("load", message=f"{path}: no such file") from None
    except OSError as error:
        raise Failure("load", message=f"{path}: {error.strerror}") from None
    except ValueError as error:  # a NUL in the path
        raise Failure("load", message=f"{path!r}: not a path: {error}") from None
    return file_stamp(path, info)


def file_stamp(path: str, info: os.stat_result) -> tuple:
    if not stat.S_ISREG(info.st_mode):
        kind = next((name for test, name in FILE_KINDS if test(info.st_mode)), None)
        raise Failure(
            "load", message=f"{path}: not a regular file" + (f" ({kind})" if kind else "")
        )
    if info.st_size > MODULE_CAP:
        raise Failure(
            "load",
            message=f"{path}: {info.st_size} bytes, over the 128 MiB cap for a module",
        )
    return (info.st_dev, info.st_ino, info.st_mtime_ns, info.st_size)


def read_module(file: ModuleFile) -> bytes:
    """The bytes of a checked module file. O_NONBLOCK and the fstat after opening are for a path
    changed since its check: a FIFO put there is then not waited for, nor read."""
    try:
        fd = os.open(file.path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    except OSError as error:
        raise Failure("load", message=f"{file.path}: {error.strerror}") from None
    with os.fdopen(fd, "rb") as stream:
        file_stamp(file.path, os.fstat(fd))
        wasm = stream.read(MODULE_CAP + 1)
    if len(wasm) > MODULE_CAP:
        raise Failure("load", message=f"{file.path}: grew over the 128 MiB cap for a module")
    return wasm


class Compiled:
    """A plugin compiled once; each instance() is a fresh extism.Plugin of it. links are the
    (name, path) of the modules linked beside the main one, in the manifest's order."""

    def __init__(self, path: str, wasi: str, limits: Limits, links=(), files=None):
        self.path = path
        files = module_files(path, links) if files is None else files
        modules = [(file.name, read_module(file)) for file in files]
        linked = [file for file in files if file.name != MAIN]
        self.what = f"plugin {path}" + (
            " linked with " + ", ".join(f"{f.name}={f.path}" for f in linked) if linked else ""
        )
        # WASI is wanted when any module of the plugin imports from it.
        enabled = wasi == "on" or (
            wasi == "auto" and any(wasi_imported(wasm) for _, wasm in modules)
        )
        # Several modules as the SDK's Plugin docstring shows them (extism.py, Plugin: a manifest
        # whose `wasm` lists each module), each with its `name` (extism-manifest's WasmMetadata),
        # the main one last and named `main`. libextism links them by those names
        # (extism-1.41.0/src/plugin.rs, relink and add_module).
        manifest = {"wasm": [{"data": wasm, "name": name} for name, wasm in modules]}
        # The timeout and the memory cap are the manifest's, so they are fixed at compilation.
        if limits.timeout_ms is not None:
            manifest["timeout_ms"] = limits.timeout_ms
        if limits.memory_max_pages is not None:
            manifest["memory"] = {"max_pages": limits.memory_max_pages}
        try:
            self.plugin = CompiledPlugin(manifest, wasi=enabled, functions=[host_memory_get])
        except extism.Error as error:
            raise Failure("load", message=f"cannot load {self.what}: {error}") from None

    def instance(self, config: dict) -> extism.Plugin:
        # The SDK's config argument is written into this instance's manifest config
        # (extism-1.41.0/src/sdk.rs:700, extism_plugin_config), where the kernel's config_get reads.
        try:
            return extism.Plugin(self.plugin, config=config)
        except extism.Error as error:
            raise Failure("load", message=f"cannot load {self.what}: {error}") from None


class Compiler:
    """Compiled plugins by their module files (each file's identity, modification time and size),
    WASI and the limits the manifest holds; a changed file is compiled again, and a failure is
    not kept. The files are checked before the cache is looked at, so a path that has become a
    FIFO since is refused, never read. Each plugin holds a wasmtime engine of its own, so only
    the most recent few are kept."""

    KEEP = 16

    def __init__(self):
        self.cache = {}

    def get(self, path: str, wasi: str, limits: Limits, links=()) -> Compiled:
        files = module_files(path, links)
        key = (tuple(files), wasi, limits.timeout_ms, limits.memory_max_pages)
        compiled = self.cache.get(key)
        if compiled is None:
            compiled = Compiled(path, wasi, limits, links, files)
            if len(self.cache) >= self.KEEP:
                del self.cache[next(iter(self.cache))]
        else:
            del self.cache[key]  # to be the most recent again
        self.cache[key] = compiled
        return compiled


def call(
    plugin: extism.Plugin,
    store: dict,
    limits: Limits,
    export: str,
    data: bytes,
    log_level: str = "off",
) -> Result:
    """One export call on an instance, hostMemoryGet reading store. Once plugin_logs() has set up
    libextism's logging, the result keeps the call's log lines at or over log_level (a protocol
    level name; "off" keeps none); without it (demo, bench) there are none to keep."""
    # function_exists reads the module's exports: nothing runs, not even _initialize.
    if not plugin.function_exists(export):
        return Result(None, Failure("missing_export"))
    logs = _plugin_logs
    if logs is not None:
        logs.discard()  # whatever came before is not this call's
    state = CallState(store, limits)
    try:
        output = plugin.call(export, data, host_context=state)
    except extism.Error as error:
        failure = classify(str(error), state, limits)
    except UnicodeDecodeError as error:
        # extism.py _check_error decodes libextism's message as UTF-8, so a plugin error that is
        # not UTF-8 comes out as this instead of extism.Error: what it was is lost.
        failure = Failure("load", message=f"the Python SDK could not decode the error: {error}")
    else:
        failure = None
    lines = [] if logs is None else logs.take(str(plugin.id), log_level)
    if state.bug is not None:
        raise AdapterBug(state.bug)
    if failure is not None:
        return Result(None, failure, state.trace, lines)
    if state.refusal is not None:
        print(
            f"host-python: {export} succeeded although hostMemoryGet refused ({state.refusal})",
            file=sys.stderr,
        )
    return Result(bytes(output), None, state.trace, lines)


# A plugin's log line as tracing-subscriber's default format writes it into libextism's buffer
# (sdk.rs set_log_buffer, without ANSI colours): the time, the level right-aligned, the target
# (extism-1.41.0/src/pdk.rs, log), the text, and the `plugin` field, the instance's id. The id is
# last, so a text holding ` plugin="..."` itself still reads right. The text is what arrives:
# tracing-subscriber writes control characters escaped (ESC as `\x1b`), a line holding a NUL
# never reaches the buffer (sdk.rs:1033, CString::new), and for a text that is not UTF-8 libextism
# logs an error line of its own (pdk.rs:407).
PDK_LINE = re.compile(
    r"\S+ +(TRACE|DEBUG|INFO|WARN|ERROR) extism::pdk: (.*) plugin=\"([0-9a-f-]+)\"\n", re.DOTALL
)


class PluginLogs:
    """The plugins' log lines, as libextism hands them to the Python SDK's set_log_custom.

    That logging is libextism's and global to the process: set_log_custom installs tracing's
    global subscriber with the level given, and nothing can change the level afterwards
    (extism-1.41.0/src/sdk.rs:987-1004, set_log_buffer: an EnvFilter fixed at try_init). A second
    set_log_custom does not change it either, and breaks the first: it swaps libextism's buffer
    for a new one no subscriber writes to (sdk.rs:998), so nothing is seen again. The SDK thus
    has no way to take a request's log level. This is a workaround, so that every level can be
    answered: libextism is set once to "trace", the level the SDK's example.py uses, and each
    call keeps its own instance's lines at or over the request's level. What differs from an SDK
    set to the request's level: a PDK that asks the level first (get_log_level; the Rust and Go
    PDKs do) always reads trace and sends every line, so a line sent at a level not its own
    (go-pdk 1.1.3 sends trace through log_error) gets through where the PDK would have dropped
    it; and libextism formats its own lines at every level too, which are dropped here."""

    def __init__(self):
        self.lines = []
        # Only the pdk target's lines are kept: at trace, libextism writes many of its own.
        self.logger = extism.set_log_custom(self.keep, "trace")

    def keep(self, line: str) -> None:
        if " extism::pdk: " in line:
            self.lines.append(line)

    def discard(self) -> None:
        self.logger.drain()
        self.lines.clear()

    def take(self, plugin_id: str, log_level: str) -> list:
        """The instance plugin_id's buffered lines at or over log_level, oldest first."""
        self.logger.drain()
        lines, self.lines = self.lines, []
        return pdk_lines(lines, plugin_id, log_level)


def pdk_lines(lines: list, plugin_id: str, log_level: str) -> list:
    """(level, text bytes) of each of libextism's pdk lines that is the instance plugin_id's and at
    or over log_level; the lines of other instances are an earlier request's."""
    least = len(LOG_LEVELS) if log_level == "off" else LOG_LEVELS.index(log_level)
    kept = []
    for line in lines:
        match = PDK_LINE.fullmatch(line)
        if match is None:
            print(f"host-python: a log line it cannot read: {line!r}", file=sys.stderr)
            continue
        level, text, owner = match.group(1).lower(), match.group(2), match.group(3)
        if owner == plugin_id and LOG_LEVELS.index(level) >= least:
            kept.append((level, text.encode("utf-8")))
    return kept


_plugin_logs = None


def plugin_logs() -> PluginLogs:
    """The process's one PluginLogs, set up on first use (set_log_custom works once only). serve
    sets it up before the first request, so that what a plugin sees of the log level does not
    depend on the requests before it."""
    global _plugin_logs
    if _plugin_logs is None:
        _plugin_logs = PluginLogs()
    return _plugin_logs
