package hostjava;

import com.dylibso.chicory.log.Logger;
import com.dylibso.chicory.wasi.WasiExitException;
import com.dylibso.chicory.wasm.ChicoryException;
import com.dylibso.chicory.wasm.Parser;
import com.dylibso.chicory.wasm.WasmModule;
import com.dylibso.chicory.wasm.types.ExternalType;
import com.dylibso.chicory.wasm.types.MemoryLimits;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.extism.sdk.chicory.CurrentPlugin;
import org.extism.sdk.chicory.ExtismFunctionException;
import org.extism.sdk.chicory.ExtismHostFunction;
import org.extism.sdk.chicory.ExtismValType;
import org.extism.sdk.chicory.ExtismValueList;
import org.extism.sdk.chicory.LogLevel;
import org.extism.sdk.chicory.Manifest;
import org.extism.sdk.chicory.ManifestWasm;
import org.extism.sdk.chicory.Plugin;

/**
 * Running plugins on the Extism Java SDK on Chicory: instances, env.hostMemoryGet, the plugin's
 * log lines, and sorting what the SDK reports into the conformance protocol's failure kinds
 * (../docs/protocol.md, "Failures").
 */
final class Runner {
    /** The SDK, as refusals name it. */
    static final String SDK = "chicory-sdk-core 0.3.0";
    static final String HOST_MEMORY_GET = "hostMemoryGet";
    static final String WASI_MODULE = "wasi_snapshot_preview1";
    static final long PAGE = 65536;
    /** The largest module file a host reads (docs/protocol.md, "Module files"): 128 MiB. */
    static final long MAX_MODULE_BYTES = 128L << 20;
    /** The name the SDK gives the plugin's own module in a manifest of several. */
    static final String MAIN = "main";

    private Runner() {}

    /** Chicory's two engines; the SDK selects the AoT compiler with Manifest.Options.withAoT. */
    enum Engine {
        INTERPRETER("interpreter"),
        AOT("aot");

        final String word;

        Engine(String word) {
            this.word = word;
        }

        static Engine parse(String word) {
            for (Engine engine : values()) {
                if (engine.word.equals(word)) {
                    return engine;
                }
            }
            throw new IllegalArgumentException(
                    "unknown engine `" + word + "`; known: interpreter, aot");
        }
    }

    /** The protocol's log levels, least severe first: a line passes a level at or below its own. */
    enum Level {
        TRACE("trace"),
        DEBUG("debug"),
        INFO("info"),
        WARN("warn"),
        ERROR("error"),
        OFF("off");

        final String word;

        Level(String word) {
            this.word = word;
        }

        /** The level named word, or null when there is none. */
        static Level parse(String word) {
            for (Level level : values()) {
                if (level.word.equals(word)) {
                    return level;
                }
            }
            return null;
        }

        /**
         * What Plugin.log().setLogLevel is given, which is what the plugin's get_log_level
         * answers. The SDK's LogLevel has no off: ERROR is the nearest, and PluginLogger drops
         * the error lines the plugin still sends.
         */
        LogLevel sdk() {
            return switch (this) {
                case TRACE -> LogLevel.TRACE;
                case DEBUG -> LogLevel.DEBUG;
                case INFO -> LogLevel.INFO;
                case WARN -> LogLevel.WARN;
                case ERROR, OFF -> LogLevel.ERROR;
            };
        }

        /** HostEnv.Log passes the SDK's five levels as Chicory's; ALL and OFF are no line's. */
        static Level of(Logger.Level level) {
            return switch (level) {
                case TRACE -> TRACE;
                case DEBUG -> DEBUG;
                case INFO -> INFO;
                case WARNING -> WARN;
                case ERROR -> ERROR;
                default -> null;
            };
        }
    }

    /** One log line of the plugin that reached the host: its level and its text's bytes. */
    record LogLine(Level level, byte[] text) {}

