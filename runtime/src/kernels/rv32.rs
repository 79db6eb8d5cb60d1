//! RV32IMC kernel (ESP32-C3, QEMU's riscv32 `virt`): safe Rust laid out for
//! a scalar core with 31 registers and no SIMD. The 8 row sums of a block
//! stay in registers; per pair of inputs it loads the two inputs once and
//! the 16 layout bytes each with one byte load at an immediate offset
//! (`lbu` for even rows' `w + 128`, `lb` for odd rows' `w`), then one `mul`
//! and one `add` per weight. RV32IMC has no multiply-accumulate, and
//! splitting a loaded word into bytes costs more than loading the bytes
//! (`docs/benchmarks.md` has the figures and what was ruled out).
//!
//! The same sums as the reference kernel: wrapping integer sums do not
//! depend on their order, which the host tests check bit for bit.

use super::BlockSums;

/// Adds one pair of inputs' 16 bytes (rows `2p`, `2p + 1` for `p` in 0..4:
/// `[even(x0), odd(x0), even(x1), odd(x1)]`) to the 8 row sums.
#[inline(always)]
fn add_pair(acc: &mut BlockSums, pair: &[u8; 16], x0: i32, x1: i32) {
    let [e00, o00, e01, o01, e10, o10, e11, o11, e20, o20, e21, o21, e30, o30, e31, o31] = *pair;
    let even = |a: u8, b: u8| i32::from(a) * x0 + i32::from(b) * x1;
    let odd = |a: u8, b: u8| i32::from(a as i8) * x0 + i32::from(b as i8) * x1;
    let [a0, a1, a2, a3, a4, a5, a6, a7] = acc;
    *a0 = a0.wrapping_add(even(e00, e01));
    *a1 = a1.wrapping_add(odd(o00, o01));
    *a2 = a2.wrapping_add(even(e10, e11));
    *a3 = a3.wrapping_add(odd(o10, o11));
    *a4 = a4.wrapping_add(even(e20, e21));
    *a5 = a5.wrapping_add(odd(o20, o21));
    *a6 = a6.wrapping_add(even(e30, e31));
    *a7 = a7.wrapping_add(odd(o30, o31));
}

/// Raw sums of one block (`8 * padded_inputs` bytes) over `input`: even rows
/// `sum((w + 128) * x)`, odd rows `sum(w * x)`; missing inputs count as
/// zero.
pub fn block_sums(block: &[u8], input: &[i16]) -> BlockSums {
    let mut acc = [0i32; 8];
    // Zip stops at the shorter side: pairs without inputs add nothing.
    for (pair, x) in block.chunks_exact(16).zip(input.chunks_exact(2)) {
        if let (Ok(pair), [x0, x1]) = (<&[u8; 16]>::try_from(pair), x) {
            add_pair(&mut acc, pair, i32::from(*x0), i32::from(*x1));
        }
    }
    // An odd input count leaves one input for the next pair.
    let half = input.len() / 2;
    if let ([.., last], 1) = (input, input.len() % 2) {
        if let Some(Ok(pair)) = block
            .get(16 * half..16 * half + 16)
            .map(<&[u8; 16]>::try_from)
        {
            add_pair(&mut acc, pair, i32::from(*last), 0);
        }
    }
    acc
}
