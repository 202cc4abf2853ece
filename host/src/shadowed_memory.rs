//! Linear memories with a shadow: readable, writable, private address space past their end.
//!
//! Extism reads and writes Extism memory through `CurrentPlugin::memory_bytes(_mut)`, which make
//! a slice from the memory's base pointer and a length the kernel reports, without a bounds
//! check; the kernel's block headers live in memory the plugin can write, so a plugin can make
//! that length run past the end of the memory. With wasmtime's default memories the bytes past
//! the end are guard pages and the host dies with SIGSEGV. These memories map `maximum + SHADOW`
//! bytes up front instead, so such a read or write lands in the shadow, and they record their
//! size where a host function can find it ([`size_at`]) to refuse such a block before using it.
//! Wasm itself never sees the shadow: the engine is configured without guard pages, so compiled
//! code checks every access against the memory's current size. Growing clears the part of the
//! shadow it takes in, as wasm expects new pages to be zero.

use std::collections::BTreeMap;
use std::ptr::NonNull;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use wasmtime::{LinearMemory, MemoryCreator, MemoryType};

/// How far past a memory's maximum a host access may reach: a kernel block's length is a 32-bit
/// number, and its offset lies inside the memory.
const SHADOW: usize = 4 << 30;
/// The largest 32-bit memory.
const MAX_32BIT: usize = 4 << 30;

/// The engine settings these memories need: no reservation and no guard region, so compiled
/// code bounds-checks every access itself.
pub(crate) fn configure(config: &mut wasmtime::Config) {
    config
        .memory_reservation(0)
        .memory_guard_size(0)
        .memory_reservation_for_growth(0)
        // Copy-on-write images need wasmtime's own mmap memories; data segments are copied in.
        .memory_init_cow(false)
        .with_host_memory(Arc::new(ShadowedMemories));
}

struct ShadowedMemories;

/// The current size of every live shadowed memory, by base address.
static SIZES: Mutex<BTreeMap<usize, Arc<AtomicUsize>>> = Mutex::new(BTreeMap::new());

/// The size in bytes of the shadowed memory whose data starts at `base`, if there is one.
pub(crate) fn size_at(base: *const u8) -> Option<usize> {
    let sizes = SIZES.lock().unwrap_or_else(|poison| poison.into_inner());
    sizes
        .get(&(base as usize))
        .map(|size| size.load(Ordering::Acquire))
}

// SAFETY: every memory is a fresh private anonymous mapping, zero-filled, that never moves and
// never shrinks; see `ShadowedMemory`.
unsafe impl MemoryCreator for ShadowedMemories {
    fn new_memory(
        &self,
        ty: MemoryType,
        minimum: usize,
        maximum: Option<usize>,
        _reserved_size_in_bytes: Option<usize>,
        guard_size_in_bytes: usize,
    ) -> Result<Box<dyn LinearMemory>, String> {
        if guard_size_in_bytes != 0 {
            return Err("shadowed memories need an engine without guard pages".to_owned());
        }
        if ty.is_64() || ty.is_shared() {
            return Err("shadowed memories are 32-bit and unshared".to_owned());
        }
        let capacity = maximum.unwrap_or(MAX_32BIT).min(MAX_32BIT);
        ShadowedMemory::new(minimum, capacity)
            .map(|memory| Box::new(memory) as Box<dyn LinearMemory>)
    }
}

struct ShadowedMemory {
    base: NonNull<u8>,
    /// Bytes mapped: `capacity + SHADOW`.
    mapped: usize,
    /// Bytes wasm may access, shared with [`SIZES`].
    size: Arc<AtomicUsize>,
    /// The most `size` may grow to.
    capacity: usize,
}

// SAFETY: the mapping is owned by this value alone; wasmtime synchronises access to it.
unsafe impl Send for ShadowedMemory {}
unsafe impl Sync for ShadowedMemory {}

impl ShadowedMemory {
    fn new(size: usize, capacity: usize) -> Result<ShadowedMemory, String> {
        if size > capacity {
            return Err(format!(
                "a memory of {size} bytes over its maximum of {capacity}"
            ));
        }
        let mapped = capacity + SHADOW;
        // SAFETY: a new private anonymous mapping, touching nothing else. NORESERVE: only the
        // pages that are touched cost memory, so the shadow costs address space only.
        let base = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                mapped,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_NORESERVE,
                -1,
                0,
            )
        };
        if base == libc::MAP_FAILED {
            return Err(format!(
                "cannot map {mapped} bytes for a memory: {}",
                std::io::Error::last_os_error()
            ));
        }
        let base = NonNull::new(base.cast::<u8>()).ok_or("mmap gave a null pointer")?;
        let size = Arc::new(AtomicUsize::new(size));
        SIZES
            .lock()
            .unwrap_or_else(|poison| poison.into_inner())
            .insert(base.as_ptr() as usize, Arc::clone(&size));
        Ok(ShadowedMemory {
            base,
            mapped,
            size,
            capacity,
        })
    }
}

// SAFETY: `as_ptr` never changes, `byte_size` bytes from it are mapped and zero until wasm
// writes them, and `byte_capacity` bytes fit without moving.
unsafe impl LinearMemory for ShadowedMemory {
    fn byte_size(&self) -> usize {
        self.size.load(Ordering::Acquire)
    }

    fn byte_capacity(&self) -> usize {
        self.capacity
    }

    fn grow_to(&mut self, new_size: usize) -> wasmtime::Result<()> {
        if new_size > self.capacity {
            wasmtime::bail!(
                "cannot grow a memory to {new_size} bytes, over its maximum of {}",
                self.capacity
            );
        }
        let size = self.byte_size();
        if new_size > size {
            // The host may have written into the shadow; wasm must find new pages zeroed.
            // Sizes are whole wasm pages, so the range is page-aligned: MADV_DONTNEED drops its
            // pages, and they read as zero again without costing memory until touched.
            // SAFETY: the range lies inside the mapping, past every byte wasm can reach.
            let start = unsafe { self.base.as_ptr().add(size) };
            let length = new_size - size;
            let dropped = unsafe { libc::madvise(start.cast(), length, libc::MADV_DONTNEED) };
            if dropped != 0 {
                // SAFETY: as above.
                unsafe { start.write_bytes(0, length) };
            }
            self.size.store(new_size, Ordering::Release);
        }
        Ok(())
    }

    fn as_ptr(&self) -> *mut u8 {
        self.base.as_ptr()
    }
}

impl Drop for ShadowedMemory {
    fn drop(&mut self) {
        SIZES
            .lock()
            .unwrap_or_else(|poison| poison.into_inner())
            .remove(&(self.base.as_ptr() as usize));
        // SAFETY: the mapping made in `new`, which nothing uses any more.
        unsafe {
            libc::munmap(self.base.as_ptr().cast(), self.mapped);
        }
    }
}
