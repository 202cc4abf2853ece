package main

import (
	"bytes"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	extism "github.com/extism/go-sdk"
)

// A hand-assembled module, so each rule of hostMemoryGet is checked without a PDK (the Rust
// host's tests use the same probe, written in WAT; no WAT assembler is needed here).

func uleb(n uint64) []byte {
	var out []byte
	for {
		b := byte(n & 0x7f)
		n >>= 7
		if n != 0 {
			out = append(out, b|0x80)
			continue
		}
		return append(out, b)
	}
}

func sleb(n int64) []byte {
	var out []byte
	for {
		b := byte(n & 0x7f)
		n >>= 7
		if (n == 0 && b&0x40 == 0) || (n == -1 && b&0x40 != 0) {
			return append(out, b)
		}
		out = append(out, b|0x80)
	}
}

func wasmName(s string) []byte { return append(uleb(uint64(len(s))), s...) }

func wasmVec(items ...[]byte) []byte {
	out := uleb(uint64(len(items)))
	for _, item := range items {
		out = append(out, item...)
	}
	return out
}

func wasmSection(id byte, content []byte) []byte {
	return append(append([]byte{id}, uleb(uint64(len(content)))...), content...)
}

// Instructions, by what they do.
func callFn(f uint64) []byte      { return append([]byte{0x10}, uleb(f)...) }
func i32Const(n int64) []byte     { return append([]byte{0x41}, sleb(n)...) }
func i64Const(n int64) []byte     { return append([]byte{0x42}, sleb(n)...) }
func localGet(i uint64) []byte    { return append([]byte{0x20}, uleb(i)...) }
func localSet(i uint64) []byte    { return append([]byte{0x21}, uleb(i)...) }
func code(parts ...[]byte) []byte { return bytes.Join(parts, nil) }

var (
	drop        = []byte{0x1a}
	unreachable = []byte{0x00}
	i64Add      = []byte{0x7c}
	spinLoop    = []byte{0x03, 0x40, 0x0c, 0x00, 0x0b} // loop (br 0) end
	growBy100   = code(i32Const(100), []byte{0x40, 0x00}, drop)
)

// Function indices: the imports, in order. WASI's comes last, so that a probe without it
// (probeModuleWithoutWasi) keeps the others' indices.
const (
	fnGet = iota
	fnAlloc
	fnLength
	fnStoreU8
	fnOutputSet
	fnConfigGet
	fnErrorSet
	fnLogTrace // the five log functions, in the order of their levels
	fnLogDebug
	fnLogInfo
	fnLogWarn
	fnLogError
	fnProcExit
)

// probeLogLevels are the levels the probe's log_each_level logs at, in order, with its kernel
// functions.
var probeLogLevels = []struct {
	name string
	fn   uint64
}{{"trace", fnLogTrace}, {"debug", fnLogDebug}, {"info", fnLogInfo}, {"warn", fnLogWarn}, {"error", fnLogError}}

type probeExport struct {
	name   string
	locals int // i64 locals
	body   []byte
	wasi   bool // it calls WASI
}

// probeModule imports the kernel functions it needs, env.hostMemoryGet and WASI's proc_exit,
// and exports () -> i32 functions, each doing one thing. Its memory starts at one page.
func probeModule() []byte { return buildProbe(1, true) }

func probeModuleWithMemory(pages uint64) []byte { return buildProbe(pages, true) }

// probeModuleWithoutWasi is the probe without its WASI import and the exports that call it.
func probeModuleWithoutWasi() []byte { return buildProbe(1, false) }

