//! Host kernel: the same sums as the [`thumb`](super::thumb) twin, laid out
//! for a host compiler's vectorizer (x86-64's baseline SSE2, aarch64's
//! NEON) instead of for a Cortex-M's registers. Hosts run it (the trainer's
//! evaluation decodes a million digits); devices never link it. Integer
//! wrapping sums do not depend on their order, so it equals the reference
//! bit for bit, as the host tests check.
//!
//! Per pair of inputs the 16 layout bytes hold, for rows `2w` and `2w + 1`
//! (`w` in 0..4): `[even(x0), odd(x0), even(x1), odd(x1)]`. Each of the 16
//! byte positions gets its own accumulator lane, multiplied by `x0` or
//! `x1`; the lanes are folded into the 8 rows once, at the end.

use super::BlockSums;

/// Raw sums of one block (`8 * padded_inputs` bytes) over `input`: even rows
/// `sum((w + 128) * x)`, odd rows `sum(w * x)`; missing inputs count as
/// zero.
#[inline(always)]
pub fn block_sums(block: &[u8], input: &[i16]) -> BlockSums {
    let mut lanes = [0i32; 16];
    // Zip stops at the shorter side: pairs without inputs add nothing.
    for (pair, x) in block.chunks_exact(16).zip(input.chunks_exact(2)) {
        if let (Ok(pair), [x0, x1]) = (<&[u8; 16]>::try_from(pair), x) {
            add_pair(&mut lanes, pair, i32::from(*x0), i32::from(*x1));
        }
    }
    // An odd input count leaves one input for the next pair.
    let half = input.len() / 2;
    if let ([.., last], 1) = (input, input.len() % 2) {
        if let Some(Ok(pair)) = block
            .get(16 * half..16 * half + 16)
            .map(<&[u8; 16]>::try_from)
        {
            add_pair(&mut lanes, pair, i32::from(*last), 0);
        }
    }
    let mut sums = [0i32; 8];
    for (rows, quad) in sums.chunks_exact_mut(2).zip(lanes.chunks_exact(4)) {
        if let ([even, odd], [e0, o0, e1, o1]) = (rows, quad) {
            *even = e0.wrapping_add(*e1);
            *odd = o0.wrapping_add(*o1);
        }
    }
    sums
}

/// Layout positions holding odd rows' signed bytes (even rows: `w + 128`).
const SIGNED: [bool; 16] = [
    false, true, false, true, false, true, false, true, false, true, false, true, false, true,
    false, true,
];
/// Layout positions that multiply the pair's second input.
const USES_X1: [bool; 16] = [
    false, false, true, true, false, false, true, true, false, false, true, true, false, false,
    true, true,
];

// Zips over constant tables rather than `enumerate`: with overflow checks
// on (the dev profile), enumerate's counter keeps the loop from being
// unrolled and vectorized.
#[inline(always)]
fn add_pair(lanes: &mut [i32; 16], pair: &[u8; 16], x0: i32, x1: i32) {
    for (((lane, &byte), &signed), &uses_x1) in
        lanes.iter_mut().zip(pair).zip(&SIGNED).zip(&USES_X1)
    {
        let w = if signed {
            i32::from(byte as i8)
        } else {
            i32::from(byte)
        };
        let x = if uses_x1 { x1 } else { x0 };
        *lane = lane.wrapping_add(w.wrapping_mul(x));
    }
}
