package hostjava;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.dylibso.chicory.log.Logger;
import com.dylibso.chicory.runtime.TrapException;
import com.dylibso.chicory.wasi.WasiExitException;
import com.dylibso.chicory.wasm.ChicoryException;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.extism.sdk.chicory.ExtismFunctionException;
import org.extism.sdk.chicory.LogLevel;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Sorting what the SDK throws, reading modules, log levels, and hostMemoryGet, logs, vars and
 * config through calls on the Rust plugin.
 */
class RunnerTest {
    static final Path PLUGINS = Path.of("../target/plugins").toAbsolutePath().normalize();
    static final Path RUST = PLUGINS.resolve("rust/conformance.wasm");

    /** Limits low enough to reach, high enough for the store below. */
    static final Runner.Limits LIMITS = new Runner.Limits(30_000L, 4096L, 100L, 100L);

    static final Runner.Limits NONE = new Runner.Limits(null, null, null, null);

    static final Runner.Modules MODULES = new Runner.Modules();

    static byte[] bytes(String text) {
        return text.getBytes(StandardCharsets.UTF_8);
    }

    static void needRust() {
        assumeTrue(Files.isRegularFile(RUST), "no plugin at " + RUST + ": run `cargo xtask build-plugins`");
    }

    /** The exports CONTRACT.md added with protocol 2 are in plugins built since. */
    static void needRustExport(String export) throws Runner.Failure {
        needRust();
        assumeTrue(MODULES.get(RUST.toString()).exports.contains(export),
                "the plugin at " + RUST + " has no export " + export + ": run `cargo xtask build-plugins`");
    }

    static Runner.CallState state() {
        return new Runner.CallState(Map.of(), LIMITS);
    }

    // classify: what Plugin.call throws, sorted.

    @Test
    void pluginErrorKeepsItsText() {
        // The SDK's own message wraps the kernel's error text; the answer is the text alone.
        var error = new ExtismFunctionException("fail", "no luck");
        Runner.Failure failure = Runner.classify(error, state());
        assertEquals("plugin", failure.kind);
        assertEquals(Map.of("message", "no luck"), failure.fields);
    }

    @Test
    void refusalWinsOverTheException() {
        var state = state();
        state.refusal = Runner.Failure.lengths("key_too_long", 5, 1);
        assertSame(state.refusal, Runner.classify(new ExtismFunctionException("lookup", "boom"), state));
        assertSame(state.refusal, Runner.classify(new TrapException("unreachable"), state));
        assertSame(state.refusal, Runner.classify(new WasiExitException(3), state));
        // Even an exception classify would otherwise not sort.
        assertSame(state.refusal, Runner.classify(new IllegalStateException("?"), state));
    }

    @Test
    void trapsAreTraps() {
        Runner.Failure failure = Runner.classify(new TrapException("Trapped on unreachable instruction"), state());
        assertEquals("trap", failure.kind);
        assertEquals(Map.of("message", "Trapped on unreachable instruction"), failure.fields);
        // Chicory's "call stack exhausted" is a bare ChicoryException.
        failure = Runner.classify(new ChicoryException("call stack exhausted"), state());
        assertEquals("trap", failure.kind);
        assertEquals(Map.of("message", "call stack exhausted"), failure.fields);
    }

    @Test
    void exitKeepsItsCode() {
        Runner.Failure failure = Runner.classify(new WasiExitException(3), state());
        assertEquals("exit", failure.kind);
        assertEquals(Map.of("code", 3L), failure.fields);
        // Found as a cause too, wherever the SDK wraps it.
        failure = Runner.classify(new RuntimeException("wrapped", new WasiExitException(42)), state());
        assertEquals("exit", failure.kind);
        assertEquals(Map.of("code", 42L), failure.fields);
    }

    @Test
    void anythingElseIsThrownOn() {
        var error = new IllegalStateException("a bug");
        assertSame(error, assertThrows(IllegalStateException.class, () -> Runner.classify(error, state())));
    }

    // Small parts.

