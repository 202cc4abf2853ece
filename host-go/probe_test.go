package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
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
	drop      = []byte{0x1a}
	i64Add    = []byte{0x7c}
	spinLoop  = []byte{0x03, 0x40, 0x0c, 0x00, 0x0b} // loop (br 0) end
	growBy100 = code(i32Const(100), []byte{0x40, 0x00}, drop)
)

// Function indices: the imports, in order.
const (
	fnGet = iota
	fnAlloc
	fnLength
	fnStoreU8
	fnOutputSet
	fnProcExit
	fnImports
)

type probeExport struct {
	name   string
	locals int // i64 locals
	body   []byte
}

// probeModule imports the kernel functions it needs and env.hostMemoryGet, and exports
// () -> i32 functions, each doing one thing. Its memory starts at one page.
func probeModule() []byte { return probeModuleWithMemory(1) }

func probeModuleWithMemory(pages uint64) []byte {
	// $hello: a new block holding "hello", left in local 0.
	hello := code(i64Const(5), callFn(fnAlloc), localSet(0))
	for i, c := range []byte("hello") {
		hello = code(hello, localGet(0), i64Const(int64(i)), i64Add, i32Const(int64(c)), callFn(fnStoreU8))
	}
	// Outputs the block in local 0.
	output := code(localGet(0), localGet(0), callFn(fnLength), callFn(fnOutputSet))
	ok := i32Const(0)
	exports := []probeExport{
		{"value_of_hello", 1, code(hello, localGet(0), callFn(fnGet), localSet(0), output, ok)},
		// The key block after the host call: empty if the host freed it.
		{"key_after_call", 1, code(hello, localGet(0), callFn(fnGet), drop, output, ok)},
		{"value_of_empty_key", 1, code(i64Const(0), callFn(fnGet), localSet(0), output, ok)},
		{"forged_key", 0, code(i64Const(12345), callFn(fnGet), drop, ok)},
		{"negative_key", 0, code(i64Const(-8), callFn(fnGet), drop, ok)},
		{"spin", 0, code(spinLoop, ok)},
		{"grow", 0, code(growBy100, ok)},
		{"return_7", 0, i32Const(7)},
		{"exit_3", 0, code(i32Const(3), callFn(fnProcExit), ok)},
		{"exit_0", 0, code(i32Const(0), callFn(fnProcExit), i32Const(9))},
	}

	i64, i32 := byte(0x7e), byte(0x7f)
	funcType := func(params, results []byte) []byte {
		return code([]byte{0x60}, wasmVec(splitBytes(params)...), wasmVec(splitBytes(results)...))
	}
	types := wasmVec(
		funcType([]byte{i64}, []byte{i64}), // 0: get, alloc, length
		funcType([]byte{i64, i32}, nil),    // 1: store_u8
		funcType([]byte{i64, i64}, nil),    // 2: output_set
		funcType(nil, []byte{i32}),         // 3: exports
		funcType([]byte{i32}, nil),         // 4: proc_exit
	)
	importFunc := func(module, name string, typeIndex uint64) []byte {
		return code(wasmName(module), wasmName(name), []byte{0x00}, uleb(typeIndex))
	}
	imports := wasmVec(
		importFunc("env", "hostMemoryGet", 0),
		importFunc("extism:host/env", "alloc", 0),
		importFunc("extism:host/env", "length", 0),
		importFunc("extism:host/env", "store_u8", 1),
		importFunc("extism:host/env", "output_set", 2),
		importFunc("wasi_snapshot_preview1", "proc_exit", 4),
	)
	var funcs, exportEntries, bodies [][]byte
	for i, e := range exports {
		funcs = append(funcs, uleb(3))
		exportEntries = append(exportEntries, code(wasmName(e.name), []byte{0x00}, uleb(uint64(fnImports+i))))
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
		wasmSection(2, imports),
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
	compiled, failure := compilePlugin("probe", probeModule(), limits)
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
	probe := compileProbe(t, Limits{Timeout: 50 * time.Millisecond, MemoryMaxPages: 10})
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
	big, failure := compilePlugin("big", probeModuleWithMemory(11), Limits{MemoryMaxPages: 10})
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
	_, f := compilePlugin("notes.txt", []byte(`{"wasm": []}`), Limits{})
	if f == nil || f.Kind != kindLoad || !strings.Contains(f.Error(), "notes.txt: not a WebAssembly module") {
		t.Fatalf("%+v", f)
	}
	_, f = loadPlugin(filepath.Join(t.TempDir(), "absent.wasm"), Limits{})
	if f == nil || f.Kind != kindLoad || !strings.HasSuffix(f.Error(), "absent.wasm: cannot read it: no such file or directory") {
		t.Fatalf("%+v", f)
	}
	_, f = compilePlugin("broken.wasm", []byte("\x00asm\x01\x00\x00\x00\x01\x05"), Limits{})
	if f == nil || f.Kind != kindLoad {
		t.Fatalf("%+v", f)
	}
}

// serveLines runs serve over requests and returns the responses, decoded.
func serveLines(t *testing.T, requests ...string) []map[string]any {
	t.Helper()
	var out bytes.Buffer
	if err := serve(strings.NewReader(strings.Join(requests, "\n")), &out); err != nil {
		t.Fatal(err)
	}
	var responses []map[string]any
	for _, line := range strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n") {
		var response map[string]any
		if err := json.Unmarshal([]byte(line), &response); err != nil {
			t.Fatalf("%q: %v", line, err)
		}
		responses = append(responses, response)
	}
	if len(responses) != len(requests) {
		t.Fatalf("%d requests, %d responses:\n%s", len(requests), len(responses), out.String())
	}
	return responses
}

