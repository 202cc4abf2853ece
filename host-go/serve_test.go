package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// serveLines runs serve over the request lines and returns its answer lines.
func serveLines(t *testing.T, requests ...string) []string {
	t.Helper()
	var out strings.Builder
	if err := serve(strings.NewReader(strings.Join(requests, "\n")+"\n"), &out); err != nil {
		t.Fatal(err)
	}
	answers := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
	if len(answers) != len(requests) {
		t.Fatalf("%d requests, %d answers:\n%s", len(requests), len(answers), out.String())
	}
	return answers
}

// checkAnswers compares each answer line with the one wanted, byte for byte.
func checkAnswers(t *testing.T, requests, want []string) {
	t.Helper()
	for i, got := range serveLines(t, requests...) {
		if got != want[i] {
			t.Errorf("request %d, %s:\n got %s\nwant %s", i, requests[i], got, want[i])
		}
	}
}

// serveCase is one request line and the answer line it must get.
type serveCase struct{ request, want string }

// checkCases sends every case's request to one serve session, in order, and checks each answer.
func checkCases(t *testing.T, cases []serveCase) {
	t.Helper()
	requests := make([]string, len(cases))
	want := make([]string, len(cases))
	for i, c := range cases {
		requests[i], want[i] = c.request, c.want
	}
	checkAnswers(t, requests, want)
}

