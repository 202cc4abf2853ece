package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tetratelabs/wazero/sys"
)

func TestParseStoreJSON(t *testing.T) {
	store, err := parseStoreJSON([]byte(` {"hello": "hi", "": "empty key", "k": "a=b", "k": "last wins"} `))
	if err != nil {
		t.Fatal(err)
	}
	want := Store{"hello": []byte("hi"), "": []byte("empty key"), "k": []byte("last wins")}
	if fmt.Sprint(store) != fmt.Sprint(want) {
		t.Fatalf("got %q", store)
	}
	if store.Get([]byte("absent")) != nil {
		t.Fatal("a missing key gives an empty value")
	}
	for _, bad := range []string{``, `null`, `[]`, `"x"`, `{"a": 1}`, `{"a": null}`, `{"a": "b"`, `{"a": "b"} {}`, `{"a": "b"} x`} {
		if _, err := parseStoreJSON([]byte(bad)); err == nil {
			t.Errorf("%q was accepted", bad)
		}
	}
	if store, err := parseStoreJSON([]byte(`{}`)); err != nil || len(store) != 0 {
		t.Fatalf("{}: %v %v", store, err)
	}
}

func TestParseSet(t *testing.T) {
	for arg, want := range map[string][2]string{
		"hello=world": {"hello", "world"},
		"k=a=b":       {"k", "a=b"},
		"=v":          {"", "v"},
		"k=":          {"k", ""},
	} {
		key, value, err := parseSet(arg)
		if err != nil || key != want[0] || value != want[1] {
			t.Errorf("%q: %q %q %v", arg, key, value, err)
		}
	}
	if _, _, err := parseSet("novalue"); err == nil {
		t.Error("novalue was accepted")
	}
}

func TestClassify(t *testing.T) {
	trap := errors.New("wasm error: unreachable\nwasm stack trace:\n\t.$1() i32")
	refused := fmt.Errorf("%w (recovered by wazero)\nwasm stack trace:\n\t.$1() i32", errMemoryCap)
	timeout := Limits{Timeout: limitOf(time.Second)}
	capped := Limits{MemoryMaxPages: limitOf[uint32](48)}
	for name, c := range map[string]struct {
		in   outcome
		want *Failure
	}{
		"ok":                      {outcome{}, nil},
		"return code":             {outcome{rc: 1}, &Failure{Kind: kindReturnCode, Code: 1}},
		"plugin error":            {outcome{rc: 1, err: errors.New("boom"), kernelError: "boom"}, &Failure{Kind: kindPlugin, Message: "boom"}},
		"plugin error, rc 0":      {outcome{err: errors.New("boom"), kernelError: "boom"}, &Failure{Kind: kindPlugin, Message: "boom"}},
		"trap":                    {outcome{rc: 1, err: trap}, &Failure{Kind: kindTrap, Message: "wasm error: unreachable"}},
		"error set, then trap":    {outcome{rc: 1, err: trap, kernelError: "boom"}, &Failure{Kind: kindTrap, Message: "wasm error: unreachable"}},
		"exit":                    {outcome{rc: 2, err: sys.NewExitError(2)}, &Failure{Kind: kindExit, Code: 2}},
		"host function":           {outcome{rc: 1, err: trap, hostFailure: &Failure{Kind: kindHostFunction, Message: "hostMemoryGet: no"}}, &Failure{Kind: kindHostFunction, Message: "hostMemoryGet: no"}},
		"timeout":                 {outcome{err: sys.NewExitError(sys.ExitCodeDeadlineExceeded), limits: timeout}, &Failure{Kind: kindTimeout}},
		"deadline, other error":   {outcome{err: errors.New("failed to initialize runtime: x"), deadline: true, limits: timeout}, &Failure{Kind: kindTimeout}},
		"deadline without limit":  {outcome{err: sys.NewExitError(sys.ExitCodeDeadlineExceeded)}, &Failure{Kind: kindExit, Code: -268435457}},
		"plugin says timeout":     {outcome{err: errors.New("timeout"), kernelError: "timeout", limits: timeout}, &Failure{Kind: kindPlugin, Message: "timeout"}},
		"memory cap":              {outcome{err: refused, limits: capped}, &Failure{Kind: kindOutOfMemory}},
		"memory cap, flag only":   {outcome{err: trap, memoryCap: true, limits: capped}, &Failure{Kind: kindOutOfMemory}},
		"memory cap, call worked": {outcome{memoryCap: true, limits: capped}, nil},
	} {
		got := classify(c.in)
		if fmt.Sprint(got) != fmt.Sprint(c.want) {
			t.Errorf("%s: got %+v, want %+v", name, got, c.want)
		}
	}
}

