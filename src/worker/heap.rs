//! The worker's heap in use: the global allocator counts the bytes it has handed out and not
//! taken back, and the allocations that grew the wasm memory, so that a test can tell a leak
//! (bytes kept round after round) from the allocator's high-water mark (the wasm memory, which
//! only grows, and grows when a request finds no free block large enough: with a pool of
//! threads, and with hash maps seeded anew each time, the order of allocations varies from one
//! run of the same work to the next, and so does where that mark is reached).

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};

use crate::protocol::HeapUse;

/// The system allocator, counting.
struct Counting;

static LIVE: AtomicUsize = AtomicUsize::new(0);
static GROWTHS: AtomicUsize = AtomicUsize::new(0);
static LAST_GROWTH: AtomicUsize = AtomicUsize::new(0);

fn pages() -> usize {
    core::arch::wasm32::memory_size::<0>()
}

/// Runs `allocate` for `size` bytes, counting what it hands out and whether it grew the memory.
fn counted(size: usize, allocate: impl FnOnce() -> *mut u8) -> *mut u8 {
    let before = pages();
    let p = allocate();
    if !p.is_null() {
        LIVE.fetch_add(size, Ordering::Relaxed);
    }
    if pages() != before {
        GROWTHS.fetch_add(1, Ordering::Relaxed);
        LAST_GROWTH.store(size, Ordering::Relaxed);
    }
    p
}

// SAFETY: every call is passed on to `System` unchanged; only counters are updated.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        counted(layout.size(), || unsafe { System.alloc(layout) })
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        counted(layout.size(), || unsafe { System.alloc_zeroed(layout) })
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) };
        LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let p = counted(new_size, || unsafe {
            System.realloc(ptr, layout, new_size)
        });
        if !p.is_null() {
            LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
        }
        p
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// The worker's heap now: bytes in use, and how often an allocation grew the wasm memory.
pub fn usage() -> HeapUse {
    HeapUse {
        live_bytes: LIVE.load(Ordering::Relaxed) as u64,
        growths: GROWTHS.load(Ordering::Relaxed) as u64,
        last_growth_request_bytes: LAST_GROWTH.load(Ordering::Relaxed) as u64,
    }
}