    /** A limit of null is no limit; 0 is zero. */
    record Limits(Long timeoutMs, Long memoryMaxPages, Long maxKeyLen, Long maxValueLen) {
        /** The Rust host's defaults (host::Limits::default), for demo and bench. */
        static final Limits DEFAULT = new Limits(30_000L, 4096L, 1L << 20, 64L << 20);
    }

    /** A failed call: kind is the protocol's, fields are exactly the kind's own. */
    static final class Failure extends Exception {
        private static final long serialVersionUID = 1L;
        final String kind;
        final Map<String, Object> fields;

        Failure(String kind, Map<String, Object> fields) {
            super(kind + (fields.isEmpty() ? "" : " " + fields), null, false, false);
            this.kind = kind;
            this.fields = fields;
        }

        static Failure of(String kind) {
            return new Failure(kind, Map.of());
        }

        static Failure withMessage(String kind, String message) {
            return new Failure(kind, Map.of("message", message));
        }

        static Failure lengths(String kind, long len, long max) {
            var fields = new LinkedHashMap<String, Object>();
            fields.put("len", len);
            fields.put("max", max);
            return new Failure(kind, fields);
        }

        /** For people: the kind, then its message or its other fields. */
        String describe() {
            Object message = fields.get("message");
            if (message != null) {
                return kind + ": " + message;
            }
            return fields.isEmpty() ? kind : kind + " " + fields;
        }
    }

    /** One host-function call that returned to the plugin. */
    record TraceEntry(byte[] key, long valueLen) {}

    /** One call's answer: exactly one of output and failure is null; logs in the order sent. */
    record Result(byte[] output, Failure failure, List<TraceEntry> trace, List<LogLine> logs) {}

    /**
     * hostMemoryGet refusing a call. Throwing is how a Java host function fails a call: Chicory
     * lets the exception through the plugin's frames and Plugin.call throws it on.
     */
    static final class Refusal extends RuntimeException {
        private static final long serialVersionUID = 1L;

        Refusal(Failure failure) {
            super(failure.describe(), null, false, false);
        }
    }

    /** What hostMemoryGet sees during one export call. */
    static final class CallState {
        final Map<Key, byte[]> store;
        final Limits limits;
        final List<TraceEntry> trace = new ArrayList<>();
        Failure refusal;

        CallState(Map<Key, byte[]> store, Limits limits) {
            this.store = store;
            this.limits = limits;
        }
    }

    /** Store keys compare by their bytes. */
    record Key(byte[] bytes) {
        @Override
        public boolean equals(Object other) {
            return other instanceof Key key && java.util.Arrays.equals(bytes, key.bytes);
        }

        @Override
        public int hashCode() {
            return java.util.Arrays.hashCode(bytes);
        }

        @Override
        public String toString() {
            return new String(bytes, java.nio.charset.StandardCharsets.UTF_8);
        }
    }

    /**
     * env.hostMemoryGet(key i64) -> i64 by CONTRACT.md: the key block is the plugin's, never
     * freed here; the value goes back in a new block, or 0 when it is empty. The SDK binds a host
     * function to one plugin, so each instance gets its own.
     */
    static ExtismHostFunction hostMemoryGet(CallState[] current) {
        return ExtismHostFunction.of(
                "env",
                HOST_MEMORY_GET,
                (CurrentPlugin plugin, ExtismValueList args, ExtismValueList returns) -> {
                    CallState state = current[0];
                    if (state == null) {
                        throw new IllegalStateException(
                                "hostMemoryGet was called outside a call made through host-java");
                    }
                    byte[] key = readKey(plugin, state, args.getRaw(0));
                    byte[] value = state.store.getOrDefault(new Key(key), new byte[0]);
                    Long maxValue = state.limits.maxValueLen();
                    if (maxValue != null && value.length > maxValue) {
                        throw refuse(state, Failure.lengths("value_too_long", value.length, maxValue));
                    }
                    returns.setRaw(0, writeValue(plugin, state, value));
                    state.trace.add(new TraceEntry(key, value.length));
                },
                List.of(ExtismValType.I64),
                List.of(ExtismValType.I64));
    }

