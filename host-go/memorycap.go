package main

import (
	"errors"
	"sync/atomic"

	"github.com/tetratelabs/wazero/experimental"
)

// pageSize is a wasm page: 64 KiB.
const pageSize = 65536

// errMemoryCap is how a refused growth fails the call. It is a panic inside memory.grow, which
// wazero recovers into the error of the running export call (or of the kernel's alloc when
// go-sdk writes the input), so the call stops where the Rust host's limiter stops it.
var errMemoryCap = errors.New("memory would grow past the cap")

// memoryCap backs every linear memory of one instance (the plugin's and the Extism kernel's)
// and applies the Rust host's rule (extism's MemoryLimiter): together they may grow by at most
// the cap after instantiation. The plugin's initial memory must fit in the cap too; the call
// checks that (see Compiled.Instantiate), since the allocator cannot tell whose memory it backs.
//
// Why not go-sdk's Manifest.Memory.MaxPages: wazero then refuses a growth past the cap by
// returning -1 from memory.grow, and nothing records it. The kernel's alloc turns that into
// offset 0, so an input that does not fit reaches the plugin as an empty input and the call
// "succeeds" with the wrong output; a plugin's own allocator aborts with a plain trap. Neither
// can be told apart from other failures, so the cap is enforced here, where growth is seen. It
// also caps each memory on its own, and the kernel's starts at 16 pages: a cap under that
// would refuse every instance.
type memoryCap struct {
	left    uint64      // bytes the memories may still grow by
	refused atomic.Bool // a growth past the cap was refused
}

func newMemoryCap(pages uint32) *memoryCap {
	return &memoryCap{left: uint64(pages) * pageSize}
}

// Allocate implements experimental.MemoryAllocator.
func (c *memoryCap) Allocate(capacity, _ uint64) experimental.LinearMemory {
	return &cappedMemory{owner: c, buf: make([]byte, 0, capacity)}
}

type cappedMemory struct {
	owner *memoryCap
	buf   []byte
	sized bool // the first Reallocate, at instantiation, has happened
}

// Reallocate implements experimental.LinearMemory.
func (m *cappedMemory) Reallocate(size uint64) []byte {
	// The initial size is free, as in the Rust host, whose limiter starts counting once the
	// plugin is instantiated. (wazero could not take a refusal here anyway: it does not recover
	// a panic at instantiation and crashes on a nil buffer.)
	if m.sized && size > uint64(len(m.buf)) {
		growth := size - uint64(len(m.buf))
		if growth > m.owner.left {
			m.owner.refused.Store(true)
			panic(errMemoryCap)
		}
		m.owner.left -= growth
	}
	m.sized = true
	if size <= uint64(cap(m.buf)) {
		// Bytes past len were never handed out, so they are still zero.
		m.buf = m.buf[:size]
	} else {
		m.buf = append(m.buf, make([]byte, size-uint64(len(m.buf)))...)
	}
	return m.buf
}

// Free implements experimental.LinearMemory.
func (m *cappedMemory) Free() {
	m.buf = nil
}
