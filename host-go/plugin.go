package main

import (
	"bytes"
	"cmp"
	"context"
	"fmt"
	"time"

	extism "github.com/extism/go-sdk"
	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/experimental"
)

// Limit is a limit that may be absent: the zero Limit is no limit, and a Limit that is Set
// holds whatever its Value is, 0 included (a limit of 0 is zero, as in ../docs/protocol.md).
type Limit[T cmp.Ordered] struct {
	Value T
	Set   bool
}

// limitOf is the limit v.
func limitOf[T cmp.Ordered](v T) Limit[T] {
	return Limit[T]{Value: v, Set: true}
}

// Over reports whether n breaks the limit; nothing breaks an absent one.
func (l Limit[T]) Over(n T) bool {
	return l.Set && n > l.Value
}

// Limits a plugin runs under; each may be absent (no limit).
type Limits struct {
	Timeout        Limit[time.Duration] // how long one export call may run
	MemoryMaxPages Limit[uint32]        // how many 64 KiB pages the memories may grow by (see memoryCap)
	MaxKeyLen      Limit[uint64]        // the longest key hostMemoryGet reads
	MaxValueLen    Limit[uint64]        // the longest value hostMemoryGet hands out
}

// defaultLimits are the Rust host's defaults (host::Limits::default), for the CLI.
var defaultLimits = Limits{
	Timeout:        limitOf(30 * time.Second),
	MemoryMaxPages: limitOf[uint32](4096),
	MaxKeyLen:      limitOf[uint64](1 << 20),
	MaxValueLen:    limitOf[uint64](64 << 20),
}

// Wasi is whether a plugin gets WASI (wasi_snapshot_preview1), as the Rust host's host::Wasi.
type Wasi int

const (
	// WasiAuto is WASI exactly when the module imports from wasi_snapshot_preview1: standard Go
	// and TinyGo modules do, a Rust wasm32-unknown-unknown module does not.
	WasiAuto Wasi = iota
	WasiOn
	WasiOff
)

// wasiModes are the names of the Wasi values, as the protocol and --wasi spell them.
var wasiModes = map[string]Wasi{"auto": WasiAuto, "on": WasiOn, "off": WasiOff}

func (w Wasi) String() string {
	for name, mode := range wasiModes {
		if mode == w {
			return name
		}
	}
	return fmt.Sprintf("Wasi(%d)", int(w))
}

// enabled is whether WASI is on for a module that imports wasiImport from WASI ("" for none).
func (w Wasi) enabled(wasiImport string) bool {
	switch w {
	case WasiOn:
		return true
	case WasiOff:
		return false
	}
	return wasiImport != ""
}

// Options are how a plugin is set up, beyond its module and store: the Rust host's host::Options.
type Options struct {
	// Limits are what Compiled.Call runs under; only whether there is a timeout is the compiled
	// plugin's own (see Compiled.interruptible), the rest can change per instance.
	Limits Limits
	Wasi   Wasi
	// Config is the Extism config the plugin reads with its PDK's config functions (the
	// manifest's config).
	Config map[string]string
	// LogLevel is the host's log level for the plugin's calls: a log line reaches the host when
	// its level is at least this one. The zero LogLevel is go-sdk's own default, which it treats
	// as off.
	LogLevel extism.LogLevel
	// Links are the modules linked beside the plugin's main one, in the manifest's order.
	Links []Link
}

// Link is a module linked beside a plugin's main one: the others import its exports by Name.
type Link struct {
	Name string
	Wasm []byte // the module's binary
}

// LinkFile is a linked module by its file, as a request names it.
type LinkFile struct {
	Name string
	Path string
}

// logLevelNames are go-sdk's log levels by the names the protocol and --log-level give them,
// from the least severe; off lets no line through.
var logLevelNames = []struct {
	name  string
	level extism.LogLevel
}{
	{"trace", extism.LogLevelTrace},
	{"debug", extism.LogLevelDebug},
	{"info", extism.LogLevelInfo},
	{"warn", extism.LogLevelWarn},
	{"error", extism.LogLevelError},
	{"off", extism.LogLevelOff},
}

