//! How the process's allocator treats freed memory.

/// Lets glibc's malloc keep freed memory for reuse instead of handing it back to the system.
///
/// The CPU backend allocates a fresh buffer for every tensor operation, megabytes each for an
/// encoder's activations. By default glibc maps such buffers with `mmap` and unmaps them when
/// they are freed, so every operation faults in and zeroes fresh pages: on the project's VM a
/// fifth of an NTK's time went to the kernel. Serving allocations up to 32 MB from the heap and
/// keeping the heap removes most of that (docs/performance.md). Elsewhere (musl, macOS, Windows)
/// this does nothing.
pub fn keep_freed_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only sets two allocator parameters; it is called first thing in main,
    // before any other thread exists.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 32 << 20);
        libc::mallopt(libc::M_TRIM_THRESHOLD, 1 << 30);
    }
}