func buildProbe(pages uint64, wasi bool) []byte {
	// A new block holding text, left in local 0.
	block := func(text string) []byte {
		out := code(i64Const(int64(len(text))), callFn(fnAlloc), localSet(0))
		for i, c := range []byte(text) {
			out = code(out, localGet(0), i64Const(int64(i)), i64Add, i32Const(int64(c)), callFn(fnStoreU8))
		}
		return out
	}
	hello := block("hello")
	// One line at each level, as the contract's log_levels logs them, with the input "probe".
	var logEachLevel []byte
	for _, l := range probeLogLevels {
		logEachLevel = code(logEachLevel, block(l.name+": probe"), localGet(0), callFn(l.fn))
	}
	// Outputs the block in local 0.
	output := code(localGet(0), localGet(0), callFn(fnLength), callFn(fnOutputSet))
	ok := i32Const(0)
	exports := []probeExport{
		{"value_of_hello", 1, code(hello, localGet(0), callFn(fnGet), localSet(0), output, ok), false},
		// The key block after the host call: empty if the host freed it.
		{"key_after_call", 1, code(hello, localGet(0), callFn(fnGet), drop, output, ok), false},
		{"value_of_empty_key", 1, code(i64Const(0), callFn(fnGet), localSet(0), output, ok), false},
		{"forged_key", 0, code(i64Const(12345), callFn(fnGet), drop, ok), false},
		{"negative_key", 0, code(i64Const(-8), callFn(fnGet), drop, ok), false},
		{"spin", 0, code(spinLoop, ok), false},
		{"grow", 0, code(growBy100, ok), false},
		{"return_7", 0, i32Const(7), false},
		{"unreachable", 0, unreachable, false},
		// The plugin's config value for "greeting" (empty output when there is none).
		{"config_greeting", 1, code(block("greeting"), localGet(0), callFn(fnConfigGet), localSet(0), output, ok), false},
		// Sets the error "boom" and returns 1, as a PDK's error does.
		{"fail_boom", 1, code(block("boom"), localGet(0), callFn(fnErrorSet), i32Const(1)), false},
		{"exit_3", 0, code(i32Const(3), callFn(fnProcExit), ok), true},
		{"exit_0", 0, code(i32Const(0), callFn(fnProcExit), i32Const(9)), true},
		{"log_each_level", 1, code(logEachLevel, ok), false},
		// A line is the host's once logged, whatever the call comes to.
		{"log_then_unreachable", 1, code(block("before the trap"), localGet(0), callFn(fnLogWarn), unreachable), false},
	}

	i64, i32 := byte(0x7e), byte(0x7f)
	funcType := func(params, results []byte) []byte {
		return code([]byte{0x60}, wasmVec(splitBytes(params)...), wasmVec(splitBytes(results)...))
	}
	types := wasmVec(
		funcType([]byte{i64}, []byte{i64}), // 0: get, alloc, length, config_get
		funcType([]byte{i64, i32}, nil),    // 1: store_u8
		funcType([]byte{i64, i64}, nil),    // 2: output_set
		funcType(nil, []byte{i32}),         // 3: exports
		funcType([]byte{i32}, nil),         // 4: proc_exit
		funcType([]byte{i64}, nil),         // 5: error_set, log_*
	)
	importFunc := func(module, name string, typeIndex uint64) []byte {
		return code(wasmName(module), wasmName(name), []byte{0x00}, uleb(typeIndex))
	}
	importList := [][]byte{
		importFunc("env", "hostMemoryGet", 0),
		importFunc("extism:host/env", "alloc", 0),
		importFunc("extism:host/env", "length", 0),
		importFunc("extism:host/env", "store_u8", 1),
		importFunc("extism:host/env", "output_set", 2),
		importFunc("extism:host/env", "config_get", 0),
		importFunc("extism:host/env", "error_set", 5),
	}
	for _, l := range probeLogLevels {
		importList = append(importList, importFunc("extism:host/env", "log_"+l.name, 5))
	}
	if wasi {
		importList = append(importList, importFunc("wasi_snapshot_preview1", "proc_exit", 4))
	}
	var funcs, exportEntries, bodies [][]byte
	for _, e := range exports {
		if e.wasi && !wasi {
			continue
		}
		funcs = append(funcs, uleb(3))
		index := uint64(len(importList) + len(bodies))
		exportEntries = append(exportEntries, code(wasmName(e.name), []byte{0x00}, uleb(index)))
		locals := wasmVec()
		if e.locals > 0 {
			locals = wasmVec(code(uleb(uint64(e.locals)), []byte{i64}))
		}
		body := code(locals, e.body, []byte{0x0b})
		bodies = append(bodies, code(uleb(uint64(len(body))), body))
	}
	exportEntries = append(exportEntries, code(wasmName("memory"), []byte{0x02}, uleb(0)))
	return code(
		[]byte("\x00asm\x01\x00\x00\x00"),
		wasmSection(1, types),
		wasmSection(2, wasmVec(importList...)),
		wasmSection(3, wasmVec(funcs...)),
		wasmSection(5, wasmVec(code([]byte{0x00}, uleb(pages)))), // one memory, no max
		wasmSection(7, wasmVec(exportEntries...)),
		wasmSection(10, wasmVec(bodies...)),
	)
}

