package main

// Module files: a plugin's modules are paths a user may have handed over (../docs/protocol.md,
// "Module files"), so each is checked before it is opened. A path that is not a regular file
// (/dev/zero never ends, a FIFO without a writer blocks open) or is over the cap is refused
// without being opened or read.

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"syscall"
)

// maxModuleBytes is the largest module file host-go reads: 128 MiB.
const maxModuleBytes = 128 << 20

// checkModuleFile says what makes path unusable as a module file, following symbolic links, or
// nil when it is a regular file of at most maxModuleBytes. It never opens path. The error is
// the problem alone ("not a regular file"): the caller names the path.
func checkModuleFile(path string) error {
	info, err := os.Stat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return errors.New("no such file")
	}
	if err != nil {
		return errors.New(bareError(err))
	}
	return checkModuleInfo(info)
}

func checkModuleInfo(info fs.FileInfo) error {
	if !info.Mode().IsRegular() {
		return errors.New("not a regular file")
	}
	if info.Size() > maxModuleBytes {
		return moduleTooLarge(info.Size())
	}
	return nil
}

func moduleTooLarge(size int64) error {
	return fmt.Errorf("%d bytes, over the 128 MiB cap for a module", size)
}

// readModuleFile reads the module file at path once checkModuleFile lets it. The file is
// opened without waiting (a FIFO put in its place since the check does not block the open) and
// checked again as opened, and no more than the cap is read, should it grow meanwhile. The
// error is the problem alone, as checkModuleFile's.
func readModuleFile(path string) ([]byte, error) {
	if err := checkModuleFile(path); err != nil {
		return nil, err
	}
	file, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return nil, errors.New("cannot open it: " + bareError(err))
	}
	defer file.Close()
	info, err := file.Stat()
	if err != nil {
		return nil, errors.New("cannot read it: " + bareError(err))
	}
	if err := checkModuleInfo(info); err != nil {
		return nil, err
	}
	wasm, err := io.ReadAll(io.LimitReader(file, maxModuleBytes+1))
	if err != nil {
		return nil, errors.New("cannot read it: " + bareError(err))
	}
	if len(wasm) > maxModuleBytes {
		return nil, errors.New("it grew over the 128 MiB cap for a module while it was read")
	}
	return wasm, nil
}

// checkModuleFiles checks the plugin's module file and each linked one's, in that order, as
// checkModuleFile does; a failure has kind load and names the file.
func checkModuleFiles(path string, links []LinkFile) *Failure {
	if err := checkModuleFile(path); err != nil {
		return moduleFileFailure(path, nil, err)
	}
	for _, link := range links {
		if err := checkModuleFile(link.Path); err != nil {
			return moduleFileFailure(path, &link, err)
		}
	}
	return nil
}

// moduleFileFailure is the load failure of plugin, whose own module file (link nil) or one of
// whose linked ones cannot be used because of err. Its sentence names the file and the problem:
// "cannot load plugin /dev/zero: not a regular file", or for a link "cannot load plugin
// /x/main.wasm: link lib: /dev/zero: not a regular file".
func moduleFileFailure(plugin string, link *LinkFile, err error) *Failure {
	failure := &Failure{Kind: kindLoad, Plugin: plugin, Message: err.Error()}
	if link != nil {
		failure.Message = fmt.Sprintf("link %s: %s: %v", link.Name, link.Path, err)
	}
	return failure
}
