package main

import (
	"errors"
	"fmt"
	"strings"

	"github.com/tetratelabs/wazero/sys"
)

// The kinds of failure, as the conformance protocol spells them (../docs/protocol.md,
// "Failures"); they mirror the Rust host's host::Failure, plus the ways a call can fail before
// anything runs.
const (
	kindPlugin       = "plugin"
	kindReturnCode   = "return_code"
	kindTrap         = "trap"
	kindExit         = "exit"
	kindHostFunction = "host_function"
	kindTimeout      = "timeout"
	kindOutOfMemory  = "out_of_memory"
	kindKeyTooLong   = "key_too_long"
	kindValueTooLong = "value_too_long"
	kindMissingExp   = "missing_export"
	kindLoad         = "load"
)

// Exit codes of the CLI, one per group of failure kinds (usage prints this table).
const (
	exitOK           = 0
	exitPluginError  = 1
	exitUsage        = 2
	exitLoad         = 3
	exitNoExport     = 4
	exitAborted      = 5
	exitTimeout      = 6
	exitOutOfMemory  = 7
	exitHostFunction = 8
)

// Failure is why a call gave no output. Message is set for plugin, trap, host_function and
// load; Code for return_code and exit; Len and Max for key_too_long and
// value_too_long. Plugin and Export name what failed, for Error.
type Failure struct {
	Kind    string
	Message string
	Code    int32
	Len     uint64
	Max     uint64
	Plugin  string
	Export  string
}

// Error reads like the Rust host's errors, naming the plugin and the export.
func (f *Failure) Error() string {
	switch f.Kind {
	case kindLoad:
		return "cannot load plugin " + f.Plugin + ": " + f.Message
	case kindMissingExp:
		return fmt.Sprintf("plugin %s has no export %s of type () -> i32", f.Plugin, f.Export)
	}
	return fmt.Sprintf("plugin %s failed in export %s: %s", f.Plugin, f.Export, f.describe())
}

// describe is the failure alone, as the Rust host's Failure displays it.
func (f *Failure) describe() string {
	switch f.Kind {
	case kindPlugin:
		return "plugin error: " + f.Message
	case kindReturnCode:
		return fmt.Sprintf("returned %d without an error message", f.Code)
	case kindTrap:
		return "trap: " + f.Message
	case kindExit:
		return fmt.Sprintf("exited with code %d", f.Code)
	case kindHostFunction:
		return "host function error: " + f.Message
	case kindTimeout:
		return "timed out"
	case kindOutOfMemory:
		return "out of memory"
	case kindKeyTooLong:
		return fmt.Sprintf("%s: key of %d bytes is over the limit of %d", hostMemoryGetName, f.Len, f.Max)
	case kindValueTooLong:
		return fmt.Sprintf("%s: value of %d bytes is over the limit of %d", hostMemoryGetName, f.Len, f.Max)
	}
	return f.Kind + ": " + f.Message
}

// ExitCode is the CLI's exit code for this failure.
func (f *Failure) ExitCode() int {
	switch f.Kind {
	case kindPlugin, kindReturnCode:
		return exitPluginError
	case kindLoad:
		return exitLoad
	case kindMissingExp:
		return exitNoExport
	case kindTrap, kindExit:
		return exitAborted
	case kindTimeout:
		return exitTimeout
	case kindOutOfMemory:
		return exitOutOfMemory
	case kindHostFunction, kindKeyTooLong, kindValueTooLong:
		return exitHostFunction
	}
	return exitUsage
}

// outcome is everything known about one finished call to an export.
type outcome struct {
	rc  uint32
	err error // as go-sdk's CallWithContext returned it
	// kernelError is the kernel's error_get text after the call; go-sdk turns that text into
	// err itself, so comparing the two is how a plugin error is told from a trap.
	kernelError string
	hostFailure *Failure // what hostMemoryGet recorded before failing the call
	memoryCap   bool     // the cap refused to grow a memory (or fit the input) during the call
	deadline    bool     // the call's deadline passed
	limits      Limits
}

// classify sorts a call's outcome, in the Rust host's order: the host function's own record
// first, then limits (only when set: a plugin may report an error called "timeout" itself),
// then what the runtime saw. It returns nil for success.
func classify(o outcome) *Failure {
	if o.err == nil {
		if o.rc != 0 {
			return &Failure{Kind: kindReturnCode, Code: int32(o.rc)}
		}
		return nil
	}
	if o.hostFailure != nil {
		return o.hostFailure
	}
	var exit *sys.ExitError
	isExit := errors.As(o.err, &exit)
	if o.limits.Timeout.Set && (o.deadline || isExit && exit.ExitCode() == sys.ExitCodeDeadlineExceeded) {
		return &Failure{Kind: kindTimeout}
	}
	if o.limits.MemoryMaxPages.Set && (o.memoryCap || errors.Is(o.err, errMemoryCap)) {
		return &Failure{Kind: kindOutOfMemory}
	}
	if isExit {
		return &Failure{Kind: kindExit, Code: int32(exit.ExitCode())}
	}
	if o.kernelError != "" && o.err.Error() == o.kernelError {
		return &Failure{Kind: kindPlugin, Message: o.kernelError}
	}
	return &Failure{Kind: kindTrap, Message: trapText(o.err)}
}

// trapText drops the wasm stack trace wazero appends: the kind of trap is the message, the
// frames (mangled names, addresses) differ from one compiler to the next.
func trapText(err error) string {
	text := err.Error()
	if before, _, found := strings.Cut(text, "\nwasm stack trace:"); found {
		return before
	}
	return text
}