func splitBytes(b []byte) [][]byte {
	out := make([][]byte, len(b))
	for i := range b {
		out[i] = b[i : i+1]
	}
	return out
}

func compileProbe(t *testing.T, limits Limits) *Compiled {
	t.Helper()
	return compileProbeWith(t, probeModule(), Options{Limits: limits})
}

func compileProbeWith(t *testing.T, wasm []byte, options Options) *Compiled {
	t.Helper()
	compiled, failure := compilePlugin("probe", wasm, options)
	if failure != nil {
		t.Fatalf("compiling the probe: %v", failure)
	}
	t.Cleanup(func() { compiled.Close() })
	return compiled
}

func TestValueComesFromTheStore(t *testing.T) {
	probe := compileProbe(t, Limits{})
	result := probe.Call(seedStore(), "value_of_hello", nil)
	if result.Failure != nil || string(result.Output) != "👋 Hello World 🌍" {
		t.Fatalf("got %q, %v", result.Output, result.Failure)
	}
	if len(result.Trace) != 1 || string(result.Trace[0].Key) != "hello" || result.Trace[0].ValueLen != len("👋 Hello World 🌍") {
		t.Fatalf("trace %+v", result.Trace)
	}
	// Instances of one compiled plugin run against different stores.
	other := probe.Call(Store{"hello": {0xff, 0x00, 0xfe}}, "value_of_hello", nil)
	if !bytes.Equal(other.Output, []byte{0xff, 0x00, 0xfe}) {
		t.Fatalf("got %q, %v", other.Output, other.Failure)
	}
	missing := probe.Call(Store{}, "value_of_hello", nil)
	if missing.Failure != nil || len(missing.Output) != 0 || missing.Trace[0].ValueLen != 0 {
		t.Fatalf("missing key: %+v", missing)
	}
}

func TestHostDoesNotFreeTheKeyBlock(t *testing.T) {
	result := compileProbe(t, Limits{}).Call(seedStore(), "key_after_call", nil)
	if result.Failure != nil || string(result.Output) != "hello" {
		t.Fatalf("got %q, %v", result.Output, result.Failure)
	}
}

func TestOffsetZeroIsTheEmptyKey(t *testing.T) {
	result := compileProbe(t, Limits{}).Call(Store{"": []byte("for the empty key")}, "value_of_empty_key", nil)
	if result.Failure != nil || string(result.Output) != "for the empty key" {
		t.Fatalf("got %q, %v", result.Output, result.Failure)
	}
}

func TestForgedKeyOffsetIsAHostFunctionError(t *testing.T) {
	probe := compileProbe(t, Limits{})
	for export, offset := range map[string]string{"forged_key": "12345", "negative_key": "-8"} {
		result := probe.Call(seedStore(), export, nil)
		want := "hostMemoryGet: key offset " + offset + " is not an allocated Extism memory block"
		if result.Failure == nil || result.Failure.Kind != kindHostFunction || result.Failure.Message != want {
			t.Fatalf("%s: got %+v", export, result.Failure)
		}
		if len(result.Trace) != 0 {
			t.Fatalf("%s: the refused call is traced: %+v", export, result.Trace)
		}
		if got := result.Failure.Error(); got != "plugin probe failed in export "+export+": host function error: "+want {
			t.Fatalf("%s: %s", export, got)
		}
	}
}

