package hostjava;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.JsonNodeType;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;

/**
 * host-java serve: the conformance protocol, version 3, as ../docs/protocol.md writes it down.
 * Each line of stdin is a request; each gets one answer line on stdout, flushed, in order.
 * Requests are read strictly: every field present, none unknown, each of its type (naming the
 * field). A request that sets a timeout is refused as unsupported_limit: the SDK has none.
 * Whatever goes wrong inside the host, a line gets an answer with all its fields.
 */
final class Protocol {
    static final int VERSION = 3;
    static final BigInteger U64_MAX = BigInteger.ONE.shiftLeft(64).subtract(BigInteger.ONE);

    private static final List<String> REQUEST_FIELDS =
            List.of("protocol", "id", "wasm", "links", "wasi", "config", "log_level", "store", "limits", "calls");
    private static final List<String> LINK_FIELDS = List.of("name", "wasm");
    private static final List<String> STORE_FIELDS = List.of("key", "value");
    private static final List<String> LIMIT_FIELDS =
            List.of("timeout_ms", "memory_max_pages", "max_key_len", "max_value_len");
    private static final List<String> CALL_FIELDS = List.of("export", "input");

    private static final ObjectMapper JSON = new ObjectMapper(
                    JsonFactory.builder()
                            // A line may be many megabytes of base64.
                            .streamReadConstraints(StreamReadConstraints.builder()
                                    .maxStringLength(Integer.MAX_VALUE)
                                    .build())
                            .build())
            .enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION)
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
            .enable(DeserializationFeature.USE_BIG_INTEGER_FOR_INTS);

    private Protocol() {}

    /** Why a request cannot be acted on: the answer's error message. */
    static final class Malformed extends Exception {
        private static final long serialVersionUID = 1L;

        Malformed(String message) {
            super(message, null, false, false);
        }
    }

    record Call(String export, byte[] input) {}

    /** A module linked beside the main one: the name the others import it by, and its path. */
    record Link(String name, String wasm) {}

    record Request(
            BigInteger id,
            String wasm,
            List<Link> links,
            String wasi,
            Map<String, String> config,
            Runner.Level logLevel,
            Map<Runner.Key, byte[]> store,
            Runner.Limits limits,
            List<Call> calls) {}

    /** A request read from one line, or the error that answers it (with the id, when known). */
    record Parsed(Request request, BigInteger id, String errorKind, String errorMessage) {}

    static Parsed parse(byte[] line) {
        JsonNode top;
        try {
            top = JSON.readTree(line);
        } catch (JsonProcessingException error) {
            return malformed(null, "the line is not JSON: " + error.getOriginalMessage());
        } catch (IOException error) {
            return malformed(null, "the line is not JSON: " + error.getMessage());
        }
        if (top == null || !top.isObject()) {
            return malformed(null, "the line is not a JSON object: " + show(top));
        }
        // The id first, so that every other refusal can carry it.
        BigInteger id = null;
        if (top.has("id")) {
            try {
                id = readUint(top.get("id"), "id", U64_MAX);
            } catch (Malformed ignored) {
                id = null;
            }
        }
        try {
            if (!top.has("protocol")) {
                throw new Malformed("missing field `protocol`");
            }
            // A request of another version is refused as such, whatever its other fields.
            BigInteger version = readUint(top.get("protocol"), "protocol", U64_MAX);
            if (!version.equals(BigInteger.valueOf(VERSION))) {
                return new Parsed(null, id, "unsupported_protocol",
                        "protocol " + version + " is not supported: host-java speaks protocol " + VERSION);
            }
            Request request = readRequest(top);
            // chicory-sdk-core 0.3.0 has no timeout: Plugin.call runs the export to its end (Chicory's
            // interpreter stops on Thread.interrupt, but the SDK offers no deadline). A call the
            // SDK cannot stop is not started.
            if (request.limits().timeoutMs() != null) {
                return new Parsed(null, id, "unsupported_limit",
                        "limits.timeout_ms: " + Runner.SDK + " has no timeout");
            }
            return new Parsed(request, id, null, null);
        } catch (Malformed error) {
            return malformed(id, error.getMessage());
        }
    }

    private static Parsed malformed(BigInteger id, String message) {
        return new Parsed(null, id, "malformed_request", message);
    }

    private static Request readRequest(JsonNode top) throws Malformed {
        checkFields(top, "", REQUEST_FIELDS);
        String wasi = readString(top.get("wasi"), "wasi");
        if (!List.of("auto", "on", "off").contains(wasi)) {
            throw new Malformed("wasi: expected \"auto\", \"on\" or \"off\", got " + show(top.get("wasi")));
        }
        Runner.Level logLevel = Runner.Level.parse(readString(top.get("log_level"), "log_level"));
        if (logLevel == null) {
            throw new Malformed("log_level: expected \"trace\", \"debug\", \"info\", \"warn\", \"error\" or "
                    + "\"off\", got " + show(top.get("log_level")));
        }
        JsonNode calls = readArray(top.get("calls"), "calls");
        if (calls.isEmpty()) {
            throw new Malformed("calls: at least one call is needed");
        }
        var readCalls = new ArrayList<Call>();
        for (int i = 0; i < calls.size(); i++) {
            String path = "calls[" + i + "]";
            JsonNode call = calls.get(i);
            checkFields(call, path, CALL_FIELDS);
            readCalls.add(new Call(
                    readString(call.get("export"), path + ".export"),
                    readBytes(call.get("input"), path + ".input")));
        }
        return new Request(
                readUint(top.get("id"), "id", U64_MAX),
                readString(top.get("wasm"), "wasm"),
                readLinks(top.get("links")),
                wasi,
                readConfig(top.get("config")),
                logLevel,
                readStore(top.get("store")),
                readLimits(top.get("limits")),
                readCalls);
    }

    private static void checkFields(JsonNode node, String path, List<String> names) throws Malformed {
        if (!node.isObject()) {
            throw new Malformed(path + ": expected an object, got " + show(node));
        }
        var unknown = new TreeSet<String>();
        node.fieldNames().forEachRemaining(unknown::add);
        unknown.removeAll(names);
        if (!unknown.isEmpty()) {
            throw new Malformed("unknown field `" + join(path, unknown.first()) + "`");
        }
        for (String name : names) {
            if (!node.has(name)) {
                throw new Malformed("missing field `" + join(path, name) + "`");
            }
        }
    }

    private static String join(String path, String name) {
        return path.isEmpty() ? name : path + "." + name;
    }

    private static BigInteger readUint(JsonNode node, String path, BigInteger max) throws Malformed {
        if (node.getNodeType() != JsonNodeType.NUMBER || !node.isIntegralNumber() || node.bigIntegerValue().signum() < 0) {
            throw new Malformed(path + ": expected a non-negative integer, got " + show(node));
        }
        BigInteger value = node.bigIntegerValue();
        if (value.compareTo(max) > 0) {
            throw new Malformed(path + ": " + value + " is over the largest the SDK takes, " + max);
        }
        return value;
    }

    private static Long readLimit(JsonNode node, String path, long max) throws Malformed {
        if (node.isNull()) {
            return null;
        }
        if (node.getNodeType() != JsonNodeType.NUMBER || !node.isIntegralNumber() || node.bigIntegerValue().signum() < 0) {
            throw new Malformed(path + ": expected a non-negative integer or null, got " + show(node));
        }
        return readUint(node, path, BigInteger.valueOf(max)).longValueExact();
    }

    private static String readString(JsonNode node, String path) throws Malformed {
        if (!node.isTextual()) {
            throw new Malformed(path + ": expected a string, got " + show(node));
        }
        return wellFormed(node.textValue(), path);
    }

    /** JSON lets a string escape a lone surrogate, which no UTF-8 spells. */
    private static String wellFormed(String text, String path) throws Malformed {
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            if (Character.isHighSurrogate(c) && i + 1 < text.length() && Character.isLowSurrogate(text.charAt(i + 1))) {
                i++;
            } else if (Character.isSurrogate(c)) {
                throw new Malformed(path + ": not valid Unicode (a lone surrogate escape)");
            }
        }
        return text;
    }

    private static byte[] readBytes(JsonNode node, String path) throws Malformed {
        if (!node.isTextual()) {
            throw new Malformed(path + ": expected a base64 string, got " + show(node));
        }
        String text = node.textValue();
        byte[] data;
        try {
            data = Base64.getDecoder().decode(text);
        } catch (IllegalArgumentException error) {
            throw new Malformed(path + ": not standard base64 (RFC 4648, +/ and = padding): " + error.getMessage());
        }
        // Java's decoder takes a missing padding and non-zero padding bits; strict base64 has one
        // spelling for each byte string.
        if (!Base64.getEncoder().encodeToString(data).equals(text)) {
            throw new Malformed(path + ": not standard base64 (RFC 4648, +/ and = padding): " + show(node));
        }
        return data;
    }

    private static JsonNode readArray(JsonNode node, String path) throws Malformed {
        if (!node.isArray()) {
            throw new Malformed(path + ": expected an array, got " + show(node));
        }
        return node;
    }

    private static Map<String, String> readConfig(JsonNode node) throws Malformed {
        if (!node.isObject()) {
            throw new Malformed("config: expected an object, got " + show(node));
        }
        var config = new LinkedHashMap<String, String>();
        for (var entry : node.properties()) {
            String key = entry.getKey();
            wellFormed(key, "config");
            config.put(key, readString(entry.getValue(), "config[" + show(JSON.getNodeFactory().textNode(key)) + "]"));
        }
        return config;
    }

    /** A link's name is not empty, not the main module's and not another link's. */
    private static List<Link> readLinks(JsonNode node) throws Malformed {
        var links = new ArrayList<Link>();
        var first = new HashMap<String, Integer>();
        JsonNode entries = readArray(node, "links");
        for (int i = 0; i < entries.size(); i++) {
            String path = "links[" + i + "]";
            JsonNode entry = entries.get(i);
            checkFields(entry, path, LINK_FIELDS);
            String name = readString(entry.get("name"), path + ".name");
            if (name.isEmpty()) {
                throw new Malformed(path + ".name: a link's name cannot be empty");
            }
            if (name.equals(Runner.MAIN)) {
                throw new Malformed(path + ".name: a link cannot be named `main`, the main module's name");
            }
            Integer earlier = first.putIfAbsent(name, i);
            if (earlier != null) {
                throw new Malformed("link names must be distinct: " + path + ".name repeats links[" + earlier
                        + "].name, " + show(entry.get("name")));
            }
            links.add(new Link(name, readString(entry.get("wasm"), path + ".wasm")));
        }
        return links;
    }

    private static Map<Runner.Key, byte[]> readStore(JsonNode node) throws Malformed {
        var store = new HashMap<Runner.Key, byte[]>();
        var first = new HashMap<Runner.Key, Integer>();
        JsonNode entries = readArray(node, "store");
        for (int i = 0; i < entries.size(); i++) {
            String path = "store[" + i + "]";
            JsonNode entry = entries.get(i);
            checkFields(entry, path, STORE_FIELDS);
            var key = new Runner.Key(readBytes(entry.get("key"), path + ".key"));
            Integer earlier = first.putIfAbsent(key, i);
            if (earlier != null) {
                throw new Malformed("store keys must be distinct: " + path + ".key repeats store[" + earlier + "].key");
            }
            store.put(key, readBytes(entry.get("value"), path + ".value"));
        }
        return store;
    }

    private static Runner.Limits readLimits(JsonNode node) throws Malformed {
        checkFields(node, "limits", LIMIT_FIELDS);
        return new Runner.Limits(
                readLimit(node.get("timeout_ms"), "limits.timeout_ms", Long.MAX_VALUE),
                // Manifest.Options.withMemoryLimits takes an int of pages.
                readLimit(node.get("memory_max_pages"), "limits.memory_max_pages", Integer.MAX_VALUE),
                readLimit(node.get("max_key_len"), "limits.max_key_len", Long.MAX_VALUE),
                readLimit(node.get("max_value_len"), "limits.max_value_len", Long.MAX_VALUE));
    }

    private static String show(JsonNode node) {
        String text = node == null ? "nothing" : node.toString();
        return text.length() <= 40 ? text : text.substring(0, 40) + "...";
    }

    /** Makes the request's calls, in order, on one fresh instance, whatever each came to. */
    static List<Runner.Result> run(Runner.Modules modules, Runner.Engine engine, Request request) {
        var results = new ArrayList<Runner.Result>();
        try {
            // Each file is checked before it is read (Modules.get): main, then the links in order.
            Runner.Module module = modules.get(request.wasm());
            var links = new ArrayList<Runner.Linked>();
            for (Link link : request.links()) {
                try {
                    links.add(new Runner.Linked(link.name(), modules.get(link.wasm())));
                } catch (Runner.Failure failure) {
                    throw Runner.Failure.withMessage(failure.kind,
                            "link `" + link.name() + "`: " + failure.fields.get("message"));
                }
            }
            var instance = new Runner.Instance(module, links, engine, request.wasi(), request.config(),
                    request.logLevel(), request.limits());
            for (Call call : request.calls()) {
                results.add(instance.call(request.store(), request.limits(), call.export(), call.input()));
            }
        } catch (Runner.Failure failure) {
            failRest(results, request, failure);
        } catch (RuntimeException | Error error) {
            // A bug in host-java, or what the SDK or Chicory should not throw (an exception, a
            // StackOverflowError, a LinkageError from compiled code), not something a request may
            // end the host with: the calls it left unanswered fail, saying so.
            System.err.println("host-java: exception while answering request " + request.id() + ":");
            error.printStackTrace(System.err);
            failRest(results, request, Runner.Failure.withMessage("load",
                    "host-java failed (a bug in the adapter, or the SDK threw what it should not; the "
                            + "stack trace is on its stderr): " + error));
        }
        return results;
    }

    private static void failRest(List<Runner.Result> results, Request request, Runner.Failure failure) {
        while (results.size() < request.calls().size()) {
            results.add(new Runner.Result(null, failure, List.of(), List.of()));
        }
    }

    /** The answer line to one request line, without its newline. */
    static byte[] answer(Runner.Modules modules, Runner.Engine engine, byte[] line) throws IOException {
        Parsed parsed;
        try {
            parsed = parse(line);
        } catch (RuntimeException | Error error) {
            // Jackson refuses nesting deeper than StreamReadConstraints' 1000 levels itself, and
            // parse answers that as not JSON; whatever else goes wrong while reading the line is
            // still the request's answer, never the host's end.
            System.err.println("host-java: exception while reading a request:");
            error.printStackTrace(System.err);
            parsed = malformed(null, "host-java cannot read the line: " + error);
        }
        if (parsed.request() == null) {
            return errorAnswer(parsed.id(), parsed.errorKind(), parsed.errorMessage());
        }
        Request request = parsed.request();
        List<Runner.Result> results = run(modules, engine, request);
        var out = new ByteArrayOutputStream();
        try (JsonGenerator json = JSON.getFactory().createGenerator(out)) {
            json.writeStartObject();
            json.writeNumberField("protocol", VERSION);
            json.writeNumberField("id", request.id());
            json.writeArrayFieldStart("results");
            for (Runner.Result result : results) {
                writeResult(json, result);
            }
            json.writeEndArray();
            json.writeEndObject();
        }
        return out.toByteArray();
    }

    /** An error answer: protocol, id (null when the line had none to read), error's kind and message. */
    static byte[] errorAnswer(BigInteger id, String kind, String message) throws IOException {
        var out = new ByteArrayOutputStream();
        try (JsonGenerator json = JSON.getFactory().createGenerator(out)) {
            json.writeStartObject();
            json.writeNumberField("protocol", VERSION);
            if (id == null) {
                json.writeNullField("id");
            } else {
                json.writeNumberField("id", id);
            }
            json.writeObjectFieldStart("error");
            json.writeStringField("kind", kind);
            json.writeStringField("message", String.valueOf(message));
            json.writeEndObject();
            json.writeEndObject();
        }
        return out.toByteArray();
    }

    private static void writeResult(JsonGenerator json, Runner.Result result) throws IOException {
        json.writeStartObject();
        if (result.output() == null) {
            json.writeNullField("output");
        } else {
            json.writeStringField("output", Base64.getEncoder().encodeToString(result.output()));
        }
        if (result.failure() == null) {
            json.writeNullField("failure");
        } else {
            json.writeObjectFieldStart("failure");
            json.writeStringField("kind", result.failure().kind);
            for (var field : result.failure().fields.entrySet()) {
                json.writeObjectField(field.getKey(), field.getValue());
            }
            json.writeEndObject();
        }
        json.writeArrayFieldStart("trace");
        for (Runner.TraceEntry entry : result.trace()) {
            json.writeStartObject();
            json.writeStringField("function", Runner.HOST_MEMORY_GET);
            json.writeStringField("key", Base64.getEncoder().encodeToString(entry.key()));
            json.writeNumberField("value_len", entry.valueLen());
            json.writeEndObject();
        }
        json.writeEndArray();
        json.writeArrayFieldStart("logs");
        for (Runner.LogLine line : result.logs()) {
            json.writeStartObject();
            json.writeStringField("level", line.level().word);
            json.writeStringField("text", Base64.getEncoder().encodeToString(line.text()));
            json.writeEndObject();
        }
        json.writeEndArray();
        json.writeEndObject();
    }

    /** Answers request lines from in on out until end of input. */
    static void serve(InputStream in, OutputStream out, Runner.Engine engine) throws IOException {
        var modules = new Runner.Modules();
        var line = new Line();
        byte[] buffer = new byte[1 << 16];
        for (int read; (read = in.read(buffer)) >= 0; ) {
            int start = 0;
            for (int i = 0; i < read; i++) {
                if (buffer[i] == '\n') {
                    line.append(buffer, start, i - start);
                    start = i + 1;
                    answerTo(modules, engine, line, out);
                }
            }
            line.append(buffer, start, read - start);
        }
        // A last line without its newline is still a request.
        answerTo(modules, engine, line, out);
    }

    /** The line being read: its bytes, or only that it outgrew the heap (and is skipped to its end). */
    private static final class Line {
        private static final int KEEP = 1 << 20;
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        boolean tooLong;

        void append(byte[] buffer, int start, int length) {
            if (tooLong) {
                return;
            }
            try {
                bytes.write(buffer, start, length);
            } catch (OutOfMemoryError error) {
                // Lines are read without a length limit, up to what the heap holds; the bytes
                // are let go at once, so that the host can answer.
                bytes = new ByteArrayOutputStream();
                tooLong = true;
            }
        }

        /** Ready for the next line; a big buffer is let go rather than kept for every line after. */
        void clear() {
            tooLong = false;
            if (bytes.size() > KEEP) {
                bytes = new ByteArrayOutputStream();
            } else {
                bytes.reset();
            }
        }
    }

    private static void answerTo(Runner.Modules modules, Runner.Engine engine, Line line, OutputStream out)
            throws IOException {
        byte[] answer;
        try {
            if (line.tooLong) {
                answer = errorAnswer(null, "malformed_request", "the line is longer than host-java's heap holds ("
                        + Runtime.getRuntime().maxMemory() + " bytes)");
            } else {
                byte[] request = line.bytes.toByteArray();
                if (blank(request)) {
                    return; // a blank line is no request and gets no answer
                }
                answer = answer(modules, engine, request);
            }
        } catch (RuntimeException | Error error) {
            // answer catches what reading and running throw; this is the last net, so that no
            // line goes without an answer of every field.
            System.err.println("host-java: exception while answering a request:");
            error.printStackTrace(System.err);
            answer = errorAnswer(null, "malformed_request", "host-java failed answering the line: " + error);
        } finally {
            line.clear();
        }
        out.write(answer);
        out.write('\n');
        out.flush();
    }

    /** Whether line is only whitespace, as String.isBlank sees its bytes as ISO-8859-1 (without a copy). */
    private static boolean blank(byte[] line) {
        for (byte b : line) {
            if (!Character.isWhitespace((char) (b & 0xff))) {
                return false;
            }
        }
        return true;
    }

    /** For the unit tests: answers one line as serve would. */
    static String answerLine(Runner.Modules modules, Runner.Engine engine, String line) throws IOException {
        return new String(answer(modules, engine, line.getBytes(StandardCharsets.UTF_8)),
                StandardCharsets.UTF_8);
    }
}
