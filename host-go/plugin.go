package main

import (
	"bytes"
	"context"
	"os"
	"time"

	extism "github.com/extism/go-sdk"
	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/experimental"
)

// Limits a plugin runs under; zero means no limit.
type Limits struct {
	Timeout        time.Duration // how long one export call may run; 0 is none
	MemoryMaxPages uint32        // how many 64 KiB pages the memories may grow by (see memoryCap); 0 is none
	MaxKeyLen      uint64        // the longest key hostMemoryGet reads; 0 is none
	MaxValueLen    uint64        // the longest value hostMemoryGet hands out; 0 is none
}

// over reports whether n bytes break limit, where 0 is no limit.
func over(n, limit uint64) bool {
	return limit != 0 && n > limit
}

// defaultLimits are the Rust host's defaults (host::Limits::default), for the CLI.
var defaultLimits = Limits{
	Timeout:        30 * time.Second,
	MemoryMaxPages: 4096,
	MaxKeyLen:      1 << 20,
	MaxValueLen:    64 << 20,
}

// maxPages is wasm's whole 32-bit address space; wazero panics on a larger limit.
const maxPages = 65536

var wasmMagic = []byte("\x00asm")

// compilationCache lets every compiled plugin in this process share compiled code: go-sdk makes
// one wazero runtime per plugin and compiles the Extism kernel into each.
var compilationCache = wazero.NewCompilationCache()

// Compiled is a plugin compiled once; every call gets a fresh instance of it.
type Compiled struct {
	name         string
	limits       Limits
	plugin       *extism.CompiledPlugin
	initialPages uint64 // the plugin's own memory at instantiation
}

// loadPlugin reads and compiles the module at path; a failure has kind load.
func loadPlugin(path string, limits Limits) (*Compiled, *Failure) {
	wasm, err := os.ReadFile(path)
	if err != nil {
		return nil, &Failure{Kind: kindLoad, Plugin: path, Message: "cannot read it: " + bareError(err)}
	}
	return compilePlugin(path, wasm, limits)
}

// compilePlugin compiles wasm, a binary module; name is how failures refer to it.
func compilePlugin(name string, wasm []byte, limits Limits) (*Compiled, *Failure) {
	// go-sdk would pass anything to wazero; a plugin here is a binary module, and this says so.
	if !bytes.HasPrefix(wasm, wasmMagic) {
		return nil, &Failure{Kind: kindLoad, Plugin: name,
			Message: `not a WebAssembly module (it does not start with \0asm)`}
	}
	config := wazero.NewRuntimeConfig().WithCompilationCache(compilationCache)
	if limits.Timeout > 0 {
		// The deadline is the call's context (see Compiled.Call); wazero checks it in loops
		// and function calls, so even a spinning plugin stops.
		config = config.WithCloseOnContextDone(true)
	}
	manifest := extism.Manifest{Wasm: []extism.Wasm{extism.WasmData{Data: wasm}}}
	compiled, err := extism.NewCompiledPlugin(context.Background(), manifest,
		extism.PluginConfig{RuntimeConfig: config, EnableWasi: true},
		[]extism.HostFunction{hostMemoryGet()})
	if err != nil {
		return nil, &Failure{Kind: kindLoad, Plugin: name, Message: err.Error()}
	}
	initialPages, _ := initialMemoryPages(wasm)
	return &Compiled{name: name, limits: limits, plugin: compiled, initialPages: initialPages}, nil
}

// Close releases the compiled code.
func (c *Compiled) Close() error {
	return c.plugin.Close(context.Background())
}

// Result is one call's output or failure, and the host calls it made either way.
type Result struct {
	Output  []byte
	Failure *Failure
	Trace   []HostCall
}

// Call runs export with input on a fresh instance whose hostMemoryGet reads store.
func (c *Compiled) Call(store Store, export string, input []byte) Result {
	failed := func(f *Failure) Result {
		f.Plugin, f.Export = c.name, export
		return Result{Output: []byte{}, Failure: f, Trace: []HostCall{}}
	}
	ctx := context.Background()
	var memory *memoryCap
	if c.limits.MemoryMaxPages > 0 {
		memory = newMemoryCap(c.limits.MemoryMaxPages)
		ctx = experimental.WithMemoryAllocator(ctx, memory)
	}
	instance, err := c.plugin.Instance(ctx, extism.PluginInstanceConfig{})
	if err != nil {
		return failed(&Failure{Kind: kindLoad, Message: err.Error()})
	}
	defer instance.Close(context.Background())
	// The Rust host checks before calling too: nothing runs, not even _initialize.
	if !instance.FunctionExists(export) {
		return failed(&Failure{Kind: kindMissingExp})
	}
	// The Rust host's limiter refuses a plugin whose memory starts over the cap, when the call
	// instantiates it (the kernel's memory is not counted).
	if memory != nil && c.initialPages > uint64(c.limits.MemoryMaxPages) {
		return failed(&Failure{Kind: kindOutOfMemory})
	}

	state := &callState{store: store, limits: c.limits, trace: []HostCall{}}
	ctx = withCallState(context.Background(), state)
	if c.limits.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, c.limits.Timeout)
		defer cancel()
	}
	rc, output, err := instance.CallWithContext(ctx, export, input)
	o := outcome{
		rc:          rc,
		err:         err,
		hostFailure: state.hostFailure,
		memoryCap:   memory != nil && memory.refused.Load(),
		deadline:    ctx.Err() == context.DeadlineExceeded,
		limits:      c.limits,
	}
	if err != nil {
		o.kernelError = instance.GetError()
	}
	if f := classify(o); f != nil {
		result := failed(f)
		result.Trace = state.trace
		return result
	}
	if output == nil {
		output = []byte{}
	}
	return Result{Output: output, Trace: state.trace}
}
