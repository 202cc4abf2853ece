package main

// Benchmarks of the Go host, named so that a report can set them beside the Rust host's:
//
//	go test -run '^$' -bench . -benchtime 2s
//
// They run the workspace's conformance plugins, ../target/plugins/<lang>/conformance.wasm (or
// under $POLYGLOT_PLUGINS_DIR); a language whose file is missing is skipped.

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	extism "github.com/extism/go-sdk"
	"github.com/tetratelabs/wazero"
)

// benchPlugin reads lang's conformance module, or skips the benchmark when there is none.
func benchPlugin(b *testing.B, lang string) (path string, wasm []byte) {
	b.Helper()
	path = filepath.Join(pluginsDir(), lang, "conformance.wasm")
	wasm, err := os.ReadFile(path)
	if err != nil {
		b.Skipf("%s: no plugin: cannot read %s: %v", lang, path, bareError(err))
	}
	return path, wasm
}

// benchCompiled compiles lang's module under defaultLimits, as a real call would run it.
func benchCompiled(b *testing.B, lang string) *Compiled {
	b.Helper()
	path, wasm := benchPlugin(b, lang)
	compiled, failure := compilePlugin(path, wasm, Options{Limits: defaultLimits})
	if failure != nil {
		b.Fatal(failure)
	}
	b.Cleanup(func() { compiled.Close() })
	return compiled
}

// BenchmarkCompile is compiling a module from its bytes: cold with a compilation cache of its
// own (so the Extism kernel is compiled each time too, as in the first compile of a process),
// cached with one that already holds this module (as host-go's second compile of it).
func BenchmarkCompile(b *testing.B) {
	for _, lang := range workspaceLanguages(b) {
		b.Run(lang, func(b *testing.B) {
			b.Run("cold", func(b *testing.B) {
				path, wasm := benchPlugin(b, lang)
				for b.Loop() {
					cache := wazero.NewCompilationCache()
					compiled, failure := compileWithCache(path, wasm, Options{Limits: defaultLimits}, cache)
					if failure != nil {
						b.Fatal(failure)
					}
					b.StopTimer()
					compiled.Close()
					cache.Close(context.Background())
					b.StartTimer()
				}
			})
			b.Run("cached", func(b *testing.B) {
				path, wasm := benchPlugin(b, lang)
				cache := wazero.NewCompilationCache()
				defer cache.Close(context.Background())
				warm, failure := compileWithCache(path, wasm, Options{Limits: defaultLimits}, cache)
				if failure != nil {
					b.Fatal(failure)
				}
				defer warm.Close()
				for b.Loop() {
					compiled, failure := compileWithCache(path, wasm, Options{Limits: defaultLimits}, cache)
					if failure != nil {
						b.Fatal(failure)
					}
					b.StopTimer()
					compiled.Close()
					b.StartTimer()
				}
			})
		})
	}
}

// BenchmarkInstance is a compiled plugin to an instance ready for a call, under defaultLimits,
// and closing it. go-sdk runs a WASI reactor's _initialize lazily, in the instance's first call;
// here it is run right after instantiating, so that it is counted (through go-sdk's call path,
// which adds a few kernel calls: setting the empty input, reading the error and the output).
func BenchmarkInstance(b *testing.B) {
	for _, lang := range workspaceLanguages(b) {
		b.Run(lang, func(b *testing.B) {
			compiled := benchCompiled(b, lang)
			for b.Loop() {
				instance, failure := compiled.Instantiate(defaultLimits, extism.LogLevelOff)
				if failure != nil {
					b.Fatal(failure)
				}
				if err := instance.initialize(); err != nil {
					b.Fatal(err)
				}
				instance.Close()
			}
		})
	}
}

// initialize runs the module's _initialize, if it has one, as go-sdk does before an instance's
// first call. For benchmarks only: go-sdk does not know it ran, and would run it again.
func (i *Instance) initialize() error {
	if !i.plugin.FunctionExists("_initialize") {
		return nil
	}
	ctx, cancel := context.WithTimeout(i.ctx, i.limits.Timeout.Value)
	defer cancel()
	_, _, err := i.plugin.CallWithContext(ctx, "_initialize", []byte{})
	return err
}

// BenchmarkCall is one call on an instance made once and reused (the steady-state cost of a
// call), under defaultLimits: its own timeout, the instance's memory cap.
func BenchmarkCall(b *testing.B) {
	valueStore := Store{
		"empty": {},
		"1KiB":  bytes.Repeat([]byte("0123456789abcdef"), 1<<10/16),
		"1MiB":  bytes.Repeat([]byte("0123456789abcdef"), 1<<20/16),
	}
	helloOutput := "👋 Hello " + seedInput + "\nkey: hello, value: 👋 Hello World 🌍\nkey: message, value: I 💜 Extism 😍"
	seed := seedStore()
	get := func(store Store, key string) HostCall {
		return HostCall{Function: hostMemoryGetName, Key: []byte(key), ValueLen: len(store[key])}
	}
	scenarios := []struct {
		name, export string
		store        Store
		input        string
		output       []byte
		trace        []HostCall
		bytes        int // the value's length, for MB/s
	}{
		{"noop", "noop", seed, "", []byte{}, nil, 0},
		{"say_hello", "say_hello", seed, seedInput, []byte(helloOutput),
			[]HostCall{get(seed, "hello"), get(seed, "message")}, 0},
		{"get_0B", "lookup", valueStore, "empty", valueStore["empty"], []HostCall{get(valueStore, "empty")}, 0},
		{"get_1KiB", "lookup", valueStore, "1KiB", valueStore["1KiB"], []HostCall{get(valueStore, "1KiB")}, 1 << 10},
		{"get_1MiB", "lookup", valueStore, "1MiB", valueStore["1MiB"], []HostCall{get(valueStore, "1MiB")}, 1 << 20},
	}
	for _, lang := range workspaceLanguages(b) {
		b.Run(lang, func(b *testing.B) {
			compiled := benchCompiled(b, lang)
			for _, s := range scenarios {
				b.Run(s.name, func(b *testing.B) {
					instance, failure := compiled.Instantiate(defaultLimits, extism.LogLevelOff)
					if failure != nil {
						b.Fatal(failure)
					}
					defer instance.Close()
					if !instance.plugin.FunctionExists(s.export) {
						b.Skipf("%s: %s has no export %s yet", lang, compiled.name, s.export)
					}
					input := []byte(s.input)
					// The first call, which runs _initialize too, is checked against the
					// contract (output and host calls); the others only for failing or for
					// an output of another length.
					first := instance.Call(s.store, s.export, input)
					if first.Failure != nil || !bytes.Equal(first.Output, s.output) {
						b.Fatalf("%s: got %s, %v; want %s", s.export, abbreviate(first.Output), first.Failure, abbreviate(s.output))
					}
					if fmt.Sprint(first.Trace) != fmt.Sprint(s.trace) {
						b.Fatalf("%s: host calls %v, want %v", s.export, first.Trace, s.trace)
					}
					b.SetBytes(int64(s.bytes))
					for b.Loop() {
						r := instance.Call(s.store, s.export, input)
						if r.Failure != nil || len(r.Output) != len(s.output) {
							b.Fatalf("%s: got %d bytes, %v", s.export, len(r.Output), r.Failure)
						}
					}
				})
			}
		})
	}
}

// abbreviate quotes output, cut short when it is long.
func abbreviate(output []byte) string {
	if len(output) > 80 {
		return fmt.Sprintf("%s... (%d bytes)", quoteKey(output[:80]), len(output))
	}
	return quoteKey(output)
}
