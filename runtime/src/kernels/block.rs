//! Safe twin of the Cortex-M0 and Cortex-M3 assembly kernels: the same
//! algorithm, in plain Rust, tested bit-identical to the reference on the
//! host. It also runs on devices whenever an assembly kernel's preconditions
//! do not hold.
//!
//! Per block of 8 rows and pair of inputs it reads the 16 layout bytes in
//! storage order: even rows as unsigned bytes (`w + 128`), odd rows as
//! signed bytes (`w`). The even rows' excess, `128 * sum(x)`, is the same
//! for every row and is subtracted once per row by [`super::run_blocks`].

use super::BlockSums;

/// Raw sums of one block (`8 * padded_inputs` bytes) over `input`
/// (`padded_inputs` values): `sum((w + 128) * x)` for even rows,
/// `sum(w * x)` for odd rows.
pub fn block_sums(block: &[u8], input: &[i16]) -> BlockSums {
    let mut acc = [0i32; 8];
    // Missing inputs (a short `input`) count as zero.
    let x = |i: usize| i32::from(input.get(i).copied().unwrap_or(0));
    for (j, pair) in block.chunks_exact(16).enumerate() {
        let (x0, x1) = (x(2 * j), x(2 * j + 1));
        for (word, rows) in pair.chunks_exact(4).zip(acc.chunks_exact_mut(2)) {
            let (&[e0, o0, e1, o1], [even, odd]) = (word, rows) else {
                continue;
            };
            *even = even
                .wrapping_add(i32::from(e0).wrapping_mul(x0))
                .wrapping_add(i32::from(e1).wrapping_mul(x1));
            *odd = odd
                .wrapping_add(i32::from(o0 as i8).wrapping_mul(x0))
                .wrapping_add(i32::from(o1 as i8).wrapping_mul(x1));
        }
    }
    acc
}