// logLevelOf is the level called name, if there is one.
func logLevelOf(name string) (extism.LogLevel, bool) {
	for _, l := range logLevelNames {
		if l.name == name {
			return l.level, true
		}
	}
	return 0, false
}

// logLevelName is the protocol's name of level.
func logLevelName(level extism.LogLevel) string {
	for _, l := range logLevelNames {
		if l.level == level {
			return l.name
		}
	}
	// go-sdk logs only at the five levels; anything else is shown as what it is.
	return fmt.Sprintf("LogLevel(%d)", int32(level))
}

// LogLine is one line go-sdk's logger handed to the host.
type LogLine struct {
	Level extism.LogLevel
	Text  []byte
}

// maxPages is wasm's whole 32-bit address space; wazero panics on a larger limit.
const maxPages = 65536

var wasmMagic = []byte("\x00asm")

// compilationCache lets every compiled plugin in this process share compiled code: go-sdk makes
// one wazero runtime per plugin and compiles the Extism kernel into each. wazero keys its compiled
// code on the module's bytes and on whether it is interruptible (see compileWithCache), so the
// same plugin compiled twice in one process is decoded twice but turned into machine code once.
var compilationCache = wazero.NewCompilationCache()

// Compiled is a plugin compiled once; every Call gets a fresh instance of it.
type Compiled struct {
	name   string
	limits Limits // what Call runs under
	// interruptible is whether the code stops at a call's deadline: a call with a timeout needs
	// it, and it costs every call (wazero watches the deadline on each entry into wasm).
	interruptible bool
	plugin        *extism.CompiledPlugin
	initialPages  uint64          // the largest of its modules' own memories at instantiation
	logLevel      extism.LogLevel // what Call logs at
}

// loadPlugin reads the module at path and the modules linked beside it, checking each file
// before it opens it (see readModuleFile), and compiles them; a failure has kind load. The
// modules read from links replace options.Links.
func loadPlugin(path string, links []LinkFile, options Options) (*Compiled, *Failure) {
	wasm, err := readModuleFile(path)
	if err != nil {
		return nil, moduleFileFailure(path, nil, err)
	}
	options.Links = make([]Link, len(links))
	for i, link := range links {
		linked, err := readModuleFile(link.Path)
		if err != nil {
			return nil, moduleFileFailure(path, &link, err)
		}
		options.Links[i] = Link{Name: link.Name, Wasm: linked}
	}
	return compilePlugin(path, wasm, options)
}

// compilePlugin compiles wasm, a binary module, and options.Links beside it, set up as options
// say; name is how failures refer to it.
func compilePlugin(name string, wasm []byte, options Options) (*Compiled, *Failure) {
	return compileWithCache(name, wasm, options, compilationCache)
}

