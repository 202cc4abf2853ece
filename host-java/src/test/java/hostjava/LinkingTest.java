package hostjava;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Linked modules (docs/protocol.md, "Linked modules") through whole requests, on each engine:
 * what chicory-sdk-core does with a manifest of several modules. The modules are
 * tests/cases/linking/modules/*.wat, compiled, their bytes here so that the tests need no
 * build of them.
 */
class LinkingTest {
    static final Map<String, String> WASM = Map.ofEntries(
            Map.entry("answer_lib", "AGFzbQEAAAABBQFgAAF/AwIBAAcKAQZhbnN3ZXIAAAoGAQQAQSoL"),
            Map.entry("answer_main", "AGFzbQEAAAABFARgAX4BfmACfn8AYAJ+fgBgAAF/Al4ED2V4dGlzbTpob3N0L2VudgVhbGxvYwAAD2V4dGlzbTpo"
                    + "b3N0L2VudghzdG9yZV91OAABD2V4dGlzbTpob3N0L2VudgpvdXRwdXRfc2V0AAIDbGliBmFuc3dlcgADAwIBAwUD"
                    + "AQABBxACBm1lbW9yeQIAA3J1bgAECjgBNgIBfwF+EAMhAEICEAAhASABQTAgAEEKbkEKcGoQASABQgF8QTAgAEEK"
                    + "cGoQASABQgIQAkEACwA+BG5hbWUBJgQABWFsbG9jAQhzdG9yZV91OAIKb3V0cHV0X3NldAMGYW5zd2VyAg8BBAIA"
                    + "BXZhbHVlAQNvdXQ="),
            Map.entry("chain_a", "AGFzbQEAAAABBQFgAAF/AgsBAWIFc2V2ZW4AAAMCAQAHCgEGYW5zd2VyAAEKCQEHABAAQQZsCwAPBG5hbWUBCAEA"
                    + "BXNldmVu"),
            Map.entry("chain_b", "AGFzbQEAAAABBQFgAAF/AwIBAAcJAQVzZXZlbgAACgYBBABBBws="),
            Map.entry("chain_main", "AGFzbQEAAAABFARgAX4BfmACfn8AYAJ+fgBgAAF/AlwED2V4dGlzbTpob3N0L2VudgVhbGxvYwAAD2V4dGlzbTpo"
                    + "b3N0L2VudghzdG9yZV91OAABD2V4dGlzbTpob3N0L2VudgpvdXRwdXRfc2V0AAIBYQZhbnN3ZXIAAwMCAQMFAwEA"
                    + "AQcQAgZtZW1vcnkCAANydW4ABAo4ATYCAX8BfhADIQBCAhAAIQEgAUEwIABBCm5BCnBqEAEgAUIBfEEwIABBCnBq"
                    + "EAEgAUICEAJBAAsAPgRuYW1lASYEAAVhbGxvYwEIc3RvcmVfdTgCCm91dHB1dF9zZXQDBmFuc3dlcgIPAQQCAAV2"
                    + "YWx1ZQEDb3V0"),
            Map.entry("counter_lib", "AGFzbQEAAAABBQFgAAF/AwIBAAYGAX8BQQALBwgBBG5leHQAAAoNAQsAIwBBAWokACMACwAPBG5hbWUHCAEABWNv"
                    + "dW50"),
            Map.entry("counter_main", "AGFzbQEAAAABFARgAX4BfmACfn8AYAJ+fgBgAAF/AlwED2V4dGlzbTpob3N0L2VudgVhbGxvYwAAD2V4dGlzbTpo"
                    + "b3N0L2VudghzdG9yZV91OAABD2V4dGlzbTpob3N0L2VudgpvdXRwdXRfc2V0AAIDbGliBG5leHQAAwMCAQMFAwEA"
                    + "AQcRAgZtZW1vcnkCAARuZXh0AAQKIAEeAQF+QgEQACEAIABBMBADQQpwahABIABCARACQQALADUEbmFtZQEkBAAF"
                    + "YWxsb2MBCHN0b3JlX3U4AgpvdXRwdXRfc2V0AwRuZXh0AggBBAEAA291dA=="),
            Map.entry("kernel_lib", "AGFzbQEAAAABJAhgAAF+YAF+AX9gAX4BfmACfn8AYAJ+fgBgAX4AYAAAYAABfwKsAQYPZXh0aXNtOmhvc3QvZW52"
                    + "DGlucHV0X2xlbmd0aAAAD2V4dGlzbTpob3N0L2Vudg1pbnB1dF9sb2FkX3U4AAEPZXh0aXNtOmhvc3QvZW52BWFs"
                    + "bG9jAAIPZXh0aXNtOmhvc3QvZW52CHN0b3JlX3U4AAMPZXh0aXNtOmhvc3QvZW52Cm91dHB1dF9zZXQABA9leHRp"
                    + "c206aG9zdC9lbnYJZXJyb3Jfc2V0AAUDAwIGBwUDAQABBw8CBGVjaG8ABgRmYWlsAAcKbQI1AQN+EAAhACAAEAIh"
                    + "AQJAA0AgAiAAWg0BIAEgAnwgAhABEAMgAkIBfCECDAALCyABIAAQBAs1AgF+AX9CFRACIQACQANAIAFBFU8NASAA"
                    + "IAGtfCABLQAAEAMgAUEBaiEBDAALCyAAEAVBAQsLGwEAQQALFWZhaWxlZCBpbiB0aGUgbGlicmFyeQCIAQRuYW1l"
                    + "AUYGAAxpbnB1dF9sZW5ndGgBDWlucHV0X2xvYWRfdTgCBWFsbG9jAwhzdG9yZV91OAQKb3V0cHV0X3NldAUJZXJy"
                    + "b3Jfc2V0AhoCBgMAA2xlbgEDb3V0AgFpBwIAA21zZwEBaQMdAgYCAARkb25lAQRuZXh0BwIABGRvbmUBBG5leHQ="),
            Map.entry("kernel_main", "AGFzbQEAAAABCAJgAABgAAF/AhcCA2xpYgRlY2hvAAADbGliBGZhaWwAAQMDAgEBBQMBAAEHGAMGbWVtb3J5AgAE"
                    + "ZWNobwACBGZhaWwAAwoNAgYAEABBAAsEABABCwAUBG5hbWUBDQIABGVjaG8BBGZhaWw="),
            Map.entry("lookup_lib", "AGFzbQEAAAABHAZgAAF+YAF+AX9gAX4BfmACfn8AYAJ+fgBgAAACvQEHD2V4dGlzbTpob3N0L2VudgxpbnB1dF9s"
                    + "ZW5ndGgAAA9leHRpc206aG9zdC9lbnYNaW5wdXRfbG9hZF91OAABD2V4dGlzbTpob3N0L2VudgVhbGxvYwACD2V4"
                    + "dGlzbTpob3N0L2VudgZsZW5ndGgAAg9leHRpc206aG9zdC9lbnYIc3RvcmVfdTgAAw9leHRpc206aG9zdC9lbnYK"
                    + "b3V0cHV0X3NldAAEA2Vudg1ob3N0TWVtb3J5R2V0AAIDAgEFBwoBBmxvb2t1cAAHCj8BPQEEfhAAIQAgABACIQEC"
                    + "QANAIAIgAFoNASABIAJ8IAIQARAEIAJCAXwhAgwACwsgARAGIQMgAyADEAMQBQsAeQRuYW1lAUgHAAxpbnB1dF9s"
                    + "ZW5ndGgBDWlucHV0X2xvYWRfdTgCBWFsbG9jAwZsZW5ndGgECHN0b3JlX3U4BQpvdXRwdXRfc2V0BgNnZXQCFwEH"
                    + "BAADbGVuAQNrZXkCAWkDBXZhbHVlAw8BBwIABGRvbmUBBG5leHQ="),
            Map.entry("lookup_main", "AGFzbQEAAAABCAJgAABgAAF/Ag4BA2xpYgZsb29rdXAAAAMCAQEFAwEAAQcTAgZtZW1vcnkCAAZsb29rdXAAAQoI"
                    + "AQYAEABBAAsAEARuYW1lAQkBAAZsb29rdXA="),
            Map.entry("trap_lib", "AGFzbQEAAAABBAFgAAADAgEABwgBBGJvb20AAAoFAQMAAAs="),
            Map.entry("trap_main", "AGFzbQEAAAABCAJgAABgAAF/AgwBA2xpYgRib29tAAADAgEBBQMBAAEHEAIGbWVtb3J5AgADcnVuAAEKCAEGABAA"
                    + "QQALAA4EbmFtZQEHAQAEYm9vbQ=="));


