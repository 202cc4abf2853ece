package hostjava;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The request reader's refusals (links and deep nesting included), the answers' shape (logs
 * included), module files refused unread, a request's one instance (vars, config) and the
 * serve loop (docs/protocol.md, version 3).
 */
class ProtocolTest {
    /** The tests run in host-java/; requests carry absolute paths, as the client sends them. */
    static final Path RUST = Path.of("../target/plugins/rust/conformance.wasm").toAbsolutePath().normalize();

    static final ObjectMapper JSON = new ObjectMapper();

    /** One cache for the class, as serve keeps one for its whole run. */
    static final Runner.Modules MODULES = new Runner.Modules();

    static final BigInteger U64_MAX = BigInteger.ONE.shiftLeft(64).subtract(BigInteger.ONE);

    static void needRust() {
        assumeTrue(Files.isRegularFile(RUST),
                "no plugin at " + RUST + ": run `cargo xtask build-plugins`");
    }

    /** The exports CONTRACT.md added with protocol 2 are in plugins built since. */
    static void needRustExport(String export) {
        needRust();
        try {
            assumeTrue(MODULES.get(RUST.toString()).exports.contains(export),
                    "the plugin at " + RUST + " has no export " + export + ": run `cargo xtask build-plugins`");
        } catch (Runner.Failure failure) {
            throw new AssertionError(failure.describe(), failure);
        }
    }

    static String b64(String text) {
        return Base64.getEncoder().encodeToString(text.getBytes(StandardCharsets.UTF_8));
    }

    /**
     * protocol.md's request, every field present: one lookup of "hello" in a store of hello=hi,
     * with no timeout (a timeout is refused: the SDK has none) and no logs.
     */
    static ObjectNode good() {
        ObjectNode request = JSON.createObjectNode();
        request.put("protocol", 3);
        request.put("id", 7);
        request.put("wasm", RUST.toString());
        request.putArray("links");
        request.put("wasi", "auto");
        request.putObject("config");
        request.put("log_level", "off");
        ObjectNode entry = request.putArray("store").addObject();
        entry.put("key", b64("hello"));
        entry.put("value", b64("hi"));
        ObjectNode limits = request.putObject("limits");
        limits.putNull("timeout_ms");
        limits.put("memory_max_pages", 4096);
        limits.put("max_key_len", 1048576);
        limits.put("max_value_len", 67108864);
        addCall(request.putArray("calls"), "lookup", b64("hello"));
        return request;
    }

    static void addCall(ArrayNode calls, String export, String input) {
        ObjectNode call = calls.addObject();
        call.put("export", export);
        call.put("input", input);
    }

    static ObjectNode limits(ObjectNode request) {
        return (ObjectNode) request.get("limits");
    }

    static ObjectNode firstCall(ObjectNode request) {
        return (ObjectNode) request.get("calls").get(0);
    }

    static ArrayNode calls(ObjectNode request, String... exportsAndInputs) {
        ArrayNode calls = request.putArray("calls");
        for (int i = 0; i < exportsAndInputs.length; i += 2) {
            addCall(calls, exportsAndInputs[i], exportsAndInputs[i + 1]);
        }
        return calls;
    }

    static Set<String> names(JsonNode node) {
        var names = new TreeSet<String>();
        for (var property : node.properties()) {
            names.add(property.getKey());
        }
        return names;
    }

    static JsonNode answer(String line) throws IOException {
        String text = Protocol.answerLine(MODULES, Runner.Engine.INTERPRETER, line);
        assertFalse(text.contains("\n"), "an answer is one line: " + text);
        return JSON.readTree(text);
    }

    static JsonNode answer(JsonNode request) throws IOException {
        return answer(request.toString());
    }

    /** An error answer of kind, echoing id (null: the JSON null), whose message contains says. */
    static String refused(JsonNode answer, String kind, Long id, String says) {
        assertEquals(Set.of("protocol", "id", "error"), names(answer), answer::toString);
        assertEquals(3, answer.get("protocol").intValue(), answer::toString);
        if (id == null) {
            assertTrue(answer.get("id").isNull(), answer::toString);
        } else {
            assertTrue(answer.get("id").isIntegralNumber(), answer::toString);
            assertEquals(id.longValue(), answer.get("id").longValue(), answer::toString);
        }
        JsonNode error = answer.get("error");
        assertEquals(Set.of("kind", "message"), names(error), answer::toString);
        assertEquals(kind, error.get("kind").textValue(), answer::toString);
        String message = error.get("message").textValue();
        assertNotNull(message, answer::toString);
        assertTrue(message.contains(says), () -> "expected the message to say `" + says + "`: " + answer);
        return message;
    }

    static String malformed(JsonNode request, String says) throws IOException {
        return refused(answer(request), "malformed_request", 7L, says);
    }

    /** A results answer with one well-formed result per call (protocol.md, "Answer"). */
    static List<JsonNode> results(JsonNode answer, long id, int calls) {
        assertEquals(Set.of("protocol", "id", "results"), names(answer), answer::toString);
        assertEquals(3, answer.get("protocol").intValue(), answer::toString);
        assertEquals(id, answer.get("id").longValue(), answer::toString);
        JsonNode results = answer.get("results");
        assertEquals(calls, results.size(), answer::toString);
        var list = new ArrayList<JsonNode>();
        for (JsonNode result : results) {
            assertEquals(Set.of("output", "failure", "trace", "logs"), names(result), answer::toString);
            assertTrue(result.get("output").isNull() != result.get("failure").isNull(),
                    () -> "exactly one of output and failure is null: " + result);
            assertTrue(result.get("trace").isArray(), answer::toString);
            // This SDK lets the adapter see the logs: never null.
            assertTrue(result.get("logs").isArray(), answer::toString);
            for (JsonNode line : result.get("logs")) {
                assertEquals(Set.of("level", "text"), names(line), answer::toString);
                assertTrue(Runner.Level.parse(line.get("level").textValue()) != null, answer::toString);
                assertTrue(line.get("text").isTextual(), answer::toString);
            }
            list.add(result);
        }
        return list;
    }

