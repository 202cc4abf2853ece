package main

// host-go serve: the conformance protocol, version 3, as ../docs/protocol.md writes it down.
// Each line of stdin is a request: a plugin, the modules linked beside it, its WASI, config, log
// level, store and limits, and calls to make on one instance of it; each gets one answer line
// on stdout, flushed, in order.
// This file reads requests strictly (every field present, none unknown) and writes answers in
// exactly the document's shapes; running the calls is the rest of host-go's.
//
// go-sdk enforces every limit of the protocol's (the timeout through wazero's
// WithCloseOnContextDone, the memory cap through host-go's allocator, the key and value limits
// in hostMemoryGet), so host-go never answers unsupported_limit.

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"runtime/debug"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	extism "github.com/extism/go-sdk"
)

// protocolVersion is the conformance protocol version host-go speaks.
const protocolVersion = 3

// The kinds of error answer (../docs/protocol.md, "Errors").
const (
	errorUnsupportedProtocol = "unsupported_protocol"
	errorMalformedRequest    = "malformed_request"
)

// request is one request line, read and checked.
type request struct {
	id       uint64
	wasm     string
	links    []LinkFile
	wasi     Wasi
	config   map[string]string
	logLevel extism.LogLevel
	store    Store
	limits   Limits
	calls    []exportCall
}

type exportCall struct {
	export string
	input  []byte
}

// requestError is why a request cannot be acted on: the answer's error.
type requestError struct {
	Kind    string `json:"kind"`
	Message string `json:"message"`
}

func malformed(format string, args ...any) *requestError {
	return &requestError{Kind: errorMalformedRequest, Message: fmt.Sprintf(format, args...)}
}

// errorAnswer answers a request that cannot be acted on. ID is nil (null) when the request's id
// could not be read.
type errorAnswer struct {
	Protocol int           `json:"protocol"`
	ID       *uint64       `json:"id"`
	Error    *requestError `json:"error"`
}

// resultsAnswer answers a request: one result per call, in order.
type resultsAnswer struct {
	Protocol int          `json:"protocol"`
	ID       uint64       `json:"id"`
	Results  []resultJSON `json:"results"`
}

// resultJSON is one call's result: exactly one of Output and Failure is null. Output is nil
// (null) exactly when the call failed; a call that succeeded with no output has a non-nil empty
// slice (""). Trace and Logs are never nil ([]): go-sdk lets host-go see the plugin's logs.
type resultJSON struct {
	Output  []byte       `json:"output"`
	Failure *failureJSON `json:"failure"`
	Trace   []traceJSON  `json:"trace"`
	Logs    []logJSON    `json:"logs"`
}

// failureJSON is a failure with the fields its kind takes and no others: nil fields are left
// out, and each kind sets exactly its own (see failureToJSON).
type failureJSON struct {
	Kind    string  `json:"kind"`
	Message *string `json:"message,omitempty"`
	Code    *int32  `json:"code,omitempty"`
	Len     *uint64 `json:"len,omitempty"`
	Max     *uint64 `json:"max,omitempty"`
}

type traceJSON struct {
	Function string `json:"function"`
	Key      []byte `json:"key"`
	ValueLen int    `json:"value_len"`
}

type logJSON struct {
	Level string `json:"level"`
	Text  []byte `json:"text"`
}

// pluginKey is what a compiled plugin depends on: its file and its links' names and files,
// whether its calls can time out (which changes the generated code, and costs every call, so it
// is not done for calls without a timeout), its WASI and its config. The other limits are the instance's (the memory cap) and
// the call's (keys and values).
type pluginKey struct {
	wasm          string
	links         string // the links as JSON
	interruptible bool
	wasi          Wasi
	config        string // the config as JSON, whose object keys encoding/json sorts
}

// server answers requests, compiling each plugin once per pluginKey; each request gets a fresh
// instance.
type server struct {
	plugins map[pluginKey]*Compiled
}