// compileWithCache is compilePlugin with the wazero compilation cache to use: nil for none.
func compileWithCache(name string, wasm []byte, options Options, cache wazero.CompilationCache) (*Compiled, *Failure) {
	failed := func(format string, args ...any) (*Compiled, *Failure) {
		return nil, &Failure{Kind: kindLoad, Plugin: name, Message: fmt.Sprintf(format, args...)}
	}
	// go-sdk would pass anything to wazero; a plugin here is binary modules, and this says so.
	if !bytes.HasPrefix(wasm, wasmMagic) {
		return failed(`not a WebAssembly module (it does not start with \0asm)`)
	}
	for _, link := range options.Links {
		if !bytes.HasPrefix(link.Wasm, wasmMagic) {
			return failed(`linked module %s is not a WebAssembly module (it does not start with \0asm)`, link.Name)
		}
	}
	// WASI is the plugin's as a whole: any of its modules may import it. Without it, go-sdk
	// would compile the modules and fail each instantiation with wazero's
	// "module[wasi_snapshot_preview1] not instantiated"; this says why, once, as the Rust host
	// does.
	wasiImporter, wasiImport := "it", firstWasiImport(wasm)
	for _, link := range options.Links {
		if wasiImport != "" {
			break
		}
		wasiImporter, wasiImport = "linked module "+link.Name, firstWasiImport(link.Wasm)
	}
	wasi := options.Wasi.enabled(wasiImport)
	if !wasi && wasiImport != "" {
		return failed("%s imports %s.%s, but WASI is off", wasiImporter, wasiModule, wasiImport)
	}
	limits := options.Limits
	config := wazero.NewRuntimeConfig()
	if cache != nil {
		config = config.WithCompilationCache(cache)
	}
	interruptible := limits.Timeout.Set
	if interruptible {
		// The deadline is the call's context (see Instance.Call); wazero checks it in loops
		// and function calls, so even a spinning plugin stops.
		config = config.WithCloseOnContextDone(true)
	}
	// go-sdk's manifest of several modules, as its TestModuleLinking writes it: each linked
	// module by its name, then the plugin's own, named main.
	modules := make([]extism.Wasm, 0, len(options.Links)+1)
	for _, link := range options.Links {
		modules = append(modules, extism.WasmData{Data: link.Wasm, Name: link.Name})
	}
	modules = append(modules, extism.WasmData{Data: wasm, Name: "main"})
	manifest := extism.Manifest{Wasm: modules, Config: options.Config}
	compiled, err := extism.NewCompiledPlugin(context.Background(), manifest,
		extism.PluginConfig{RuntimeConfig: config, EnableWasi: wasi},
		[]extism.HostFunction{hostMemoryGet()})
	if err != nil {
		return failed("%s", err.Error())
	}
	// Every module's memory is the instance's (its growth is counted by the same cap), so each
	// one's initial memory must fit in the cap, as the plugin's own must.
	initialPages, _ := initialMemoryPages(wasm)
	for _, link := range options.Links {
		if pages, _ := initialMemoryPages(link.Wasm); pages > initialPages {
			initialPages = pages
		}
	}
	return &Compiled{name: name, limits: limits, interruptible: interruptible, plugin: compiled,
		initialPages: initialPages, logLevel: options.LogLevel}, nil
}

// Close releases the compiled code.
func (c *Compiled) Close() error {
	return c.plugin.Close(context.Background())
}

// Result is one call's output or failure, and the host calls it made and the log lines that
// reached the host either way.
type Result struct {
	Output  []byte
	Failure *Failure
	Trace   []HostCall
	// Logs are the lines go-sdk's logger got during the call, in order: the plugin's, and at
	// debug and trace go-sdk's own too (see Instance.logged). Never nil.
	Logs []LogLine
}

// Call runs export with input on a fresh instance whose hostMemoryGet reads store.
func (c *Compiled) Call(store Store, export string, input []byte) Result {
	return c.CallWith(c.limits, store, export, input)
}

// CallWith is Call under other limits than the plugin was compiled with: the memory cap, the key
// and value limits and the timeout are the instance's and the call's. A timeout needs a plugin
// compiled with one (any one).
func (c *Compiled) CallWith(limits Limits, store Store, export string, input []byte) Result {
	instance, failure := c.Instantiate(limits, c.logLevel)
	if failure != nil {
		failure.Plugin, failure.Export = c.name, export
		return failedResult(failure)
	}
	defer instance.Close()
	return instance.Call(store, export, input)
}

func failedResult(f *Failure) Result {
	return Result{Output: []byte{}, Failure: f, Trace: []HostCall{}, Logs: []LogLine{}}
}

// Instance is one instance of a compiled plugin, for any number of calls, one at a time. Its
// limits are fixed when it is made: the memory cap counts growth since instantiation, over all
// its calls, as in the Rust host.
type Instance struct {
	name     string
	limits   Limits
	logLevel extism.LogLevel
	plugin   *extism.Plugin
	memory   *memoryCap // nil without a cap
	overCap  bool       // the plugin's initial memory is over the cap, so every call fails
	// exists is the last export found to exist: go-sdk's FunctionExists allocates.
	exists string
	// state is what the host function sees during a call, reset by each call; ctx carries it.
	state callState
	ctx   context.Context
	// logs are the lines go-sdk's logger got during the current call.
	logs []LogLine
}

