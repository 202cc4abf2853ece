package main

import (
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strconv"
	"time"
	"unicode/utf8"

	extism "github.com/extism/go-sdk"
)

// optionalString is a string flag that knows whether it was given.
type optionalString struct {
	value string
	set   bool
}

func (s *optionalString) String() string { return s.value }

func (s *optionalString) Set(value string) error {
	s.value, s.set = value, true
	return nil
}

// wasiFlag is --wasi auto|on|off.
type wasiFlag struct{ mode *Wasi }

func (w wasiFlag) String() string {
	if w.mode == nil {
		return WasiAuto.String()
	}
	return w.mode.String()
}

func (w wasiFlag) Set(value string) error {
	mode, ok := wasiModes[value]
	if !ok {
		return errors.New("expected auto, on or off")
	}
	*w.mode = mode
	return nil
}

// logLevelFlag is --log-level trace|debug|info|warn|error|off.
type logLevelFlag struct{ level *extism.LogLevel }

func (l logLevelFlag) String() string {
	if l.level == nil {
		return "off"
	}
	return logLevelName(*l.level)
}

func (l logLevelFlag) Set(value string) error {
	level, ok := logLevelOf(value)
	if !ok {
		return errors.New("expected trace, debug, info, warn, error or off")
	}
	*l.level = level
	return nil
}

// storeSets collects --set KEY=VALUE (and --config KEY=VALUE), in order, so a later one wins.
type storeSets [][2]string

func (s *storeSets) String() string { return "" }

func (s *storeSets) Set(arg string) error {
	key, value, err := parseSet(arg)
	if err != nil {
		return errors.New("expected KEY=VALUE")
	}
	*s = append(*s, [2]string{key, value})
	return nil
}

type callArgs struct {
	wasm, export string
	input        optionalString
	inputFile    optionalString
	storeFile    optionalString
	sets         storeSets
	configs      storeSets
	options      Options
	trace        bool
}

// parseCallArgs reads call's flags, which may come before, between or after WASM and EXPORT.
func parseCallArgs(args []string) (*callArgs, error) {
	var c callArgs
	// 0 is none for both, on the command line.
	timeout := defaultLimits.Timeout.Value
	memoryMax := uint64(defaultLimits.MemoryMaxPages.Value)
	flags := flag.NewFlagSet("call", flag.ContinueOnError)
	// flag would print its error and the usage; one line of ours is printed instead.
	flags.SetOutput(io.Discard)
	flags.Var(&c.input, "input", "")
	flags.Var(&c.inputFile, "input-file", "")
	flags.Var(&c.storeFile, "store", "")
	flags.Var(&c.sets, "set", "")
	flags.Var(&c.configs, "config", "")
	flags.Var(wasiFlag{&c.options.Wasi}, "wasi", "")
	c.options.LogLevel = extism.LogLevelOff
	flags.Var(logLevelFlag{&c.options.LogLevel}, "log-level", "")
	c.options.Limits = defaultLimits
	flags.DurationVar(&timeout, "timeout", timeout, "")
	flags.Uint64Var(&memoryMax, "memory-max", memoryMax, "")
	flags.BoolVar(&c.trace, "trace", false, "")

	var positional []string
	for {
		if err := flags.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return nil, errHelp
			}
			return nil, usageError("call: %s", err)
		}
		rest := flags.Args()
		// After "--" everything is an argument; otherwise parse on past the next argument.
		if consumed := args[:len(args)-len(rest)]; len(consumed) > 0 && consumed[len(consumed)-1] == "--" {
			positional = append(positional, rest...)
			break
		}
		if len(rest) == 0 {
			break
		}
		positional = append(positional, rest[0])
		args = rest[1:]
	}
	if len(positional) != 2 {
		return nil, usageError("call needs WASM and EXPORT, got %d arguments; see host-go --help", len(positional))
	}
	c.wasm, c.export = positional[0], positional[1]
	if c.input.set && c.inputFile.set {
		return nil, usageError("call: --input and --input-file cannot be used together")
	}
	if memoryMax > maxPages {
		return nil, usageError("call: --memory-max %d is over wasm's %d pages", memoryMax, maxPages)
	}
	c.options.Limits.MemoryMaxPages = Limit[uint32]{Value: uint32(memoryMax), Set: memoryMax > 0}
	if timeout < 0 {
		return nil, usageError("call: --timeout %s is negative", timeout)
	}
	c.options.Limits.Timeout = Limit[time.Duration]{Value: timeout, Set: timeout > 0}
	if len(c.configs) > 0 {
		c.options.Config = map[string]string{}
		for _, entry := range c.configs {
			c.options.Config[entry[0]] = entry[1]
		}
	}
	return &c, nil
}