    @TempDir
    static Path dir;

    @BeforeAll
    static void writeModules() throws IOException {
        for (var module : WASM.entrySet()) {
            Files.write(path(module.getKey()), Base64.getDecoder().decode(module.getValue()));
        }
    }

    static Path path(String module) {
        return dir.resolve(module + ".wasm");
    }

    /** ProtocolTest's good request on module main, linked with each name=module given, in order. */
    static ObjectNode request(String main, String... namesAndModules) {
        ObjectNode request = ProtocolTest.good().put("wasm", path(main).toString());
        ArrayNode links = request.putArray("links");
        for (int i = 0; i < namesAndModules.length; i += 2) {
            links.addObject().put("name", namesAndModules[i]).put("wasm", path(namesAndModules[i + 1]).toString());
        }
        return request;
    }

    /** A load failure, its message containing says, for each of results. */
    static void loadFailures(List<JsonNode> results, String says) {
        for (JsonNode result : results) {
            JsonNode failure = result.get("failure");
            assertEquals(Set.of("kind", "message"), ProtocolTest.names(failure), failure::toString);
            assertEquals("load", failure.get("kind").textValue(), failure::toString);
            assertTrue(failure.get("message").textValue().contains(says), () -> "expected `" + says + "`: " + failure);
            assertEquals(0, result.get("trace").size(), result::toString);
        }
    }