    static Protocol.Request parsed(JsonNode request) {
        Protocol.Parsed parsed = Protocol.parse(request.toString().getBytes(StandardCharsets.UTF_8));
        assertNull(parsed.errorKind(), () -> parsed.errorKind() + ": " + parsed.errorMessage());
        assertNotNull(parsed.request());
        return parsed.request();
    }

    // Reading requests.

    @Test
    void goodRequestIsRead() {
        Protocol.Request request = parsed(good());
        assertEquals(BigInteger.valueOf(7), request.id());
        assertEquals(RUST.toString(), request.wasm());
        assertEquals("auto", request.wasi());
        assertEquals(Map.of(), request.config());
        assertEquals(Runner.Level.OFF, request.logLevel());
        assertEquals(Set.of(Main.key("hello")), request.store().keySet());
        assertArrayEquals("hi".getBytes(StandardCharsets.UTF_8), request.store().get(Main.key("hello")));
        assertEquals(new Runner.Limits(null, 4096L, 1048576L, 67108864L), request.limits());
        assertEquals(1, request.calls().size());
        assertEquals("lookup", request.calls().get(0).export());
        assertArrayEquals("hello".getBytes(StandardCharsets.UTF_8), request.calls().get(0).input());
    }

    @Test
    void goodRequestIsAnswered() throws IOException {
        needRust();
        List<JsonNode> results = results(answer(good()), 7, 1);
        JsonNode result = results.get(0);
        assertEquals(b64("hi"), result.get("output").textValue(), result::toString);
        assertTrue(result.get("failure").isNull(), result::toString);
        JsonNode trace = result.get("trace");
        assertEquals(1, trace.size(), result::toString);
        assertEquals(Set.of("function", "key", "value_len"), names(trace.get(0)));
        assertEquals("hostMemoryGet", trace.get(0).get("function").textValue());
        assertEquals(b64("hello"), trace.get(0).get("key").textValue());
        assertEquals(2, trace.get(0).get("value_len").intValue());
        assertEquals(0, result.get("logs").size(), result::toString);
    }

    @Test
    void configIsRead() {
        ObjectNode request = good();
        request.putObject("config").put("greeting", "hi").put("", "empty key");
        assertEquals(Map.of("greeting", "hi", "", "empty key"), parsed(request).config());
    }

    @Test
    void notJson() throws IOException {
        refused(answer("{not json"), "malformed_request", null, "not JSON");
        refused(answer("[1, 2]"), "malformed_request", null, "not a JSON object");
        refused(answer("7"), "malformed_request", null, "not a JSON object");
        refused(answer("{\"protocol\": NaN}"), "malformed_request", null, "not JSON");
        // One value per line: a second one after it is not a request.
        refused(answer(good() + " {}"), "malformed_request", null, "not JSON");
        // A repeated field makes the whole line unreadable, id included.
        refused(answer("{\"protocol\": 1, \"id\": 7, \"id\": 8}"), "malformed_request", null, "id");
    }

    @Test
    void notUtf8() throws IOException {
        // answerLine takes a String, which cannot hold bytes that are not UTF-8.
        byte[] line = ("\u00ff" + good()).getBytes(StandardCharsets.ISO_8859_1);
        JsonNode answer = JSON.readTree(Protocol.answer(MODULES, Runner.Engine.INTERPRETER, line));
        refused(answer, "malformed_request", null, "not JSON");
        // Inside a string too: the wasm path as a lone 0xff byte.
        String text = good().put("wasm", "@").toString();
        byte[] bytes = text.getBytes(StandardCharsets.UTF_8);
        bytes[text.indexOf('@')] = (byte) 0xff;
        answer = JSON.readTree(Protocol.answer(MODULES, Runner.Engine.INTERPRETER, bytes));
        refused(answer, "malformed_request", null, "not JSON");
    }

    @Test
    void loneSurrogateRefused() throws IOException {
        String line = good().put("wasm", "@").toString().replace("\"@\"", "\"\\ud800\"");
        refused(answer(line), "malformed_request", 7L, "wasm");
    }

    @Test
    void unknownFieldsNamed() throws IOException {
        malformed(good().put("wams", "typo"), "unknown field `wams`");
        // The typo of timeout_ms: unknown, and timeout_ms missing; the unknown name is the clue.
        ObjectNode request = good();
        limits(request).set("timeout_mss", limits(request).remove("timeout_ms"));
        malformed(request, "unknown field `limits.timeout_mss`");
        request = good();
        firstCall(request).put("exports", "lookup");
        malformed(request, "unknown field `calls[0].exports`");
        request = good();
        ((ObjectNode) request.get("store").get(0)).put("val", "");
        malformed(request, "unknown field `store[0].val`");
    }