// serve reads requests from stdin until EOF and writes one answer line for each, flushed, in
// order. Only a failure to read stdin or write stdout ends it early: never a request's content.
func serve(stdin io.Reader, stdout io.Writer) error {
	s := &server{plugins: map[pluginKey]*Compiled{}}
	defer s.close()
	// A line can be megabytes of base64 (an input of several MiB), so no line length limit.
	reader := bufio.NewReaderSize(stdin, 1<<16)
	for {
		line, readErr := reader.ReadBytes('\n')
		line = bytes.TrimSuffix(bytes.TrimSuffix(line, []byte("\n")), []byte("\r"))
		// A blank line is no request and gets no answer.
		if len(bytes.TrimSpace(line)) > 0 {
			if err := writeAnswer(stdout, s.handle(line)); err != nil {
				return fmt.Errorf("cannot write to stdout: %w", err)
			}
		}
		if readErr == io.EOF {
			return nil
		}
		if readErr != nil {
			return fmt.Errorf("cannot read stdin: %w", readErr)
		}
	}
}

func (s *server) close() {
	for _, compiled := range s.plugins {
		compiled.Close()
	}
}

// handle answers one request line.
func (s *server) handle(line []byte) (answer any) {
	// A panic while reading the request is a bug in host-go or under it, not something a
	// request may end the host with: the request is answered as one host-go cannot act on, in
	// the protocol's shape, and the host goes on with the next line. (run has a recover of its
	// own, which fails the calls left.)
	defer func() {
		if recovered := recover(); recovered != nil {
			fmt.Fprintf(os.Stderr, "host-go: panic while reading a request: %v\n%s", recovered, debug.Stack())
			answer = errorAnswer{Protocol: protocolVersion, ID: nil, Error: malformed(
				"host-go panicked reading the request (a bug in host-go; the stack is on its stderr): %v", recovered)}
		}
	}()
	req, id, reqErr := parseRequest(line)
	if reqErr != nil {
		return errorAnswer{Protocol: protocolVersion, ID: id, Error: reqErr}
	}
	return resultsAnswer{Protocol: protocolVersion, ID: req.id, Results: s.run(req)}
}

// run makes the request's calls, in order, on one fresh instance of its plugin, whatever the
// earlier ones came to. A plugin that cannot be loaded or instantiated fails every call as load.
func (s *server) run(req *request) (results []resultJSON) {
	everyCall := func(f *Failure) []resultJSON {
		failed := make([]resultJSON, len(req.calls))
		for i, c := range req.calls {
			failure := *f
			failure.Export = c.export
			failed[i] = resultToJSON(failedResult(&failure))
		}
		return failed
	}
	// A panic is a bug in host-go or under it, not something a request may end the host with:
	// the calls it left unanswered fail, saying so, and the host goes on with the next line.
	defer func() {
		if recovered := recover(); recovered != nil {
			fmt.Fprintf(os.Stderr, "host-go: panic while answering request %d: %v\n%s", req.id, recovered, debug.Stack())
			rest := everyCall(&Failure{Kind: kindLoad, Plugin: req.wasm,
				Message: fmt.Sprintf("host-go panicked (a bug in host-go; the stack is on its stderr): %v", recovered)})
			results = append(results, rest[len(results):]...)
		}
	}()

	// Every module file is checked on every request, also when its plugin is compiled already:
	// a path that has become unusable is refused as one that always was.
	if failure := checkModuleFiles(req.wasm, req.links); failure != nil {
		return everyCall(failure)
	}
	config, _ := json.Marshal(req.config)
	links, _ := json.Marshal(req.links)
	key := pluginKey{wasm: req.wasm, links: string(links), interruptible: req.limits.Timeout.Set, wasi: req.wasi,
		config: string(config)}
	compiled, ok := s.plugins[key]
	if !ok {
		var failure *Failure
		options := Options{Limits: Limits{Timeout: req.limits.Timeout}, Wasi: req.wasi, Config: req.config}
		// A load failure is not cached: the file may be fixed while the server runs.
		if compiled, failure = loadPlugin(req.wasm, req.links, options); failure != nil {
			return everyCall(failure)
		}
		s.plugins[key] = compiled
	}
	instance, failure := compiled.Instantiate(req.limits, req.logLevel)
	if failure != nil {
		failure.Plugin = compiled.name
		return everyCall(failure)
	}
	defer instance.Close()
	results = make([]resultJSON, 0, len(req.calls))
	for _, c := range req.calls {
		results = append(results, resultToJSON(instance.Call(req.store, c.export, c.input)))
	}
	return results
}

