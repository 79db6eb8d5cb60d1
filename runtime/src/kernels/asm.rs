//! The hand-written inner loops: the crate's only `unsafe` code.
//!
//! Each routine computes raw block sums exactly as its safe twin does
//! ([`super::paired`] for the DSP kernel, [`super::block`] for the Thumb-2
//! and Thumb-1 kernels); the safe wrappers below check every precondition
//! the assembly relies on and otherwise run the twin. Host tests prove the
//! twins equal the reference kernel; on each core under QEMU the benchmark
//! firmware compares these routines with the reference kernel
//! (`tests/tests/cores_bit_exact.rs`).
//!
//! The routines follow the AAPCS: arguments in r0-r3, r4-r11 saved and
//! restored, results stored through the `out` pointer only. The instruction
//! counts per multiply-accumulate in the comments are what
//! `scripts/bench.sh` measures around them.
#![allow(unsafe_code)]

use super::{block, BlockSums};
use crate::format::Layer;

#[cfg(vae_kernel = "dsp")]
use super::paired;

/// Bytes of a block per pair of inputs.
const PAIR_BYTES: usize = crate::layout::PAIR_BYTES;

/// Whether `block` and `x` have the shapes the assembly assumes: `x` holds
/// a positive multiple of 4 inputs and `block` their 8 rows.
fn shapes_fit(block: &[u8], x: &[i16]) -> bool {
    !x.is_empty() && x.len() % 4 == 0 && block.len() == x.len() / 2 * PAIR_BYTES
}

// Cortex-M4/M7, DSP extension: a whole block, as two passes over rows 0-3
// and 4-7; per pass 4 inputs per step, two steps per loop: 30 instructions
// + 2 loop per 32 MACs. One word = two rows x two inputs:
// F += SMLAD(word, x) and E += SMLAD(UXTB16(word), x); the odd row's sum is
// (F - E) >> 8, see `super::paired`.
#[cfg(vae_kernel = "dsp")]
core::arch::global_asm!(
    ".syntax unified",
    ".thumb",
    ".section .text.vae_block8_dsp,\"ax\",%progbits",
    ".global vae_block8_dsp",
    ".type vae_block8_dsp,%function",
    ".thumb_func",
    // r0 = block (8 rows), 4-aligned; r1 = inputs (i16), 4-aligned;
    // r2 = inputs / 4 (>= 1); r3 = out[8]
    "vae_block8_dsp:",
    "    push {{r4-r11, lr}}",
    "    push {{r0-r3}}",
    "    movs r4, #2",
    "    push {{r4}}",
    // stack: [sp] passes left, [sp+4] rows, [sp+8] x, [sp+12] quads, [sp+16] out
    "4:",
    "    movs r4, #0",
    "    movs r5, #0",
    "    movs r6, #0",
    "    movs r7, #0",
    "    lsrs r3, r2, #1",
    "    beq 2f",
    "1:",
    "    ldrd r8, r9, [r1], #8",
    "    ldrd r10, r11, [r0], #16",
    "    ldrd r12, lr, [r0], #16",
    "    smlad r5, r10, r8, r5",
    "    uxtb16 r10, r10",
    "    smlad r4, r10, r8, r4",
    "    smlad r7, r11, r8, r7",
    "    uxtb16 r11, r11",
    "    smlad r6, r11, r8, r6",
    "    smlad r5, r12, r9, r5",
    "    uxtb16 r12, r12",
    "    smlad r4, r12, r9, r4",
    "    smlad r7, lr, r9, r7",
    "    uxtb16 lr, lr",
    "    smlad r6, lr, r9, r6",
    "    ldrd r8, r9, [r1], #8",
    "    ldrd r10, r11, [r0], #16",
    "    ldrd r12, lr, [r0], #16",
    "    smlad r5, r10, r8, r5",
    "    uxtb16 r10, r10",
    "    smlad r4, r10, r8, r4",
    "    smlad r7, r11, r8, r7",
    "    uxtb16 r11, r11",
    "    smlad r6, r11, r8, r6",
    "    smlad r5, r12, r9, r5",
    "    uxtb16 r12, r12",
    "    smlad r4, r12, r9, r4",
    "    smlad r7, lr, r9, r7",
    "    uxtb16 lr, lr",
    "    smlad r6, lr, r9, r6",
    "    subs r3, r3, #1",
    "    bne 1b",
    "2:",
    "    tst r2, #1",
    "    beq 3f",
    "    ldrd r8, r9, [r1], #8",
    "    ldrd r10, r11, [r0], #16",
    "    ldrd r12, lr, [r0], #16",
    "    smlad r5, r10, r8, r5",
    "    uxtb16 r10, r10",
    "    smlad r4, r10, r8, r4",
    "    smlad r7, r11, r8, r7",
    "    uxtb16 r11, r11",
    "    smlad r6, r11, r8, r6",
    "    smlad r5, r12, r9, r5",
    "    uxtb16 r12, r12",
    "    smlad r4, r12, r9, r4",
    "    smlad r7, lr, r9, r7",
    "    uxtb16 lr, lr",
    "    smlad r6, lr, r9, r6",
    "3:",
    "    subs r5, r5, r4",
    "    asrs r5, r5, #8",
    "    subs r7, r7, r6",
    "    asrs r7, r7, #8",
    "    ldr r3, [sp, #16]",
    "    stmia r3!, {{r4-r7}}",
    "    str r3, [sp, #16]",
    "    ldr r0, [sp, #4]",
    "    adds r0, #8",
    "    str r0, [sp, #4]",
    "    ldrd r1, r2, [sp, #8]",
    "    ldr r3, [sp]",
    "    subs r3, r3, #1",
    "    str r3, [sp]",
    "    bne 4b",
    "    add sp, #20",
    "    pop {{r4-r11, pc}}",
    ".size vae_block8_dsp, . - vae_block8_dsp",
);