    @Test
    void missingFieldsNamed() throws IOException {
        for (String field : List.of("id", "wasm", "links", "wasi", "config", "log_level", "store", "limits", "calls")) {
            ObjectNode request = good();
            request.remove(field);
            // Without an id there is none to echo.
            Long id = field.equals("id") ? null : 7L;
            refused(answer(request), "malformed_request", id, "missing field `" + field + "`");
        }
        for (String field : List.of("timeout_ms", "memory_max_pages", "max_key_len", "max_value_len")) {
            ObjectNode request = good();
            limits(request).remove(field);
            malformed(request, "missing field `limits." + field + "`");
        }
        ObjectNode request = good();
        firstCall(request).remove("export");
        malformed(request, "missing field `calls[0].export`");
        request = good();
        ((ObjectNode) calls(request, "lookup", "", "echo", "").get(1)).remove("input");
        malformed(request, "missing field `calls[1].input`");
        request = good();
        ((ObjectNode) request.get("store").get(0)).remove("value");
        malformed(request, "missing field `store[0].value`");
    }

    @Test
    void wrongTypesNameTheField() throws IOException {
        ObjectNode request = good();
        for (JsonNode wrong : List.of(
                JSON.getNodeFactory().textNode("soon"),
                JSON.getNodeFactory().numberNode(-1),
                JSON.getNodeFactory().numberNode(1.5),
                JSON.getNodeFactory().booleanNode(true),
                JSON.getNodeFactory().numberNode(BigInteger.ONE.shiftLeft(64)),
                JSON.createObjectNode())) {
            limits(request).set("timeout_ms", wrong);
            malformed(request, "limits.timeout_ms");
        }
        malformed(good().put("wasm", 1), "wasm");
        malformed(good().put("wasi", "maybe"), "wasi");
        request = good();
        request.putObject("config").put("a", 1);
        malformed(request, "config[\"a\"]");
        malformed(good().put("config", "a=1"), "config");
        malformed(good().put("store", "{}"), "store");
        malformed(good().put("calls", "lookup"), "calls");
        request = good();
        firstCall(request).put("export", 1);
        malformed(request, "calls[0].export");
        request = good();
        firstCall(request).putNull("input");
        malformed(request, "calls[0].input");
        request = good();
        request.putArray("calls").add("lookup");
        malformed(request, "calls[0]");
        request = good();
        request.putNull("limits");
        malformed(request, "limits");
    }

    @Test
    void nullsAreNoLimitAndZeroIsZero() {
        ObjectNode request = good();
        limits(request).putNull("timeout_ms").put("memory_max_pages", 0).putNull("max_key_len").put("max_value_len", 0);
        assertEquals(new Runner.Limits(null, 0L, null, 0L), parsed(request).limits());
        limits(request).putNull("memory_max_pages").put("max_key_len", 0).putNull("max_value_len");
        assertEquals(new Runner.Limits(null, null, 0L, null), parsed(request).limits());
    }

    @Test
    void logLevelsRead() throws IOException {
        for (Runner.Level level : Runner.Level.values()) {
            assertEquals(level, parsed(good().put("log_level", level.word)).logLevel());
        }
        // Exactly the six names: not another case, not Chicory's or java.util.logging's names.
        for (String word : List.of("loud", "INFO", "Warn", "warning", "fine", "all", "none", "", " info")) {
            String message = malformed(good().put("log_level", word), "log_level");
            assertTrue(message.contains("\"trace\", \"debug\", \"info\", \"warn\", \"error\" or \"off\""), message);
        }
        for (JsonNode wrong : List.of(
                JSON.getNodeFactory().numberNode(2),
                JSON.getNodeFactory().nullNode(),
                JSON.getNodeFactory().booleanNode(false),
                JSON.createArrayNode().add("info"),
                JSON.createObjectNode())) {
            ObjectNode request = good();
            request.set("log_level", wrong);
            malformed(request, "log_level: expected a string");
        }
        ObjectNode request = good();
        request.remove("log_level");
        malformed(request, "missing field `log_level`");
    }

    @Test
    void timeoutIsAnUnsupportedLimit() throws IOException {
        // chicory-sdk-core 0.3.0 has no timeout: any timeout, 0 included, is refused, not run.
        for (long timeout : List.of(0L, 200L, 30000L, Long.MAX_VALUE)) {
            ObjectNode request = good();
            limits(request).put("timeout_ms", timeout);
            JsonNode answer = answer(request);
            String message = refused(answer, "unsupported_limit", 7L, "limits.timeout_ms");
            assertEquals("limits.timeout_ms: chicory-sdk-core 0.3.0 has no timeout", message);
        }
        // Even for a module that is not there: nothing is loaded.
        ObjectNode request = good().put("wasm", "/no/such/file.wasm");
        limits(request).put("timeout_ms", 200);
        refused(answer(request), "unsupported_limit", 7L, "chicory-sdk-core 0.3.0");
        // A request that cannot be read is malformed first, whatever its timeout.
        request = good().put("wasi", "maybe");
        limits(request).put("timeout_ms", 200);
        malformed(request, "wasi");
        request = good();
        limits(request).put("timeout_ms", -1);
        malformed(request, "limits.timeout_ms");
        // No timeout runs (results checks the answer's shape).
        results(answer(good().put("wasm", "/no/such/file.wasm")), 7, 1);
    }