func TestServeProtocol(t *testing.T) {
	path := filepath.Join(t.TempDir(), "probe.wasm")
	if err := os.WriteFile(path, probeModule(), 0o644); err != nil {
		t.Fatal(err)
	}
	request := func(export, extra string) string {
		return `{"wasm":"` + path + `","export":"` + export + `","store":[{"key":"aGVsbG8=","value":"AP8="}]` + extra + `}`
	}
	responses := serveLines(t,
		request("value_of_hello", `,"input":""`),
		`{"wasm":`,
		request("forged_key", ""),
		request("spin", `,"timeout_ms":20`),
		request("nope", ""),
		`{"wasm":"`+path+`","export":"value_of_hello","bogus":1}`,
	)
	want := []string{
		`{"failure":null,"output":"AP8=","trace":[{"function":"hostMemoryGet","key":"aGVsbG8=","value_len":2}]}`,
		`{"failure":{"code":0,"kind":"request","len":0,"max":0,"message":"malformed request: unexpected EOF"},"output":"","trace":[]}`,
		`{"failure":{"code":0,"kind":"host_function","len":0,"max":0,"message":"hostMemoryGet: key offset 12345 is not an allocated Extism memory block"},"output":"","trace":[]}`,
		`{"failure":{"code":0,"kind":"timeout","len":0,"max":0,"message":""},"output":"","trace":[]}`,
		`{"failure":{"code":0,"kind":"missing_export","len":0,"max":0,"message":""},"output":"","trace":[]}`,
		`{"failure":{"code":0,"kind":"request","len":0,"max":0,"message":"malformed request: json: unknown field \"bogus\""},"output":"","trace":[]}`,
	}
	for i, response := range responses {
		got, _ := json.Marshal(response)
		if string(got) != want[i] {
			t.Errorf("response %d:\n got %s\nwant %s", i, got, want[i])
		}
	}
}

func TestOneInstanceManyCalls(t *testing.T) {
	probe := compileProbe(t, Limits{Timeout: time.Minute})
	instance, failure := probe.Instantiate(Limits{Timeout: time.Minute, MemoryMaxPages: 150})
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

func TestServeAppliesEachRequestsLimits(t *testing.T) {
	path := filepath.Join(t.TempDir(), "probe.wasm")
	if err := os.WriteFile(path, probeModule(), 0o644); err != nil {
		t.Fatal(err)
	}
	request := func(export, limits string) string {
		return `{"wasm":"` + path + `","export":"` + export + `","store":[{"key":"aGVsbG8=","value":"AP8="}]` + limits + `}`
	}
	ok := `{"failure":null,"output":"","trace":[]}`
	hello := `{"failure":null,"output":"AP8=","trace":[{"function":"hostMemoryGet","key":"aGVsbG8=","value_len":2}]}`
	failed := func(kind string, length, max int) string {
		return `{"failure":{"code":0,"kind":"` + kind + `","len":` + strconv.Itoa(length) + `,"max":` + strconv.Itoa(max) +
			`,"message":""},"output":"","trace":[]}`
	}
	// Requests for one plugin under different limits, in an order where a limit left over from
	// the one before would show.
	cases := []struct{ request, want string }{
		{request("grow", `,"memory_max_pages":10`), failed(kindOutOfMemory, 0, 0)},
		{request("grow", ``), ok},
		{request("grow", `,"memory_max_pages":200,"timeout_ms":60000`), ok},
		{request("grow", `,"memory_max_pages":10,"timeout_ms":60000`), failed(kindOutOfMemory, 0, 0)},
		{request("value_of_hello", `,"max_value_len":1`), failed(kindValueTooLong, 2, 1)},
		{request("value_of_hello", `,"max_value_len":2,"max_key_len":5`), hello},
		{request("value_of_hello", `,"max_key_len":4,"timeout_ms":60000`), failed(kindKeyTooLong, 5, 4)},
		{request("spin", `,"timeout_ms":20`), failed(kindTimeout, 0, 0)},
		{request("value_of_hello", `,"timeout_ms":60000`), hello},
	}
	var requests []string
	for _, c := range cases {
		requests = append(requests, c.request)
	}
	for i, response := range serveLines(t, requests...) {
		got, _ := json.Marshal(response)
		if string(got) != cases[i].want {
			t.Errorf("request %d, %s:\n got %s\nwant %s", i, cases[i].request, got, cases[i].want)
		}
	}
}