func TestLimitsAreNamedFailures(t *testing.T) {
	probe := compileProbe(t, Limits{Timeout: limitOf(50 * time.Millisecond), MemoryMaxPages: limitOf[uint32](10)})
	started := time.Now()
	if f := probe.Call(seedStore(), "spin", nil).Failure; f == nil || f.Kind != kindTimeout {
		t.Fatalf("spin: %+v", f)
	}
	if elapsed := time.Since(started); elapsed > 5*time.Second {
		t.Fatalf("spin took %s", elapsed)
	}
	if f := probe.Call(seedStore(), "grow", nil).Failure; f == nil || f.Kind != kindOutOfMemory {
		t.Fatalf("grow: %+v", f)
	}
	// The input goes into the kernel's memory, under the same cap.
	if f := probe.Call(seedStore(), "return_7", make([]byte, 1<<20)).Failure; f == nil || f.Kind != kindOutOfMemory {
		t.Fatalf("big input: %+v", f)
	}
	// Within the cap, nothing changes.
	if f := probe.Call(seedStore(), "value_of_hello", make([]byte, 100<<10)).Failure; f != nil {
		t.Fatalf("small input: %+v", f)
	}
	// A plugin whose memory starts over the cap is refused when called, as by the Rust host;
	// the kernel's memory (16 pages) is not counted.
	big, failure := compilePlugin("big", probeModuleWithMemory(11), Options{Limits: Limits{MemoryMaxPages: limitOf[uint32](10)}})
	if failure != nil {
		t.Fatal(failure)
	}
	defer big.Close()
	if f := big.Call(seedStore(), "return_7", nil).Failure; f == nil || f.Kind != kindOutOfMemory {
		t.Fatalf("initial memory over the cap: %+v", f)
	}
	if f := big.Call(seedStore(), "nope", nil).Failure; f == nil || f.Kind != kindMissingExp {
		t.Fatalf("a missing export comes first: %+v", f)
	}
	// Without limits the same exports are not limit failures.
	unlimited := compileProbe(t, Limits{})
	if f := unlimited.Call(seedStore(), "grow", nil).Failure; f != nil {
		t.Fatalf("grow without a cap: %+v", f)
	}
}

func TestReturnCodeExitAndMissingExport(t *testing.T) {
	probe := compileProbe(t, Limits{})
	if f := probe.Call(seedStore(), "exit_3", nil).Failure; f == nil || f.Kind != kindExit || f.Code != 3 {
		t.Fatalf("exit_3: %+v", f)
	}
	// go-sdk takes proc_exit(0) for success, whatever the export would have returned, as the
	// Rust SDK does.
	if r := probe.Call(seedStore(), "exit_0", nil); r.Failure != nil {
		t.Fatalf("exit_0: %+v", r.Failure)
	}
	if f := probe.Call(seedStore(), "return_7", nil).Failure; f == nil || f.Kind != kindReturnCode || f.Code != 7 {
		t.Fatalf("return_7: %+v", f)
	}
	f := probe.Call(seedStore(), "nope", nil).Failure
	if f == nil || f.Kind != kindMissingExp || f.Error() != "plugin probe has no export nope of type () -> i32" {
		t.Fatalf("nope: %+v", f)
	}
}

func TestBytesThatAreNotWasmAreRefused(t *testing.T) {
	_, f := compilePlugin("notes.txt", []byte(`{"wasm": []}`), Options{})
	if f == nil || f.Kind != kindLoad || !strings.Contains(f.Error(), "notes.txt: not a WebAssembly module") {
		t.Fatalf("%+v", f)
	}
	_, f = loadPlugin(filepath.Join(t.TempDir(), "absent.wasm"), nil, Options{})
	if f == nil || f.Kind != kindLoad || !strings.HasSuffix(f.Error(), "absent.wasm: no such file") {
		t.Fatalf("%+v", f)
	}
	_, f = compilePlugin("broken.wasm", []byte("\x00asm\x01\x00\x00\x00\x01\x05"), Options{})
	if f == nil || f.Kind != kindLoad {
		t.Fatalf("%+v", f)
	}
}

func TestOneInstanceManyCalls(t *testing.T) {
	probe := compileProbe(t, Limits{Timeout: limitOf(time.Minute)})
	instance, failure := probe.Instantiate(Limits{Timeout: limitOf(time.Minute), MemoryMaxPages: limitOf[uint32](150)}, extism.LogLevelOff)
	if failure != nil {
		t.Fatal(failure)
	}
	defer instance.Close()
	// Each call has its own store and trace.
	for _, value := range []string{"one", "two", ""} {
		r := instance.Call(Store{"hello": []byte(value)}, "value_of_hello", nil)
		if r.Failure != nil || string(r.Output) != value || len(r.Trace) != 1 || r.Trace[0].ValueLen != len(value) {
			t.Fatalf("%q: %+v", value, r)
		}
	}
	if f := instance.Call(seedStore(), "nope", nil).Failure; f == nil || f.Kind != kindMissingExp || f.Export != "nope" {
		t.Fatalf("nope: %+v", f)
	}
	// The memory cap counts growth since instantiation, over all calls: 100 pages fit once.
	if r := instance.Call(seedStore(), "grow", nil); r.Failure != nil {
		t.Fatalf("first grow: %+v", r.Failure)
	}
	if f := instance.Call(seedStore(), "grow", nil).Failure; f == nil || f.Kind != kindOutOfMemory {
		t.Fatalf("second grow: %+v", f)
	}
}