    @Test
    void limitsOutOfTheSdksRange() throws IOException {
        // Manifest.Options.withMemoryLimits takes an int of pages.
        ObjectNode request = good();
        limits(request).put("memory_max_pages", Integer.MAX_VALUE);
        assertEquals(Long.valueOf(Integer.MAX_VALUE), parsed(request).limits().memoryMaxPages());
        limits(request).put("memory_max_pages", 1L << 31);
        malformed(request, "limits.memory_max_pages");
        limits(request).put("memory_max_pages", 1L << 32);
        malformed(request, "limits.memory_max_pages");
        request = good();
        limits(request).put("max_value_len", Long.MAX_VALUE);
        assertEquals(Long.valueOf(Long.MAX_VALUE), parsed(request).limits().maxValueLen());
        limits(request).put("max_value_len", BigInteger.valueOf(Long.MAX_VALUE).add(BigInteger.ONE));
        malformed(request, "limits.max_value_len");
    }

    @Test
    void zeroLimitIsZeroInACall() throws IOException {
        needRust();
        // max_value_len 0 lets only empty values through: "hello" (hi) is refused, a missing key is not.
        ObjectNode request = good();
        limits(request).put("max_value_len", 0);
        calls(request, "lookup", b64("hello"), "lookup", b64("missing"));
        List<JsonNode> results = results(answer(request), 7, 2);
        JsonNode failure = results.get(0).get("failure");
        assertEquals(Set.of("kind", "len", "max"), names(failure), failure::toString);
        assertEquals("value_too_long", failure.get("kind").textValue());
        assertEquals(2, failure.get("len").intValue());
        assertEquals(0, failure.get("max").intValue());
        assertEquals(0, results.get(0).get("trace").size(), "a refused host call is not traced");
        assertEquals("", results.get(1).get("output").textValue(), results.get(1)::toString);
        assertEquals(0, results.get(1).get("trace").get(0).get("value_len").intValue());
    }

    @Test
    void keyTooLongAnswered() throws IOException {
        needRust();
        ObjectNode request = good();
        limits(request).put("max_key_len", 4);
        JsonNode failure = results(answer(request), 7, 1).get(0).get("failure");
        assertEquals(Set.of("kind", "len", "max"), names(failure), failure::toString);
        assertEquals("key_too_long", failure.get("kind").textValue());
        assertEquals(5, failure.get("len").intValue());
        assertEquals(4, failure.get("max").intValue());
    }

    @Test
    void base64IsStrict() throws IOException {
        // Missing padding, non-zero padding bits, a space, a newline, too much padding, another
        // alphabet (URL-safe), not base64 at all.
        for (String text : List.of("aGk", "aGl=", "aG k=", "aGk=\n", "aGk==", "-_8=", "@@@", "a")) {
            ObjectNode request = good();
            firstCall(request).put("input", text);
            malformed(request, "calls[0].input");
            malformed(request, "base64");
            request = good();
            ((ObjectNode) request.get("store").get(0)).put("key", text);
            malformed(request, "store[0].key");
            request = good();
            ((ObjectNode) request.get("store").get(0)).put("value", text);
            malformed(request, "store[0].value");
        }
        // The one spelling of "hi", of all 256 byte values, and of the empty string.
        ObjectNode request = good();
        byte[] all = new byte[256];
        for (int i = 0; i < all.length; i++) {
            all[i] = (byte) i;
        }
        calls(request, "echo", "aGk=", "echo", Base64.getEncoder().encodeToString(all), "echo", "");
        List<Protocol.Call> calls = parsed(request).calls();
        assertArrayEquals("hi".getBytes(StandardCharsets.UTF_8), calls.get(0).input());
        assertArrayEquals(all, calls.get(1).input());
        assertArrayEquals(new byte[0], calls.get(2).input());
    }

    @Test
    void emptyCallsRefused() throws IOException {
        ObjectNode request = good();
        request.putArray("calls");
        malformed(request, "at least one");
    }

    @Test
    void storeKeysDistinct() throws IOException {
        ObjectNode request = good();
        ArrayNode store = request.putArray("store");
        store.addObject().put("key", b64("a")).put("value", "");
        store.addObject().put("key", b64("hello")).put("value", b64("one"));
        store.addObject().put("key", b64("hello")).put("value", b64("two"));
        malformed(request, "store[2].key repeats store[1].key");
        // The empty key is a key like any other: once is fine, twice is not.
        store.removeAll();
        store.addObject().put("key", "").put("value", b64("empty"));
        store.addObject().put("key", b64("b")).put("value", "");
        assertArrayEquals("empty".getBytes(StandardCharsets.UTF_8),
                parsed(request).store().get(new Runner.Key(new byte[0])));
        store.addObject().put("key", "").put("value", "");
        malformed(request, "store[2].key repeats store[0].key");
    }

    @Test
    void idEchoedOrNull() throws IOException {
        // Read before anything else, so every later refusal carries it.
        refused(answer(good().put("wams", 1).put("id", 41)), "malformed_request", 41L, "wams");
        // The largest id there is (a u64) comes back exactly, in an error answer and in results.
        ObjectNode request = good().put("id", U64_MAX);
        request.putArray("calls");
        JsonNode answer = answer(request);
        assertEquals("malformed_request", answer.get("error").get("kind").textValue(), answer::toString);
        assertEquals(U64_MAX, answer.get("id").bigIntegerValue(), answer::toString);
        answer = answer(good().put("id", U64_MAX).put("wasm", "/no/such/file.wasm"));
        assertTrue(answer.has("results"), answer::toString);
        assertEquals(U64_MAX, answer.get("id").bigIntegerValue(), answer::toString);
        assertEquals(BigInteger.ZERO, answer(good().put("id", 0).put("wasm", "/no/such/file.wasm"))
                .get("id").bigIntegerValue());
    }

