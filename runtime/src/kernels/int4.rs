//! The int4 kernel: a block of 8 rows at a time, unpacking two weights per
//! byte as it goes (safe Rust, every target). Tested bit-identical to the
//! reference kernel on the host and, on each core under QEMU, by the
//! benchmark firmware's kernel check.
//!
//! Per pair of inputs a block holds 8 bytes; byte `2p + h` holds rows `2p`
//! (low nibble) and `2p + 1` (high nibble) of input `2j + h` (see
//! [`crate::layout`]). Nibbles are two's complement: no excess to remove.

use super::BlockSums;

/// Sums of one int4 block (`4 * padded_inputs` bytes) over `input`
/// (missing inputs count as zero): `sum(w * x)` for every row.
pub fn block_sums(block: &[u8], input: &[i16]) -> BlockSums {
    let mut acc = [0i32; 8];
    // Missing inputs (a short `input`) count as zero.
    let x = |i: usize| input.get(i).map_or(0, |&v| i32::from(v));
    for (j, pair) in block.chunks_exact(8).enumerate() {
        let (x0, x1) = (x(2 * j), x(2 * j + 1));
        let Ok([b0, b1, b2, b3, b4, b5, b6, b7]) = <[u8; 8]>::try_from(pair) else {
            continue;
        };
        let [a0, a1, a2, a3, a4, a5, a6, a7] = &mut acc;
        let rows = [(a0, a1), (a2, a3), (a4, a5), (a6, a7)];
        for ((lo, hi), (even, odd)) in [(b0, b1), (b2, b3), (b4, b5), (b6, b7)]
            .into_iter()
            .zip(rows)
        {
            let w = |b: u8, high: bool| i32::from(crate::layout::nibble(b, high));
            *even = even
                .wrapping_add(w(lo, false).wrapping_mul(x0))
                .wrapping_add(w(hi, false).wrapping_mul(x1));
            *odd = odd
                .wrapping_add(w(lo, true).wrapping_mul(x0))
                .wrapping_add(w(hi, true).wrapping_mul(x1));
        }
    }
    acc
}
