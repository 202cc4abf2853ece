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

// main is empty: a c-shared (reactor) module runs no main; the host calls _initialize, then exports.
func main() {}