    @Test
    void enginesByName() {
        assertSame(Runner.Engine.INTERPRETER, Runner.Engine.parse("interpreter"));
        assertSame(Runner.Engine.AOT, Runner.Engine.parse("aot"));
        var error = assertThrows(IllegalArgumentException.class, () -> Runner.Engine.parse("jit"));
        assertTrue(error.getMessage().contains("jit"), error.getMessage());
    }

    @Test
    void keysCompareByBytes() {
        assertEquals(new Runner.Key(bytes("k")), new Runner.Key(bytes("k")));
        assertEquals(new Runner.Key(bytes("k")).hashCode(), new Runner.Key(bytes("k")).hashCode());
        assertNotEquals(new Runner.Key(bytes("k")), new Runner.Key(bytes("K")));
        assertNotEquals(new Runner.Key(new byte[0]), new Runner.Key(new byte[1]));
        var store = new HashMap<Runner.Key, byte[]>();
        store.put(new Runner.Key(bytes("k")), bytes("v"));
        assertArrayEquals(bytes("v"), store.get(new Runner.Key(bytes("k"))));
    }

    @Test
    void logLevelsByName() {
        var words = new ArrayList<String>();
        for (Runner.Level level : Runner.Level.values()) {
            assertSame(level, Runner.Level.parse(level.word));
            words.add(level.word);
        }
        // Declared least severe first, so compareTo is the protocol's order.
        assertEquals(List.of("trace", "debug", "info", "warn", "error", "off"), words);
        assertNull(Runner.Level.parse("warning"));
        assertNull(Runner.Level.parse("TRACE"));
    }

    @Test
    void logLevelsToAndFromTheSdks() {
        assertSame(LogLevel.TRACE, Runner.Level.TRACE.sdk());
        assertSame(LogLevel.DEBUG, Runner.Level.DEBUG.sdk());
        assertSame(LogLevel.INFO, Runner.Level.INFO.sdk());
        assertSame(LogLevel.WARN, Runner.Level.WARN.sdk());
        assertSame(LogLevel.ERROR, Runner.Level.ERROR.sdk());
        // The SDK has no off: the plugin is told error, and PluginLogger drops the rest.
        assertSame(LogLevel.ERROR, Runner.Level.OFF.sdk());
        // HostEnv.Log passes its levels as Chicory's (LogLevel.toChicoryLogLevel).
        assertSame(Runner.Level.TRACE, Runner.Level.of(Logger.Level.TRACE));
        assertSame(Runner.Level.DEBUG, Runner.Level.of(Logger.Level.DEBUG));
        assertSame(Runner.Level.INFO, Runner.Level.of(Logger.Level.INFO));
        assertSame(Runner.Level.WARN, Runner.Level.of(Logger.Level.WARNING));
        assertSame(Runner.Level.ERROR, Runner.Level.of(Logger.Level.ERROR));
        assertNull(Runner.Level.of(Logger.Level.ALL));
        assertNull(Runner.Level.of(Logger.Level.OFF));
    }

    static List<String> texts(List<Runner.LogLine> lines) {
        return lines.stream().map(line -> line.level().word + " " + new String(line.text(), StandardCharsets.UTF_8)).toList();
    }

