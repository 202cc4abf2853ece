package hostjava;

import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * host-java bench: the scenarios and names of ../host-go/bench_test.go, timed with
 * System.nanoTime loops after a warm-up (the JIT compiles the SDK, Chicory and, with the AoT
 * engine, the module's own bytecode), written to DIR/figures.json as {"figures": [{"id",
 * "mean_ns"}, ...]}.
 */
final class Bench {
    /** Each figure runs for about this long after as long again of untimed warm-up, and at least MIN_RUNS times. */
    private static final long BUDGET_NS = 1_500_000_000L;

    private static final int MIN_RUNS = 3;

    private Bench() {}

    static final class BenchError extends Exception {
        private static final long serialVersionUID = 1L;

        BenchError(String message) {
            super(message);
        }
    }

    /** One figure as figures.json holds it: {"id", "mean_ns"}. */
    record Figure(String id, @JsonProperty("mean_ns") double meanNs) {}

    record Scenario(String name, String export, Map<Runner.Key, byte[]> store, byte[] input, byte[] expected) {}

    static byte[] repeat(String pattern, int bytes) {
        return pattern.repeat(bytes / pattern.length()).getBytes(StandardCharsets.UTF_8);
    }

    static List<Scenario> scenarios() {
        var values = new HashMap<Runner.Key, byte[]>();
        values.put(Main.key("empty"), new byte[0]);
        values.put(Main.key("1KiB"), repeat("0123456789abcdef", 1024));
        values.put(Main.key("1MiB"), repeat("0123456789abcdef", 1 << 20));
        byte[] hello = ("👋 Hello " + new String(Main.SEED_INPUT, StandardCharsets.UTF_8)
                        + "\nkey: hello, value: 👋 Hello World 🌍\nkey: message, value: I 💜 Extism 😍")
                .getBytes(StandardCharsets.UTF_8);
        return List.of(
                new Scenario("noop", "noop", Main.SEED_STORE, new byte[0], new byte[0]),
                new Scenario("say_hello", "say_hello", Main.SEED_STORE, Main.SEED_INPUT, hello),
                new Scenario("get_0B", "lookup", values, Main.key("empty").bytes(), new byte[0]),
                new Scenario("get_1KiB", "lookup", values, Main.key("1KiB").bytes(), values.get(Main.key("1KiB"))),
                new Scenario("get_1MiB", "lookup", values, Main.key("1MiB").bytes(), values.get(Main.key("1MiB"))));
    }

    /** A step returns the nanoseconds it counts; the mean is over a loop of about BUDGET_NS. */
    interface Step {
        long run() throws Exception;
    }

    static double meanNs(Step step) throws Exception {
        long warm = System.nanoTime();
        while (System.nanoTime() - warm < BUDGET_NS) {
            step.run();
        }
        long runs = 0;
        long counted = 0;
        long start = System.nanoTime();
        while (runs < MIN_RUNS || System.nanoTime() - start < BUDGET_NS) {
            counted += step.run();
            runs++;
        }
        return (double) counted / runs;
    }

    static Step timed(Runnable action) {
        return () -> {
            long start = System.nanoTime();
            action.run();
            return System.nanoTime() - start;
        };
    }

    static void check(Runner.Result result, String name, byte[] expected) throws BenchError {
        if (result.failure() != null || !java.util.Arrays.equals(result.output(), expected)) {
            String got = result.failure() != null ? result.failure().describe() : result.output().length + " bytes";
            throw new BenchError(name + ": got " + got + ", expected " + expected.length + " bytes");
        }
    }

    static Runner.Instance instance(Runner.Module module, Runner.Engine engine) throws Runner.Failure {
        return new Runner.Instance(module, List.of(), engine, "auto", Map.of(), Runner.Level.OFF, Runner.Limits.DEFAULT);
    }

    static void benchLanguage(Runner.Engine engine, String lang, Runner.Module module, List<Figure> figures) throws Exception {
        var limits = Runner.Limits.DEFAULT;
        for (Scenario scenario : scenarios()) {
            // One instance made once and reused; its first call is checked against the
            // contract's output, the others by length.
            var plugin = instance(module, engine);
            check(plugin.call(scenario.store(), limits, scenario.export(), scenario.input()), scenario.name(), scenario.expected());
            double ns = meanNs(() -> {
                long start = System.nanoTime();
                var result = plugin.call(scenario.store(), limits, scenario.export(), scenario.input());
                long elapsed = System.nanoTime() - start;
                if (result.failure() != null || result.output().length != scenario.expected().length) {
                    throw new BenchError(scenario.name() + ": " + (result.failure() != null ? result.failure().describe() : result.output().length));
                }
                return elapsed;
            });
            figure(figures, "call/" + lang + "/" + scenario.name(), ns);
        }
        // Plugin.build() links the kernel and the module and runs a reactor's _initialize: the
        // instance is ready then. With the AoT engine it also compiles both (the SDK keeps no
        // compiled module from one instance to the next).
        double ns = meanNs(() -> {
            long start = System.nanoTime();
            instance(module, engine);
            return System.nanoTime() - start;
        });
        figure(figures, "instance/" + lang, ns);
    }

    static void figure(List<Figure> figures, String id, double ns) {
        figures.add(new Figure(id, ns));
        System.err.printf("  %s: %.1f µs%n", id, ns / 1000);
    }

    static int bench(Runner.Engine engine, String out, List<Main.Labelled> plugins) throws IOException {
        System.err.println("host-java bench: chicory-sdk-core on Chicory, engine " + engine.word);
        var figures = new ArrayList<Figure>();
        var modules = new Runner.Modules();
        for (Main.Labelled plugin : plugins) {
            System.err.println("── " + plugin.label() + ": " + plugin.path());
            try {
                benchLanguage(engine, plugin.label(), modules.get(plugin.path()), figures);
            } catch (Runner.Failure failure) {
                System.err.println("error: bench of " + plugin.label() + " (" + plugin.path() + "): " + failure.describe());
                return 1;
            } catch (Exception error) {
                System.err.println("error: bench of " + plugin.label() + " (" + plugin.path() + "): " + error.getMessage());
                return 1;
            }
        }
        Path dir = Path.of(out);
        Files.createDirectories(dir);
        Path file = dir.resolve("figures.json");
        new ObjectMapper().writerWithDefaultPrettyPrinter().writeValue(file.toFile(), Map.of("figures", figures));
        System.err.println("host-java bench: " + figures.size() + " figures in " + file);
        return 0;
    }
}
