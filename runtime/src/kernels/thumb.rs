//! Safe twin of the Cortex-M0 and Cortex-M3 assembly kernels: the same
//! algorithm, in plain Rust, tested bit-identical to the reference on the
//! host. It also runs on devices whenever an assembly kernel's preconditions
//! do not hold.
//!
//! Per block of 8 rows and pair of inputs it reads the 16 layout bytes in
//! storage order: even rows as unsigned bytes (`w + 128`), odd rows as
//! signed bytes (`w`). The even rows' excess, `128 * sum(x)`, is the same
//! for every row and is subtracted once per row by [`super::dense_with_twin`].

use super::BlockSums;

/// Adds one pair of inputs' 16 bytes to the 8 accumulators.
#[inline(always)]
fn add_pair(acc: &mut BlockSums, pair: &[u8], x0: i32, x1: i32) {
    let Ok(bytes) = <[u8; 16]>::try_from(pair) else {
        return;
    };
    let words: [[u8; 4]; 4] = [
        [bytes[0], bytes[1], bytes[2], bytes[3]],
        [bytes[4], bytes[5], bytes[6], bytes[7]],
        [bytes[8], bytes[9], bytes[10], bytes[11]],
        [bytes[12], bytes[13], bytes[14], bytes[15]],
    ];
    let [a0, a1, a2, a3, a4, a5, a6, a7] = acc;
    for ([e0, o0, e1, o1], (even, odd)) in
        words
            .into_iter()
            .zip([(a0, a1), (a2, a3), (a4, a5), (a6, a7)])
    {
        *even = even
            .wrapping_add(i32::from(e0).wrapping_mul(x0))
            .wrapping_add(i32::from(e1).wrapping_mul(x1));
        *odd = odd
            .wrapping_add(i32::from(o0 as i8).wrapping_mul(x0))
            .wrapping_add(i32::from(o1 as i8).wrapping_mul(x1));
    }
}

/// Raw sums of one block (`8 * padded_inputs` bytes) over `input`
/// (`padded_inputs` values): `sum((w + 128) * x)` for even rows,
/// `sum(w * x)` for odd rows.
pub fn block_sums(block: &[u8], input: &[i16]) -> BlockSums {
    let mut acc = [0i32; 8];
    // Missing inputs (a short `input`) count as zero.
    let x = |i: usize| input.get(i).map_or(0, |&v| i32::from(v));
    for (j, pair) in block.chunks_exact(16).enumerate() {
        add_pair(&mut acc, pair, x(2 * j), x(2 * j + 1));
    }
    acc
}