func TestFailureSentencesAndExitCodes(t *testing.T) {
	for _, c := range []struct {
		failure Failure
		text    string
		code    int
	}{
		{Failure{Kind: kindPlugin, Message: "boom"}, "plugin p failed in export e: plugin error: boom", 1},
		{Failure{Kind: kindReturnCode, Code: 3}, "plugin p failed in export e: returned 3 without an error message", 1},
		{Failure{Kind: kindLoad, Message: "bad"}, "cannot load plugin p: bad", 3},
		{Failure{Kind: kindMissingExp}, "plugin p has no export e of type () -> i32", 4},
		{Failure{Kind: kindTrap, Message: "wasm error: unreachable"}, "plugin p failed in export e: trap: wasm error: unreachable", 5},
		{Failure{Kind: kindExit, Code: 2}, "plugin p failed in export e: exited with code 2", 5},
		{Failure{Kind: kindTimeout}, "plugin p failed in export e: timed out", 6},
		{Failure{Kind: kindOutOfMemory}, "plugin p failed in export e: out of memory", 7},
		{Failure{Kind: kindHostFunction, Message: "no"}, "plugin p failed in export e: host function error: no", 8},
	} {
		c.failure.Plugin, c.failure.Export = "p", "e"
		if got := c.failure.Error(); got != c.text {
			t.Errorf("got %q, want %q", got, c.text)
		}
		if got := c.failure.ExitCode(); got != c.code {
			t.Errorf("%s: exit %d, want %d", c.failure.Kind, got, c.code)
		}
	}
}

func TestMemoryCap(t *testing.T) {
	limit := newMemoryCap(2)
	kernel := limit.Allocate(16*pageSize, 0)
	plugin := limit.Allocate(pageSize, 0)
	// Initial sizes are free, whatever the cap.
	if len(kernel.Reallocate(16*pageSize)) != 16*pageSize || len(plugin.Reallocate(pageSize)) != pageSize {
		t.Fatal("initial sizes")
	}
	// The memories share the growth the cap allows.
	if grown := kernel.Reallocate(17 * pageSize); len(grown) != 17*pageSize || grown[17*pageSize-1] != 0 {
		t.Fatal("growth within the cap")
	}
	if len(plugin.Reallocate(2*pageSize)) != 2*pageSize || limit.refused.Load() {
		t.Fatal("growth up to the cap")
	}
	defer func() {
		if recovered := recover(); recovered != errMemoryCap || !limit.refused.Load() {
			t.Fatalf("recovered %v", recovered)
		}
	}()
	plugin.Reallocate(3 * pageSize)
	t.Fatal("growth past the cap was allowed")
}

func TestInitialMemoryPages(t *testing.T) {
	if pages, ok := initialMemoryPages(probeModule()); !ok || pages != 1 {
		t.Fatalf("probe: %d %v", pages, ok)
	}
	noMemory := []byte("\x00asm\x01\x00\x00\x00")
	if pages, ok := initialMemoryPages(noMemory); !ok || pages != 0 {
		t.Fatalf("no memory: %d %v", pages, ok)
	}
	if _, ok := initialMemoryPages(append(noMemory, 5, 9, 1)); ok {
		t.Fatal("a truncated section was read")
	}
}

func TestCallState(t *testing.T) {
	state := &callState{}
	if got := withCallState(context.Background(), state).Value(callStateKey{}); got != state {
		t.Fatal("the state does not travel in the context")
	}
}

// cli runs the program with args and returns its exit code, stdout and stderr.
func cli(args []string, stdin string) (int, string, string) {
	var stdout, stderr bytes.Buffer
	code := run(args, strings.NewReader(stdin), &stdout, &stderr)
	return code, stdout.String(), stderr.String()
}

func TestUsageErrors(t *testing.T) {
	for _, args := range [][]string{
		{},
		{"frobnicate"},
		{"call"},
		{"call", "a.wasm"},
		{"call", "a.wasm", "e", "extra"},
		{"call", "--bogus", "a.wasm", "e"},
		{"call", "--set", "novalue", "a.wasm", "e"},
		{"call", "--timeout", "soon", "a.wasm", "e"},
		{"call", "--timeout", "-1s", "a.wasm", "e"},
		{"call", "--memory-max", "65537", "a.wasm", "e"},
		{"call", "--memory-max", "-1", "a.wasm", "e"},
		{"call", "--input", "x", "--input-file", "f", "a.wasm", "e"},
		{"call", "--wasi", "maybe", "a.wasm", "e"},
		{"call", "a.wasm", "e", "--wasi"},
		{"call", "--config", "novalue", "a.wasm", "e"},
		{"call", "--log-level", "verbose", "a.wasm", "e"},
		{"demo"},
		{"demo", "nolabel"},
		{"demo", "=path"},
		{"serve", "extra"},
	} {
		code, stdout, stderr := cli(args, "")
		if code != exitUsage || stdout != "" || !strings.HasPrefix(stderr, "error: ") || strings.Count(stderr, "\n") != 1 {
			t.Errorf("%q: exit %d, stdout %q, stderr %q", args, code, stdout, stderr)
		}
	}
}

