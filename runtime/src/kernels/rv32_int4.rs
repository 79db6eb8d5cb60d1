//! RV32IMC int4 kernel (ESP32-C3): two multiply-accumulates per `mul`, in
//! safe Rust but for the aligned word loads of `kernels::words`. Used for
//! int4 layers whose inputs are all in `[0, 255]` (every hidden activation;
//! [`applies`] checks), else [`super::int4`] runs.
//!
//! An int4 block holds, per pair of inputs `(x0, x1)`, two 32-bit words, one
//! per 4 rows. In the word of rows `r..r + 4` nibble `n` (bits `4n..4n + 4`)
//! is row `r + (n % 2) + 2 (n / 4)` of input `(n / 2) % 2` (see
//! [`crate::layout`]). After `XOR 0x8888_8888` each nibble is `w + 8` in
//! `[0, 15]` (excess-8 instead of two's complement), and `word & 0x000F_000F`
//! holds rows `r` and `r + 2` of `x0` 16 bits apart: one `mul` by `x0` gives
//! both products, one in each half-word. The shifts by 4, 8 and 12 give rows
//! `r + 1`/`r + 3` of `x0` and the same rows of `x1`.
//!
//! Why it is exact: a product is at most `15 * 255 = 3825`, and a half-word
//! lane takes 2 products per pair of inputs for [`PAIRS_PER_LANE_SUM`] = 8
//! pairs, at most `16 * 3825 = 61,200 < 2^16` before the lanes are split into
//! 32-bit row sums: no lane ever carries into the next. The row sums are then
//! `sum((w + 8) x)`; subtracting `8 sum(x)` gives `sum(w x)`, the same sums
//! as the reference kernel (the host tests check bit for bit, and on the
//! core the benchmark firmware's kernel check).
//!
//! Per pair of inputs and block (16 MACs): 2 input loads, 2 word loads, 2
//! `xor`, 6 shifts, 8 `and`, 8 `mul`, 8 `add`, and the sum of the inputs.

use super::BlockSums;

/// Input pairs summed in half-word lanes before the lanes are split.
pub const PAIRS_PER_LANE_SUM: usize = 8;

/// Turns two's complement nibbles into excess-8 ones (`w + 8`).
const EXCESS_8: u32 = 0x8888_8888;

/// Nibbles 0 and 4 of a word: two rows' weights, 16 bits apart.
const LANES: u32 = 0x000F_000F;

/// Whether the lane sums are exact for `input`: every value in `[0, 255]`
/// and an even count (whole pairs).
pub fn applies(input: &[i16]) -> bool {
    input.len() % 2 == 0 && input.iter().all(|&x| (0..=255).contains(&x))
}

/// Adds one word's 8 weights (4 rows, 2 inputs) to the lanes of rows
/// `(r, r + 2)` and `(r + 1, r + 3)`.
#[inline(always)]
fn add_word(lanes: &mut [u32; 2], word: u32, x0: u32, x1: u32) {
    let w = word ^ EXCESS_8;
    let [even, odd] = lanes;
    *even = even
        .wrapping_add((w & LANES).wrapping_mul(x0))
        .wrapping_add(((w >> 8) & LANES).wrapping_mul(x1));
    *odd = odd
        .wrapping_add(((w >> 4) & LANES).wrapping_mul(x0))
        .wrapping_add(((w >> 12) & LANES).wrapping_mul(x1));
}