// Cortex-M3 (and the M4 when the paired kernel does not apply): all 8 rows
// of a block, 4 inputs per loop: 4 input loads, 32 x (ldrb/ldrsb + mla),
// 3 loop = 71 instructions per 32 MACs.
#[cfg(any(vae_kernel = "dsp", vae_kernel = "thumb2"))]
core::arch::global_asm!(
    ".syntax unified",
    ".thumb",
    ".section .text.vae_block8_thumb2,\"ax\",%progbits",
    ".global vae_block8_thumb2",
    ".type vae_block8_thumb2,%function",
    ".thumb_func",
    // r0 = block (8 rows), r1 = inputs (i16), r2 = inputs / 4 (>= 1), r3 = out[8]
    "vae_block8_thumb2:",
    "    push {{r4-r11, lr}}",
    "    mov lr, r3",
    "    movs r3, #0",
    "    movs r4, #0",
    "    movs r5, #0",
    "    movs r6, #0",
    "    movs r7, #0",
    "    mov r8, #0",
    "    mov r9, #0",
    "    mov r10, #0",
    "1:",
    "    add r1, r1, #8",
    "    ldrsh r11, [r1, #-8]",
    "    ldrb r12, [r0, #0]",
    "    mla r3, r12, r11, r3",
    "    ldrsb r12, [r0, #1]",
    "    mla r4, r12, r11, r4",
    "    ldrb r12, [r0, #4]",
    "    mla r5, r12, r11, r5",
    "    ldrsb r12, [r0, #5]",
    "    mla r6, r12, r11, r6",
    "    ldrb r12, [r0, #8]",
    "    mla r7, r12, r11, r7",
    "    ldrsb r12, [r0, #9]",
    "    mla r8, r12, r11, r8",
    "    ldrb r12, [r0, #12]",
    "    mla r9, r12, r11, r9",
    "    ldrsb r12, [r0, #13]",
    "    mla r10, r12, r11, r10",
    "    ldrsh r11, [r1, #-6]",
    "    ldrb r12, [r0, #2]",
    "    mla r3, r12, r11, r3",
    "    ldrsb r12, [r0, #3]",
    "    mla r4, r12, r11, r4",
    "    ldrb r12, [r0, #6]",
    "    mla r5, r12, r11, r5",
    "    ldrsb r12, [r0, #7]",
    "    mla r6, r12, r11, r6",
    "    ldrb r12, [r0, #10]",
    "    mla r7, r12, r11, r7",
    "    ldrsb r12, [r0, #11]",
    "    mla r8, r12, r11, r8",
    "    ldrb r12, [r0, #14]",
    "    mla r9, r12, r11, r9",
    "    ldrsb r12, [r0, #15]",
    "    mla r10, r12, r11, r10",
    "    ldrsh r11, [r1, #-4]",
    "    ldrb r12, [r0, #16]",
    "    mla r3, r12, r11, r3",
    "    ldrsb r12, [r0, #17]",
    "    mla r4, r12, r11, r4",
    "    ldrb r12, [r0, #20]",
    "    mla r5, r12, r11, r5",
    "    ldrsb r12, [r0, #21]",
    "    mla r6, r12, r11, r6",
    "    ldrb r12, [r0, #24]",
    "    mla r7, r12, r11, r7",
    "    ldrsb r12, [r0, #25]",
    "    mla r8, r12, r11, r8",
    "    ldrb r12, [r0, #28]",
    "    mla r9, r12, r11, r9",
    "    ldrsb r12, [r0, #29]",
    "    mla r10, r12, r11, r10",
    "    ldrsh r11, [r1, #-2]",
    "    ldrb r12, [r0, #18]",
    "    mla r3, r12, r11, r3",
    "    ldrsb r12, [r0, #19]",
    "    mla r4, r12, r11, r4",
    "    ldrb r12, [r0, #22]",
    "    mla r5, r12, r11, r5",
    "    ldrsb r12, [r0, #23]",
    "    mla r6, r12, r11, r6",
    "    ldrb r12, [r0, #26]",
    "    mla r7, r12, r11, r7",
    "    ldrsb r12, [r0, #27]",
    "    mla r8, r12, r11, r8",
    "    ldrb r12, [r0, #30]",
    "    mla r9, r12, r11, r9",
    "    ldrsb r12, [r0, #31]",
    "    mla r10, r12, r11, r10",
    "    add r0, r0, #32",
    "    subs r2, r2, #1",
    "    bne 1b",
    "    stmia lr, {{r3-r10}}",
    "    pop {{r4-r11, pc}}",
    ".size vae_block8_thumb2, . - vae_block8_thumb2",
);

