//! x86-64 hosts with AVX2: [`super::host::block_sums`], the very same Rust,
//! compiled a second time with AVX2 enabled (8-lane 32-bit multiplies,
//! where x86-64's baseline SSE2 has none), and chosen at run time when the
//! CPU has it. Host only (feature `std`); never on a device.
//!
//! Its one `unsafe` is the call into the AVX2 copy, made only after the CPU
//! reported AVX2. The safe twin is `host::block_sums` itself; the kernel
//! tests check both against the reference.
#![allow(unsafe_code)]

use super::BlockSums;

/// [`super::host::block_sums`], in its AVX2 build when the CPU has AVX2.
pub fn block_sums(block: &[u8], input: &[i16]) -> BlockSums {
    if std::is_x86_feature_detected!("avx2") {
        // SAFETY: `avx2` needs nothing but the AVX2 instructions, which the
        // CPU just reported.
        return unsafe { avx2(block, input) };
    }
    super::host::block_sums(block, input)
}

#[target_feature(enable = "avx2")]
unsafe fn avx2(block: &[u8], input: &[i16]) -> BlockSums {
    super::host::block_sums(block, input)
}