    @Test
    void unreadableIdIsNull() throws IOException {
        for (JsonNode id : List.of(
                JSON.getNodeFactory().textNode("seven"),
                JSON.getNodeFactory().numberNode(-1),
                JSON.getNodeFactory().numberNode(7.0),
                JSON.getNodeFactory().numberNode(U64_MAX.add(BigInteger.ONE)),
                JSON.getNodeFactory().nullNode())) {
            ObjectNode request = good();
            request.set("id", id);
            refused(answer(request), "malformed_request", null, "id");
        }
    }

    @Test
    void unsupportedProtocol() throws IOException {
        // The answer's protocol is the host's, 3 (refused checks it).
        String message = refused(answer(good().put("protocol", 99)), "unsupported_protocol", 7L, "99");
        assertTrue(message.contains("speaks protocol 3"), message);
        // Version 2's request (no links) is refused as such, not as a missing field; so is
        // version 2 with every field of version 3.
        ObjectNode v2 = good().put("protocol", 2);
        v2.remove("links");
        refused(answer(v2), "unsupported_protocol", 7L, "protocol 2");
        refused(answer(good().put("protocol", 2)), "unsupported_protocol", 7L, "protocol 2");
        // Version 1's request (no log_level either).
        ObjectNode v1 = good().put("protocol", 1);
        v1.remove("log_level");
        v1.remove("links");
        refused(answer(v1), "unsupported_protocol", 7L, "protocol 1");
        // Another version is refused as such, whatever its other fields.
        refused(answer("{\"protocol\": 1, \"id\": 3, \"x\": 1}"), "unsupported_protocol", 3L, "1");
        refused(answer("{\"protocol\": 2, \"id\": 3}"), "unsupported_protocol", 3L, "2");
        refused(answer("{\"protocol\": 4, \"id\": 3}"), "unsupported_protocol", 3L, "4");
        refused(answer("{\"protocol\": 0, \"id\": 3}"), "unsupported_protocol", 3L, "0");
        ObjectNode request = good();
        request.remove("protocol");
        malformed(request, "missing field `protocol`");
        malformed(good().put("protocol", "3"), "protocol");
        malformed(good().put("protocol", 3.0), "protocol");
    }

    static ObjectNode withLinks(String... namesAndPaths) {
        ObjectNode request = good();
        ArrayNode links = request.putArray("links");
        for (int i = 0; i < namesAndPaths.length; i += 2) {
            links.addObject().put("name", namesAndPaths[i]).put("wasm", namesAndPaths[i + 1]);
        }
        return request;
    }

    static ObjectNode firstLink(ObjectNode request) {
        return (ObjectNode) request.get("links").get(0);
    }

    @Test
    void linksAreRead() {
        assertEquals(List.of(), parsed(good()).links());
        // In order; a name is any other string, "Main" and "env" included (what the SDK makes
        // of "env" is the SDK's answer).
        assertEquals(List.of(new Protocol.Link("lib", "/abs/lib.wasm"), new Protocol.Link("Main", "/abs/lib.wasm"),
                        new Protocol.Link("env", "/abs/env.wasm")),
                parsed(withLinks("lib", "/abs/lib.wasm", "Main", "/abs/lib.wasm", "env", "/abs/env.wasm")).links());
    }

    @Test
    void linkNamesRefused() throws IOException {
        // Refused before anything is loaded: none of these paths exists.
        malformed(withLinks("", "/a.wasm"), "links[0].name: a link's name cannot be empty");
        malformed(withLinks("lib", "/a.wasm", "main", "/b.wasm"), "links[1].name: a link cannot be named `main`");
        malformed(withLinks("lib", "/a.wasm", "other", "/b.wasm", "lib", "/c.wasm"),
                "links[2].name repeats links[0].name");
        // The same file under one name twice is still a repeated name.
        malformed(withLinks("lib", "/a.wasm", "lib", "/a.wasm"), "links[1].name repeats links[0].name");
        // A refused link fails the request even when a timeout would be refused too.
        ObjectNode request = withLinks("main", "/a.wasm");
        limits(request).put("timeout_ms", 200);
        malformed(request, "links[0].name");
    }

    @Test
    void linkFieldsAreStrict() throws IOException {
        ObjectNode request = withLinks("lib", "/a.wasm");
        firstLink(request).put("path", "/a.wasm");
        malformed(request, "unknown field `links[0].path`");
        request = withLinks("lib", "/a.wasm");
        firstLink(request).remove("wasm");
        malformed(request, "missing field `links[0].wasm`");
        request = withLinks("lib", "/a.wasm");
        firstLink(request).remove("name");
        malformed(request, "missing field `links[0].name`");
        malformed(good().put("links", "lib"), "links: expected an array");
        request = good();
        request.putNull("links");
        malformed(request, "links: expected an array");
        request = good();
        request.putArray("links").add("lib");
        malformed(request, "links[0]: expected an object");
        request = withLinks("lib", "/a.wasm");
        firstLink(request).put("name", 1);
        malformed(request, "links[0].name: expected a string");
        request = withLinks("lib", "/a.wasm");
        firstLink(request).putNull("wasm");
        malformed(request, "links[0].wasm: expected a string");
        request = withLinks("lib", "/a.wasm");
        firstLink(request).putArray("wasm");
        malformed(request, "links[0].wasm: expected a string");
    }

