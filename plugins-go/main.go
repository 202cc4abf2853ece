// The conformance plugin contract (see CONTRACT.md at the root), written with go-pdk.
// One source for both Go compilers: standard Go (GOOS=wasip1, -buildmode=c-shared) and TinyGo
// (-target wasip1 -buildmode=c-shared). Built by `cargo xtask build-plugins`.
package main

import (
	"strconv"

	"github.com/extism/go-pdk"
)

// hostMemoryGet takes the offset of a key block and returns the offset of a value block
// (0 when the value is empty).
//
//go:wasmimport env hostMemoryGet
func hostMemoryGet(key uint64) uint64

// get looks key up through the host. This plugin owns both blocks, so it frees both: the key
// after the call, the value once read (the host never frees the key).
func get(key []byte) []byte {
	keyBlock := pdk.AllocateBytes(key)
	valueBlock := pdk.FindMemory(hostMemoryGet(keyBlock.Offset()))
	keyBlock.Free()
	value := valueBlock.ReadBytes()
	valueBlock.Free()
	return value
}

// sayHello is the seed's say_hello: a greeting, then the hello and message values from the host.
//
//go:wasmexport say_hello
func sayHello() int32 {
	output := append([]byte("👋 Hello "), pdk.Input()...)
	for _, key := range []string{"hello", "message"} {
		output = append(output, "\nkey: "+key+", value: "...)
		output = append(output, get([]byte(key))...)
	}
	pdk.Output(output)
	return 0
}

// lookup outputs the value of the key given as input.
//
//go:wasmexport lookup
func lookup() int32 {
	pdk.Output(get(pdk.Input()))
	return 0
}

// manyCalls is how many times count_calls calls the host in one export call.
const manyCalls = 10000

// countCalls looks the input key up manyCalls times and reports the bytes received.
//
//go:wasmexport count_calls
func countCalls() int32 {
	key := pdk.Input()
	bytes := 0
	for i := 0; i < manyCalls; i++ {
		bytes += len(get(key))
	}
	pdk.OutputString(strconv.Itoa(manyCalls) + " calls, " + strconv.Itoa(bytes) + " bytes")
	return 0
}

// echo outputs the input, byte for byte.
//
//go:wasmexport echo
func echo() int32 {
	pdk.Output(pdk.Input())
	return 0
}

// fail reports the input (UTF-8 text) as the call's error, with return code 1.
//
//go:wasmexport fail
func fail() int32 {
	pdk.SetErrorString(string(pdk.Input()))
	return 1
}

// trap panics with the input as its message.
//
//go:wasmexport trap
func trap() int32 {
	panic(string(pdk.Input()))
}

// noop reads no input, writes no output and returns 0: the fixed cost of a call.
//
//go:wasmexport noop
func noop() int32 {
	return 0
}

// spin loops until the host stops it (the case's timeout). An empty for is defined to loop
// forever in Go, so neither compiler may remove it.
//
//go:wasmexport spin
func spin() int32 {
	for {
	}
}

// configGet outputs the config value whose key is the input, or "missing" when there is none
// (an empty value reads as none).
//
//go:wasmexport config_get
func configGet() int32 {
	if value, ok := pdk.GetConfig(string(pdk.Input())); ok {
		pdk.OutputString("value: " + value)
	} else {
		pdk.OutputString("missing")
	}
	return 0
}

// varCount adds one to the var count, kept as decimal text (pdk.GetVarInt and SetVarInt keep
// eight little-endian bytes instead), and outputs the new count.
//
//go:wasmexport var_count
func varCount() int32 {
	var n int32
	if count := pdk.GetVar("count"); count != nil {
		var ok bool
		// Only var_count sets count, so it is always decimal text.
		if n, ok = parseI32(count); !ok {
			panic("var count is not decimal text")
		}
	}
	n++
	text := strconv.Itoa(int(n))
	pdk.SetVar("count", []byte(text))
	pdk.OutputString("count: " + text)
	return 0
}

// varGet outputs the var whose name is the input, or "missing" when there is none.
//
//go:wasmexport var_get
func varGet() int32 {
	if value := pdk.GetVar(string(pdk.Input())); value != nil {
		pdk.Output(append([]byte("value: "), value...))
	} else {
		pdk.OutputString("missing")
	}
	return 0
}

// varRemove removes the var count; removing a var that does not exist is no error.
//
//go:wasmexport var_remove
func varRemove() int32 {
	pdk.RemoveVar("count")
	pdk.OutputString("removed")
	return 0
}

// varStore stores the input as the var data and reports how many bytes read back. A store past
// the host's var limit fails in the host's var_set; an empty input removes data.
//
//go:wasmexport var_store
func varStore() int32 {
	pdk.SetVar("data", pdk.Input())
	pdk.OutputString("stored " + strconv.Itoa(len(pdk.GetVar("data"))) + " bytes")
	return 0
}

// logLevels logs one line at each Extism level, lowest first; pdk.Log drops the lines below the
// host's level itself (get_log_level). go-pdk v1.1.3 imports its trace function as log_error
// (env.go:88, fixed upstream in go-pdk#60), so the trace line reaches the host at error level.
//
//go:wasmexport log_levels
func logLevels() int32 {
	input := string(pdk.Input())
	pdk.Log(pdk.LogTrace, "trace: "+input)
	pdk.Log(pdk.LogDebug, "debug: "+input)
	pdk.Log(pdk.LogInfo, "info: "+input)
	pdk.Log(pdk.LogWarn, "warn: "+input)
	pdk.Log(pdk.LogError, "error: "+input)
	pdk.OutputString("logged")
	return 0
}

// returnCode returns the input, a decimal i32, as the return code, with no error message and no
// output. Input that is not one is reported as an error with return code 1.
//
//go:wasmexport return_code
func returnCode() int32 {
	code, ok := parseI32(pdk.Input())
	if !ok {
		pdk.SetErrorString("input is not a decimal i32")
		return 1
	}
	return code
}

// parseI32 reads text written as the contract writes an i32, an optional "-" and then decimal
// digits; ok is false for anything else and for a number out of range. strconv.ParseInt would
// also take a "+", and its error values bring reflection into the module (13 KB of TinyGo's 47 KB).
func parseI32(text []byte) (n int32, ok bool) {
	negative := len(text) > 0 && text[0] == '-'
	if negative {
		text = text[1:]
	}
	if len(text) == 0 {
		return 0, false
	}
	var magnitude int64
	for _, digit := range text {
		if digit < '0' || digit > '9' {
			return 0, false
		}
		magnitude = magnitude*10 + int64(digit-'0')
		if magnitude > 1<<31 {
			return 0, false
		}
	}
	if negative {
		return int32(-magnitude), true
	}
	if magnitude == 1<<31 {
		return 0, false
	}
	return int32(magnitude), true
}

// errorThenZero sets the input as the call's error message, as fail does, but returns 0.
//
//go:wasmexport error_then_zero
func errorThenZero() int32 {
	pdk.SetErrorString(string(pdk.Input()))
	return 0
}

// main is empty: a c-shared (reactor) module runs no main; the host calls _initialize, then exports.
func main() {}
