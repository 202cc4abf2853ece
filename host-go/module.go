package main

// Reading a module's sections: go-sdk does not show the compiled module, and what host-go needs
// of it (its initial memory, whether it imports WASI) is a few bytes to read. A module these
// functions cannot read is the compiler's to refuse, with its own reasons.

// wasiModule is the module WASI preview 1 imports come from.
const wasiModule = "wasi_snapshot_preview1"

// Section ids.
const (
	sectionImport = 2
	sectionMemory = 5
)

// section is the body of the module's first section with id; found is false when there is none,
// ok is false when the sections cannot be read.
func section(wasm []byte, id byte) (body []byte, found, ok bool) {
	if len(wasm) < 8 {
		return nil, false, false
	}
	rest := wasm[8:] // magic and version
	for len(rest) > 0 {
		sectionID := rest[0]
		size, n := readULEB(rest[1:])
		if n == 0 || size > uint64(len(rest)-1-n) {
			return nil, false, false
		}
		body := rest[1+n : 1+n+int(size)]
		rest = rest[1+n+int(size):]
		if sectionID == id {
			return body, true, true
		}
	}
	return nil, false, true
}

// initialMemoryPages reads the minimum size of a module's own memory from its memory section.
// ok is false when the section cannot be read, pages 0 when the module defines no memory.
func initialMemoryPages(wasm []byte) (pages uint64, ok bool) {
	body, found, ok := section(wasm, sectionMemory)
	if !found {
		return 0, ok
	}
	count, n := readULEB(body)
	if n == 0 || count == 0 {
		return 0, n != 0
	}
	// Limits: a flags byte, then the minimum.
	if len(body) < n+2 {
		return 0, false
	}
	min, m := readULEB(body[n+1:])
	return min, m != 0
}

// firstWasiImport is the name of the module's first import from wasi_snapshot_preview1, or ""
// when it has none (or its imports cannot be read), as the Rust host's first_wasi_import.
func firstWasiImport(wasm []byte) string {
	body, found, _ := section(wasm, sectionImport)
	if !found {
		return ""
	}
	count, n := readULEB(body)
	if n == 0 {
		return ""
	}
	rest := body[n:]
	for range count {
		var module, name string
		var ok bool
		if module, rest, ok = readName(rest); !ok {
			return ""
		}
		if name, rest, ok = readName(rest); !ok {
			return ""
		}
		if module == wasiModule {
			return name
		}
		if rest, ok = skipImportDesc(rest); !ok {
			return ""
		}
	}
	return ""
}

// readName reads a length-prefixed name.
func readName(b []byte) (name string, rest []byte, ok bool) {
	size, n := readULEB(b)
	if n == 0 || size > uint64(len(b)-n) {
		return "", nil, false
	}
	return string(b[n : n+int(size)]), b[n+int(size):], true
}

// skipImportDesc skips what an import is: a kind byte and its type.
func skipImportDesc(b []byte) ([]byte, bool) {
	if len(b) == 0 {
		return nil, false
	}
	kind, rest := b[0], b[1:]
	skipULEB := func(b []byte) ([]byte, bool) {
		_, n := readULEB(b)
		return b[n:], n != 0
	}
	skipLimits := func(b []byte) ([]byte, bool) {
		if len(b) == 0 {
			return nil, false
		}
		flags := b[0]
		rest, ok := skipULEB(b[1:])
		if ok && flags&1 != 0 {
			rest, ok = skipULEB(rest)
		}
		return rest, ok
	}
	switch kind {
	case 0x00: // a function: its type index
		return skipULEB(rest)
	case 0x01: // a table: its element type, its limits
		if len(rest) == 0 {
			return nil, false
		}
		return skipLimits(rest[1:])
	case 0x02: // a memory: its limits
		return skipLimits(rest)
	case 0x03: // a global: its value type, its mutability
		if len(rest) < 2 {
			return nil, false
		}
		return rest[2:], true
	case 0x04: // a tag: its attribute, its type index
		if len(rest) == 0 {
			return nil, false
		}
		return skipULEB(rest[1:])
	}
	return nil, false
}

// readULEB reads an unsigned LEB128 number; n is 0 when there is none.
func readULEB(b []byte) (value uint64, n int) {
	for shift := 0; n < len(b) && shift < 64; shift += 7 {
		c := b[n]
		n++
		value |= uint64(c&0x7f) << shift
		if c&0x80 == 0 {
			return value, n
		}
	}
	return 0, 0
}
