//! The blocked weight layout of format version 2, chosen so that every
//! optimized kernel reads its weights in the order it consumes them.
//!
//! A layer with `M` outputs and `K` inputs stores `padded_outputs(M) *
//! padded_inputs(K)` bytes: rows are padded to a multiple of [`ROW_BLOCK`]
//! (8), inputs to a multiple of [`INPUT_STEP`] (4), with zero weights.
//! Rows are grouped in blocks of 8; inside a block, for each pair of inputs
//! `(2j, 2j + 1)`, 16 bytes hold four 4-byte words, one per pair of rows
//! `(2p, 2p + 1)`:
//!
//! ```text
//! word = [ w(2p, 2j) ^ 0x80,  w(2p+1, 2j),  w(2p, 2j+1) ^ 0x80,  w(2p+1, 2j+1) ]
//! offset(r, k) = (r / 8) * 8 * Kp + (k / 2) * 16 + ((r % 8) / 2) * 4 + (k % 2) * 2 + r % 2
//! ```
//!
//! Even rows are stored in excess-128 (`w + 128`, so an unsigned byte load
//! gives `w + 128`), odd rows in two's complement. Why: read as a signed
//! 16-bit half-word, `[w(2p) + 128, w(2p+1)]` is `w(2p) + 128 + 256 * w(2p+1)`,
//! linear in both weights, which lets the Cortex-M4 kernel get two rows out
//! of one `SMLAD` (see [`crate::kernels::dsp`]); the Cortex-M0/M3 kernels
//! load each byte with an immediate offset (`ldrb` for even rows, `ldrsb` for
//! odd rows) and subtract `128 * sum(x)` from the even rows at the end.
//!
//! **int4 layers** (`weight_bits == 4`) use the same order with half the
//! bytes: the weight that would sit at byte `offset(r, k)` sits in nibble
//! `offset(r, k)` (byte `offset / 2`; low nibble for even rows, high nibble
//! for odd rows), as a 4-bit two's complement value in `[-7, 7]` for every
//! row (no excess). One byte thus holds rows `2p` and `2p + 1` of one input.

/// Rows per block.
pub const ROW_BLOCK: usize = 8;
/// Inputs are padded to a multiple of this.
pub const INPUT_STEP: usize = 4;
/// Bytes per pair of inputs in one block.
pub const PAIR_BYTES: usize = 16;

/// Rows after padding to a multiple of [`ROW_BLOCK`].
pub const fn padded_outputs(outputs: usize) -> usize {
    outputs.div_ceil(ROW_BLOCK) * ROW_BLOCK
}

/// Inputs after padding to a multiple of [`INPUT_STEP`].
pub const fn padded_inputs(inputs: usize) -> usize {
    inputs.div_ceil(INPUT_STEP) * INPUT_STEP
}

/// Stored weight bytes of a layer.
pub const fn packed_len(outputs: usize, inputs: usize) -> usize {
    padded_outputs(outputs) * padded_inputs(inputs)
}

/// Byte offset of weight `(row, input)` in a layer with `padded_inputs` inputs.
#[inline]
pub const fn offset(padded_inputs: usize, row: usize, input: usize) -> usize {
    (row / ROW_BLOCK) * ROW_BLOCK * padded_inputs
        + (input / 2) * PAIR_BYTES
        + ((row % ROW_BLOCK) / 2) * 4
        + (input % 2) * 2
        + row % 2
}

/// The stored byte of weight `w` in row `row`.
#[inline]
pub const fn encode(row: usize, w: i8) -> u8 {
    if row % 2 == 0 {
        (w as u8) ^ 0x80
    } else {
        w as u8
    }
}

/// The weight a stored byte at byte offset `at` holds (the row's parity is
/// the offset's parity).
#[inline]
pub const fn decode(at: usize, byte: u8) -> i8 {
    if at % 2 == 0 {
        (byte ^ 0x80) as i8
    } else {
        byte as i8
    }
}

/// Weight `(row, input)` of a packed layer, if inside the array.
#[inline]
pub fn weight(weights: &[u8], padded_inputs: usize, row: usize, input: usize) -> Option<i8> {
    let at = offset(padded_inputs, row, input);
    weights.get(at).map(|&b| decode(at, b))
}

/// A 4-bit two's complement nibble as i8.
#[inline]
pub const fn nibble(byte: u8, high: bool) -> i8 {
    let n = if high { byte >> 4 } else { byte & 0x0F };
    ((n << 4) as i8) >> 4
}

/// Weight `(row, input)` of a packed int4 layer, if inside the array.
#[inline]
pub fn weight4(weights: &[u8], padded_inputs: usize, row: usize, input: usize) -> Option<i8> {
    let at = offset(padded_inputs, row, input);
    weights.get(at / 2).map(|&b| nibble(b, at % 2 == 1))
}