    @Test
    void pluginLoggerKeepsTheLinesAtOrOverItsLevel() {
        var logger = new Runner.PluginLogger(Runner.Level.WARN);
        var lines = new ArrayList<Runner.LogLine>();
        logger.lines = lines;
        for (Logger.Level level : List.of(Logger.Level.TRACE, Logger.Level.DEBUG, Logger.Level.INFO,
                Logger.Level.WARNING, Logger.Level.ERROR)) {
            logger.log(level, level.name() + " 🙂", null);
        }
        assertEquals(List.of("warn WARNING 🙂", "error ERROR 🙂"), texts(lines));
        // During a call Chicory's own messages are not wanted: they ask isLoggable first.
        for (Logger.Level level : Logger.Level.values()) {
            assertFalse(logger.isLoggable(level), level.name());
        }
        // Between calls nothing is kept: what comes goes to stderr, and Chicory's warnings may.
        logger.lines = null;
        var stderr = new ByteArrayOutputStream();
        PrintStream was = System.err;
        System.setErr(new PrintStream(stderr, true, StandardCharsets.UTF_8));
        try {
            logger.log(Logger.Level.ERROR, "between calls", null);
        } finally {
            System.setErr(was);
        }
        assertEquals(2, lines.size());
        assertEquals("host-java: ERROR: between calls\n", stderr.toString(StandardCharsets.UTF_8));
        assertTrue(logger.isLoggable(Logger.Level.WARNING));
        assertFalse(logger.isLoggable(Logger.Level.TRACE));
        // Off keeps nothing, error lines included.
        var off = new Runner.PluginLogger(Runner.Level.OFF);
        off.lines = new ArrayList<>();
        off.log(Logger.Level.ERROR, "error", null);
        assertEquals(List.of(), off.lines);
        var trace = new Runner.PluginLogger(Runner.Level.TRACE);
        trace.lines = new ArrayList<>();
        trace.log(Logger.Level.TRACE, "", null);
        assertEquals(List.of("trace "), texts(trace.lines));
    }

    @Test
    void failureFieldsAreTheKindsOwn() {
        assertEquals(Map.of(), Runner.Failure.of("missing_export").fields);
        assertEquals(List.of("len", "max"),
                List.copyOf(Runner.Failure.lengths("value_too_long", 7, 6).fields.keySet()));
        assertEquals("plugin: boom", Runner.Failure.withMessage("plugin", "boom").describe());
    }

    // Modules.

    @Test
    void moduleReadsExportsAndImports() throws Runner.Failure {
        needRust();
        Runner.Module module = Runner.Module.load(RUST.toString());
        // CONTRACT.md's exports, every one.
        assertTrue(module.exports.containsAll(
                        Set.of("say_hello", "lookup", "count_calls", "echo", "noop", "fail", "trap")),
                module.exports::toString);
        assertFalse(module.exports.contains("no_such_export"));
        assertTrue(module.initialPages > 0, "the Rust plugin declares a memory");
        assertTrue(module.maxPages >= module.initialPages);
    }

    @Test
    void wasiImportsFound() throws Runner.Failure {
        // Rust builds for wasm32-unknown-unknown; TinyGo imports WASI. (Not standard Go: its
        // 2 MiB module alone takes seconds to parse.)
        int found = 0;
        for (var lang : Map.of("rust", false, "tinygo", true).entrySet()) {
            Path path = PLUGINS.resolve(lang.getKey()).resolve("conformance.wasm");
            if (Files.isRegularFile(path)) {
                assertEquals(lang.getValue(), Runner.Module.load(path.toString()).importsWasi, lang.getKey());
                found++;
            }
        }
        assumeTrue(found > 0, "no plugins in " + PLUGINS + ": run `cargo xtask build-plugins`");
    }

    @Test
    void missingFileIsALoadFailure() {
        var failure = assertThrows(Runner.Failure.class, () -> MODULES.get("/no/such/file.wasm"));
        assertEquals("load", failure.kind);
        assertEquals(Map.of("message", "/no/such/file.wasm: no such file"), failure.fields);
    }

    /** The message of the load failure check answers path with. */
    static String refusal(String path) {
        var failure = assertThrows(Runner.Failure.class, () -> Runner.check(path));
        assertEquals("load", failure.kind);
        assertEquals(Set.of("message"), failure.fields.keySet());
        return (String) failure.fields.get("message");
    }