// Cortex-M0/M0+ (ARMv6-M): a whole block, as two passes over rows 0-3 and
// 4-7; per pass 4 inputs per loop: 4 input loads, 16 x (load + muls + add),
// 5 pointer/loop = 57 instructions per 16 MACs. Odd-row bytes are signed
// and Thumb-1 `ldrsb` only takes a register offset, hence the offsets 1, 3,
// 5, 7 kept in r4-r7; the accumulators live in r8-r11 (`add` reaches high
// registers).
#[cfg(vae_kernel = "thumb1")]
core::arch::global_asm!(
    ".syntax unified",
    ".thumb",
    ".section .text.vae_block8_thumb1,\"ax\",%progbits",
    ".global vae_block8_thumb1",
    ".type vae_block8_thumb1,%function",
    ".thumb_func",
    // r0 = block (8 rows), r1 = inputs (i16, all >= 0),
    // r2 = inputs / 4 (>= 1), r3 = out[8]
    "vae_block8_thumb1:",
    "    push {{r4-r7, lr}}",
    "    mov r4, r8",
    "    mov r5, r9",
    "    mov r6, r10",
    "    mov r7, r11",
    "    push {{r4-r7}}",
    "    lsls r2, r2, #3",
    "    adds r2, r1, r2",
    "    push {{r0-r3}}",
    "    movs r0, #2",
    "    push {{r0}}",
    "    ldr r0, [sp, #4]",
    // stack: [sp] passes left, [sp+4] rows, [sp+8] x, [sp+12] end of x, [sp+16] out
    "    movs r4, #1",
    "    movs r5, #3",
    "    movs r6, #5",
    "    movs r7, #7",
    "4:",
    "    mov r12, r2",
    "    movs r3, #0",
    "    mov r8, r3",
    "    mov r9, r3",
    "    mov r10, r3",
    "    mov r11, r3",
    "1:",
    "    ldrh r3, [r1, #0]",
    "    ldrb r2, [r0, #0]",
    "    muls r2, r3, r2",
    "    add r8, r8, r2",
    "    ldrsb r2, [r0, r4]",
    "    muls r2, r3, r2",
    "    add r9, r9, r2",
    "    ldrb r2, [r0, #4]",
    "    muls r2, r3, r2",
    "    add r10, r10, r2",
    "    ldrsb r2, [r0, r6]",
    "    muls r2, r3, r2",
    "    add r11, r11, r2",
    "    ldrh r3, [r1, #2]",
    "    ldrb r2, [r0, #2]",
    "    muls r2, r3, r2",
    "    add r8, r8, r2",
    "    ldrsb r2, [r0, r5]",
    "    muls r2, r3, r2",
    "    add r9, r9, r2",
    "    ldrb r2, [r0, #6]",
    "    muls r2, r3, r2",
    "    add r10, r10, r2",
    "    ldrsb r2, [r0, r7]",
    "    muls r2, r3, r2",
    "    add r11, r11, r2",
    "    adds r0, #16",
    "    ldrh r3, [r1, #4]",
    "    ldrb r2, [r0, #0]",
    "    muls r2, r3, r2",
    "    add r8, r8, r2",
    "    ldrsb r2, [r0, r4]",
    "    muls r2, r3, r2",
    "    add r9, r9, r2",
    "    ldrb r2, [r0, #4]",
    "    muls r2, r3, r2",
    "    add r10, r10, r2",
    "    ldrsb r2, [r0, r6]",
    "    muls r2, r3, r2",
    "    add r11, r11, r2",
    "    ldrh r3, [r1, #6]",
    "    ldrb r2, [r0, #2]",
    "    muls r2, r3, r2",
    "    add r8, r8, r2",
    "    ldrsb r2, [r0, r5]",
    "    muls r2, r3, r2",
    "    add r9, r9, r2",
    "    ldrb r2, [r0, #6]",
    "    muls r2, r3, r2",
    "    add r10, r10, r2",
    "    ldrsb r2, [r0, r7]",
    "    muls r2, r3, r2",
    "    add r11, r11, r2",
    "    adds r0, #16",
    "    adds r1, #8",
    "    cmp r1, r12",
    "    bne 1b",
    "    mov r0, r8",
    "    mov r1, r9",
    "    mov r2, r10",
    "    ldr r3, [sp, #16]",
    "    stmia r3!, {{r0-r2}}",
    "    mov r0, r11",
    "    stmia r3!, {{r0}}",
    "    str r3, [sp, #16]",
    "    ldr r0, [sp, #4]",
    "    adds r0, #8",
    "    str r0, [sp, #4]",
    "    ldr r1, [sp, #8]",
    "    ldr r2, [sp, #12]",
    "    ldr r3, [sp]",
    "    subs r3, #1",
    "    str r3, [sp]",
    "    bne 4b",
    "    add sp, #20",
    "    pop {{r4-r7}}",
    "    mov r8, r4",
    "    mov r9, r5",
    "    mov r10, r6",
    "    mov r11, r7",
    "    pop {{r4-r7, pc}}",
    ".size vae_block8_thumb1, . - vae_block8_thumb1",
);