/// Weight `(row, input)` of a layer with `bits` bits per weight (8 or 4).
#[inline]
pub fn weight_of(
    weights: &[u8],
    bits: u8,
    padded_inputs: usize,
    row: usize,
    input: usize,
) -> Option<i8> {
    if crate::format::is_int4(bits) {
        weight4(weights, padded_inputs, row, input)
    } else {
        weight(weights, padded_inputs, row, input)
    }
}

/// Stored bytes of a layer's weights at `bits` bits per weight.
pub const fn packed_bytes(outputs: usize, inputs: usize, bits: u8) -> usize {
    packed_len(outputs, inputs) * bits as usize / 8
}

/// Packs weights given by `w(row, input)` into `out` at `bits` bits per
/// weight (8: int8 in `[-127, 127]`; 4: int4 in `[-7, 7]`). `out` must be
/// [`packed_bytes`] long (else `false`); padding gets zero weights.
pub fn pack_into(
    outputs: usize,
    inputs: usize,
    bits: u8,
    w: impl Fn(usize, usize) -> i8,
    out: &mut [u8],
) -> bool {
    if out.len() != packed_bytes(outputs, inputs, bits) {
        return false;
    }
    let kp = padded_inputs(inputs);
    for row in 0..padded_outputs(outputs) {
        for input in 0..kp {
            let value = if row < outputs && input < inputs {
                w(row, input)
            } else {
                0
            };
            let at = offset(kp, row, input);
            if bits == 4 {
                // Nibble `at`: the low one of byte at/2 for even rows.
                let shift = 4 * (at % 2);
                if let Some(b) = out.get_mut(at / 2) {
                    *b = (*b & !(0x0F << shift)) | (((value as u8) & 0x0F) << shift);
                }
            } else if let Some(b) = out.get_mut(at) {
                *b = encode(row, value);
            }
        }
    }
    true
}

/// Packs row-major weights (`outputs * inputs`, channel 0 first) at `bits`
/// bits per weight into a new vector ([`pack_into`] on the host).
#[cfg(any(test, feature = "std"))]
pub fn pack(outputs: usize, inputs: usize, bits: u8, row_major: &[i8]) -> std::vec::Vec<u8> {
    let mut out = std::vec![0u8; packed_bytes(outputs, inputs, bits)];
    pack_into(
        outputs,
        inputs,
        bits,
        |r, k| row_major.get(r * inputs + k).copied().unwrap_or(0),
        &mut out,
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offsets_cover_every_byte_once() {
        for (m, k) in [(8, 4), (13, 7), (1, 1), (24, 20), (784, 128)] {
            let (mp, kp) = (padded_outputs(m), padded_inputs(k));
            let mut seen = std::vec![false; packed_len(m, k)];
            for r in 0..mp {
                for i in 0..kp {
                    let at = offset(kp, r, i);
                    assert!(!seen[at], "{m}x{k}: ({r},{i}) twice");
                    seen[at] = true;
                    assert_eq!(at % 2, r % 2, "byte parity is row parity");
                }
            }
            assert!(seen.iter().all(|&s| s));
        }
    }

    #[test]
    fn pack_round_trips_and_pads_with_zeros() {
        let (m, k) = (11, 6);
        let w: std::vec::Vec<i8> = (0..m * k)
            .map(|i| (i as i32 * 37 % 255 - 127) as i8)
            .collect();
        let packed = pack(m, k, 8, &w);
        let kp = padded_inputs(k);
        for r in 0..padded_outputs(m) {
            for i in 0..kp {
                let expect = if r < m && i < k { w[r * k + i] } else { 0 };
                assert_eq!(weight(&packed, kp, r, i), Some(expect));
            }
        }
        // Zero weights: 0x80 in even rows, 0x00 in odd rows.
        assert_eq!(packed[offset(kp, 12, 0)], 0x80);
        assert_eq!(packed[offset(kp, 13, 0)], 0x00);
    }

    #[test]
    fn int4_pack_round_trips() {
        let (m, k) = (11, 6);
        let w: std::vec::Vec<i8> = (0..m * k).map(|i| (i as i32 * 5 % 15 - 7) as i8).collect();
        let packed = pack(m, k, 4, &w);
        assert_eq!(packed.len(), packed_len(m, k) / 2);
        let kp = padded_inputs(k);
        for r in 0..padded_outputs(m) {
            for i in 0..kp {
                let expect = if r < m && i < k { w[r * k + i] } else { 0 };
                assert_eq!(weight4(&packed, kp, r, i), Some(expect), "({r}, {i})");
            }
        }
        // Rows 0 and 1 of input 0 share byte 0: row 0 low nibble, row 1 high.
        assert_eq!(packed[0], ((w[k] as u8 & 0xF) << 4) | (w[0] as u8 & 0xF));
    }
}