func resultToJSON(r Result) resultJSON {
	// A nil []byte would be null, not "".
	bytesOrEmpty := func(b []byte) []byte {
		if b == nil {
			return []byte{}
		}
		return b
	}
	result := resultJSON{Trace: make([]traceJSON, len(r.Trace)), Logs: make([]logJSON, len(r.Logs))}
	for i, call := range r.Trace {
		result.Trace[i] = traceJSON{Function: call.Function, Key: bytesOrEmpty(call.Key), ValueLen: call.ValueLen}
	}
	for i, line := range r.Logs {
		result.Logs[i] = logJSON{Level: logLevelName(line.Level), Text: bytesOrEmpty(line.Text)}
	}
	if r.Failure != nil {
		result.Failure = failureToJSON(r.Failure)
		return result
	}
	result.Output = bytesOrEmpty(r.Output)
	return result
}

// failureToJSON gives each kind exactly its fields. A load failure's message is its whole
// sentence, naming the plugin; the other messages are bare, as the Rust host's Failure carries
// them: the kernel's error text, the trap, the host function's refusal (compared exactly with
// the contract's wording).
func failureToJSON(f *Failure) *failureJSON {
	out := &failureJSON{Kind: f.Kind}
	message := func(text string) { out.Message = &text }
	switch f.Kind {
	case kindLoad:
		message(f.Error())
	case kindPlugin, kindTrap, kindHostFunction:
		message(f.Message)
	case kindReturnCode, kindExit:
		code := f.Code
		out.Code = &code
	case kindKeyTooLong, kindValueTooLong:
		length, max := f.Len, f.Max
		out.Len, out.Max = &length, &max
	case kindTimeout, kindOutOfMemory, kindMissingExp:
	default:
		// Not a kind of the protocol's: a bug here. Say so rather than send a kind the client
		// does not know.
		message(fmt.Sprintf("host-go made a failure of unknown kind %q: %s", f.Kind, f.Error()))
		out.Kind = kindLoad
	}
	return out
}

// writeAnswer writes one line and flushes it, since the client waits for it.
func writeAnswer(stdout io.Writer, answer any) error {
	var line bytes.Buffer
	encoder := json.NewEncoder(&line)
	// Messages are shown to people; "<" need not become "\u003c".
	encoder.SetEscapeHTML(false)
	if err := encoder.Encode(answer); err != nil {
		return err
	}
	if _, err := stdout.Write(line.Bytes()); err != nil {
		return err
	}
	if flusher, ok := stdout.(interface{ Flush() error }); ok {
		return flusher.Flush()
	}
	return nil
}

// Reading a request. encoding/json cannot say that a field is missing, nor tell a missing field
// from null, so each object is read as its fields' raw JSON and each field checked here, naming
// it when it is wrong.

// The request's fields, and its objects', in the document's order.
var (
	requestFields = []string{"protocol", "id", "wasm", "links", "wasi", "config", "log_level", "store", "limits", "calls"}
	linkFields    = []string{"name", "wasm"}
	storeFields   = []string{"key", "value"}
	limitFields   = []string{"timeout_ms", "memory_max_pages", "max_key_len", "max_value_len"}
	callFields    = []string{"export", "input"}
)

// maxTimeoutMs is the longest timeout a time.Duration holds, in milliseconds.
const maxTimeoutMs = math.MaxInt64 / uint64(time.Millisecond)

