//! Safe twin of the Cortex-M4 (DSP extension) assembly kernel: the same
//! algorithm, in plain Rust, with `SMLAD` and `UXTB16` written out as the
//! ARM manual defines them; tested bit-identical to the reference on the host.
//!
//! One 4-byte layout word `[w(r) + 128, w(r+1), ...]` serves two rows:
//! - `UXTB16` keeps the two even-row bytes, and `SMLAD` against the input
//!   pair `(x0, x1)` adds `(w0 + 128) x0 + (w1 + 128) x1` to `E`;
//! - the raw word, read as two signed half-words, is
//!   `(w0 + 128) + 256 w'0` and `(w1 + 128) + 256 w'1`, so `SMLAD` adds the
//!   same plus `256 (w'0 x0 + w'1 x1)` to `F`.
//!
//! Hence the odd row's sum is `(F - E) / 256`, exactly, as long as it lies in
//! `[-2^23, 2^23)`: true whenever every input is in `[0, 255]` and there are
//! at most 256 of them (`127 * 255 * 256 < 2^23`), which [`applies`] checks.
//! Three instructions per four multiply-accumulates instead of four.

use super::BlockSums;

/// Most inputs for which the odd-row sums cannot leave `[-2^23, 2^23)`.
pub const MAX_INPUTS: usize = 256;

/// Whether the paired algorithm is exact for `input`.
pub fn applies(input: &[i16]) -> bool {
    input.len() <= MAX_INPUTS && input.iter().all(|&x| (0..=255).contains(&x))
}

/// `SMLAD`: `acc + lo(a) * lo(b) + hi(a) * hi(b)`, half-words signed, wrapping.
#[inline]
pub fn smlad(acc: u32, a: u32, b: u32) -> u32 {
    let lo = i32::from(a as u16 as i16).wrapping_mul(i32::from(b as u16 as i16));
    let hi = i32::from((a >> 16) as u16 as i16).wrapping_mul(i32::from((b >> 16) as u16 as i16));
    acc.wrapping_add(lo as u32).wrapping_add(hi as u32)
}

/// `UXTB16`: bytes 0 and 2, zero-extended to half-words.
#[inline]
pub fn uxtb16(a: u32) -> u32 {
    a & 0x00FF_00FF
}

/// Turns the `[E0, F0, E1, F1]` of four rows into their raw sums.
#[inline]
pub fn unpair(ef: [u32; 4]) -> [i32; 4] {
    let [e0, f0, e1, f1] = ef;
    [
        e0 as i32,
        (f0.wrapping_sub(e0) as i32) >> 8,
        e1 as i32,
        (f1.wrapping_sub(e1) as i32) >> 8,
    ]
}

/// Raw sums of one block, as [`super::thumb::block_sums`]; exact only when
/// [`applies`] holds for `input`.
pub fn block_sums(block: &[u8], input: &[i16]) -> BlockSums {
    let mut ef = [[0u32; 4]; 2];
    for (pair, xs) in block.chunks_exact(16).zip(input.chunks_exact(2)) {
        let &[x0, x1] = xs else { continue };
        let x = u32::from(x0 as u16) | (u32::from(x1 as u16) << 16);
        for (half, words) in ef.iter_mut().zip(pair.chunks_exact(8)) {
            for (word, acc) in words.chunks_exact(4).zip(half.chunks_exact_mut(2)) {
                let (Ok(bytes), [e, f]) = (<[u8; 4]>::try_from(word), acc) else {
                    continue;
                };
                let w = u32::from_le_bytes(bytes);
                *f = smlad(*f, w, x);
                *e = smlad(*e, uxtb16(w), x);
            }
        }
    }
    let [a, b] = ef.map(unpair);
    let [a0, a1, a2, a3] = a;
    let [b0, b1, b2, b3] = b;
    [a0, a1, a2, a3, b0, b1, b2, b3]
}