// Cortex-M3/M4: the requantization of a whole block, `requantize_fast`'s
// path for shifts in [-31, -1]: q = floor(acc * m / 2^31) (smull + 2), then
// (q >> s) + bit s-1 of q, with s = -shift. 15 instructions per row.
#[cfg(any(vae_kernel = "dsp", vae_kernel = "thumb2"))]
core::arch::global_asm!(
    ".syntax unified",
    ".thumb",
    ".section .text.vae_requant8_thumb2,\"ax\",%progbits",
    ".global vae_requant8_thumb2",
    ".type vae_requant8_thumb2,%function",
    ".thumb_func",
    // r0 = raw sums in, requantized values out (8 x i32); r1 = 8 biases,
    // r2 = 8 multipliers (i32 little-endian, any alignment), r3 = 8 shifts,
    // [sp] = the even rows' excess 128 * sum(x)
    "vae_requant8_thumb2:",
    "    ldr r12, [sp]",
    "    push {{r4-r7, lr}}",
    "    mov lr, #4",
    "1:",
    "    ldr r4, [r0]",
    "    ldr r5, [r1], #4",
    "    add r4, r4, r5",
    "    sub r4, r4, r12",
    "    ldr r5, [r2], #4",
    "    smull r6, r7, r4, r5",
    "    lsrs r6, r6, #31",
    "    orr r6, r6, r7, lsl #1",
    "    ldrsb r5, [r3], #1",
    "    rsbs r5, r5, #0",
    "    asr r7, r6, r5",
    "    subs r5, r5, #1",
    "    asr r6, r6, r5",
    "    and r6, r6, #1",
    "    add r7, r7, r6",
    "    str r7, [r0], #4",
    "    ldr r4, [r0]",
    "    ldr r5, [r1], #4",
    "    add r4, r4, r5",
    "    ldr r5, [r2], #4",
    "    smull r6, r7, r4, r5",
    "    lsrs r6, r6, #31",
    "    orr r6, r6, r7, lsl #1",
    "    ldrsb r5, [r3], #1",
    "    rsbs r5, r5, #0",
    "    asr r7, r6, r5",
    "    subs r5, r5, #1",
    "    asr r6, r6, r5",
    "    and r6, r6, #1",
    "    add r7, r7, r6",
    "    str r7, [r0], #4",
    "    subs lr, lr, #1",
    "    bne 1b",
    "    pop {{r4-r7, pc}}",
    ".size vae_requant8_thumb2, . - vae_requant8_thumb2",
);