// call runs one export and writes its output to stdout unchanged.
func call(args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	c, err := parseCallArgs(args)
	if err != nil {
		return err
	}
	// The module file first, before anything is read (stdin included): /dev/zero or a FIFO is
	// refused at once, as it would be read forever or wait for a writer.
	if failure := checkModuleFiles(c.wasm, nil); failure != nil {
		return failureExit(failure)
	}
	store, err := c.store()
	if err != nil {
		return err
	}
	input, err := c.readInput(stdin)
	if err != nil {
		return err
	}
	compiled, failure := loadPlugin(c.wasm, nil, c.options)
	if failure != nil {
		return failureExit(failure)
	}
	defer compiled.Close()
	result := compiled.Call(store, c.export, input)
	if c.trace {
		for _, hostCall := range result.Trace {
			fmt.Fprintf(stderr, "trace: %s key %s -> %d bytes\n", hostCall.Function, quoteKey(hostCall.Key), hostCall.ValueLen)
		}
	}
	for _, logLine := range result.Logs {
		fmt.Fprintf(stderr, "log %s: %s\n", logLevelName(logLine.Level), logLine.Text)
	}
	if result.Failure != nil {
		return failureExit(result.Failure)
	}
	if _, err := stdout.Write(result.Output); err != nil {
		return fmt.Errorf("cannot write to stdout: %w", err)
	}
	return nil
}

// store is the seed's store or the --store file's, with --set entries over it.
func (c *callArgs) store() (Store, error) {
	store := seedStore()
	if c.storeFile.set {
		data, err := os.ReadFile(c.storeFile.value)
		if err != nil {
			return nil, &exitError{code: exitLoad, message: "cannot read store file " + c.storeFile.value + ": " + bareError(err)}
		}
		if store, err = parseStoreJSON(data); err != nil {
			return nil, &exitError{code: exitLoad, message: "store file " + c.storeFile.value + ": " + err.Error()}
		}
	}
	for _, set := range c.sets {
		store[set[0]] = []byte(set[1])
	}
	return store, nil
}

func (c *callArgs) readInput(stdin io.Reader) ([]byte, error) {
	switch {
	case c.input.set:
		return []byte(c.input.value), nil
	case c.inputFile.set && c.inputFile.value != "-":
		data, err := os.ReadFile(c.inputFile.value)
		if err != nil {
			return nil, &exitError{code: exitLoad, message: "cannot read input file " + c.inputFile.value + ": " + bareError(err)}
		}
		return data, nil
	case !c.inputFile.set && isTerminal(stdin):
		// A terminal would wait for typing that nobody meant to do.
		return []byte{}, nil
	}
	data, err := io.ReadAll(stdin)
	if err != nil {
		return nil, &exitError{code: exitLoad, message: "cannot read stdin: " + err.Error()}
	}
	return data, nil
}

func isTerminal(r io.Reader) bool {
	file, ok := r.(*os.File)
	if !ok {
		return false
	}
	info, err := file.Stat()
	return err == nil && info.Mode()&os.ModeCharDevice != 0
}

// bareError drops the path an fs.PathError repeats, since the message names the file already.
func bareError(err error) string {
	var pathErr *fs.PathError
	if errors.As(err, &pathErr) {
		return pathErr.Err.Error()
	}
	return err.Error()
}

// quoteKey shows a key as a quoted string, or as hex when it is not UTF-8.
func quoteKey(key []byte) string {
	if utf8.Valid(key) {
		return strconv.Quote(string(key))
	}
	return "hex " + hex.EncodeToString(key)
}
