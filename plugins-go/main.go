// The conformance plugin contract (see CONTRACT.md at the root), written with go-pdk.
// One source for both Go compilers: standard Go (GOOS=wasip1, -buildmode=c-shared) and TinyGo
// (-target wasip1 -buildmode=c-shared). Built by `cargo xtask build-plugins`.
package main

import "github.com/extism/go-pdk"

// hostMemoryGet takes the offset of a key block and returns the offset of a value block
// (0 when the value is empty).
//
//go:wasmimport env hostMemoryGet
func hostMemoryGet(key uint64) uint64

// get looks key up through the host. This plugin owns both blocks, so it frees both: the key
// after the call, the value once read (the host never frees the key).
func get(key string) []byte {
	keyBlock := pdk.AllocateString(key)
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
		output = append(output, get(key)...)
	}
	pdk.Output(output)
	return 0
}

// main is empty: a c-shared (reactor) module runs no main; the host calls _initialize, then exports.
func main() {}