extern "C" {
    #[cfg(vae_kernel = "dsp")]
    fn vae_block8_dsp(block: *const u8, x: *const i16, quads: u32, out: *mut BlockSums);
    #[cfg(any(vae_kernel = "dsp", vae_kernel = "thumb2"))]
    fn vae_block8_thumb2(block: *const u8, x: *const i16, quads: u32, out: *mut BlockSums);
    #[cfg(any(vae_kernel = "dsp", vae_kernel = "thumb2"))]
    fn vae_requant8_thumb2(
        io: *mut BlockSums,
        bias: *const u8,
        mult: *const u8,
        shift: *const u8,
        excess: i32,
    );
    #[cfg(vae_kernel = "thumb1")]
    fn vae_block8_thumb1(block: *const u8, x: *const i16, quads: u32, out: *mut BlockSums);
}

/// The block-sum function for this layer and input on this core.
#[cfg(vae_kernel = "dsp")]
pub fn block_sums_for(layer: &Layer<'_>, x: &[i16]) -> fn(&[u8], &[i16]) -> BlockSums {
    let aligned = layer.weights.as_ptr() as usize % 4 == 0 && x.as_ptr() as usize % 4 == 0;
    if aligned && paired::applies(x) {
        dsp_block_sums
    } else {
        thumb2_block_sums
    }
}

/// The block-sum function for this layer and input on this core.
#[cfg(vae_kernel = "thumb2")]
pub fn block_sums_for(_layer: &Layer<'_>, _x: &[i16]) -> fn(&[u8], &[i16]) -> BlockSums {
    thumb2_block_sums
}

/// The block-sum function for this layer and input on this core.
#[cfg(vae_kernel = "thumb1")]
pub fn block_sums_for(_layer: &Layer<'_>, x: &[i16]) -> fn(&[u8], &[i16]) -> BlockSums {
    if x.iter().all(|&v| v >= 0) {
        thumb1_block_sums
    } else {
        block::block_sums
    }
}