    private static Refusal refuse(CallState state, Failure failure) {
        state.refusal = failure;
        return new Refusal(failure);
    }

    private static byte[] readKey(CurrentPlugin plugin, CallState state, long offset) {
        // Offset 0 is how every PDK passes an empty key (the kernel never allocates 0 bytes).
        if (offset == 0) {
            return new byte[0];
        }
        // The kernel's length is 0 for anything but the start of a live block.
        long length = plugin.memory().length(offset);
        if (length == 0) {
            throw refuse(
                    state,
                    Failure.withMessage(
                            "host_function",
                            HOST_MEMORY_GET
                                    + ": key offset "
                                    + offset
                                    + " is not an allocated Extism memory block"));
        }
        Long maxKey = state.limits.maxKeyLen();
        if (maxKey != null && length > maxKey) {
            throw refuse(state, Failure.lengths("key_too_long", length, maxKey));
        }
        // The kernel believes a block's header, which the plugin can overwrite: a forged length
        // reaching past the memory is refused here rather than trapping inside Chicory's read.
        long size = (long) plugin.memory().memory().pages() * PAGE;
        if (offset < 0 || length > size || offset > size - length) {
            throw refuse(
                    state,
                    Failure.withMessage(
                            "host_function",
                            HOST_MEMORY_GET
                                    + ": cannot read the key block: "
                                    + length
                                    + " bytes at offset "
                                    + offset
                                    + " are out of memory range"));
        }
        return plugin.memory().memory().readBytes((int) offset, (int) length);
    }

    private static long writeValue(CurrentPlugin plugin, CallState state, byte[] value) {
        if (value.length == 0) {
            return 0;
        }
        // Not memory().writeBytes: it writes wherever alloc answered, and the kernel answers 0
        // when it cannot allocate, which would overwrite the kernel's own bookkeeping.
        long offset = plugin.memory().alloc(value.length);
        if (offset == 0) {
            throw refuse(
                    state,
                    Failure.withMessage(
                            "host_function",
                            HOST_MEMORY_GET + ": cannot allocate " + value.length + " bytes for the value"));
        }
        plugin.memory().memory().write((int) offset, value);
        return offset;
    }

    /**
     * The Logger the SDK is given (Plugin.Builder.withLogger), one per instance. The SDK's
     * HostEnv.Log hands every log line of the plugin to Logger.log whatever its level, so the
     * filtering is the Logger's (the SDK's default SystemLogger leaves it to java.util.logging's
     * level, which setLogLevel sets): lines under the request's level are dropped here. The same
     * Logger gets Chicory's own messages (WASI traces every call, the linker warns), but each of
     * those asks isLoggable first: during a call the answer is no, so what reaches log() then is
     * the plugin's. Between calls (linking, a module's initialiser) what comes goes to stderr,
     * and while the SDK links the modules it is also kept: the SDK's "Unresolved symbols" names
     * no symbol, its warnings before it do.
     */
    static final class PluginLogger implements Logger {
        // Logger.Level is in scope here: the protocol's levels are Runner.Level.
        final Runner.Level level;
        /** The current call's lines; null between calls. */
        List<LogLine> lines;
        /** What the SDK said while it linked the modules; null when it is not linking. */
        List<String> linking;

        PluginLogger(Runner.Level level) {
            this.level = level;
        }