    /** The same requests on either engine (the AoT engine compiles every module of each). */
    abstract static class OnEngine {
        final Runner.Engine engine;
        final Runner.Modules modules = new Runner.Modules();

        OnEngine(Runner.Engine engine) {
            this.engine = engine;
        }

        List<JsonNode> answer(ObjectNode request, int calls) throws IOException {
            String text = Protocol.answerLine(modules, engine, request.toString());
            return ProtocolTest.results(ProtocolTest.JSON.readTree(text), 7, calls);
        }

        @Test
        void mainCallsTheLibrary() throws IOException {
            ObjectNode request = request("answer_main", "lib", "answer_lib");
            ProtocolTest.calls(request, "run", "");
            assertEquals("42", ProtocolTest.text(answer(request, 1).get(0)), engine.word);
        }

        @Test
        void theLibrarysStateLastsForTheInstance() throws IOException {
            ObjectNode request = request("counter_main", "lib", "counter_lib");
            ProtocolTest.calls(request, "next", "", "next", "", "next", "");
            assertEquals(List.of("1", "2", "3"), answer(request, 3).stream().map(ProtocolTest::text).toList());
            // The next request gets fresh instances of both modules.
            ProtocolTest.calls(request, "next", "");
            assertEquals("1", ProtocolTest.text(answer(request, 1).get(0)), engine.word);
        }

        @Test
        void theLibraryUsesTheCallsKernelAndHostFunctions() throws IOException {
            // The SDK links every module to the one kernel and the one hostMemoryGet.
            ObjectNode request = request("kernel_main", "lib", "kernel_lib");
            ProtocolTest.calls(request, "echo", ProtocolTest.b64("hi"), "fail", "");
            List<JsonNode> results = answer(request, 2);
            assertEquals("hi", ProtocolTest.text(results.get(0)), engine.word);
            JsonNode failure = results.get(1).get("failure");
            assertEquals("plugin", failure.get("kind").textValue(), failure::toString);
            assertEquals("failed in the library", failure.get("message").textValue(), failure::toString);
            request = request("lookup_main", "lib", "lookup_lib");
            request.putArray("store").addObject().put("key", ProtocolTest.b64("hello")).put("value", ProtocolTest.b64("world"));
            ProtocolTest.calls(request, "lookup", ProtocolTest.b64("hello"));
            JsonNode result = answer(request, 1).get(0);
            assertEquals("world", ProtocolTest.text(result), engine.word);
            assertEquals(1, result.get("trace").size(), result::toString);
            assertEquals(ProtocolTest.b64("hello"), result.get("trace").get(0).get("key").textValue());
            assertEquals(5, result.get("trace").get(0).get("value_len").intValue());
        }

        @Test
        void aTrapInTheLibraryIsATrap() throws IOException {
            ObjectNode request = request("trap_main", "lib", "trap_lib");
            ProtocolTest.calls(request, "run", "");
            JsonNode failure = answer(request, 1).get(0).get("failure");
            assertEquals("trap", failure.get("kind").textValue(), failure::toString);
        }

        @Test
        void aChainLinksInEitherOrder() throws IOException {
            // a imports from b: the SDK instantiates what each module imports first, whatever
            // the manifest's order.
            for (ObjectNode request : List.of(
                    request("chain_main", "a", "chain_a", "b", "chain_b"),
                    request("chain_main", "b", "chain_b", "a", "chain_a"))) {
                ProtocolTest.calls(request, "run", "");
                assertEquals("42", ProtocolTest.text(answer(request, 1).get(0)), request::toString);
            }
        }

        @Test
        void theSameBytesUnderTwoNames() throws IOException {
            // Only the modules main reaches are instantiated: spare is not.
            ObjectNode request = request("answer_main", "spare", "answer_lib", "lib", "answer_lib");
            ProtocolTest.calls(request, "run", "");
            JsonNode result = answer(request, 1).get(0);
            if (engine == Runner.Engine.INTERPRETER) {
                assertEquals("42", ProtocolTest.text(result));
            } else {
                // FIXME(chicory-sdk-core 0.3.0): CachedAotMachineFactory keys its machines by
                // WasmModule, equal by content, so lib gets spare's and Chicory refuses them.
                loadFailures(List.of(result), "Instance module does not match factory module");
            }
        }

        @Test
        void anImportNoModuleProvidesIsALoadFailure() throws IOException {
            ObjectNode request = request("answer_main");
            ProtocolTest.calls(request, "run", "", "run", "");
            // The SDK's ExtismException says "Unresolved symbols"; its warnings name the symbol.
            loadFailures(answer(request, 2), "lib.answer");
            request = request("answer_main", "lib", "counter_lib");
            ProtocolTest.calls(request, "run", "");
            loadFailures(answer(request, 1), "lib.answer");
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
