package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// unusableFile is a path that is no module file and what host-go says of it.
type unusableFile struct {
	what, path, problem string
}

// unusableFiles makes one path of each kind a module file cannot be: none, a directory, a
// device that never ends, a FIFO without a writer (opening it would wait for one), a sparse file
// one byte over the cap, and a symbolic link to the device.
func unusableFiles(t *testing.T) []unusableFile {
	t.Helper()
	dir := t.TempDir()
	fifo := filepath.Join(dir, "fifo.wasm")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Fatal(err)
	}
	big := filepath.Join(dir, "big.wasm")
	file, err := os.Create(big)
	if err != nil {
		t.Fatal(err)
	}
	// Sparse: no 128 MiB are written.
	if err := file.Truncate(maxModuleBytes + 1); err != nil {
		t.Fatal(err)
	}
	file.Close()
	toZero := filepath.Join(dir, "zero.wasm")
	if err := os.Symlink("/dev/zero", toZero); err != nil {
		t.Fatal(err)
	}
	return []unusableFile{
		{"missing", filepath.Join(dir, "absent.wasm"), "no such file"},
		{"directory", dir, "not a regular file"},
		{"device", "/dev/zero", "not a regular file"},
		{"fifo", fifo, "not a regular file"},
		{"over the cap", big, "134217729 bytes, over the 128 MiB cap for a module"},
		{"symlink to a device", toZero, "not a regular file"},
	}
}

// within fails the test when f has not returned after a while: a module file that is opened or
// read (a FIFO, /dev/zero) would hang it.
func within(t *testing.T, what string, f func()) {
	t.Helper()
	done := make(chan struct{})
	go func() {
		defer close(done)
		f()
	}()
	select {
	case <-done:
	case <-time.After(20 * time.Second):
		t.Fatalf("%s: no answer after 20 s: a module file was opened or read", what)
	}
}

func TestCheckModuleFile(t *testing.T) {
	for _, file := range unusableFiles(t) {
		within(t, file.what, func() {
			if err := checkModuleFile(file.path); err == nil || err.Error() != file.problem {
				t.Errorf("%s: %v, want %q", file.what, err, file.problem)
			}
			if _, err := readModuleFile(file.path); err == nil || err.Error() != file.problem {
				t.Errorf("%s: read: %v, want %q", file.what, err, file.problem)
			}
		})
	}
	// Exactly the cap is a module file (that the compiler may refuse); a symbolic link to a
	// regular file is followed.
	dir := t.TempDir()
	atCap := filepath.Join(dir, "cap.wasm")
	if err := os.WriteFile(atCap, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(atCap, maxModuleBytes); err != nil {
		t.Fatal(err)
	}
	probe := writeProbe(t, probeModule())
	link := filepath.Join(dir, "link.wasm")
	if err := os.Symlink(probe, link); err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{atCap, probe, link} {
		if err := checkModuleFile(path); err != nil {
			t.Errorf("%s: %v", path, err)
		}
	}
	if wasm, err := readModuleFile(link); err != nil || string(wasm) != string(probeModule()) {
		t.Errorf("%s: %v", link, err)
	}
}

// A module file that cannot be used, as the plugin's own or as a link, fails every call as
// load, naming the file and the problem, at once; the host goes on.
func TestServeRefusesUnusableModuleFiles(t *testing.T) {
	probe := writeProbe(t, probeModule())
	twoCalls := func(wasm string, links ...any) string {
		return line(t, protocolRequest(probe), func(r map[string]any) {
			r["wasm"], r["links"] = wasm, append([]any{}, links...)
			calls("value_of_hello", "nope")(r)
		})
	}
	loadFailure := func(message string) string {
		text := strings.ReplaceAll(message, `"`, `\"`)
		result := failed(`{"kind":"load","message":"` + text + `"}`)
		return answer(result, result)
	}
	var cases []serveCase
	for _, file := range unusableFiles(t) {
		cases = append(cases,
			serveCase{twoCalls(file.path), loadFailure("cannot load plugin " + file.path + ": " + file.problem)},
			serveCase{twoCalls(probe, map[string]any{"name": "lib", "wasm": file.path}),
				loadFailure("cannot load plugin " + probe + ": link lib: " + file.path + ": " + file.problem)},
			// The first link that cannot be used is the one named.
			serveCase{twoCalls(probe, map[string]any{"name": "good", "wasm": probe}, map[string]any{"name": "bad", "wasm": file.path},
				map[string]any{"name": "absent", "wasm": probe + ".absent"}),
				loadFailure("cannot load plugin " + probe + ": link bad: " + file.path + ": " + file.problem)},
		)
	}
	// The plugin compiled already is checked again: a file gone since is refused.
	gone := writeProbe(t, probeModule())
	cases = append(cases, serveCase{line(t, protocolRequest(gone), nil), answer(helloResult)})
	within(t, "serve", func() { checkCases(t, cases) })
	if err := os.Remove(gone); err != nil {
		t.Fatal(err)
	}
	within(t, "serve", func() {
		checkCases(t, []serveCase{
			{line(t, protocolRequest(gone), nil), answer(failed(`{"kind":"load","message":"cannot load plugin ` + gone + `: no such file"}`))},
			{line(t, protocolRequest(probe), nil), answer(helloResult)},
		})
	})
}

// host-go call checks its module file before it reads anything: a path that cannot be used
// exits 3 at once with one line on stderr, even with a stdin that never ends (a pipe no one
// writes to or closes, which reading the input first would wait on forever).
func TestCallRefusesUnusableModuleFiles(t *testing.T) {
	stdin, writer, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer stdin.Close()
	defer writer.Close()
	for _, file := range unusableFiles(t) {
		within(t, file.what, func() {
			var stdout, stderr bytes.Buffer
			code := run([]string{"call", file.path, "value_of_hello"}, stdin, &stdout, &stderr)
			want := "error: cannot load plugin " + file.path + ": " + file.problem + "\n"
			if code != exitLoad || stdout.String() != "" || stderr.String() != want {
				t.Errorf("%s: exit %d, stdout %q, stderr %q; want 3, %q", file.what, code, stdout.String(), stderr.String(), want)
			}
		})
	}
}
