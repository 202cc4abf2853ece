package main

import (
	"context"
	"errors"
	"fmt"

	extism "github.com/extism/go-sdk"
)

// hostMemoryGetName is the host function's name, imported by plugins from the env namespace.
const hostMemoryGetName = "hostMemoryGet"

// HostCall is one host function call a plugin made.
type HostCall struct {
	Function string
	Key      []byte
	ValueLen int
}

// callState is what one call's host functions see: its store, and where they record what they
// did. It travels in the context.Context given to CallWithContext, which go-sdk hands on to
// every host function, so one compiled plugin serves calls against different stores.
type callState struct {
	store       Store
	limits      Limits
	trace       []HostCall
	hostFailure *Failure // set before a host function fails the call, so the failure says it was the host
}

type callStateKey struct{}

func withCallState(ctx context.Context, state *callState) context.Context {
	return context.WithValue(ctx, callStateKey{}, state)
}

// hostMemoryGet is env.hostMemoryGet(key i64) -> i64; see CONTRACT.md for who owns which block.
func hostMemoryGet() extism.HostFunction {
	f := extism.NewHostFunctionWithStack(hostMemoryGetName, memoryGet,
		[]extism.ValueType{extism.ValueTypePTR}, []extism.ValueType{extism.ValueTypePTR})
	f.SetNamespace("env")
	return f
}

// memoryGet fails a call by panicking: go-sdk host functions return nothing, and wazero
// recovers a host function's panic into the error of the export call.
func memoryGet(ctx context.Context, p *extism.CurrentPlugin, stack []uint64) {
	state, ok := ctx.Value(callStateKey{}).(*callState)
	if !ok {
		panic(errors.New("hostMemoryGet was called outside a call made through host-go"))
	}
	key, err := readKey(p, stack[0], state.limits.MaxKeyLen)
	if err != nil {
		state.refuse(err)
	}
	value := state.store.Get(key)
	if state.limits.MaxValueLen.Over(uint64(len(value))) {
		state.refuse(&Failure{Kind: kindValueTooLong, Len: uint64(len(value)), Max: state.limits.MaxValueLen.Value})
	}
	offset, err := writeValue(p, value)
	if err != nil {
		state.refuse(err)
	}
	stack[0] = offset
	state.trace = append(state.trace, HostCall{Function: hostMemoryGetName, Key: key, ValueLen: len(value)})
}

// hostFunctionError is a refusal by the host function itself, as opposed to an error from the
// runtime underneath (such as the memory cap) that it passes on.
type hostFunctionError string

func (e hostFunctionError) Error() string { return string(e) }

// refuse fails the call with err. A refusal of the host function's own (a bad offset, a limit)
// is recorded first, so the call's failure says it was the host; a runtime error underneath
// (such as the memory cap) is passed on for classify to sort.
func (state *callState) refuse(err error) {
	var refused hostFunctionError
	var limit *Failure
	switch {
	case errors.As(err, &limit):
		state.hostFailure = limit
	case errors.As(err, &refused):
		state.hostFailure = &Failure{Kind: kindHostFunction, Message: err.Error()}
	}
	panic(err)
}

// readKey copies the key block at offset. It never frees it: the block belongs to the plugin.
func readKey(p *extism.CurrentPlugin, offset uint64, maxLen Limit[uint64]) ([]byte, error) {
	// Offset 0 is how every PDK passes an empty key (the kernel never allocates 0 bytes).
	if offset == 0 {
		return []byte{}, nil
	}
	// The kernel's length is 0 for anything but the start of a live block; go-sdk's ReadBytes
	// would then read 0 bytes without an error, so the check is made here.
	length, err := p.Length(offset)
	if err != nil {
		return nil, err
	}
	if length == 0 {
		return nil, hostFunctionError(fmt.Sprintf(
			"%s: key offset %d is not an allocated Extism memory block", hostMemoryGetName, int64(offset)))
	}
	if maxLen.Over(length) {
		return nil, &Failure{Kind: kindKeyTooLong, Len: length, Max: maxLen.Value}
	}
	block, ok := p.Memory().Read(uint32(offset), uint32(length))
	if !ok {
		return nil, hostFunctionError(fmt.Sprintf(
			"%s: cannot read the key block: %d bytes at offset %d are out of memory range",
			hostMemoryGetName, length, offset))
	}
	return append([]byte{}, block...), nil
}

// writeValue copies value into a new block and returns its offset; an empty value is offset 0.
func writeValue(p *extism.CurrentPlugin, value []byte) (uint64, error) {
	if len(value) == 0 {
		return 0, nil
	}
	offset, err := p.Alloc(uint64(len(value)))
	if err != nil {
		return 0, err
	}
	// The kernel answers 0 when it cannot grow its memory; go-sdk's WriteBytes would then
	// write the value over the kernel's own bookkeeping at offset 0.
	if offset == 0 {
		return 0, hostFunctionError(fmt.Sprintf(
			"%s: cannot allocate %d bytes for the value", hostMemoryGetName, len(value)))
	}
	if !p.Memory().Write(uint32(offset), value) {
		return 0, hostFunctionError(fmt.Sprintf(
			"%s: cannot write the value block at offset %d", hostMemoryGetName, offset))
	}
	return offset, nil
}