    @Test
    void deeplyNestedLinesAreMalformed() throws IOException {
        // Jackson stops at StreamReadConstraints' 1000 levels: no stack overflow, no id read.
        String open = "[".repeat(200_000);
        String close = "]".repeat(200_000);
        for (String line : List.of(open, open + close, "{\"a\":".repeat(200_000),
                "{\"protocol\": 3, \"id\": 7, \"wasm\": " + open + close + "}")) {
            refused(answer(line), "malformed_request", null, "nesting depth");
        }
        // Within the limit a nested value is read, and refused as what it is.
        refused(answer("[".repeat(1000) + "]".repeat(1000)), "malformed_request", null, "not a JSON object");
        String line = good().put("wasm", "@").toString().replace("\"@\"", "[".repeat(998) + "]".repeat(998));
        refused(answer(line), "malformed_request", 7L, "wasm: expected a string");
    }

    // Module files.

    /** A request on module main of LinkingTest's modules, linked with each name=path given. */
    static ObjectNode linked(Path dir, String main, String... namesAndPaths) throws IOException {
        ObjectNode request = withLinks(namesAndPaths).put("wasm", write(dir, main).toString());
        calls(request, "run", "", "run", "");
        return request;
    }

    static Path write(Path dir, String module) throws IOException {
        Path path = dir.resolve(module + ".wasm");
        Files.write(path, Base64.getDecoder().decode(LinkingTest.WASM.get(module)));
        return path;
    }

    /** Each of request's calls fails as load, with a message that says says. */
    static void unusable(ObjectNode request, String says) throws IOException {
        if (request.get("calls").size() < 2) {
            calls(request, "run", "", "run", "");
        }
        for (JsonNode result : results(answer(request), 7, 2)) {
            JsonNode failure = result.get("failure");
            assertEquals(Set.of("kind", "message"), names(failure), failure::toString);
            assertEquals("load", failure.get("kind").textValue(), failure::toString);
            assertTrue(failure.get("message").textValue().contains(says), () -> "expected `" + says + "`: " + failure);
            assertEquals(0, result.get("trace").size(), result::toString);
        }
    }

    @Test
    void moduleFilesAreCheckedBeforeTheyAreOpened(@TempDir Path dir) throws IOException {
        Path missing = dir.resolve("missing.wasm");
        Path big = dir.resolve("big.wasm");
        // A sparse file one byte over the cap: nothing is written, nothing may be read.
        try (var file = new RandomAccessFile(big.toFile(), "rw")) {
            file.setLength(Runner.MAX_MODULE_BYTES + 1);
        }
        Path zero = dir.resolve("zero.wasm");
        Files.createSymbolicLink(zero, Path.of("/dev/zero"));
        unusable(good().put("wasm", missing.toString()), missing + ": no such file");
        unusable(good().put("wasm", dir.toString()), dir + ": not a regular file");
        unusable(good().put("wasm", "/dev/zero"), "/dev/zero: not a regular file");
        unusable(good().put("wasm", zero.toString()), zero + ": not a regular file");
        unusable(good().put("wasm", big.toString()), big + ": 134217729 bytes, over the 128 MiB cap for a module");
        // A good main module with such a link: the message names the link too.
        for (Path bad : List.of(missing, dir, Path.of("/dev/zero"), big)) {
            unusable(linked(dir, "answer_main", "lib", bad.toString()), "link `lib`: " + bad + ": ");
        }
        // A symbolic link to a good module is followed; the host still answers.
        Path lib = dir.resolve("lib.wasm");
        Files.createSymbolicLink(lib, write(dir, "answer_lib"));
        List<JsonNode> results = results(answer(linked(dir, "answer_main", "lib", lib.toString())), 7, 2);
        assertEquals(List.of("42", "42"), results.stream().map(ProtocolTest::text).toList());
        // JUnit warns of links that leave the temporary directory.
        Files.delete(zero);
    }

    @Test
    void aFifoIsRefusedUnopened(@TempDir Path dir) throws Exception {
        Path fifo = dir.resolve("fifo.wasm");
        int status = new ProcessBuilder("mkfifo", fifo.toString()).inheritIO().start().waitFor();
        assumeTrue(status == 0 && Files.exists(fifo), "mkfifo " + fifo + " failed");
        try {
            // Opening it for reading would block until a writer came: the answer comes anyway.
            assertTimeoutPreemptively(Duration.ofSeconds(30), () -> {
                unusable(good().put("wasm", fifo.toString()), fifo + ": not a regular file");
                unusable(linked(dir, "answer_main", "lib", fifo.toString()), "link `lib`: " + fifo + ": not a regular file");
            });
        } finally {
            // Should the host have opened it after all, a writer lets it go (read-write opens
            // of a FIFO do not block).
            new RandomAccessFile(fifo.toFile(), "rw").close();
        }
    }

    @Test
    void aLinkedCallIsAnswered(@TempDir Path dir) throws IOException {
        ObjectNode request = linked(dir, "answer_main", "lib", write(dir, "answer_lib").toString());
        List<JsonNode> results = results(answer(request), 7, 2);
        assertEquals(List.of("42", "42"), results.stream().map(ProtocolTest::text).toList());
    }

    // Answering requests.