// parseRequest reads one request line. id is the request's id when it could be read (also when
// the request is refused), else nil.
func parseRequest(line []byte) (req *request, id *uint64, reqErr *requestError) {
	var top map[string]json.RawMessage
	if err := json.Unmarshal(line, &top); err != nil {
		var syntax *json.SyntaxError
		if errors.As(err, &syntax) {
			// encoding/json refuses to nest deeper than 10,000 levels (a line of 200,000 "["
			// included) with a syntax error of its own, rather than overflowing its stack.
			if strings.Contains(err.Error(), "exceeded max depth") {
				return nil, nil, malformed("the line nests deeper than host-go's JSON reader takes (10000 levels): %v", err)
			}
			return nil, nil, malformed("the line is not JSON: %v", err)
		}
		return nil, nil, malformed("the line is not a JSON object: %s", show(line))
	}
	if top == nil {
		return nil, nil, malformed("the line is not a JSON object: %s", show(line))
	}
	// The id first, so that every other refusal can carry it.
	if raw, ok := top["id"]; ok {
		if value, err := readUint(raw, "id", false); err == nil {
			id = &value.Value
		}
	}
	// Then the version: a request of another version is refused as such, whatever its fields.
	raw, ok := top["protocol"]
	if !ok {
		return nil, id, malformed("missing field `protocol`")
	}
	version, err := readUint(raw, "protocol", false)
	if err != nil {
		return nil, id, malformed("%v", err)
	}
	if version.Value != protocolVersion {
		return nil, id, &requestError{Kind: errorUnsupportedProtocol, Message: fmt.Sprintf(
			"protocol %d is not supported: host-go speaks protocol %d", version.Value, protocolVersion)}
	}
	req, err = readRequest(top)
	if err != nil {
		return nil, id, malformed("%v", err)
	}
	return req, id, nil
}

func readRequest(top map[string]json.RawMessage) (*request, error) {
	if err := checkFields(top, "", requestFields); err != nil {
		return nil, err
	}
	id, err := readUint(top["id"], "id", false)
	if err != nil {
		return nil, err
	}
	req := &request{id: id.Value}
	if req.wasm, err = readString(top["wasm"], "wasm"); err != nil {
		return nil, err
	}
	if req.links, err = readLinks(top["links"]); err != nil {
		return nil, err
	}
	wasi, err := readString(top["wasi"], "wasi")
	if err != nil {
		return nil, err
	}
	mode, ok := wasiModes[wasi]
	if !ok {
		return nil, fmt.Errorf(`wasi: expected "auto", "on" or "off", got %s`, show(top["wasi"]))
	}
	req.wasi = mode
	if req.config, err = readConfig(top["config"]); err != nil {
		return nil, err
	}
	if req.logLevel, err = readLogLevel(top["log_level"]); err != nil {
		return nil, err
	}
	if req.store, err = readStore(top["store"]); err != nil {
		return nil, err
	}
	if req.limits, err = readLimits(top["limits"]); err != nil {
		return nil, err
	}
	if req.calls, err = readCalls(top["calls"]); err != nil {
		return nil, err
	}
	return req, nil
}

// readLinks reads the modules linked beside the main one. A name is what the other modules
// import from, so it is not empty, not main (the plugin's own module) and not another link's.
func readLinks(raw json.RawMessage) ([]LinkFile, error) {
	entries, err := readArray(raw, "links")
	if err != nil {
		return nil, err
	}
	links := make([]LinkFile, len(entries))
	first := make(map[string]int, len(entries)) // where each name was first given
	for i, entry := range entries {
		path := fmt.Sprintf("links[%d]", i)
		fields, err := readFields(entry, path, linkFields)
		if err != nil {
			return nil, err
		}
		name, err := readString(fields["name"], path+".name")
		if err != nil {
			return nil, err
		}
		switch earlier, repeated := first[name]; {
		case name == "":
			return nil, fmt.Errorf("%s.name: empty; a linked module needs the name the others import it by", path)
		case name == "main":
			return nil, fmt.Errorf(`%s.name: "main" is the plugin's own module; a linked module needs another name`, path)
		case repeated:
			return nil, fmt.Errorf("link names must be distinct: %s.name %q repeats links[%d].name", path, name, earlier)
		}
		first[name] = i
		links[i].Name = name
		if links[i].Path, err = readString(fields["wasm"], path+".wasm"); err != nil {
			return nil, err
		}
	}
	return links, nil
}