/// [`super::paired::block_sums`] in assembly; the caller checked
/// [`super::paired::applies`].
#[cfg(vae_kernel = "dsp")]
fn dsp_block_sums(block: &[u8], x: &[i16]) -> BlockSums {
    let aligned = (block.as_ptr() as usize | x.as_ptr() as usize) % 4 == 0;
    if !shapes_fit(block, x) || !aligned {
        return block::block_sums(block, x);
    }
    let mut out = [0i32; 8];
    // SAFETY: `shapes_fit` guarantees `quads >= 1` and that the routine's
    // reads stay inside `block` (in each of two passes, 8 bytes of every 16,
    // `x.len() / 2` times) and inside `x` (`x.len()` values per pass); both
    // pointers are 4-aligned as LDRD requires (checked above); it writes
    // exactly the 32 bytes of `out`, preserves r4-r11 and restores sp.
    unsafe { vae_block8_dsp(block.as_ptr(), x.as_ptr(), (x.len() / 4) as u32, &mut out) };
    out
}

/// [`super::block::block_sums`] in Thumb-2 assembly (any input, any alignment).
#[cfg(any(vae_kernel = "dsp", vae_kernel = "thumb2"))]
fn thumb2_block_sums(block: &[u8], x: &[i16]) -> BlockSums {
    if !shapes_fit(block, x) {
        return block::block_sums(block, x);
    }
    let mut out = [0i32; 8];
    // SAFETY: `shapes_fit` guarantees `quads >= 1` and that the routine reads
    // only `block` (32 bytes per 4 inputs) and `x` (`x.len()` i16 values,
    // 2-aligned as any `&[i16]`); it writes exactly the 32 bytes of `out`
    // and preserves r4-r11 and sp.
    unsafe { vae_block8_thumb2(block.as_ptr(), x.as_ptr(), (x.len() / 4) as u32, &mut out) };
    out
}

/// [`super::block::block_sums`] in Thumb-1 assembly; the caller checked
/// that no input is negative (they are loaded with `ldrh`).
#[cfg(vae_kernel = "thumb1")]
fn thumb1_block_sums(block: &[u8], x: &[i16]) -> BlockSums {
    if !shapes_fit(block, x) {
        return block::block_sums(block, x);
    }
    let mut out = [0i32; 8];
    // SAFETY: `shapes_fit` guarantees `quads >= 1` and that the routine
    // reads only `block` (in each of two passes, 8 bytes of every 16) and
    // the `x.len()` values of `x` (2-aligned as `ldrh` requires); it writes
    // exactly the 32 bytes of `out`, preserves r4-r11 and restores sp.
    unsafe { vae_block8_thumb1(block.as_ptr(), x.as_ptr(), (x.len() / 4) as u32, &mut out) };
    out
}

/// Requantizes a full block's raw sums in place: row `r` becomes
/// `requantize_fast(bias[r] + raw[r] - (r even ? excess : 0), m[r], shift[r])`.
/// Returns `false` (leaving `raw` untouched) unless there are 8 rows of
/// parameters and every shift lies in `[-31, -1]`.
#[cfg(any(vae_kernel = "dsp", vae_kernel = "thumb2"))]
pub fn requant_block(
    raw: &mut BlockSums,
    bias: &[u8],
    mult: &[u8],
    shift: &[u8],
    excess: i32,
) -> bool {
    let fits = bias.len() == 32 && mult.len() == 32 && shift.len() == 8;
    if !fits || !shift.iter().all(|&s| (0xE1..=0xFF).contains(&s)) {
        return false;
    }
    // SAFETY: the routine reads exactly 32 bytes of `bias` and of `mult` and
    // 8 bytes of `shift` (lengths checked above; `ldr` accepts unaligned
    // addresses on ARMv7-M), reads and writes the 32 bytes of `raw`, and
    // preserves r4-r7 and sp. Shifts in [-31, -1] keep its shift amounts in
    // [0, 31].
    unsafe { vae_requant8_thumb2(raw, bias.as_ptr(), mult.as_ptr(), shift.as_ptr(), excess) };
    true
}
