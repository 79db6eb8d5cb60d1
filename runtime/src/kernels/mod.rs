//! Dense-layer kernels.
//!
//! - [`reference`](mod@reference): the plain, obviously-correct kernel, the
//!   oracle any faster kernel must match bit for bit, and what the host runs.
//! - [`block`]: safe Rust twin of the Cortex-M0/M3 assembly kernels.
//! - [`paired`]: safe Rust twin of the Cortex-M4 (DSP) assembly kernel.
//! - `asm` (ARM targets only): the hand-written inner loops, the crate's only
//!   `unsafe` code.
//!
//! [`dense`] is the kernel selected for the compile target by `build.rs`
//! from the target name: `thumbv7em` (Cortex-M4/M7) runs the DSP kernel,
//! `thumbv7m`/`thumbv8m.main` the Thumb-2 kernel, `thumbv6m`/`thumbv8m.base`
//! the Thumb-1 kernel, everything else the reference. Setting the
//! environment variable `VAE_KERNEL=reference` at build time forces the
//! reference kernel (for comparisons).

pub mod block;
pub mod paired;
pub mod reference;

#[cfg(any(vae_kernel = "dsp", vae_kernel = "thumb2", vae_kernel = "thumb1"))]
mod asm;

use crate::format::Layer;
use crate::layout::{padded_inputs, ROW_BLOCK};
use crate::requant::requantize_fast;

/// Raw sums of one block of 8 rows over the padded inputs: for even rows
/// `sum((w + 128) * x)`, for odd rows `sum(w * x)` (see [`crate::layout`]).
pub type BlockSums = [i32; ROW_BLOCK];

/// The name of the kernel [`dense`] runs on this target.
pub const SELECTED: &str = if cfg!(vae_kernel = "dsp") {
    "dsp"
} else if cfg!(vae_kernel = "thumb2") {
    "thumb2"
} else if cfg!(vae_kernel = "thumb1") {
    "thumb1"
} else {
    "reference"
};

/// Runs one dense layer with the kernel selected for this target; the
/// result equals [`reference::dense`] bit for bit.
///
/// `input` should hold `padded_inputs(input_dim)` values (the extra ones are
/// multiplied by zero weights); with fewer, the reference kernel runs.
pub fn dense<O>(layer: &Layer<'_>, input: &[i16], output: &mut [O], stage: impl Fn(i32) -> O) {
    let kp = padded_inputs(usize::from(layer.input_dim));
    match input.get(..kp) {
        Some(x) if cfg!(not(vae_kernel = "reference")) => optimized(layer, x, output, stage),
        _ => reference::dense(layer, input, output, stage),
    }
}

#[cfg(vae_kernel = "reference")]
fn optimized<O>(layer: &Layer<'_>, x: &[i16], output: &mut [O], stage: impl Fn(i32) -> O) {
    reference::dense(layer, x, output, stage);
}

#[cfg(not(vae_kernel = "reference"))]
fn optimized<O>(layer: &Layer<'_>, x: &[i16], output: &mut [O], stage: impl Fn(i32) -> O) {
    if !asm::dense_fused(layer, x, output, &stage) {
        run_blocks(layer, x, output, stage, block::block_sums);
    }
}

/// Runs a layer block by block: `sums` gives a block's [`BlockSums`], then
/// each row gets its bias, the even rows lose their excess `128 * sum(x)`,
/// every row is requantized, and `stage` makes the output. `x` holds exactly
/// the padded inputs.
pub fn run_blocks<O>(
    layer: &Layer<'_>,
    x: &[i16],
    output: &mut [O],
    stage: impl Fn(i32) -> O,
    sums: impl Fn(&[u8], &[i16]) -> BlockSums,
) {
    let excess = excess(x);
    let blocks = layer
        .weights
        .chunks_exact((ROW_BLOCK * x.len()).max(1))
        .zip(output.chunks_mut(ROW_BLOCK))
        .zip(layer.bias.chunks(4 * ROW_BLOCK))
        .zip(layer.multiplier.chunks(4 * ROW_BLOCK))
        .zip(layer.shift.chunks(ROW_BLOCK));
    for ((((block, outs), bias), multiplier), shift) in blocks {
        finish_block(
            sums(block, x),
            bias,
            multiplier,
            shift,
            excess,
            outs,
            &stage,
        );
    }
}

/// `128 * sum(x)`: what the even rows' excess-128 weights add.
pub(crate) fn excess(x: &[i16]) -> i32 {
    x.iter()
        .fold(0i32, |s, &v| s.wrapping_add(i32::from(v)))
        .wrapping_mul(128)
}

/// Turns one block's raw sums into outputs: bias, minus the excess for even
/// rows, requantization, `stage`; as many rows as `outs` and the parameter
/// slices hold (at most 8).
pub(crate) fn finish_block<O>(
    raw: BlockSums,
    bias: &[u8],
    multiplier: &[u8],
    shift: &[u8],
    excess: i32,
    outs: &mut [O],
    stage: &impl Fn(i32) -> O,
) {
    let rows = outs
        .iter_mut()
        .zip(raw)
        .zip(bias.chunks_exact(4).zip(multiplier.chunks_exact(4)))
        .zip(shift);
    for (row, (((out, raw), (b, m)), &s)) in rows.enumerate() {
        let dot = if row % 2 == 0 {
            raw.wrapping_sub(excess)
        } else {
            raw
        };
        *out = stage(requantize_fast(
            le_i32(b).wrapping_add(dot),
            le_i32(m),
            s as i8,
        ));
    }
}

/// A little-endian i32 from 4 bytes (0 if fewer).
#[inline(always)]
fn le_i32(bytes: &[u8]) -> i32 {
    <[u8; 4]>::try_from(bytes).map_or(0, i32::from_le_bytes)
}
