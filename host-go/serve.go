package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"time"
)

// serveRequest is one line of serve's stdin. encoding/json carries []byte as base64.
type serveRequest struct {
	Wasm           string       `json:"wasm"`
	Export         string       `json:"export"`
	Input          []byte       `json:"input"`
	Store          []storeEntry `json:"store"`
	TimeoutMs      uint64       `json:"timeout_ms"`
	MemoryMaxPages uint32       `json:"memory_max_pages"`
	MaxKeyLen      uint64       `json:"max_key_len"`
	MaxValueLen    uint64       `json:"max_value_len"`
}

type storeEntry struct {
	Key   []byte `json:"key"`
	Value []byte `json:"value"`
}

// serveResponse is one line of serve's stdout. Slices are never nil, so that JSON has "" and
// [] rather than null.
type serveResponse struct {
	Output  []byte         `json:"output"`
	Failure *failureJSON   `json:"failure"`
	Trace   []hostCallJSON `json:"trace"`
}

type failureJSON struct {
	Kind    string `json:"kind"`
	Message string `json:"message"`
	Code    int32  `json:"code"`
	Len     uint64 `json:"len"`
	Max     uint64 `json:"max"`
}

type hostCallJSON struct {
	Function string `json:"function"`
	Key      []byte `json:"key"`
	ValueLen int    `json:"value_len"`
}

// pluginKey is what a compiled plugin depends on: whether its calls can time out, which changes
// the generated code (and costs every call, so it is not done for calls without a timeout). The
// other limits are the instance's (the memory cap) and the call's (keys and values).
type pluginKey struct {
	wasm          string
	interruptible bool
}

// server answers serve requests, compiling each plugin once (twice if it is called both with and
// without a timeout); each request gets a fresh instance.
type server struct {
	plugins map[pluginKey]*Compiled
}

// serve reads requests from stdin until EOF and writes one response line for each, flushed,
// in order. Only a failure to read stdin or write stdout ends it early.
func serve(stdin io.Reader, stdout io.Writer) error {
	s := &server{plugins: map[pluginKey]*Compiled{}}
	defer s.close()
	// A line can be megabytes of base64 (an input of several MiB), so no line length limit.
	reader := bufio.NewReaderSize(stdin, 1<<16)
	for {
		line, readErr := reader.ReadBytes('\n')
		// A blank line is no request (it keeps a hand-typed session forgiving).
		if len(bytes.TrimSpace(line)) > 0 {
			if err := writeResponse(stdout, s.handle(line)); err != nil {
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
func (s *server) handle(line []byte) serveResponse {
	request, err := parseRequest(line)
	if err != nil {
		return failedResponse(&Failure{Kind: kindRequest, Message: err.Error()})
	}
	limits := Limits{
		Timeout:        time.Duration(request.TimeoutMs) * time.Millisecond,
		MemoryMaxPages: request.MemoryMaxPages,
		MaxKeyLen:      request.MaxKeyLen,
		MaxValueLen:    request.MaxValueLen,
	}
	key := pluginKey{wasm: request.Wasm, interruptible: limits.Timeout > 0}
	compiled, ok := s.plugins[key]
	if !ok {
		var failure *Failure
		// A load failure is not cached: the file may be fixed while the server runs.
		if compiled, failure = loadPlugin(request.Wasm, Limits{Timeout: limits.Timeout}); failure != nil {
			return failedResponse(failure)
		}
		s.plugins[key] = compiled
	}
	store := make(Store, len(request.Store))
	for _, entry := range request.Store {
		store[string(entry.Key)] = entry.Value
	}
	input := request.Input
	if input == nil {
		input = []byte{}
	}
	result := compiled.CallWith(limits, store, request.Export, input)
	response := serveResponse{Output: result.Output, Trace: make([]hostCallJSON, len(result.Trace))}
	for i, call := range result.Trace {
		response.Trace[i] = hostCallJSON{Function: call.Function, Key: call.Key, ValueLen: call.ValueLen}
	}
	if result.Failure != nil {
		response.Failure = failureToJSON(result.Failure)
	}
	return response
}

// parseRequest is strict: an unknown field is more likely a typo than something to ignore.
func parseRequest(line []byte) (serveRequest, error) {
	var request serveRequest
	decoder := json.NewDecoder(bytes.NewReader(line))
	decoder.DisallowUnknownFields()
	if err := decoder.Decode(&request); err != nil {
		return request, fmt.Errorf("malformed request: %w", err)
	}
	if decoder.More() {
		return request, errors.New("malformed request: more than one JSON value on the line")
	}
	switch {
	case request.Wasm == "":
		return request, errors.New("malformed request: no wasm path")
	case request.Export == "":
		return request, errors.New("malformed request: no export")
	case request.MemoryMaxPages > maxPages:
		return request, fmt.Errorf("malformed request: memory_max_pages %d is over wasm's %d",
			request.MemoryMaxPages, maxPages)
	case request.TimeoutMs > math.MaxInt64/uint64(time.Millisecond):
		return request, fmt.Errorf("malformed request: timeout_ms %d is too large", request.TimeoutMs)
	}
	for i, entry := range request.Store {
		if entry.Key == nil || entry.Value == nil {
			return request, fmt.Errorf("malformed request: store entry %d needs a key and a value", i)
		}
	}
	return request, nil
}

func failedResponse(f *Failure) serveResponse {
	return serveResponse{Output: []byte{}, Failure: failureToJSON(f), Trace: []hostCallJSON{}}
}

// failureToJSON gives load and request failures their whole sentence as the message (naming the
// plugin), and the other kinds the bare message the Rust host's Failure carries.
func failureToJSON(f *Failure) *failureJSON {
	message := f.Message
	switch f.Kind {
	case kindLoad:
		message = f.Error()
	case kindTimeout, kindOutOfMemory, kindMissingExp, kindReturnCode, kindExit, kindKeyTooLong, kindValueTooLong:
		message = ""
	}
	return &failureJSON{Kind: f.Kind, Message: message, Code: f.Code, Len: f.Len, Max: f.Max}
}

// writeResponse writes one line and flushes it, since the client waits for it.
func writeResponse(stdout io.Writer, response serveResponse) error {
	var line bytes.Buffer
	encoder := json.NewEncoder(&line)
	// Messages are shown to people; "<" need not become "\u003c".
	encoder.SetEscapeHTML(false)
	if err := encoder.Encode(response); err != nil {
		return err
	}
	_, err := stdout.Write(line.Bytes())
	return err
}