// Instantiate makes an instance to run under limits, its calls logging at logLevel. A failure
// has kind load; Plugin and Export are left for the caller to fill in.
func (c *Compiled) Instantiate(limits Limits, logLevel extism.LogLevel) (*Instance, *Failure) {
	if limits.Timeout.Set && !c.interruptible {
		// A programming error: the deadline would pass and the plugin run on.
		panic("host-go: a call with a timeout on a plugin compiled without one")
	}
	ctx := context.Background()
	var memory *memoryCap
	if limits.MemoryMaxPages.Set {
		memory = newMemoryCap(limits.MemoryMaxPages.Value)
		ctx = experimental.WithMemoryAllocator(ctx, memory)
	}
	plugin, err := c.plugin.Instance(ctx, extism.PluginInstanceConfig{})
	if err != nil {
		return nil, &Failure{Kind: kindLoad, Message: err.Error()}
	}
	instance := &Instance{
		name:     c.name,
		limits:   limits,
		logLevel: logLevel,
		plugin:   plugin,
		memory:   memory,
		// The Rust host's limiter refuses a plugin whose memory starts over the cap, when the
		// call instantiates it (the kernel's memory is not counted).
		overCap: memory != nil && c.initialPages > uint64(limits.MemoryMaxPages.Value),
	}
	instance.ctx = withCallState(context.Background(), &instance.state)
	// The logger is the instance's (go-sdk's default prints to the log package, on stderr).
	plugin.SetLogger(instance.logged)
	return instance, nil
}

// logged keeps a line go-sdk's logger was given. go-sdk gives its logger the plugin's lines
// (its log_* kernel functions, host.go) and its own (such as "Calling function : NAME" at
// debug, extism.go), with nothing to tell them apart, so both are kept: that is what reached
// the host.
func (i *Instance) logged(level extism.LogLevel, message string) {
	i.logs = append(i.logs, LogLine{Level: level, Text: []byte(message)})
}

// Close releases the instance.
func (i *Instance) Close() error {
	return i.plugin.Close(context.Background())
}

// Call runs export with input, its hostMemoryGet reading store.
func (i *Instance) Call(store Store, export string, input []byte) Result {
	failed := func(f *Failure) Result {
		f.Plugin, f.Export = i.name, export
		return failedResult(f)
	}
	// The Rust host checks before calling too: nothing runs, not even _initialize.
	if export != i.exists {
		if !i.plugin.FunctionExists(export) {
			return failed(&Failure{Kind: kindMissingExp})
		}
		i.exists = export
	}
	if i.overCap {
		return failed(&Failure{Kind: kindOutOfMemory})
	}
	// A timeout of 0 has passed before the call starts. (wazero would notice the expired
	// deadline from a goroutine of its own, so a short call could finish first.)
	if i.limits.Timeout.Set && i.limits.Timeout.Value <= 0 {
		return failed(&Failure{Kind: kindTimeout})
	}

	i.state = callState{store: store, limits: i.limits, trace: []HostCall{}}
	i.logs = []LogLine{}
	if i.memory != nil {
		i.memory.refused.Store(false)
	}
	// go-sdk's log level is the process's (SetLogLevel), not the plugin's, so it is set for
	// each call and put back to off after it: host-go makes one call at a time, and nothing
	// outside a call (go-sdk's own lines when instantiating, say) is logged.
	extism.SetLogLevel(i.logLevel)
	defer extism.SetLogLevel(extism.LogLevelOff)
	ctx := i.ctx
	if i.limits.Timeout.Set {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, i.limits.Timeout.Value)
		defer cancel()
	}
	rc, output, err := i.plugin.CallWithContext(ctx, export, input)
	o := outcome{
		rc:          rc,
		err:         err,
		hostFailure: i.state.hostFailure,
		memoryCap:   i.memory != nil && i.memory.refused.Load(),
		deadline:    ctx.Err() == context.DeadlineExceeded,
		limits:      i.limits,
	}
	if err != nil {
		o.kernelError = i.plugin.GetError()
	}
	trace, logs := i.state.trace, i.logs
	// The instance keeps nothing of the call: the store, the trace and the logs belong to the
	// caller.
	i.state, i.logs = callState{}, nil
	if f := classify(o); f != nil {
		result := failed(f)
		result.Trace, result.Logs = trace, logs
		return result
	}
	if output == nil {
		output = []byte{}
	}
	return Result{Output: output, Trace: trace, Logs: logs}
}