func TestPluginErrorAndTrap(t *testing.T) {
	probe := compileProbe(t, Limits{})
	if f := probe.Call(seedStore(), "fail_boom", nil).Failure; f == nil || f.Kind != kindPlugin || f.Message != "boom" {
		t.Fatalf("fail_boom: %+v", f)
	}
	if f := probe.Call(seedStore(), "unreachable", nil).Failure; f == nil || f.Kind != kindTrap || f.Message != "wasm error: unreachable" {
		t.Fatalf("unreachable: %+v", f)
	}
}

// A limit of 0 is zero, not none: the protocol's null is none.
func TestZeroLimitsAreLimits(t *testing.T) {
	zero := Limits{Timeout: limitOf[time.Duration](0), MemoryMaxPages: limitOf[uint32](0),
		MaxKeyLen: limitOf[uint64](0), MaxValueLen: limitOf[uint64](0)}
	probe := compileProbe(t, Limits{Timeout: limitOf(time.Minute)})
	for _, c := range []struct {
		limits Limits
		export string
		want   Failure
	}{
		{Limits{Timeout: zero.Timeout}, "return_7", Failure{Kind: kindTimeout}},
		// The probe's memory starts at one page, which does not fit in none.
		{Limits{MemoryMaxPages: zero.MemoryMaxPages}, "return_7", Failure{Kind: kindOutOfMemory}},
		{Limits{MaxKeyLen: zero.MaxKeyLen}, "value_of_hello", Failure{Kind: kindKeyTooLong, Len: 5, Max: 0}},
		{Limits{MaxValueLen: zero.MaxValueLen}, "value_of_hello", Failure{Kind: kindValueTooLong, Len: 2, Max: 0}},
		// A missing export comes before the limits.
		{zero, "nope", Failure{Kind: kindMissingExp}},
	} {
		r := probe.CallWith(c.limits, Store{"hello": []byte("hi")}, c.export, nil)
		if r.Failure == nil || r.Failure.Kind != c.want.Kind || r.Failure.Len != c.want.Len || r.Failure.Max != c.want.Max {
			t.Errorf("%+v, %s: got %+v, want %+v", c.limits, c.export, r.Failure, c.want)
		}
	}
	// The empty key and an empty value are not over limits of 0.
	r := probe.CallWith(Limits{MaxKeyLen: zero.MaxKeyLen, MaxValueLen: zero.MaxValueLen}, Store{}, "value_of_empty_key", nil)
	if r.Failure != nil || len(r.Trace) != 1 {
		t.Fatalf("empty key: %+v", r)
	}
}

func TestWasi(t *testing.T) {
	if got := firstWasiImport(probeModule()); got != "proc_exit" {
		t.Fatalf("probe: %q", got)
	}
	if got := firstWasiImport(probeModuleWithoutWasi()); got != "" {
		t.Fatalf("probe without WASI: %q", got)
	}
	for _, wasi := range []Wasi{WasiAuto, WasiOn} {
		probe := compileProbeWith(t, probeModule(), Options{Wasi: wasi})
		if f := probe.Call(seedStore(), "exit_3", nil).Failure; f == nil || f.Kind != kindExit || f.Code != 3 {
			t.Fatalf("%s: exit_3: %+v", wasi, f)
		}
	}
	_, f := compilePlugin("probe", probeModule(), Options{Wasi: WasiOff})
	if f == nil || f.Kind != kindLoad || f.Error() != "cannot load plugin probe: it imports wasi_snapshot_preview1.proc_exit, but WASI is off" {
		t.Fatalf("WASI off: %+v", f)
	}
	for _, wasi := range []Wasi{WasiAuto, WasiOn, WasiOff} {
		probe := compileProbeWith(t, probeModuleWithoutWasi(), Options{Wasi: wasi})
		if r := probe.Call(seedStore(), "value_of_hello", nil); r.Failure != nil {
			t.Fatalf("%s, without WASI: %+v", wasi, r.Failure)
		}
	}
}