func readConfig(raw json.RawMessage) (map[string]string, error) {
	var entries map[string]json.RawMessage
	if err := readObject(raw, "config", &entries); err != nil {
		return nil, err
	}
	config := make(map[string]string, len(entries))
	for key, value := range entries {
		text, err := readString(value, fmt.Sprintf("config[%q]", key))
		if err != nil {
			return nil, err
		}
		config[key] = text
	}
	return config, nil
}

func readLogLevel(raw json.RawMessage) (extism.LogLevel, error) {
	name, err := readString(raw, "log_level")
	if err != nil {
		return 0, err
	}
	level, ok := logLevelOf(name)
	if !ok {
		return 0, fmt.Errorf(`log_level: expected "trace", "debug", "info", "warn", "error" or "off", got %s`, show(raw))
	}
	return level, nil
}

func readStore(raw json.RawMessage) (Store, error) {
	entries, err := readArray(raw, "store")
	if err != nil {
		return nil, err
	}
	store := make(Store, len(entries))
	first := make(map[string]int, len(entries)) // where each key was first given
	for i, entry := range entries {
		path := fmt.Sprintf("store[%d]", i)
		fields, err := readFields(entry, path, storeFields)
		if err != nil {
			return nil, err
		}
		key, err := readBytes(fields["key"], path+".key")
		if err != nil {
			return nil, err
		}
		value, err := readBytes(fields["value"], path+".value")
		if err != nil {
			return nil, err
		}
		if earlier, repeated := first[string(key)]; repeated {
			return nil, fmt.Errorf("store keys must be distinct: %s.key repeats store[%d].key", path, earlier)
		}
		first[string(key)] = i
		store[string(key)] = value
	}
	return store, nil
}

func readLimits(raw json.RawMessage) (Limits, error) {
	var limits Limits
	fields, err := readFields(raw, "limits", limitFields)
	if err != nil {
		return limits, err
	}
	timeout, err := readUint(fields["timeout_ms"], "limits.timeout_ms", true)
	if err != nil {
		return limits, err
	}
	if timeout.Value > maxTimeoutMs {
		return limits, fmt.Errorf("limits.timeout_ms: %d is over the longest timeout host-go can set, %d ms",
			timeout.Value, maxTimeoutMs)
	}
	limits.Timeout = Limit[time.Duration]{Value: time.Duration(timeout.Value) * time.Millisecond, Set: timeout.Set}
	pages, err := readUint(fields["memory_max_pages"], "limits.memory_max_pages", true)
	if err != nil {
		return limits, err
	}
	if pages.Value > maxPages {
		return limits, fmt.Errorf("limits.memory_max_pages: %d is over wasm's %d pages", pages.Value, maxPages)
	}
	limits.MemoryMaxPages = Limit[uint32]{Value: uint32(pages.Value), Set: pages.Set}
	if limits.MaxKeyLen, err = readUint(fields["max_key_len"], "limits.max_key_len", true); err != nil {
		return limits, err
	}
	if limits.MaxValueLen, err = readUint(fields["max_value_len"], "limits.max_value_len", true); err != nil {
		return limits, err
	}
	return limits, nil
}

func readCalls(raw json.RawMessage) ([]exportCall, error) {
	entries, err := readArray(raw, "calls")
	if err != nil {
		return nil, err
	}
	if len(entries) == 0 {
		return nil, errors.New("calls: empty; a request makes at least one call")
	}
	calls := make([]exportCall, len(entries))
	for i, entry := range entries {
		path := fmt.Sprintf("calls[%d]", i)
		fields, err := readFields(entry, path, callFields)
		if err != nil {
			return nil, err
		}
		if calls[i].export, err = readString(fields["export"], path+".export"); err != nil {
			return nil, err
		}
		if calls[i].input, err = readBytes(fields["input"], path+".input"); err != nil {
			return nil, err
		}
	}
	return calls, nil
}