    @Test
    void checkReadsOnlyAttributes(@TempDir Path dir) throws IOException, Runner.Failure {
        // At the cap is allowed, one byte over is not; both files are sparse, and check opens
        // neither.
        Path cap = dir.resolve("cap.wasm");
        Path over = dir.resolve("over.wasm");
        try (var file = new RandomAccessFile(cap.toFile(), "rw")) {
            file.setLength(Runner.MAX_MODULE_BYTES);
        }
        try (var file = new RandomAccessFile(over.toFile(), "rw")) {
            file.setLength(Runner.MAX_MODULE_BYTES + 1);
        }
        assertEquals(134_217_728L, Runner.check(cap.toString()).size());
        assertEquals(over + ": 134217729 bytes, over the 128 MiB cap for a module", refusal(over.toString()));
        assertEquals("/dev/zero: not a regular file", refusal("/dev/zero"));
        assertEquals(dir + ": not a regular file (a directory)", refusal(dir.toString()));
        assertEquals(dir + "/missing.wasm: no such file", refusal(dir + "/missing.wasm"));
        // Symbolic links are followed: to a regular file, to a device, to nothing.
        Path toCap = Files.createSymbolicLink(dir.resolve("to-cap.wasm"), cap);
        Path toZero = Files.createSymbolicLink(dir.resolve("to-zero.wasm"), Path.of("/dev/zero"));
        Path dangling = Files.createSymbolicLink(dir.resolve("dangling.wasm"), dir.resolve("missing.wasm"));
        assertTrue(Runner.check(toCap.toString()).isRegularFile());
        assertEquals(toZero + ": not a regular file", refusal(toZero.toString()));
        assertEquals(dangling + ": no such file", refusal(dangling.toString()));
        // A path Java cannot even spell is refused like the rest.
        assertTrue(refusal("/tmp/nul\0.wasm").startsWith("/tmp/nul\0.wasm: "));
        // A path through a file.
        assertEquals(cap + "/x.wasm: Not a directory", refusal(cap + "/x.wasm"));
        // The cache checks at every get: a cached path that became a device is refused, not
        // served from the cache.
        var modules = new Runner.Modules();
        Path lib = dir.resolve("lib.wasm");
        Files.write(lib, java.util.Base64.getDecoder().decode(LinkingTest.WASM.get("answer_lib")));
        assertTrue(modules.get(lib.toString()).exports.contains("answer"));
        Files.delete(lib);
        Files.createSymbolicLink(lib, Path.of("/dev/zero"));
        assertEquals(lib + ": not a regular file", assertThrows(Runner.Failure.class,
                () -> modules.get(lib.toString())).fields.get("message"));
        // JUnit warns of links that leave the temporary directory.
        Files.delete(lib);
        Files.delete(toZero);
    }

    @Test
    void changedFileIsReadAgain() throws IOException, Runner.Failure {
        needRust();
        Path file = Files.createTempFile("host-java-test", ".wasm");
        try {
            var modules = new Runner.Modules();
            Files.writeString(file, "not wasm");
            var failure = assertThrows(Runner.Failure.class, () -> modules.get(file.toString()));
            assertEquals("load", failure.kind);
            // Fixed in place (another size, so another stamp): the failure was not kept.
            Files.copy(RUST, file, StandardCopyOption.REPLACE_EXISTING);
            Runner.Module module = modules.get(file.toString());
            assertTrue(module.exports.contains("lookup"));
            assertSame(module, modules.get(file.toString()), "an unchanged file comes from the cache");
            Files.writeString(file, "broken again");
            assertEquals("load", assertThrows(Runner.Failure.class, () -> modules.get(file.toString())).kind);
        } finally {
            Files.delete(file);
        }
    }

    @Test
    void initialMemoryOverTheCap() throws Runner.Failure {
        needRust();
        Runner.Module module = MODULES.get(RUST.toString());
        var limits = new Runner.Limits(null, (long) module.initialPages - 1, null, null);
        var failure = assertThrows(Runner.Failure.class,
                () -> new Runner.Instance(module, List.of(), Runner.Engine.INTERPRETER, "auto", Map.of(), Runner.Level.OFF,
                        limits));
        assertEquals("out_of_memory", failure.kind);
        assertEquals(Map.of(), failure.fields);
    }

    // hostMemoryGet, traces and limits through real calls, on each engine.

    /**
     * The same calls on either engine, on one fresh instance a test (the AoT engine compiles
     * the module again for each). Limits other than memory and the store are each call's own.
     */
    abstract class OnEngine {
        final Runner.Engine engine;
        Runner.Instance instance;

        OnEngine(Runner.Engine engine) {
            this.engine = engine;
        }

