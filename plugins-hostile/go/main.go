// Hostile plugins written with go-pdk: every export attacks the host in one way, and
// host/tests/integration/hostile_plugins.rs checks that each ends in a named failure (never a crash of the
// host process). The same exports as plugins-hostile/rust, built by standard Go
// (GOOS=wasip1, -buildmode=c-shared) by `cargo xtask build-hostile`.
//
// Go can express every attack but one: it has no way to emit the wasm `unreachable` instruction,
// so `unreachable` panics instead (the Go runtime's own abort).
package main

import (
	"strconv"
	"strings"

	"github.com/extism/go-pdk"
)

// hostMemoryGet is the contract's host function, taking any offset the plugin passes.
//
//go:wasmimport env hostMemoryGet
func hostMemoryGet(key uint64) uint64

// outputSet is the Extism kernel's output_set, imported directly so that any block can be given.
//
//go:wasmimport extism:host/env output_set
func outputSet(offset uint64, length uint64)

// sink keeps values alive and observable so the compiler cannot drop the work that made them.
var sink uint64

// infiniteLoop never returns; only the host's timeout (or fuel) can stop it.
//
//go:wasmexport infinite_loop
func infiniteLoop() int32 {
	for {
		sink++
	}
}

// bomb holds every chunk memory_bomb allocates, so none can be collected.
var bomb [][]byte

// memoryBomb allocates 1 MiB chunks and touches every page of each, keeping them all, until the
// host's memory limit stops it.
//
//go:wasmexport memory_bomb
func memoryBomb() int32 {
	for {
		chunk := make([]byte, 1<<20)
		for i := 0; i < len(chunk); i += 4096 {
			chunk[i] = 1
		}
		bomb = append(bomb, chunk)
	}
}

// recurse calls itself and uses the result after the call returns, so it is no tail call; the
// stopping depth is never reached in practice.
//
//go:noinline
func recurse(depth uint64) uint64 {
	if depth == ^uint64(0) {
		return 0
	}
	return recurse(depth+1) + depth%7
}

// unboundedRecursion recurses until a stack runs out.
//
//go:wasmexport unbounded_recursion
func unboundedRecursion() int32 {
	pdk.OutputString(strconv.FormatUint(recurse(0), 10))
	return 0
}

// forgedKeyOffset calls hostMemoryGet with the input (decimal text, possibly negative) as the
// key offset, a block the plugin never allocated. Outputs the offset it got back, if the host
// answers at all.
//
//go:wasmexport forged_key_offset
func forgedKeyOffset() int32 {
	offset, err := strconv.ParseInt(strings.TrimSpace(string(pdk.Input())), 10, 64)
	if err != nil {
		pdk.SetError(err)
		return 1
	}
	value := hostMemoryGet(uint64(offset))
	pdk.OutputString(strconv.FormatUint(value, 10))
	return 0
}

// forgedOutputOffset sets the output to the block given as input, "OFFSET LEN" in decimal,
// which the plugin never allocated.
//
//go:wasmexport forged_output_offset
func forgedOutputOffset() int32 {
	fields := strings.Fields(string(pdk.Input()))
	if len(fields) != 2 {
		pdk.SetErrorString("expected OFFSET LEN")
		return 1
	}
	offset, err := strconv.ParseInt(fields[0], 10, 64)
	if err != nil {
		pdk.SetError(err)
		return 1
	}
	length, err := strconv.ParseInt(fields[1], 10, 64)
	if err != nil {
		pdk.SetError(err)
		return 1
	}
	outputSet(uint64(offset), uint64(length))
	return 0
}

// million is how many host calls million_host_calls makes.
const million = 1000000

// millionHostCalls calls hostMemoryGet a million times with the empty key (offset 0), which the
// host answers with the empty value (offset 0): all host-call overhead, no allocation. Outputs
// how many calls returned.
//
//go:wasmexport million_host_calls
func millionHostCalls() int32 {
	calls := 0
	for i := 0; i < million; i++ {
		sink += hostMemoryGet(0)
		calls++
	}
	pdk.OutputString(strconv.Itoa(calls))
	return 0
}

// failsMidHostCalls makes 500 good calls with a real key block ("hello", allocated by the PDK),
// freeing each value block, then one call with a forged key offset. The host fails that call, so
// the output "unreachable" is never set.
//
//go:wasmexport fails_mid_host_calls
func failsMidHostCalls() int32 {
	key := pdk.AllocateBytes([]byte("hello"))
	for i := 0; i < 500; i++ {
		value := pdk.FindMemory(hostMemoryGet(key.Offset()))
		value.Free()
	}
	sink += hostMemoryGet(99999)
	key.Free()
	pdk.OutputString("unreachable")
	return 0
}

// unreachable panics: Go cannot emit the wasm unreachable instruction itself.
//
//go:wasmexport unreachable
func unreachable() int32 {
	panic("unreachable")
}

// main is empty: a c-shared (reactor) module runs no main; the host calls _initialize, then exports.
func main() {}