        @Override
        public void log(Logger.Level sdkLevel, String msg, Throwable throwable) {
            Runner.Level lineLevel = Runner.Level.of(sdkLevel);
            if (lines == null || lineLevel == null) {
                // The SDK's warnings end in a newline of their own.
                String text = String.valueOf(msg).stripTrailing();
                System.err.println("host-java: " + sdkLevel + ": " + text);
                if (throwable != null) {
                    throwable.printStackTrace(System.err);
                }
                if (linking != null) {
                    linking.add(text);
                }
                return;
            }
            if (level != Runner.Level.OFF && lineLevel.compareTo(level) >= 0) {
                // HostEnv.Log read the line as UTF-8 text (memory().readString): bytes that are
                // not UTF-8 arrived as U+FFFD, and come out so.
                lines.add(new LogLine(lineLevel, msg.getBytes(StandardCharsets.UTF_8)));
            }
        }

        @Override
        public boolean isLoggable(Logger.Level sdkLevel) {
            return lines == null && sdkLevel.getSeverity() >= Logger.Level.WARNING.getSeverity();
        }
    }

    /** A module file that cannot be used: a load failure whose message names the path first. */
    static Failure unusable(String path, String what) {
        return Failure.withMessage("load", path + ": " + what);
    }

    /**
     * Checks a module file before anything opens it (docs/protocol.md, "Module files"): it must
     * be a regular file, symbolic links followed, of at most MAX_MODULE_BYTES. Only its
     * attributes are read (stat, not open): open() on a FIFO without a writer blocks, and
     * /dev/zero never ends. The attributes are the cache's stamp.
     */
    static BasicFileAttributes check(String path) throws Failure {
        BasicFileAttributes attributes;
        try {
            attributes = Files.readAttributes(Path.of(path), BasicFileAttributes.class);
        } catch (NoSuchFileException error) {
            throw unusable(path, "no such file");
        } catch (AccessDeniedException error) {
            throw unusable(path, "permission denied");
        } catch (FileSystemException error) {
            // "Not a directory" for /etc/passwd/x, and the like.
            throw unusable(path, error.getReason() != null ? error.getReason() : error.toString());
        } catch (IOException | InvalidPathException | SecurityException error) {
            throw unusable(path, String.valueOf(error.getMessage()));
        }
        if (attributes.isDirectory()) {
            throw unusable(path, "not a regular file (a directory)");
        }
        if (!attributes.isRegularFile()) {
            throw unusable(path, "not a regular file");
        }
        if (attributes.size() > MAX_MODULE_BYTES) {
            throw unusable(path, attributes.size() + " bytes, over the 128 MiB cap for a module");
        }
        return attributes;
    }

    /**
     * The bytes of a file check has passed; a file that grew past the cap since is refused
     * rather than read to its end.
     */
    static byte[] read(String path) throws Failure {
        byte[] wasm;
        try (InputStream in = Files.newInputStream(Path.of(path))) {
            wasm = in.readNBytes((int) MAX_MODULE_BYTES + 1);
        } catch (NoSuchFileException error) {
            throw unusable(path, "no such file");
        } catch (IOException | RuntimeException error) {
            throw unusable(path, "cannot read it: " + error);
        }
        if (wasm.length > MAX_MODULE_BYTES) {
            throw unusable(path, "over the 128 MiB cap for a module (it grew after it was checked)");
        }
        return wasm;
    }

    /** What the run needs to know of a module before the SDK instantiates it. */
    static final class Module {
        final String path;
        final byte[] wasm;
        final Set<String> exports = new HashSet<>();
        final boolean importsWasi;
        /** The memory the module declares, in pages: its initial size and its maximum. */
        final int initialPages;
        final int maxPages;

        /** The module in the file at path, checked before it is read. */
        static Module load(String path) throws Failure {
            check(path);
            return new Module(path, read(path));
        }

