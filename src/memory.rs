//! What the C allocator holds for the whole process: the figure the memory test and the bench
//! read per peer. RSS mixes in code pages, V8's heap and pages calloc never touched; bytes in
//! use are what a peer's own structures cost, and they repeat from run to run.

use napi_derive::napi;

/// Bytes in use in every malloc arena plus mmapped blocks (glibc's `mallinfo2`), or `None`
/// where the C library has no such count (musl, macOS, Windows).
#[napi]
pub fn allocator_bytes_in_use() -> Option<f64> {
    in_use()
}

#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn in_use() -> Option<f64> {
    // SAFETY: mallinfo2 only reads the allocator's statistics under its own locks.
    let info = unsafe { libc::mallinfo2() };
    Some((info.uordblks + info.hblkhd) as f64)
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn in_use() -> Option<f64> {
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    #[test]
    fn an_allocation_shows_in_the_count() {
        let before = allocator_bytes_in_use().unwrap();
        let block = std::hint::black_box(vec![1u8; 16 << 20]);
        let during = allocator_bytes_in_use().unwrap();
        drop(block);
        // Tests on other threads allocate and free meanwhile, far less than this.
        assert!(during - before >= (12 << 20) as f64, "{before} -> {during}");
    }
}