// checkFields refuses an object with a field it does not know, then one without a field it
// needs; path is where the object is in the request ("" for the request itself).
func checkFields(fields map[string]json.RawMessage, path string, names []string) error {
	var unknown []string
	for name := range fields {
		if !slices.Contains(names, name) {
			unknown = append(unknown, name)
		}
	}
	if len(unknown) > 0 {
		slices.Sort(unknown)
		return fmt.Errorf("unknown field `%s`", join(path, unknown[0]))
	}
	for _, name := range names {
		if _, ok := fields[name]; !ok {
			return fmt.Errorf("missing field `%s`", join(path, name))
		}
	}
	return nil
}

func join(path, name string) string {
	if path == "" {
		return name
	}
	return path + "." + name
}

// jsonType is the JSON type raw starts with: what decoding it can be checked against.
func jsonType(raw json.RawMessage) byte {
	trimmed := bytes.TrimSpace(raw)
	if len(trimmed) == 0 {
		return 0
	}
	switch c := trimmed[0]; c {
	case '{', '[', '"', 'n', 't', 'f':
		return c
	}
	return '0' // a number
}

func readObject(raw json.RawMessage, path string, fields *map[string]json.RawMessage) error {
	if jsonType(raw) != '{' {
		return fmt.Errorf("%s: expected an object, got %s", path, show(raw))
	}
	if err := json.Unmarshal(raw, fields); err != nil {
		return fmt.Errorf("%s: %v", path, err)
	}
	return nil
}

// readFields reads the object at path whose fields are exactly names.
func readFields(raw json.RawMessage, path string, names []string) (map[string]json.RawMessage, error) {
	var fields map[string]json.RawMessage
	if err := readObject(raw, path, &fields); err != nil {
		return nil, err
	}
	return fields, checkFields(fields, path, names)
}

func readArray(raw json.RawMessage, path string) ([]json.RawMessage, error) {
	var items []json.RawMessage
	if jsonType(raw) != '[' {
		return nil, fmt.Errorf("%s: expected an array, got %s", path, show(raw))
	}
	if err := json.Unmarshal(raw, &items); err != nil {
		return nil, fmt.Errorf("%s: %v", path, err)
	}
	return items, nil
}

func readString(raw json.RawMessage, path string) (string, error) {
	var text string
	if jsonType(raw) != '"' || json.Unmarshal(raw, &text) != nil {
		return "", fmt.Errorf("%s: expected a string, got %s", path, show(raw))
	}
	return text, nil
}

// readBytes reads a byte string: standard base64 with padding, in a JSON string.
func readBytes(raw json.RawMessage, path string) ([]byte, error) {
	var text string
	if jsonType(raw) != '"' || json.Unmarshal(raw, &text) != nil {
		return nil, fmt.Errorf("%s: expected a base64 string, got %s", path, show(raw))
	}
	data, err := base64.StdEncoding.Strict().DecodeString(text)
	if err != nil {
		return nil, fmt.Errorf("%s: not standard base64 (RFC 4648, +/ and = padding): %v", path, err)
	}
	return data, nil
}

// readUint reads a non-negative integer, or with nullable also null (no limit).
func readUint(raw json.RawMessage, path string, nullable bool) (Limit[uint64], error) {
	var value Limit[uint64]
	expected := "a non-negative integer"
	if nullable {
		expected += " or null"
	}
	switch jsonType(raw) {
	case 'n':
		if nullable && string(bytes.TrimSpace(raw)) == "null" {
			return value, nil
		}
	case '0':
		if err := json.Unmarshal(raw, &value.Value); err == nil {
			value.Set = true
			return value, nil
		}
	}
	return value, fmt.Errorf("%s: expected %s, got %s", path, expected, show(raw))
}

// show is JSON text for a message: whole when short, else its start.
func show(raw []byte) string {
	const most = 40
	text := bytes.TrimSpace(raw)
	if len(text) <= most {
		return string(text)
	}
	end := most
	for end > 0 && !utf8.RuneStart(text[end]) {
		end--
	}
	return string(text[:end]) + "..."
}