// writeProbe writes wasm to a file and returns its path.
func writeProbe(t *testing.T, wasm []byte) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "probe.wasm")
	if err := os.WriteFile(path, wasm, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// protocolRequest is a well-formed request, as a JSON object to change: id 7, no links, logs
// off, the store's hello is 00 ff, no limits, one call of value_of_hello.
func protocolRequest(path string) map[string]any {
	return map[string]any{
		"protocol":  3,
		"id":        7,
		"wasm":      path,
		"links":     []any{},
		"wasi":      "auto",
		"config":    map[string]any{},
		"log_level": "off",
		"store":     []any{map[string]any{"key": "aGVsbG8=", "value": "AP8="}},
		"limits": map[string]any{
			"timeout_ms": nil, "memory_max_pages": nil, "max_key_len": nil, "max_value_len": nil,
		},
		"calls": []any{map[string]any{"export": "value_of_hello", "input": ""}},
	}
}

// line is request changed by change, as one line.
func line(t *testing.T, request map[string]any, change func(map[string]any)) string {
	t.Helper()
	if change != nil {
		change(request)
	}
	data, err := json.Marshal(request)
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

func limits(r map[string]any) map[string]any { return r["limits"].(map[string]any) }

// calls sets the request's calls: export names, each with the empty input.
func calls(exports ...string) func(map[string]any) {
	return func(r map[string]any) {
		var list []any
		for _, export := range exports {
			list = append(list, map[string]any{"export": export, "input": ""})
		}
		r["calls"] = list
	}
}

const helloResult = `{"output":"AP8=","failure":null,"trace":[{"function":"hostMemoryGet","key":"aGVsbG8=","value_len":2}],"logs":[]}`

func answer(results ...string) string {
	return `{"protocol":3,"id":7,"results":[` + strings.Join(results, ",") + `]}`
}

func failed(failure string) string {
	return `{"output":null,"failure":` + failure + `,"trace":[],"logs":[]}`
}

func malformedAnswer(id, message string) string {
	text, _ := json.Marshal(message)
	return `{"protocol":3,"id":` + id + `,"error":{"kind":"malformed_request","message":` + string(text) + `}}`
}

func TestServeRefusesMalformedRequests(t *testing.T) {
	path := writeProbe(t, probeModule())
	good := line(t, protocolRequest(path), nil)
	cases := []serveCase{
		{`{"protocol":3,"id":`, malformedAnswer("null", "the line is not JSON: unexpected end of JSON input")},
		{good + ` x`, malformedAnswer("null", "the line is not JSON: invalid character 'x' after top-level value")},
		{`[1, 2]`, malformedAnswer("null", "the line is not a JSON object: [1, 2]")},
		{`null`, malformedAnswer("null", "the line is not a JSON object: null")},
		{line(t, protocolRequest(path), func(r map[string]any) { r["wams"] = r["wasm"]; delete(r, "wasm") }),
			malformedAnswer("7", "unknown field `wams`")},
		{line(t, protocolRequest(path), func(r map[string]any) { limits(r)["timeout"] = 5 }),
			malformedAnswer("7", "unknown field `limits.timeout`")},
		{line(t, protocolRequest(path), func(r map[string]any) { delete(r, "config") }),
			malformedAnswer("7", "missing field `config`")},
		{line(t, protocolRequest(path), func(r map[string]any) { delete(limits(r), "max_key_len") }),
			malformedAnswer("7", "missing field `limits.max_key_len`")},
		{line(t, protocolRequest(path), func(r map[string]any) { delete(r, "protocol") }),
			malformedAnswer("7", "missing field `protocol`")},
		// No id, or one that cannot be read: the answer's is null.
		{line(t, protocolRequest(path), func(r map[string]any) { delete(r, "id") }),
			malformedAnswer("null", "missing field `id`")},
		{line(t, protocolRequest(path), func(r map[string]any) { r["id"] = "seven" }),
			malformedAnswer("null", `id: expected a non-negative integer, got "seven"`)},
		{line(t, protocolRequest(path), func(r map[string]any) { r["id"] = -1 }),
			malformedAnswer("null", `id: expected a non-negative integer, got -1`)},
		{line(t, protocolRequest(path), func(r map[string]any) { r["calls"].([]any)[0].(map[string]any)["input"] = "!!!!" }),
			malformedAnswer("7", "calls[0].input: not standard base64 (RFC 4648, +/ and = padding): illegal base64 data at input byte 0")},
		{line(t, protocolRequest(path), func(r map[string]any) { r["store"].([]any)[0].(map[string]any)["key"] = "aGVsbG8" }),
			malformedAnswer("7", "store[0].key: not standard base64 (RFC 4648, +/ and = padding): illegal base64 data at input byte 4")},
		{line(t, protocolRequest(path), func(r map[string]any) { r["store"].([]any)[0].(map[string]any)["value"] = nil }),
			malformedAnswer("7", "store[0].value: expected a base64 string, got null")},
		{line(t, protocolRequest(path), calls()),
			malformedAnswer("7", "calls: expected an array, got null")},
		{line(t, protocolRequest(path), func(r map[string]any) { r["calls"] = []any{} }),
			malformedAnswer("7", "calls: empty; a request makes at least one call")},
		{line(t, protocolRequest(path), func(r map[string]any) {
			r["store"] = append(r["store"].([]any), map[string]any{"key": "", "value": ""}, map[string]any{"key": "aGVsbG8=", "value": ""})
		}), malformedAnswer("7", "store keys must be distinct: store[2].key repeats store[0].key")},
		{line(t, protocolRequest(path), func(r map[string]any) { r["wasm"] = nil }),
			malformedAnswer("7", "wasm: expected a string, got null")},
		{line(t, protocolRequest(path), func(r map[string]any) { r["wasi"] = "yes" }),
			malformedAnswer("7", `wasi: expected "auto", "on" or "off", got "yes"`)},
		{line(t, protocolRequest(path), func(r map[string]any) { r["config"] = map[string]any{"greeting": 1} }),
			malformedAnswer("7", `config["greeting"]: expected a string, got 1`)},
		{line(t, protocolRequest(path), func(r map[string]any) { r["config"] = nil }),
			malformedAnswer("7", `config: expected an object, got null`)},
		{line(t, protocolRequest(path), func(r map[string]any) { limits(r)["timeout_ms"] = 1.5 }),
			malformedAnswer("7", "limits.timeout_ms: expected a non-negative integer or null, got 1.5")},
		{line(t, protocolRequest(path), func(r map[string]any) { limits(r)["timeout_ms"] = uint64(1) << 60 }),
			malformedAnswer("7", "limits.timeout_ms: 1152921504606846976 is over the longest timeout host-go can set, 9223372036854 ms")},
		{line(t, protocolRequest(path), func(r map[string]any) { limits(r)["memory_max_pages"] = 65537 }),
			malformedAnswer("7", "limits.memory_max_pages: 65537 is over wasm's 65536 pages")},
		{line(t, protocolRequest(path), func(r map[string]any) { limits(r)["max_value_len"] = "10" }),
			malformedAnswer("7", `limits.max_value_len: expected a non-negative integer or null, got "10"`)},
		// The log level: one of six names, always given.
		{line(t, protocolRequest(path), func(r map[string]any) { delete(r, "log_level") }),
			malformedAnswer("7", "missing field `log_level`")},
		{line(t, protocolRequest(path), func(r map[string]any) { r["log_level"] = "warning" }),
			malformedAnswer("7", `log_level: expected "trace", "debug", "info", "warn", "error" or "off", got "warning"`)},
		{line(t, protocolRequest(path), func(r map[string]any) { r["log_level"] = "INFO" }),
			malformedAnswer("7", `log_level: expected "trace", "debug", "info", "warn", "error" or "off", got "INFO"`)},
		{line(t, protocolRequest(path), func(r map[string]any) { r["log_level"] = "" }),
			malformedAnswer("7", `log_level: expected "trace", "debug", "info", "warn", "error" or "off", got ""`)},
		{line(t, protocolRequest(path), func(r map[string]any) { r["log_level"] = 2 }),
			malformedAnswer("7", `log_level: expected a string, got 2`)},
		{line(t, protocolRequest(path), func(r map[string]any) { r["log_level"] = nil }),
			malformedAnswer("7", `log_level: expected a string, got null`)},
		// Another version is refused as such, whatever its fields; the answer says which
		// version host-go speaks. Version 2's requests are version 3's without links.
		{line(t, protocolRequest(path), func(r map[string]any) { r["protocol"] = 2; delete(r, "links") }),
			`{"protocol":3,"id":7,"error":{"kind":"unsupported_protocol","message":"protocol 2 is not supported: host-go speaks protocol 3"}}`},
		{line(t, protocolRequest(path), func(r map[string]any) { r["protocol"] = 2 }),
			`{"protocol":3,"id":7,"error":{"kind":"unsupported_protocol","message":"protocol 2 is not supported: host-go speaks protocol 3"}}`},
		{line(t, protocolRequest(path), func(r map[string]any) { r["protocol"] = 4; r["shiny"] = true }),
			`{"protocol":3,"id":7,"error":{"kind":"unsupported_protocol","message":"protocol 4 is not supported: host-go speaks protocol 3"}}`},
		{line(t, protocolRequest(path), func(r map[string]any) { r["protocol"] = 1; delete(r, "log_level"); delete(r, "links") }),
			`{"protocol":3,"id":7,"error":{"kind":"unsupported_protocol","message":"protocol 1 is not supported: host-go speaks protocol 3"}}`},
		{line(t, protocolRequest(path), func(r map[string]any) { r["protocol"] = "3" }),
			malformedAnswer("7", `protocol: expected a non-negative integer, got "3"`)},
		// After all of them, a good request is still answered.
		{good, answer(helloResult)},
	}
	checkCases(t, cases)
}

// links: each a name and a module path, no other field; a name is not empty, not main and not
// another link's.
func TestServeRefusesMalformedLinks(t *testing.T) {
	path := writeProbe(t, probeModule())
	withLinks := func(links ...any) string {
		return line(t, protocolRequest(path), func(r map[string]any) { r["links"] = links })
	}
	link := func(name any) map[string]any { return map[string]any{"name": name, "wasm": path} }
	absent := filepath.Join(t.TempDir(), "absent.wasm")
	cases := []serveCase{
		{line(t, protocolRequest(path), func(r map[string]any) { delete(r, "links") }),
			malformedAnswer("7", "missing field `links`")},
		{line(t, protocolRequest(path), func(r map[string]any) { r["links"] = nil }),
			malformedAnswer("7", "links: expected an array, got null")},
		{line(t, protocolRequest(path), func(r map[string]any) { r["links"] = map[string]any{"lib": "lib.wasm"} }),
			malformedAnswer("7", `links: expected an array, got {"lib":"lib.wasm"}`)},
		{withLinks("lib"), malformedAnswer("7", `links[0]: expected an object, got "lib"`)},
		{withLinks(link(""), link("lib")), malformedAnswer("7",
			"links[0].name: empty; a linked module needs the name the others import it by")},
		{withLinks(link("lib"), link("main")), malformedAnswer("7",
			`links[1].name: "main" is the plugin's own module; a linked module needs another name`)},
		{withLinks(link("a"), link("b"), link("a")), malformedAnswer("7",
			`link names must be distinct: links[2].name "a" repeats links[0].name`)},
		{withLinks(map[string]any{"name": "lib", "wasm": path, "path": path}), malformedAnswer("7",
			"unknown field `links[0].path`")},
		{withLinks(map[string]any{"name": "lib"}), malformedAnswer("7", "missing field `links[0].wasm`")},
		{withLinks(map[string]any{"wasm": path}), malformedAnswer("7", "missing field `links[0].name`")},
		{withLinks(link(1)), malformedAnswer("7", "links[0].name: expected a string, got 1")},
		{withLinks(link(nil)), malformedAnswer("7", "links[0].name: expected a string, got null")},
		{withLinks(map[string]any{"name": "lib", "wasm": nil}), malformedAnswer("7", "links[0].wasm: expected a string, got null")},
		// Names are compared as they are: "Main" is a name like any other, whose file is then
		// checked.
		{withLinks(map[string]any{"name": "Main", "wasm": absent}), answer(failed(
			`{"kind":"load","message":"cannot load plugin ` + path + `: link Main: ` + absent + `: no such file"}`))},
		{line(t, protocolRequest(path), nil), answer(helloResult)},
	}
	checkCases(t, cases)
}

// A line nested deeper than encoding/json takes is a malformed request like any other line
// that is not JSON: an answer in the protocol's shape, with a null id, and the host goes on.
func TestServeAnswersDeeplyNestedLines(t *testing.T) {
	path := writeProbe(t, probeModule())
	const depth = 200_000
	tooDeep := func(id string) string {
		return malformedAnswer(id, "the line nests deeper than host-go's JSON reader takes (10000 levels): "+
			"invalid character '[' exceeded max depth")
	}
	nested := line(t, protocolRequest(path), func(r map[string]any) { r["config"] = "NESTED" })
	nested = strings.Replace(nested, `"NESTED"`, strings.Repeat("[", depth)+strings.Repeat("]", depth), 1)
	checkCases(t, []serveCase{
		{strings.Repeat("[", depth), tooDeep("null")},
		{strings.Repeat("[", depth) + strings.Repeat("]", depth), tooDeep("null")},
		{strings.Repeat(`{"a":`, depth), malformedAnswer("null",
			"the line nests deeper than host-go's JSON reader takes (10000 levels): invalid character '{' exceeded max depth")},
		// Inside a request whose id could be read if the line were read: the line is not.
		{nested, tooDeep("null")},
		// Within the depth, it is JSON, and the field's type is wrong.
		{line(t, protocolRequest(path), func(r map[string]any) { r["config"] = []any{[]any{[]any{}}} }),
			malformedAnswer("7", "config: expected an object, got [[[]]]")},
		{line(t, protocolRequest(path), nil), answer(helloResult)},
	})
}

func TestServeAnswersEachKindOfFailure(t *testing.T) {
	path := writeProbe(t, probeModule())
	request := func(change func(map[string]any)) string { return line(t, protocolRequest(path), change) }
	with := func(export string, set map[string]any) string {
		return request(func(r map[string]any) {
			calls(export)(r)
			for name, value := range set {
				limits(r)[name] = value
			}
		})
	}
	absent := filepath.Join(t.TempDir(), "absent.wasm")
	cases := []serveCase{
		{with("value_of_hello", nil), answer(helloResult)},
		{with("fail_boom", nil), answer(failed(`{"kind":"plugin","message":"boom"}`))},
		{with("return_7", nil), answer(failed(`{"kind":"return_code","code":7}`))},
		{with("unreachable", nil), answer(failed(`{"kind":"trap","message":"wasm error: unreachable"}`))},
		{with("exit_3", nil), answer(failed(`{"kind":"exit","code":3}`))},
		{with("forged_key", nil), answer(failed(
			`{"kind":"host_function","message":"hostMemoryGet: key offset 12345 is not an allocated Extism memory block"}`))},
		{with("spin", map[string]any{"timeout_ms": 20}), answer(failed(`{"kind":"timeout"}`))},
		{with("grow", map[string]any{"memory_max_pages": 10}), answer(failed(`{"kind":"out_of_memory"}`))},
		{with("value_of_hello", map[string]any{"max_key_len": 4}), answer(failed(`{"kind":"key_too_long","len":5,"max":4}`))},
		{with("value_of_hello", map[string]any{"max_value_len": 0}), answer(failed(`{"kind":"value_too_long","len":2,"max":0}`))},
		{with("nope", nil), answer(failed(`{"kind":"missing_export"}`))},
		{request(func(r map[string]any) { r["wasm"] = absent }), answer(failed(
			`{"kind":"load","message":"cannot load plugin ` + absent + `: no such file"}`))},
	}
	checkCases(t, cases)
}

func TestServeMakesEveryCallOnOneInstance(t *testing.T) {
	path := writeProbe(t, probeModule())
	request := line(t, protocolRequest(path), func(r map[string]any) {
		calls("value_of_hello", "forged_key", "unreachable", "nope", "grow", "value_of_hello", "grow", "value_of_hello")(r)
		limits(r)["memory_max_pages"] = 150
	})
	ok := `{"output":"","failure":null,"trace":[],"logs":[]}`
	// The memory cap counts growth over all the calls: 100 pages fit once. A refused host call, a
	// trap or a missing export does not stop the calls after it.
	want := answer(
		helloResult,
		failed(`{"kind":"host_function","message":"hostMemoryGet: key offset 12345 is not an allocated Extism memory block"}`),
		failed(`{"kind":"trap","message":"wasm error: unreachable"}`),
		failed(`{"kind":"missing_export"}`),
		ok,
		helloResult,
		failed(`{"kind":"out_of_memory"}`),
		helloResult,
	)
	// The next request gets a fresh instance: its first grow fits again.
	checkAnswers(t, []string{request, request}, []string{want, want})
}

func TestServeLoadFailsEveryCall(t *testing.T) {
	probe := writeProbe(t, probeModule())
	loadFailure := failed(`{"kind":"load","message":"cannot load plugin ` + probe +
		`: it imports wasi_snapshot_preview1.proc_exit, but WASI is off"}`)
	wasi := func(mode string, exports ...string) string {
		return line(t, protocolRequest(probe), func(r map[string]any) { r["wasi"] = mode; calls(exports...)(r) })
	}
	bigMemory := writeProbe(t, probeModuleWithMemory(11))
	checkAnswers(t, []string{
		wasi("off", "value_of_hello", "nope"),
		wasi("on", "exit_3"),
		wasi("auto", "exit_3"),
		// Without WASI imports, off is fine.
		line(t, protocolRequest(writeProbe(t, probeModuleWithoutWasi())), func(r map[string]any) { r["wasi"] = "off" }),
		// A memory that starts over the cap is out of memory, not a load failure.
		line(t, protocolRequest(bigMemory), func(r map[string]any) { limits(r)["memory_max_pages"] = 10 }),
	}, []string{
		answer(loadFailure, loadFailure),
		answer(failed(`{"kind":"exit","code":3}`)),
		answer(failed(`{"kind":"exit","code":3}`)),
		answer(helloResult),
		answer(failed(`{"kind":"out_of_memory"}`)),
	})
}

func TestServePassesTheConfig(t *testing.T) {
	path := writeProbe(t, probeModule())
	greeting := func(config map[string]any) string {
		return line(t, protocolRequest(path), func(r map[string]any) { r["config"] = config; calls("config_greeting")(r) })
	}
	output := func(base64 string) string {
		return answer(`{"output":"` + base64 + `","failure":null,"trace":[],"logs":[]}`)
	}
	// One plugin, compiled once per config.
	checkAnswers(t, []string{
		greeting(map[string]any{"greeting": "hi"}),
		greeting(map[string]any{"greeting": "ho", "other": "x"}),
		greeting(map[string]any{}),
		greeting(map[string]any{"greeting": "hi"}),
	}, []string{output("aGk="), output("aG8="), output(""), output("aGk=")})
}

func TestServeAppliesEachRequestsLimits(t *testing.T) {
	path := writeProbe(t, probeModule())
	request := func(export string, set map[string]any) string {
		return line(t, protocolRequest(path), func(r map[string]any) {
			calls(export)(r)
			for name, value := range set {
				limits(r)[name] = value
			}
		})
	}
	ok := answer(`{"output":"","failure":null,"trace":[],"logs":[]}`)
	hello := answer(helloResult)
	// Requests for one plugin under different limits, in an order where a limit left over from
	// the one before would show.
	cases := []serveCase{
		{request("grow", map[string]any{"memory_max_pages": 10}), answer(failed(`{"kind":"out_of_memory"}`))},
		{request("grow", nil), ok},
		{request("grow", map[string]any{"memory_max_pages": 200, "timeout_ms": 60000}), ok},
		{request("grow", map[string]any{"memory_max_pages": 10, "timeout_ms": 60000}), answer(failed(`{"kind":"out_of_memory"}`))},
		{request("value_of_hello", map[string]any{"max_value_len": 1}), answer(failed(`{"kind":"value_too_long","len":2,"max":1}`))},
		{request("value_of_hello", map[string]any{"max_value_len": 2, "max_key_len": 5}), hello},
		{request("value_of_hello", map[string]any{"max_key_len": 4, "timeout_ms": 60000}), answer(failed(`{"kind":"key_too_long","len":5,"max":4}`))},
		{request("spin", map[string]any{"timeout_ms": 20}), answer(failed(`{"kind":"timeout"}`))},
		// A timeout of 0 is zero: the call is out of time before it starts.
		{request("value_of_hello", map[string]any{"timeout_ms": 0}), answer(failed(`{"kind":"timeout"}`))},
		{request("value_of_hello", map[string]any{"memory_max_pages": 0}), answer(failed(`{"kind":"out_of_memory"}`))},
		{request("value_of_hello", map[string]any{"timeout_ms": 60000}), hello},
	}
	checkCases(t, cases)
}

// Each request's log level is its own, each call's lines are its own, and a line is base64 of
// its bytes, with its level's name.
func TestServeAnswersTheLogsOfEachCall(t *testing.T) {
	path := writeProbe(t, probeModule())
	request := func(level string, exports ...string) string {
		return line(t, protocolRequest(path), func(r map[string]any) { r["log_level"] = level; calls(exports...)(r) })
	}
	logs := func(lines ...string) string {
		var entries []string
		for _, l := range lines {
			level, text, _ := strings.Cut(l, ": ")
			encoded, _ := json.Marshal([]byte(text))
			entries = append(entries, `{"level":"`+level+`","text":`+string(encoded)+`}`)
		}
		return "[" + strings.Join(entries, ",") + "]"
	}
	logged := func(lines ...string) string {
		return `{"output":"","failure":null,"trace":[],"logs":` + logs(lines...) + `}`
	}
	trapped := func(lines ...string) string {
		return `{"output":null,"failure":{"kind":"trap","message":"wasm error: unreachable"},"trace":[],"logs":` + logs(lines...) + `}`
	}
	// At debug and trace go-sdk's own lines reach the host too (see Instance.logged).
	calling := func(export string) string { return "debug: Calling function : " + export }
	const initialising = "debug: Initializing runtime for main module"
	cases := []serveCase{
		{request("warn", "log_each_level", "log_each_level"), answer(
			logged("warn: warn: probe", "error: error: probe"),
			logged("warn: warn: probe", "error: error: probe"))},
		{request("off", "log_each_level"), answer(logged())},
		{request("trace", "log_each_level", "log_then_unreachable", "value_of_hello"), answer(
			logged(initialising, calling("log_each_level"), "trace: trace: probe", "debug: debug: probe",
				"info: info: probe", "warn: warn: probe", "error: error: probe"),
			trapped(calling("log_then_unreachable"), "warn: before the trap"),
			// Calls after a trap go on on the same instance, as go-sdk leaves it.
			`{"output":"AP8=","failure":null,"trace":[{"function":"hostMemoryGet","key":"aGVsbG8=","value_len":2}],"logs":`+
				logs(calling("value_of_hello"))+`}`)},
		// The level is the request's: nothing of the one before stays.
		{request("error", "log_then_unreachable", "log_each_level"), answer(trapped(), logged("error: error: probe"))},
		{request("info", "nope"), answer(failed(`{"kind":"missing_export"}`))},
	}
	checkCases(t, cases)
}

// go-sdk has a timeout (wazero's WithCloseOnContextDone), so a request with one is run, never
// refused as unsupported_limit: a plugin that spins ends as timeout, in about its time.
func TestServeRunsRequestsWithATimeout(t *testing.T) {
	path := writeProbe(t, probeModule())
	request := line(t, protocolRequest(path), func(r map[string]any) {
		calls("spin", "value_of_hello")(r)
		limits(r)["timeout_ms"] = 200
	})
	started := time.Now()
	// wazero closes the module when the deadline passes, so the instance's next call fails: what
	// go-sdk does then is part of the answer.
	checkAnswers(t, []string{request}, []string{answer(failed(`{"kind":"timeout"}`),
		failed(`{"kind":"trap","message":"module is closed"}`))})
	if elapsed := time.Since(started); elapsed < 200*time.Millisecond || elapsed > 5*time.Second {
		t.Fatalf("a call of 200 ms took %s", elapsed)
	}
	// The next request has a fresh instance.
	checkAnswers(t, []string{line(t, protocolRequest(path), func(r map[string]any) { limits(r)["timeout_ms"] = 200 })},
		[]string{answer(helloResult)})
}

// The serve command: blank lines get no answer, a request's content never ends it, end of stdin
// ends it with status 0.
func TestServeCommand(t *testing.T) {
	path := writeProbe(t, probeModule())
	good := line(t, protocolRequest(path), nil)
	stdin := "\n  \n" + `{"oops` + "\n\n" + good + "\n" + good // the last line has no newline
	code, stdout, stderr := cli([]string{"serve"}, stdin)
	want := malformedAnswer("null", "the line is not JSON: unexpected end of JSON input") + "\n" +
		answer(helloResult) + "\n" + answer(helloResult) + "\n"
	if code != 0 || stdout != want || stderr != "" {
		t.Fatalf("exit %d, stderr %q, stdout:\n%s\nwant:\n%s", code, stderr, stdout, want)
	}
	if code, stdout, _ := cli([]string{"serve"}, ""); code != 0 || stdout != "" {
		t.Fatalf("empty stdin: exit %d, stdout %q", code, stdout)
	}
}
