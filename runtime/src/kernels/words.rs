//! Aligned bytes read as words: the RV32 int4 kernel's one `unsafe`.
//!
//! A core without unaligned loads (RV32IMC) assembles a `u32` from a byte
//! slice with four byte loads and six shifts and ors, because the compiler
//! cannot know the slice's alignment; the model's weights are 4-byte aligned
//! in the file, so one word load would do. [`as_word_pairs`] checks the
//! alignment at run time and hands out the words; its safe twin is reading
//! each word with `u32::from_le_bytes`, which the kernel tests compare with
//! it bit for bit (`runtime/tests/kernels_bit_exact.rs`).
#![allow(unsafe_code)]

/// `bytes` as pairs of little-endian 32-bit words (8 bytes each; a last
/// partial pair is left out), or `None` when `bytes` does not start at a
/// 4-byte boundary or the target is big-endian.
pub fn as_word_pairs(bytes: &[u8]) -> Option<&[[u32; 2]]> {
    if cfg!(target_endian = "big") {
        return None;
    }
    // SAFETY: every bit pattern is a valid `[u32; 2]`, and `align_to`
    // returns a middle part that is aligned and inside `bytes`; reading it
    // shares the borrow of `bytes`.
    let (head, pairs, _) = unsafe { bytes.align_to::<[u32; 2]>() };
    head.is_empty().then_some(pairs)
}