        @BeforeEach
        void plugin() throws Runner.Failure {
            needRust();
            instance = instance(LIMITS);
        }

        Map<Runner.Key, byte[]> store() {
            var store = new HashMap<Runner.Key, byte[]>();
            store.put(Main.key("hello"), bytes("hi"));
            store.put(Main.key("message"), bytes("a longer value"));
            return store;
        }

        Runner.Instance instance(Runner.Limits limits) throws Runner.Failure {
            return instance(Map.of(), Runner.Level.OFF, limits);
        }

        Runner.Instance instance(Map<String, String> config, Runner.Level level, Runner.Limits limits)
                throws Runner.Failure {
            return new Runner.Instance(MODULES.get(RUST.toString()), List.of(), engine, "auto", config, level, limits);
        }

        Runner.Result call(Runner.Limits limits, String export, byte[] input) throws Runner.Failure {
            return instance.call(store(), limits, export, input);
        }

        /** A failed call: no output, the failure of kind with exactly fields. */
        Runner.Failure failed(Runner.Result result, String kind, Map<String, Object> fields) {
            assertNull(result.output(), engine + ": output of a failed call");
            assertNotNull(result.failure(), engine + ": expected a failure");
            assertEquals(kind, result.failure().kind, () -> engine + ": " + result.failure().describe());
            if (fields != null) {
                assertEquals(fields, result.failure().fields, engine.word);
            }
            return result.failure();
        }

        void succeeded(Runner.Result result, byte[] output) {
            Runner.Failure failure = result.failure();
            assertNull(failure, () -> engine + ": " + failure.describe());
            assertArrayEquals(output, result.output(), engine.word);
        }

        void traced(Runner.Result result, String... keysAndLengths) {
            assertEquals(keysAndLengths.length / 2, result.trace().size(), engine.word);
            for (int i = 0; i < result.trace().size(); i++) {
                Runner.TraceEntry entry = result.trace().get(i);
                assertEquals(keysAndLengths[2 * i], new String(entry.key(), StandardCharsets.UTF_8), engine.word);
                assertEquals(Long.parseLong(keysAndLengths[2 * i + 1]), entry.valueLen(), engine.word);
            }
        }

        // Fewer, fuller tests than one a check: with the AoT engine each instance costs a
        // compilation of the module.

        @Test
        void lookupGivesTheValueAndOneTraceEntry() throws Runner.Failure {
            Runner.Result result = call(LIMITS, "lookup", bytes("hello"));
            succeeded(result, bytes("hi"));
            traced(result, "hello", "2");
            // A key the store lacks gives an empty value, traced as such.
            result = call(LIMITS, "lookup", bytes("nothing"));
            succeeded(result, new byte[0]);
            traced(result, "nothing", "0");
            // The empty key is offset 0, a key like any other.
            result = call(LIMITS, "lookup", new byte[0]);
            succeeded(result, new byte[0]);
            traced(result, "", "0");
        }

        @Test
        void keyOverMaxKeyLen() throws Runner.Failure {
            Runner.Result result = call(new Runner.Limits(null, null, 4L, null), "lookup", bytes("hello"));
            failed(result, "key_too_long", Map.of("len", 5L, "max", 4L));
            // A refused host call is not in the trace.
            traced(result);
            // At the limit is not over it.
            result = call(new Runner.Limits(null, null, 5L, null), "lookup", bytes("hello"));
            succeeded(result, bytes("hi"));
            traced(result, "hello", "2");
        }

        @Test
        void valueOverMaxValueLen() throws Runner.Failure {
            Runner.Result result = call(new Runner.Limits(null, null, null, 1L), "lookup", bytes("hello"));
            failed(result, "value_too_long", Map.of("len", 2L, "max", 1L));
            traced(result);
            result = call(new Runner.Limits(null, null, null, 2L), "lookup", bytes("hello"));
            succeeded(result, bytes("hi"));
            // Zero is zero, not "no limit": an empty value still passes.
            result = call(new Runner.Limits(null, null, null, 0L), "lookup", bytes("nothing"));
            succeeded(result, new byte[0]);
            // The trace ends with the last host call that returned: say_hello gets "hello"
            // (2 bytes, allowed), then "message" (14, refused).
            result = call(new Runner.Limits(null, null, null, 2L), "say_hello", bytes("x"));
            failed(result, "value_too_long", Map.of("len", 14L, "max", 2L));
            traced(result, "hello", "2");
        }