    @Test
    void severalCallsOnOneInstanceInOrder() throws IOException {
        needRust();
        ObjectNode request = good();
        ArrayNode store = request.putArray("store");
        store.addObject().put("key", b64("hello")).put("value", b64("hi"));
        store.addObject().put("key", b64("message")).put("value", b64("a longer value"));
        calls(request, "lookup", b64("message"), "lookup", b64("hello"), "no_such_export", "");
        List<JsonNode> results = results(answer(request), 7, 3);
        assertEquals(b64("a longer value"), results.get(0).get("output").textValue());
        assertEquals(b64("message"), results.get(0).get("trace").get(0).get("key").textValue());
        assertEquals(b64("hi"), results.get(1).get("output").textValue());
        assertEquals(b64("hello"), results.get(1).get("trace").get(0).get("key").textValue());
        JsonNode failure = results.get(2).get("failure");
        // missing_export takes no fields, and nothing ran.
        assertEquals(Set.of("kind"), names(failure), failure::toString);
        assertEquals("missing_export", failure.get("kind").textValue());
        assertEquals(0, results.get(2).get("trace").size());
    }

    @Test
    void failuresDoNotStopLaterCalls() throws IOException {
        needRust();
        ObjectNode request = good();
        calls(request, "fail", b64("no luck"), "echo", b64("still here"), "trap", b64("boom"), "echo", b64("after"));
        List<JsonNode> results = results(answer(request), 7, 4);
        JsonNode failure = results.get(0).get("failure");
        assertEquals(Set.of("kind", "message"), names(failure), failure::toString);
        assertEquals("plugin", failure.get("kind").textValue());
        assertEquals("no luck", failure.get("message").textValue());
        assertEquals(b64("still here"), results.get(1).get("output").textValue(), results.get(1)::toString);
        failure = results.get(2).get("failure");
        assertEquals(Set.of("kind", "message"), names(failure), failure::toString);
        assertEquals("trap", failure.get("kind").textValue());
        // The call after a trap is made and answered (results checked its shape); what the SDK
        // does then is part of the answer, not pinned here.
    }

    /** The text of each of result's log lines, as "level: text". */
    static List<String> logs(JsonNode result) {
        var lines = new ArrayList<String>();
        for (JsonNode line : result.get("logs")) {
            lines.add(line.get("level").textValue() + " "
                    + new String(Base64.getDecoder().decode(line.get("text").textValue()), StandardCharsets.UTF_8));
        }
        return lines;
    }

    static String text(JsonNode result) {
        assertTrue(result.get("failure").isNull(), result::toString);
        return new String(Base64.getDecoder().decode(result.get("output").textValue()), StandardCharsets.UTF_8);
    }

    @Test
    void logsFilteredByTheRequestsLevel() throws IOException {
        needRustExport("log_levels");
        List<String> all = List.of("trace trace: hi", "debug debug: hi", "info info: hi", "warn warn: hi",
                "error error: hi");
        for (Runner.Level level : Runner.Level.values()) {
            ObjectNode request = good().put("log_level", level.word);
            calls(request, "log_levels", b64("hi"));
            JsonNode result = results(answer(request), 7, 1).get(0);
            assertEquals("logged", text(result));
            // A line reaches the host when its level is at least the request's; off: none.
            assertEquals(all.subList(Math.min(level.ordinal(), all.size()), all.size()), logs(result),
                    level.word);
        }
    }

    @Test
    void logsAreEachCallsOwn() throws IOException {
        needRustExport("log_levels");
        ObjectNode request = good().put("log_level", "warn");
        calls(request, "log_levels", b64("one"), "echo", b64("quiet"), "log_levels", b64("two"),
                "no_such_export", "", "fail", b64("no luck"));
        List<JsonNode> results = results(answer(request), 7, 5);
        assertEquals(List.of("warn warn: one", "error error: one"), logs(results.get(0)));
        assertEquals(List.of(), logs(results.get(1)));
        assertEquals(List.of("warn warn: two", "error error: two"), logs(results.get(2)));
        assertEquals(List.of(), logs(results.get(3)));
        assertEquals(List.of(), logs(results.get(4)));
        // Nor do they reach the next request.
        JsonNode result = results(answer(good().put("log_level", "trace")), 7, 1).get(0);
        assertEquals(List.of(), logs(result));
    }

    @Test
    void varsLastForTheRequestsInstanceOnly() throws IOException {
        needRustExport("var_count");
        ObjectNode request = good();
        calls(request, "var_count", "", "var_count", "", "var_count", "", "var_get", b64("count"),
                "var_remove", "", "var_get", b64("count"), "var_count", "");
        List<JsonNode> results = results(answer(request), 7, 7);
        assertEquals(List.of("count: 1", "count: 2", "count: 3", "value: 3", "removed", "missing", "count: 1"),
                results.stream().map(ProtocolTest::text).toList());
        // Each request gets a fresh instance, its vars empty.
        calls(request, "var_count", "");
        assertEquals("count: 1", text(results(answer(request), 7, 1).get(0)));
    }

    @Test
    void configReachesThePlugin() throws IOException {
        needRustExport("config_get");
        ObjectNode request = good();
        request.putObject("config").put("greeting", "hi").put("empty", "").put("🙂", "smile");
        calls(request, "config_get", b64("greeting"), "config_get", b64("missing"), "config_get", b64("empty"),
                "config_get", b64("🙂"));
        List<JsonNode> results = results(answer(request), 7, 4);
        // An empty value is the kernel's offset 0, which reads as missing (CONTRACT.md).
        assertEquals(List.of("value: hi", "missing", "missing", "value: smile"),
                results.stream().map(ProtocolTest::text).toList());
    }