        Module(String path, byte[] wasm) throws Failure {
            this.path = path;
            this.wasm = wasm;
            WasmModule module;
            try {
                module = Parser.parse(wasm);
            } catch (RuntimeException error) {
                throw unusable(path, "not a module Chicory can parse: " + error.getMessage());
            }
            var exportSection = module.exportSection();
            for (int i = 0; i < exportSection.exportCount(); i++) {
                var export = exportSection.getExport(i);
                if (export.exportType() == ExternalType.FUNCTION) {
                    exports.add(export.name());
                }
            }
            boolean wasi = false;
            var imports = module.importSection();
            for (int i = 0; i < imports.importCount(); i++) {
                wasi |= imports.getImport(i).module().equals(WASI_MODULE);
            }
            importsWasi = wasi;
            MemoryLimits declared =
                    module.memorySection()
                            .filter(section -> section.memoryCount() > 0)
                            .map(section -> section.getMemory(0).limits())
                            .orElse(null);
            initialPages = declared == null ? 0 : declared.initialPages();
            maxPages = declared == null ? MemoryLimits.MAX_PAGES : declared.maximumPages();
        }
    }

    /**
     * Modules by path, read and parsed once; a changed file (its modification time or size) is
     * read again, and a failure is not kept. Every get checks the file first, cached or not, so
     * a path that became a FIFO is refused, never opened. The SDK itself keeps nothing between
     * instances: each Plugin.build() parses the modules again and, with the AoT engine,
     * compiles them again.
     */
    static final class Modules {
        private static final int KEEP = 16;
        private final Map<String, Map.Entry<Object, Module>> cache = new LinkedHashMap<>();

        Module get(String path) throws Failure {
            BasicFileAttributes attributes = check(path);
            Object stamp = List.of(attributes.lastModifiedTime(), attributes.size());
            var cached = cache.remove(path);
            if (cached != null && cached.getKey().equals(stamp)) {
                cache.put(path, cached);
                return cached.getValue();
            }
            Module module = new Module(path, read(path));
            if (cache.size() >= KEEP) {
                cache.remove(cache.keySet().iterator().next());
            }
            cache.put(path, Map.entry(stamp, module));
            return module;
        }
    }

    /** A module linked beside the main one, under the name the others import it by. */
    record Linked(String name, Module module) {}

    /**
     * One instance of a plugin on the SDK (its main module and the modules linked beside it),
     * with the state its hostMemoryGet reads and its logger. The SDK keeps the plugin's vars in
     * the instance (HostEnv.Var), so they last as long as it.
     */
    static final class Instance {
        final Module module;
        final Plugin plugin;
        private final CallState[] current = new CallState[1];
        private final PluginLogger logger;

