package hostjava;

import java.io.BufferedOutputStream;
import java.io.FileDescriptor;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * host-java runs Extism plugins with env.hostMemoryGet on the Extism Java SDK on Chicory
 * (chicory-sdk-core 0.3.0, Chicory 1.4.0), with Chicory's interpreter or its AoT compiler: a
 * conformance adapter beside host-go. See ../CONTRACT.md and ../docs/protocol.md.
 */
public final class Main {
    static final String USAGE = """
            host-java runs Extism plugins with env.hostMemoryGet (Extism Java SDK on Chicory)

            usage:
              host-java [--engine E] serve                        answer conformance protocol v3 requests on stdin
              host-java [--engine E] demo LABEL=PATH...           say_hello of each plugin, as the seed's Go host calls it
              host-java [--engine E] bench --out DIR LANG=PATH... time calls and instances; DIR/figures.json

            --engine interpreter (the default) or aot: Chicory's interpreter, or its compiler to JVM bytecode
            """;

    /** The seed's call: its store and what its Go host passes to say_hello. */
    static final Map<Runner.Key, byte[]> SEED_STORE = new HashMap<>();

    static final byte[] SEED_INPUT = "👋 Hello from the Go Host app 🤗".getBytes(StandardCharsets.UTF_8);

    static {
        SEED_STORE.put(key("hello"), "👋 Hello World 🌍".getBytes(StandardCharsets.UTF_8));
        SEED_STORE.put(key("message"), "I 💜 Extism 😍".getBytes(StandardCharsets.UTF_8));
    }

    static Runner.Key key(String text) {
        return new Runner.Key(text.getBytes(StandardCharsets.UTF_8));
    }

    private Main() {}

    static final class UsageError extends Exception {
        private static final long serialVersionUID = 1L;

        UsageError(String message) {
            super(message);
        }
    }

    record Labelled(String label, String path) {}

    static List<Labelled> labelled(List<String> args) throws UsageError {
        var plugins = new ArrayList<Labelled>();
        for (String arg : args) {
            int eq = arg.indexOf('=');
            if (eq <= 0 || eq == arg.length() - 1) {
                throw new UsageError("expected LABEL=PATH, got `" + arg + "`");
            }
            plugins.add(new Labelled(arg.substring(0, eq), arg.substring(eq + 1)));
        }
        if (plugins.isEmpty()) {
            throw new UsageError("at least one LABEL=PATH is needed");
        }
        return plugins;
    }

    static int demo(Runner.Engine engine, List<Labelled> plugins) throws IOException {
        var modules = new Runner.Modules();
        for (Labelled plugin : plugins) {
            System.err.println("── " + plugin.label() + ": " + plugin.path());
            Runner.Result result;
            try {
                var instance = new Runner.Instance(
                        modules.get(plugin.path()), List.of(), engine, "auto", Map.of(), Runner.Level.OFF, Runner.Limits.DEFAULT);
                result = instance.call(SEED_STORE, Runner.Limits.DEFAULT, "say_hello", SEED_INPUT);
            } catch (Runner.Failure failure) {
                System.err.println("error: " + failure.fields.getOrDefault("message", failure.describe()));
                return 3;
            }
            if (result.failure() != null) {
                System.err.println("error: plugin " + plugin.path() + " failed in export say_hello: "
                        + result.failure().describe());
                return 1;
            }
            System.out.write("🙂 ".getBytes(StandardCharsets.UTF_8));
            System.out.write(result.output());
            System.out.write('\n');
            System.out.flush();
        }
        return 0;
    }

    static int run(String[] argv) throws IOException {
        var args = new ArrayList<>(Arrays.asList(argv));
        try {
            var engine = Runner.Engine.INTERPRETER;
            if (!args.isEmpty() && args.get(0).startsWith("--engine")) {
                String flag = args.remove(0);
                String word;
                if (flag.startsWith("--engine=")) {
                    word = flag.substring("--engine=".length());
                } else if (flag.equals("--engine") && !args.isEmpty()) {
                    word = args.remove(0);
                } else {
                    throw new UsageError("--engine needs interpreter or aot");
                }
                try {
                    engine = Runner.Engine.parse(word);
                } catch (IllegalArgumentException error) {
                    throw new UsageError(error.getMessage());
                }
            }
            String command = args.isEmpty() ? null : args.remove(0);
            if (command == null) {
                throw new UsageError("missing subcommand");
            }
            switch (command) {
                case "-h", "--help" -> {
                    System.out.print(USAGE);
                    return 0;
                }
                case "serve" -> {
                    if (!args.isEmpty()) {
                        throw new UsageError("serve takes no arguments, got `" + args.get(0) + "`");
                    }
                    // Nothing but answers may reach stdout: they get the descriptor, and whatever
                    // else prints to System.out goes to stderr.
                    var answers = new BufferedOutputStream(new FileOutputStream(FileDescriptor.out), 1 << 16);
                    System.setOut(new PrintStream(new FileOutputStream(FileDescriptor.err), true, StandardCharsets.UTF_8));
                    Protocol.serve(System.in, answers, engine);
                    return 0;
                }
                case "demo" -> {
                    return demo(engine, labelled(args));
                }
                case "bench" -> {
                    if (args.size() < 2 || !args.get(0).equals("--out")) {
                        throw new UsageError("bench needs --out DIR, then LANG=PATH...");
                    }
                    return Bench.bench(engine, args.get(1), labelled(args.subList(2, args.size())));
                }
                default -> throw new UsageError("unknown subcommand `" + command + "`");
            }
        } catch (UsageError error) {
            System.err.println("error: " + error.getMessage() + "; see host-java --help");
            return 2;
        }
    }

    public static void main(String[] argv) throws IOException {
        System.exit(run(argv));
    }
}