func TestHelpListsExitCodes(t *testing.T) {
	for _, args := range [][]string{{"--help"}, {"-h"}, {"help"}, {"call", "--help"}} {
		code, stdout, stderr := cli(args, "")
		if code != 0 || !strings.Contains(stdout, "8  a host function refused the call") || stderr != "" {
			t.Errorf("%q: exit %d, stdout %q, stderr %q", args, code, stdout, stderr)
		}
	}
}

func TestCallCommand(t *testing.T) {
	dir := t.TempDir()
	probe := filepath.Join(dir, "probe.wasm")
	notWasm := filepath.Join(dir, "notes.txt")
	storeFile := filepath.Join(dir, "store.json")
	badStore := filepath.Join(dir, "bad.json")
	for path, data := range map[string]string{
		probe: string(probeModule()), notWasm: "hello", storeFile: `{"hello": "from the file"}`, badStore: `{"hello": 1}`,
	} {
		if err := os.WriteFile(path, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for _, c := range []struct {
		args           []string
		code           int
		stdout, stderr string
	}{
		{[]string{"call", probe, "value_of_hello"}, 0, "👋 Hello World 🌍", ""},
		// Flags may follow the arguments.
		{[]string{"call", probe, "value_of_hello", "--set", "hello=there", "--trace"}, 0, "there",
			"trace: hostMemoryGet key \"hello\" -> 5 bytes\n"},
		{[]string{"call", "--store", storeFile, probe, "value_of_hello"}, 0, "from the file", ""},
		{[]string{"call", "--store", storeFile, "--set", "=e", probe, "value_of_empty_key"}, 0, "e", ""},
		{[]string{"call", "--store", badStore, probe, "value_of_hello"}, 3, "", "error: store file " + badStore + ": "},
		{[]string{"call", "--store", filepath.Join(dir, "absent.json"), probe, "value_of_hello"}, 3, "", "error: cannot read store file "},
		{[]string{"call", "--input-file", filepath.Join(dir, "absent"), probe, "value_of_hello"}, 3, "", "error: cannot read input file "},
		{[]string{"call", notWasm, "e"}, 3, "", "error: cannot load plugin " + notWasm + ": not a WebAssembly module (it does not start with \\0asm)\n"},
		{[]string{"call", probe, "nope"}, 4, "", "error: plugin " + probe + " has no export nope of type () -> i32\n"},
		{[]string{"call", probe, "return_7"}, 1, "", "error: plugin " + probe + " failed in export return_7: returned 7 without an error message\n"},
		{[]string{"call", "--timeout", "20ms", probe, "spin"}, 6, "", "error: plugin " + probe + " failed in export spin: timed out\n"},
		{[]string{"call", "--memory-max", "10", probe, "grow"}, 7, "", "error: plugin " + probe + " failed in export grow: out of memory\n"},
		{[]string{"call", probe, "forged_key"}, 8, "", "error: plugin " + probe +
			" failed in export forged_key: host function error: hostMemoryGet: key offset 12345 is not an allocated Extism memory block\n"},
		{[]string{"call", "--config", "greeting=hi", "--config", "greeting=ho=hum", probe, "config_greeting"}, 0, "ho=hum", ""},
		{[]string{"call", "--wasi", "off", probe, "value_of_hello"}, 3, "",
			"error: cannot load plugin " + probe + ": it imports wasi_snapshot_preview1.proc_exit, but WASI is off\n"},
		{[]string{"call", "--wasi=on", probe, "exit_3"}, 5, "", "error: plugin " + probe + " failed in export exit_3: exited with code 3\n"},
		{[]string{"call", "--wasi", "auto", "--timeout", "0", "--memory-max", "0", probe, "grow"}, 0, "", ""},
		// Logs are off unless asked for; the lines come before the failure.
		{[]string{"call", probe, "log_each_level"}, 0, "", ""},
		{[]string{"call", "--log-level", "warn", probe, "log_each_level"}, 0, "", "log warn: warn: probe\nlog error: error: probe\n"},
		{[]string{"call", "--log-level=info", probe, "log_then_unreachable"}, 5, "",
			"log warn: before the trap\nerror: plugin " + probe + " failed in export log_then_unreachable: trap: wasm error: unreachable\n"},
		{[]string{"demo", "probe=" + probe}, 4, "", "── probe: " + probe + "\nerror: plugin " + probe + " has no export say_hello of type () -> i32\n"},
	} {
		code, stdout, stderr := cli(c.args, "")
		if code != c.code || stdout != c.stdout || !strings.HasPrefix(stderr, c.stderr) {
			t.Errorf("%q:\n exit %d, stdout %q, stderr %q\nwant %d, %q, %q...", c.args, code, stdout, stderr, c.code, c.stdout, c.stderr)
		}
	}
}