        /**
         * Instantiates as the SDK's README shows: a manifest of the modules' bytes with its
         * options (config as the manifest's config: Manifest.Options.withConfig), then
         * Plugin.ofManifest(manifest).withHostFunctions(...).build(); the log level as the SDK's
         * LogTest sets it, plugin.log().setLogLevel. Several modules are named as the SDK's
         * DependencyGraph reads them (ManifestWasm.Builder.withName): each link in order under
         * its name, then the main module as "main".
         */
        Instance(Module module, List<Linked> links, Engine engine, String wasi, Map<String, String> config,
                Level logLevel, Limits limits) throws Failure {
            this.module = module;
            logger = new PluginLogger(logLevel);
            var options = new Manifest.Options().withConfig(config);
            // The SDK's AoT engine compiles the modules and the kernel again at every instance
            // (a new CachedAotMachineFactory per link); Chicory's compiled machines check that
            // they run the very WasmModule object they were compiled from, and the SDK parses
            // the modules again each time, so nothing compiled can be kept. That factory keys
            // what it compiled by WasmModule, which compares by content: of two links with the
            // same bytes the second is given the first one's machines, and when it is
            // instantiated Chicory refuses ("Instance module does not match factory module").
            options.withAoT(engine == Engine.AOT);
            boolean importsWasi = module.importsWasi || links.stream().anyMatch(link -> link.module().importsWasi);
            boolean wasiOn = wasi.equals("on") || (wasi.equals("auto") && importsWasi);
            if (!wasiOn) {
                // The SDK links WASI unless its options are null.
                options.withWasi(null);
            }
            Long cap = limits.memoryMaxPages();
            if (cap != null) {
                // The SDK's limits replace the module's own, so they start from them. They are
                // the main module's: the SDK gives the same limits to every module of the
                // manifest that declares a memory (ChicoryModule.instanceWithOptions), so a
                // linked module gets the main module's initial size and maximum.
                if (module.initialPages > cap) {
                    throw Failure.of("out_of_memory");
                }
                options.withMemoryLimits(module.initialPages, (int) Math.min(cap, module.maxPages));
            }
            var wasms = new ArrayList<ManifestWasm>();
            for (Linked link : links) {
                wasms.add(ManifestWasm.fromBytes(link.module().wasm).withName(link.name()).build());
            }
            wasms.add(ManifestWasm.fromBytes(module.wasm).withName(MAIN).build());
            var manifest = Manifest.ofWasms(wasms.toArray(ManifestWasm[]::new))
                    .withOptions(options)
                    .build();
            logger.linking = new ArrayList<>();
            try {
                plugin = Plugin.ofManifest(manifest)
                        .withHostFunctions(hostMemoryGet(current))
                        .withLogger(logger)
                        .build();
            } catch (RuntimeException error) {
                throw Failure.withMessage("load", "cannot load plugin " + describe(module, links) + ": " + error
                        + (logger.linking.isEmpty() ? "" : " (" + String.join("; ", logger.linking) + ")"));
            } finally {
                logger.linking = null;
            }
            // Also sets the level of java.util.logging's "chicory" logger, for the whole process;
            // PluginLogger does not use it.
            plugin.log().setLogLevel(logLevel.sdk());
        }

        /** The main module's path, and each link's name and path. */
        private static String describe(Module module, List<Linked> links) {
            var text = new StringBuilder(module.path);
            for (int i = 0; i < links.size(); i++) {
                text.append(i == 0 ? " linked with " : ", ")
                        .append(links.get(i).name()).append('=').append(links.get(i).module().path);
            }
            return text.toString();
        }

        /** One export call, hostMemoryGet reading store; its log lines are its own. */
        Result call(Map<Key, byte[]> store, Limits limits, String export, byte[] input) {
            if (!module.exports.contains(export)) {
                return new Result(null, Failure.of("missing_export"), List.of(), List.of());
            }
            var state = new CallState(store, limits);
            var lines = new ArrayList<LogLine>();
            current[0] = state;
            logger.lines = lines;
            try {
                byte[] output = plugin.call(export, input);
                return new Result(output, null, state.trace, lines);
            } catch (RuntimeException error) {
                return new Result(null, classify(error, state), state.trace, lines);
            } finally {
                current[0] = null;
                logger.lines = null;
            }
        }
    }

    /**
     * Sorts a failed call in the contract's order: the host function's own refusal, then what
     * the runtime saw. chicory-sdk-core 0.3.0 has no timeout, and its memory cap makes
     * memory.grow answer -1, which the plugin sees, so no limit shows in what it throws.
     */
    static Failure classify(RuntimeException error, CallState state) {
        if (state.refusal != null) {
            return state.refusal;
        }
        // Plugin.call: a non-zero return code with the kernel's error text, "" when there is
        // none; the code itself is not kept.
        if (error instanceof ExtismFunctionException function) {
            return Failure.withMessage("plugin", function.getError());
        }
        for (Throwable cause = error; cause != null; cause = cause.getCause()) {
            if (cause instanceof WasiExitException exit) {
                return new Failure("exit", Map.of("code", (long) exit.exitCode()));
            }
        }
        // TrapException (unreachable), WasmRuntimeException (out of bounds) and ChicoryException
        // itself ("call stack exhausted") are what Chicory throws when the module traps.
        if (error instanceof ChicoryException) {
            return Failure.withMessage("trap", String.valueOf(error.getMessage()));
        }
        throw error;
    }
}