    @Test
    void missingWasmFailsEveryCallAsLoad() throws IOException {
        ObjectNode request = good().put("wasm", "/no/such/file.wasm");
        calls(request, "lookup", "", "echo", "", "noop", "");
        List<JsonNode> results = results(answer(request), 7, 3);
        for (JsonNode result : results) {
            JsonNode failure = result.get("failure");
            assertEquals(Set.of("kind", "message"), names(failure), failure::toString);
            assertEquals("load", failure.get("kind").textValue());
            assertTrue(failure.get("message").textValue().contains("/no/such/file.wasm"), failure::toString);
            assertEquals(0, result.get("trace").size());
        }
    }

    @Test
    void notWasmFailsAsLoad() throws IOException {
        Path file = Files.createTempFile("host-java-test", ".wasm");
        try {
            Files.writeString(file, "not wasm");
            ObjectNode request = good().put("wasm", file.toString());
            calls(request, "lookup", "", "lookup", "");
            for (JsonNode result : results(answer(request), 7, 2)) {
                assertEquals("load", result.get("failure").get("kind").textValue(), result::toString);
            }
        } finally {
            Files.delete(file);
        }
    }

    @Test
    void initialMemoryOverTheCapIsOutOfMemory() throws IOException {
        needRust();
        ObjectNode request = good();
        // Every module of the workspace starts with more than one page.
        limits(request).put("memory_max_pages", 1);
        calls(request, "noop", "", "noop", "");
        for (JsonNode result : results(answer(request), 7, 2)) {
            JsonNode failure = result.get("failure");
            assertEquals(Set.of("kind"), names(failure), failure::toString);
            assertEquals("out_of_memory", failure.get("kind").textValue());
        }
    }

    // The serve loop.

    static List<JsonNode> serve(byte[] input) throws IOException {
        var out = new ByteArrayOutputStream();
        Protocol.serve(new ByteArrayInputStream(input), out, Runner.Engine.INTERPRETER);
        String text = out.toString(StandardCharsets.UTF_8);
        assertTrue(text.isEmpty() || text.endsWith("\n"), "every answer ends with a newline: " + text);
        var answers = new ArrayList<JsonNode>();
        if (!text.isEmpty()) {
            for (String line : text.substring(0, text.length() - 1).split("\n", -1)) {
                JsonNode answer = JSON.readTree(line);
                assertTrue(answer != null && answer.isObject(), "not an answer: `" + line + "`");
                answers.add(answer);
            }
        }
        return answers;
    }

    @Test
    void serveAnswersExactlyTheNonBlankLines() throws IOException {
        needRust();
        String input = "{oops\n" + "\n" + "   \n" + "\t\r\n" + good() + "\n" + good().put("id", 8);
        List<JsonNode> answers = serve(input.getBytes(StandardCharsets.UTF_8));
        assertEquals(3, answers.size(), answers::toString);
        refused(answers.get(0), "malformed_request", null, "not JSON");
        assertEquals(b64("hi"), results(answers.get(1), 7, 1).get(0).get("output").textValue());
        // The last line, without its newline, is still a request.
        assertEquals(b64("hi"), results(answers.get(2), 8, 1).get(0).get("output").textValue());
    }

    @Test
    void serveWithNothingAnswersNothing() throws IOException {
        assertEquals(List.of(), serve(new byte[0]));
        assertEquals(List.of(), serve("\n\n  \n".getBytes(StandardCharsets.UTF_8)));
    }

    @Test
    void serveGoesOnAfterADeeplyNestedLine() throws IOException {
        String input = "[".repeat(200_000) + "\n" + "[".repeat(200_000) + "]".repeat(200_000) + "\n"
                + good().put("wasm", "/no/such/file.wasm") + "\n";
        List<JsonNode> answers = serve(input.getBytes(StandardCharsets.UTF_8));
        assertEquals(3, answers.size(), answers::toString);
        refused(answers.get(0), "malformed_request", null, "nesting depth");
        refused(answers.get(1), "malformed_request", null, "nesting depth");
        assertEquals("load", results(answers.get(2), 7, 1).get(0).get("failure").get("kind").textValue());
    }

    @Test
    void serveReadsLinesLongerThanItsBuffer() throws IOException {
        needRust();
        // serve reads 64 KiB at a time. JSON whitespace pads the line so that the echo's input
        // straddles the first read's end (a big input alone would make the call slow).
        byte[] data = new byte[15_000];
        for (int i = 0; i < data.length; i++) {
            data[i] = (byte) (i * 31);
        }
        String input = Base64.getEncoder().encodeToString(data);
        ObjectNode request = good();
        calls(request, "echo", input);
        String text = request.toString();
        int padding = (1 << 16) - input.length() / 2 - text.indexOf(input);
        String line = "{" + " ".repeat(padding) + text.substring(1);
        int start = line.indexOf(input);
        assertTrue(start < 1 << 16 && start + input.length() > 1 << 16, "the input spans two reads");
        List<JsonNode> answers = serve((line + "\n" + good().put("id", 8) + "\n").getBytes(StandardCharsets.UTF_8));
        assertEquals(2, answers.size());
        assertArrayEquals(data, Base64.getDecoder().decode(
                results(answers.get(0), 7, 1).get(0).get("output").textValue()));
        assertEquals(b64("hi"), results(answers.get(1), 8, 1).get(0).get("output").textValue());
    }
}
