package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"testing"
)

// pluginPath is lang's built conformance module. When it is missing the test is skipped, saying
// which file and how to build it, except on CI (CI=true or CI=1), where a missing plugin fails.
func pluginPath(t *testing.T, lang string) string {
	t.Helper()
	path := filepath.Join(pluginsDir(), lang, "conformance.wasm")
	if _, err := os.Stat(path); err != nil {
		reason := "no " + lang + " plugin: " + path + ": " + bareError(err) + "; run cargo xtask build-plugins"
		if inCI() {
			t.Fatal(reason)
		}
		t.Skip(reason)
	}
	return path
}

// pluginsDir is where cargo xtask build-plugins leaves the workspace's plugins, one directory
// per language, or $POLYGLOT_PLUGINS_DIR.
func pluginsDir() string {
	if dir := os.Getenv("POLYGLOT_PLUGINS_DIR"); dir != "" {
		return dir
	}
	return filepath.Join("..", "target", "plugins")
}

// workspaceLanguages is every language whose plugin has been built, so that a language added
// to the workspace's table (xtask/src/table.rs) is run here without a list to keep in step.
func workspaceLanguages(tb testing.TB) []string {
	tb.Helper()
	paths, err := filepath.Glob(filepath.Join(pluginsDir(), "*", "conformance.wasm"))
	if err != nil || len(paths) == 0 {
		reason := "no plugin in " + pluginsDir() + "; run cargo xtask build-plugins"
		if inCI() {
			tb.Fatal(reason)
		}
		tb.Skip(reason)
	}
	languages := make([]string, len(paths))
	for i, path := range paths {
		languages[i] = filepath.Base(filepath.Dir(path))
	}
	return languages
}

func inCI() bool {
	ci := os.Getenv("CI")
	return ci == "true" || ci == "1"
}

// The workspace's conformance plugins, when they have been built (cargo xtask build-plugins);
// the conformance run itself holds them to the contract, this only checks that host-go runs them.
func TestWorkspacePlugins(t *testing.T) {
	want := "👋 Hello " + seedInput + "\nkey: hello, value: 👋 Hello World 🌍\nkey: message, value: I 💜 Extism 😍"
	allBytes := make([]byte, 256)
	for i := range allBytes {
		allBytes[i] = byte(i)
	}
	for _, lang := range workspaceLanguages(t) {
		t.Run(lang, func(t *testing.T) {
			path := pluginPath(t, lang)
			plugin, failure := loadPlugin(path, nil, Options{})
			if failure != nil {
				t.Fatal(failure)
			}
			defer plugin.Close()
			if r := plugin.Call(seedStore(), "say_hello", []byte(seedInput)); r.Failure != nil || string(r.Output) != want || len(r.Trace) != 2 {
				t.Errorf("say_hello: %q %v %+v", r.Output, r.Failure, r.Trace)
			}
			if r := plugin.Call(seedStore(), "echo", allBytes); r.Failure != nil || !bytes.Equal(r.Output, allBytes) {
				t.Errorf("echo: %q %v", r.Output, r.Failure)
			}
			for export, kind := range map[string]string{"fail": kindPlugin, "trap": kindTrap} {
				if r := plugin.Call(seedStore(), export, []byte("boom")); r.Failure == nil || r.Failure.Kind != kind {
					t.Errorf("%s: %+v", export, r.Failure)
				}
			}
			if r := plugin.Call(seedStore(), "fail", nil); r.Failure == nil || r.Failure.Kind != kindReturnCode || r.Failure.Code != 1 {
				t.Errorf("fail without a message: %+v", r.Failure)
			}
			capped, failure := loadPlugin(path, nil, Options{Limits: Limits{MemoryMaxPages: limitOf[uint32](48)}})
			if failure != nil {
				t.Fatal(failure)
			}
			defer capped.Close()
			big := bytes.Repeat([]byte("0123456789abcdef"), 1<<18)
			if r := capped.Call(seedStore(), "echo", big); r.Failure == nil || r.Failure.Kind != kindOutOfMemory {
				t.Errorf("4 MiB echo under 48 pages: %+v", r.Failure)
			}
		})
	}
}

// A protocol request of the conformance run's kind: count_calls twice, then a trap, then
// say_hello, all on one instance, under the Rust host's default limits.
func TestWorkspacePluginsServe(t *testing.T) {
	for _, lang := range workspaceLanguages(t) {
		t.Run(lang, func(t *testing.T) {
			path := pluginPath(t, lang)
			request := protocolRequest(path)
			request["store"] = []any{map[string]any{"key": []byte("hello"), "value": []byte("👋 Hello World 🌍")}}
			request["limits"] = map[string]any{
				"timeout_ms": 30000, "memory_max_pages": 4096, "max_key_len": 1 << 20, "max_value_len": 64 << 20,
			}
			call := func(export, input string) map[string]any {
				return map[string]any{"export": export, "input": []byte(input)}
			}
			request["calls"] = []any{call("count_calls", "hello"), call("count_calls", "hello"),
				call("trap", "boom"), call("say_hello", "hi")}
			var got struct {
				Protocol int
				ID       uint64
				Results  []struct {
					Output  *[]byte
					Failure map[string]any
					Trace   []struct {
						Function string
						Key      []byte
						ValueLen int `json:"value_len"`
					}
				}
			}
			answer := serveLines(t, line(t, request, nil))[0]
			if err := json.Unmarshal([]byte(answer), &got); err != nil || got.Protocol != protocolVersion || got.ID != 7 || len(got.Results) != 4 {
				t.Fatalf("%v: %.500s", err, answer)
			}
			// CONTRACT.md: 10,000 calls of get(input), and the sum of the value lengths.
			counted := "10000 calls, " + strconv.Itoa(10000*len("👋 Hello World 🌍")) + " bytes"
			for i, r := range got.Results[:2] {
				if r.Failure != nil || r.Output == nil || string(*r.Output) != counted || len(r.Trace) != 10000 ||
					string(r.Trace[9999].Key) != "hello" || r.Trace[9999].ValueLen != len("👋 Hello World 🌍") {
					t.Errorf("count_calls %d: %v %v, %d host calls", i+1, r.Output, r.Failure, len(r.Trace))
				}
			}
			if r := got.Results[2]; r.Output != nil || r.Failure["kind"] != kindTrap {
				t.Errorf("trap: %v %v", r.Output, r.Failure)
			}
			// What the instance does after a trap is the SDK's business; it must be an answer.
			if r := got.Results[3]; (r.Output == nil) == (r.Failure == nil) {
				t.Errorf("say_hello after the trap: %v %v", r.Output, r.Failure)
			}
		})
	}
}