        @Test
        void outputsAsTheContractWritesThem() throws Runner.Failure {
            Runner.Result result = call(NONE, "say_hello", bytes("you"));
            succeeded(result, bytes("👋 Hello you\nkey: hello, value: hi\nkey: message, value: a longer value"));
            traced(result, "hello", "2", "message", "14");
            // echo keeps every byte, none of it UTF-8 checked.
            byte[] input = new byte[512];
            for (int i = 0; i < input.length; i++) {
                input[i] = (byte) (255 - i);
            }
            result = call(LIMITS, "echo", input);
            succeeded(result, input);
            traced(result);
        }

        @Test
        void failuresAndTheCallsAfterThem() throws Runner.Failure {
            Runner.Result result = call(LIMITS, "fail", bytes("boom"));
            failed(result, "plugin", Map.of("message", "boom"));
            traced(result);
            result = call(LIMITS, "no_such_export", bytes("x"));
            failed(result, "missing_export", Map.of());
            traced(result);
            // The same instance goes on, with each call's own limits and store.
            result = instance.call(Map.of(Main.key("hello"), bytes("other")), LIMITS, "lookup", bytes("hello"));
            succeeded(result, bytes("other"));
            traced(result, "hello", "5");
        }

        @Test
        void trapGivesTrap() throws Runner.Failure {
            Runner.Result result = call(LIMITS, "trap", bytes("boom"));
            Runner.Failure failure = failed(result, "trap", null);
            assertEquals(Set.of("message"), failure.fields.keySet());
            traced(result);
            assertEquals(List.of(), result.logs());
        }

        @Test
        void logsVarsAndConfig() throws Runner.Failure {
            needRustExport("log_levels");
            needRustExport("var_count");
            needRustExport("config_get");
            // One instance for all three, as a request has: the AoT engine compiles each.
            instance = instance(Map.of("greeting", "hi"), Runner.Level.DEBUG, LIMITS);
            Runner.Result result = call(LIMITS, "log_levels", bytes("hi"));
            succeeded(result, bytes("logged"));
            assertEquals(List.of("debug debug: hi", "info info: hi", "warn warn: hi", "error error: hi"),
                    texts(result.logs()));
            // The next call's lines are its own.
            result = call(LIMITS, "echo", bytes("quiet"));
            assertEquals(List.of(), result.logs());
            // The SDK keeps vars in the instance: they last from call to call.
            succeeded(call(LIMITS, "var_count", new byte[0]), bytes("count: 1"));
            succeeded(call(LIMITS, "var_count", new byte[0]), bytes("count: 2"));
            succeeded(call(LIMITS, "var_get", bytes("count")), bytes("value: 2"));
            succeeded(call(LIMITS, "config_get", bytes("greeting")), bytes("value: hi"));
            succeeded(call(LIMITS, "config_get", bytes("other")), bytes("missing"));
            // Off: the plugin is told error (the SDK has no off), and its error line is dropped.
            instance = instance(Map.of(), Runner.Level.OFF, LIMITS);
            result = call(LIMITS, "log_levels", bytes("hi"));
            succeeded(result, bytes("logged"));
            assertEquals(List.of(), result.logs());
            // A fresh instance starts with no vars and its own config.
            succeeded(call(LIMITS, "var_count", new byte[0]), bytes("count: 1"));
            succeeded(call(LIMITS, "config_get", bytes("greeting")), bytes("missing"));
        }
    }

    @Nested
    class Interpreter extends OnEngine {
        Interpreter() {
            super(Runner.Engine.INTERPRETER);
        }
    }

    @Nested
    class Aot extends OnEngine {
        Aot() {
            super(Runner.Engine.AOT);
        }
    }
}
