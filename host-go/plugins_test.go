package main

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

// The workspace's conformance plugins, when they have been built (cargo xtask build-plugins);
// the conformance run itself holds them to the contract, this only checks that host-go runs them.
func TestWorkspacePlugins(t *testing.T) {
	want := "👋 Hello " + seedInput + "\nkey: hello, value: 👋 Hello World 🌍\nkey: message, value: I 💜 Extism 😍"
	allBytes := make([]byte, 256)
	for i := range allBytes {
		allBytes[i] = byte(i)
	}
	for _, lang := range []string{"rust", "go", "tinygo"} {
		path := filepath.Join("..", "target", "plugins", lang, "conformance.wasm")
		if _, err := os.Stat(path); err != nil {
			t.Logf("%s: skipped, %v", lang, err)
			continue
		}
		t.Run(lang, func(t *testing.T) {
			plugin, failure := loadPlugin(path, Limits{})
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
			capped, failure := loadPlugin(path, Limits{MemoryMaxPages: 48})
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