/// Adds the word pairs of `w` (rows 0-3 and 4-7 of one pair of inputs each)
/// and the input pairs of `x`, at most [`PAIRS_PER_LANE_SUM`] of them (the
/// lanes' bound), to the row sums of `(w + 8) x` and returns the inputs'
/// sum. A pair missing on either side ends the sum.
#[inline(always)]
fn add_pairs(rows: &mut [u32; 8], w: &[[u32; 2]], x: &[i16]) -> u32 {
    let (mut low, mut high) = ([0u32; 2], [0u32; 2]);
    let mut sum_x = 0u32;
    for (&[rows_0_3, rows_4_7], xs) in w.iter().zip(x.chunks_exact(2)) {
        let &[x0, x1] = xs else { continue };
        let (x0, x1) = (x0 as u32, x1 as u32);
        sum_x = sum_x.wrapping_add(x0).wrapping_add(x1);
        add_word(&mut low, rows_0_3, x0, x1);
        add_word(&mut high, rows_4_7, x0, x1);
    }
    // Lane pairs hold rows (0, 2), (1, 3), (4, 6), (5, 7); named, not
    // looped over, so that the sums stay in registers.
    let ([l02, l13], [h46, h57]) = (low, high);
    let [r0, r1, r2, r3, r4, r5, r6, r7] = rows;
    let add = |row: &mut u32, lane: u32| *row = row.wrapping_add(lane & 0xFFFF);
    add(r0, l02);
    add(r1, l13);
    add(r2, l02 >> 16);
    add(r3, l13 >> 16);
    add(r4, h46);
    add(r5, h57);
    add(r6, h46 >> 16);
    add(r7, h57 >> 16);
    sum_x
}

/// The row sums from `(w + 8) x` sums and the inputs' sum.
fn remove_excess(rows: [u32; 8], sum_x: u32) -> BlockSums {
    let excess = sum_x.wrapping_mul(8);
    rows.map(|r| r.wrapping_sub(excess) as i32)
}

/// Sums of one int4 block (`4 * padded_inputs` bytes) over `input`, as
/// [`super::int4::block_sums`] (missing inputs count as zero); exact only
/// when [`applies`] holds for `input`. Reads the weights a word at a time
/// when the block is 4-byte aligned (as in a model file), else as
/// [`twin`].
pub fn block_sums(block: &[u8], input: &[i16]) -> BlockSums {
    let Some(w) = super::words::as_word_pairs(block) else {
        return twin(block, input);
    };
    let (mut rows, mut sum_x) = ([0u32; 8], 0u32);
    let inputs = input.chunks(2 * PAIRS_PER_LANE_SUM);
    for (chunk, xs) in w.chunks(PAIRS_PER_LANE_SUM).zip(inputs) {
        sum_x = sum_x.wrapping_add(add_pairs(&mut rows, chunk, xs));
    }
    remove_excess(rows, sum_x)
}

/// [`block_sums`] reading every word with `u32::from_le_bytes`, for any
/// alignment: the safe twin of its word loads.
pub fn twin(block: &[u8], input: &[i16]) -> BlockSums {
    let (mut rows, mut sum_x) = ([0u32; 8], 0u32);
    let mut bytes = block.chunks_exact(8 * PAIRS_PER_LANE_SUM);
    for (chunk, xs) in (&mut bytes).zip(input.chunks(2 * PAIRS_PER_LANE_SUM)) {
        let mut words = [[0u32; 2]; PAIRS_PER_LANE_SUM];
        for (pair, word) in chunk.chunks_exact(4).zip(words.as_flattened_mut()) {
            *word = pair.try_into().map_or(0, u32::from_le_bytes);
        }
        sum_x = sum_x.wrapping_add(add_pairs(&mut rows, &words, xs));
    }
    // A last chunk of fewer pairs, if inputs are left for it.
    let done = block.len() / (8 * PAIRS_PER_LANE_SUM) * 2 * PAIRS_PER_LANE_SUM;
    if let Some(xs) = input.get(done..).filter(|xs| !xs.is_empty()) {
        let tail = bytes.remainder();
        let mut words = [[0u32; 2]; PAIRS_PER_LANE_SUM];
        for (pair, word) in tail.chunks_exact(4).zip(words.as_flattened_mut()) {
            *word = pair.try_into().map_or(0, u32::from_le_bytes);
        }
        let whole = words.get(..tail.len() / 8).unwrap_or(&[]);
        sum_x = sum_x.wrapping_add(add_pairs(&mut rows, whole, xs));
    }
    remove_excess(rows, sum_x)
}
