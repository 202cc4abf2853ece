// host-go runs Extism plugins with env.hostMemoryGet, on the Extism Go SDK (wazero): the Go twin
// of the Rust host in ../host. See ../CONTRACT.md for the plugin contract.
package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
)

const usage = `host-go runs Extism plugins with env.hostMemoryGet (Extism Go SDK on wazero)

usage:
  host-go demo LABEL=PATH...         say_hello of each plugin, as the seed's Go host calls it
  host-go call [flags] WASM EXPORT   call one export; its output goes to stdout unchanged
  host-go serve                      answer conformance protocol v3 requests on stdin (docs/protocol.md)

call flags:
  --input TEXT        the input
  --input-file FILE   read the input from FILE (- for stdin); with neither flag, stdin is read
                      unless it is a terminal
  --store FILE        the store: a JSON object of string keys to string values
                      (default: the seed's hello and message)
  --set KEY=VALUE     add or replace a store entry (repeatable)
  --config KEY=VALUE  an Extism config entry the plugin can read (repeatable)
  --wasi WHEN         give the plugin WASI: auto (when the module imports
                      wasi_snapshot_preview1; the default), on or off
  --timeout DURATION  interrupt the call after DURATION (500ms, 2s; default 30s, 0 for none)
  --memory-max PAGES  let memory grow by at most PAGES of 64 KiB (the plugin's and the
                      kernel's together, as in the Rust host); the plugin's initial memory
                      must fit in PAGES too (default 4096, 0 for none)
  keys over 1 MiB and values over 64 MiB are refused, as in the Rust host
  --trace             print each host call on stderr
  --log-level LEVEL   print the log lines at LEVEL or above on stderr: trace, debug, info,
                      warn, error or off (the default); at debug and trace go-sdk's own
                      lines come too

exit codes:
  0  ok
  1  the plugin reported an error, or returned non-zero
  2  bad usage
  3  cannot load the plugin (a module file that is missing, not a regular file or over
     128 MiB is refused without being read), the store file or the input file
  4  no such export
  5  the plugin trapped or exited with a non-zero code
  6  timed out
  7  out of memory
  8  a host function refused the call (bad offset, key or value over its limit)
`

// seedInput is the seed's call: what its Go host passes to say_hello.
const seedInput = "👋 Hello from the Go Host app 🤗"

// exitError ends the program with a code and, unless the message is empty, one line on stderr.
type exitError struct {
	code    int
	message string
}

func (e *exitError) Error() string { return e.message }

func usageError(format string, args ...any) error {
	return &exitError{code: exitUsage, message: fmt.Sprintf(format, args...)}
}

// errHelp means --help was asked for: usage on stdout, exit 0.
var errHelp = errors.New("help")

func main() {
	// Nothing but our own output may reach stdout: go-sdk sends the plugin's WASI output there
	// when EXTISM_ENABLE_WASI_OUTPUT is set, and prints one of its errors with fmt.Println.
	stdout := os.Stdout
	os.Stdout = os.Stderr
	os.Exit(run(os.Args[1:], os.Stdin, stdout, os.Stderr))
}

// run is the whole program, for tests: it returns the exit code.
func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	err := dispatch(args, stdin, stdout, stderr)
	if err == nil {
		return exitOK
	}
	if errors.Is(err, errHelp) {
		io.WriteString(stdout, usage)
		return exitOK
	}
	var exit *exitError
	if !errors.As(err, &exit) {
		exit = &exitError{code: exitLoad, message: err.Error()}
	}
	if exit.message != "" {
		fmt.Fprintf(stderr, "error: %s\n", exit.message)
	}
	return exit.code
}

func dispatch(args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return usageError("missing subcommand (demo, call or serve); see host-go --help")
	}
	command, rest := args[0], args[1:]
	switch command {
	case "-h", "-help", "--help", "help":
		return errHelp
	case "demo":
		return demo(rest, stdout, stderr)
	case "call":
		return call(rest, stdin, stdout, stderr)
	case "serve":
		if len(rest) > 0 {
			return usageError("serve takes no arguments, got %q", rest[0])
		}
		if err := serve(stdin, stdout); err != nil {
			return &exitError{code: exitLoad, message: err.Error()}
		}
		return nil
	}
	return usageError("unknown subcommand %q (expected demo, call or serve)", command)
}

// failureExit ends the program as a failed call does: its exit code, its sentence.
func failureExit(f *Failure) error {
	return &exitError{code: f.ExitCode(), message: f.Error()}
}

// demo calls say_hello as the seed's Go host does, with the seed's store and input: the seed's
// lines on stdout, each plugin's label on stderr first, as the Rust host's demo prints them.
func demo(args []string, stdout, stderr io.Writer) error {
	type labelled struct{ label, path string }
	var plugins []labelled
	for _, arg := range args {
		if arg == "-h" || arg == "--help" {
			return errHelp
		}
		label, path, found := strings.Cut(arg, "=")
		if !found || label == "" || path == "" {
			return usageError("expected LABEL=PATH, got %q", arg)
		}
		plugins = append(plugins, labelled{label, path})
	}
	if len(plugins) == 0 {
		return usageError("demo needs at least one LABEL=PATH")
	}
	for _, p := range plugins {
		fmt.Fprintf(stderr, "── %s: %s\n", p.label, p.path)
		compiled, failure := loadPlugin(p.path, nil, Options{Limits: defaultLimits})
		if failure != nil {
			return failureExit(failure)
		}
		result := compiled.Call(seedStore(), "say_hello", []byte(seedInput))
		compiled.Close()
		if result.Failure != nil {
			return failureExit(result.Failure)
		}
		// The seed's host prints the output as text after "🙂 "; the bytes go out unchanged.
		line := append([]byte("🙂 "), result.Output...)
		if _, err := stdout.Write(append(line, '\n')); err != nil {
			return fmt.Errorf("cannot write to stdout: %w", err)
		}
	}
	return nil
}