func TestConfigReachesThePlugin(t *testing.T) {
	probe := compileProbeWith(t, probeModule(), Options{Config: map[string]string{"greeting": "hi 👋"}})
	if r := probe.Call(seedStore(), "config_greeting", nil); r.Failure != nil || string(r.Output) != "hi 👋" {
		t.Fatalf("got %q, %+v", r.Output, r.Failure)
	}
	if r := compileProbe(t, Limits{}).Call(seedStore(), "config_greeting", nil); r.Failure != nil || len(r.Output) != 0 {
		t.Fatalf("without config: %q, %+v", r.Output, r.Failure)
	}
}

// logText shows lines as "level: text", one per line, for comparing.
func logText(lines []LogLine) string {
	var out strings.Builder
	for _, l := range lines {
		fmt.Fprintf(&out, "%s: %s\n", logLevelName(l.Level), l.Text)
	}
	return out.String()
}

func TestLogsAreFilteredByTheLogLevel(t *testing.T) {
	lines := func(names ...string) string {
		var out strings.Builder
		for _, name := range names {
			fmt.Fprintf(&out, "%s: %s: probe\n", name, name)
		}
		return out.String()
	}
	// go-sdk hands its logger its own lines too, at debug: one as an instance's runtime is
	// initialised (in its first call) and one naming each export it calls.
	sdkLines := func(first bool) string {
		text := "debug: Calling function : log_each_level\n"
		if first {
			text = "debug: Initializing runtime for main module\n" + text
		}
		return text
	}
	probe := compileProbe(t, Limits{})
	for _, c := range []struct {
		level extism.LogLevel
		want  string // after go-sdk's lines, in each call
		sdk   bool
	}{
		{extism.LogLevelTrace, lines("trace", "debug", "info", "warn", "error"), true},
		{extism.LogLevelDebug, lines("debug", "info", "warn", "error"), true},
		{extism.LogLevelInfo, lines("info", "warn", "error"), false},
		{extism.LogLevelWarn, lines("warn", "error"), false},
		{extism.LogLevelError, lines("error"), false},
		{extism.LogLevelOff, "", false},
		// go-sdk's own default, Options' zero value, is off.
		{0, "", false},
	} {
		instance, failure := probe.Instantiate(Limits{}, c.level)
		if failure != nil {
			t.Fatal(failure)
		}
		// Each call has its own lines: none of the first's are in the second's.
		for call, first := range []bool{true, false} {
			want := c.want
			if c.sdk {
				want = sdkLines(first) + want
			}
			r := instance.Call(seedStore(), "log_each_level", nil)
			if r.Failure != nil || logText(r.Logs) != want {
				t.Errorf("%s, call %d: %v, logs:\n%s\nwant:\n%s", logLevelName(c.level), call+1, r.Failure, logText(r.Logs), want)
			}
		}
		instance.Close()
	}
	// Only during a call: the level is off again after it.
	if r := probe.Call(seedStore(), "log_each_level", nil); r.Failure != nil || len(r.Logs) != 0 || r.Logs == nil {
		t.Fatalf("after the calls: %v %#v", r.Failure, r.Logs)
	}
}

func TestLogsOfAFailedCall(t *testing.T) {
	probe := compileProbeWith(t, probeModule(), Options{LogLevel: extism.LogLevelWarn})
	r := probe.Call(seedStore(), "log_then_unreachable", nil)
	if r.Failure == nil || r.Failure.Kind != kindTrap || logText(r.Logs) != "warn: before the trap\n" {
		t.Fatalf("%+v, logs %q", r.Failure, logText(r.Logs))
	}
	// Nothing runs, nothing is logged; the logs are still a list.
	if r := probe.Call(seedStore(), "nope", nil); r.Failure == nil || r.Logs == nil || len(r.Logs) != 0 {
		t.Fatalf("nope: %+v %#v", r.Failure, r.Logs)
	}
}
