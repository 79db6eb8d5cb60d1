//! Dense-layer kernels. [`dense`] is the one entry point: the decoder calls
//! it for every layer.
//!
//! - [`reference`](mod@reference): the plain, obviously-correct kernel, the
//!   oracle any faster kernel must match bit for bit.
//! - [`thumb`]: safe Rust twin of the Thumb-1 (Cortex-M0) and Thumb-2
//!   (Cortex-M3) assembly routines.
//! - [`dsp`]: safe Rust twin of the Cortex-M4 (DSP) assembly routine.
//! - [`int4`]: the int4 kernel (safe Rust, every target).
//! - [`host`]: the int8 sums laid out for a host's vectorizer (hosts only).
//! - [`rv32`]: the int8 sums laid out for an RV32IMC core's registers
//!   (safe Rust; ESP32-C3).
//! - `x86` (x86-64 hosts, feature `std`): `host` compiled for AVX2, chosen
//!   at run time; besides `asm`, the crate's only `unsafe` code.
//! - `asm` (ARM targets only): the hand-written inner loops, one file per
//!   core, the crate's only `unsafe` code.
//!
//! A twin computes a block's [`BlockSums`]; [`dense_with_twin`] runs a whole
//! layer with a given twin (what the host tests compare with the reference).
//!
//! [`dense`] runs the kernel selected for the compile target by `build.rs`
//! from the target name: `thumbv7em` (Cortex-M4/M7) runs the DSP kernel,
//! `thumbv7m`/`thumbv8m.main` the Thumb-2 kernel, `thumbv6m`/`thumbv8m.base`
//! the Thumb-1 kernel, `riscv32*` the RV32 kernel ([`rv32`]), everything
//! else (hosts: the trainer, the simulator,
//! the tests) safe kernels without assembly (`twin`: [`host`] and [`int4`],
//! several times faster than the reference on x86). Setting the
//! environment variable `VAE_KERNEL=reference` at build time forces the
//! reference kernel (for comparisons).

pub mod dsp;
pub mod host;
pub mod int4;
pub mod reference;
pub mod rv32;
pub mod thumb;
#[cfg(all(feature = "std", target_arch = "x86_64"))]
pub mod x86;

#[cfg(any(vae_kernel = "dsp", vae_kernel = "thumb2", vae_kernel = "thumb1"))]
mod asm;

use crate::format::le_i32;
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
} else if cfg!(vae_kernel = "rv32") {
    "rv32"
} else if cfg!(vae_kernel = "twin") {
    "twin"
} else {
    "reference"
};

/// Runs one dense layer with the kernel selected for this target; the
/// result equals [`reference::dense`] bit for bit.
///
/// `input` should hold `padded_inputs(input_dim)` values (the extra ones are
/// multiplied by zero weights); missing inputs count as zero, as in the
/// reference kernel, but only a full input takes the assembly path.
/// `output` takes the values in channel order, as in the reference kernel.
pub fn dense<'o, O: 'o>(
    layer: &Layer<'_>,
    input: &[i16],
    output: impl IntoIterator<Item = &'o mut O>,
    stage: impl Fn(i32) -> O,
) {
    if cfg!(vae_kernel = "reference") {
        return reference::dense(layer, input, output, stage);
    }
    let mut outs = output.into_iter();
    let mut emit = |values: &[i32]| {
        // `values` first: zip must not take an output it cannot fill.
        for (&value, out) in values.iter().zip(&mut outs) {
            *out = stage(value);
        }
    };
    if !cfg!(any(vae_kernel = "dsp", vae_kernel = "thumb2")) {
        // One kernel copy for all output types (decoder, latent filter),
        // values handed over through a `dyn` callback once per block of 8
        // rows: code size counts on the Cortex-M0, the ESP32-C3 (its
        // firmware must fit 128 KiB) and the web page (150 KB budget), and
        // the call costs nothing measurable there (RV32: 324,902
        // instructions per digit with it, 325,439 without).
        dense_dyn(layer, input, &mut emit);
    } else {
        // Thumb-2 cores: the kernel inlined per output type (faster).
        let kp = padded_inputs(usize::from(layer.input_dim));
        let x = input.get(..kp).unwrap_or(input);
        #[cfg(any(vae_kernel = "dsp", vae_kernel = "thumb2", vae_kernel = "thumb1"))]
        if asm::dense_fused(layer, x, &mut emit) {
            return;
        }
        blocks(layer, x, None, &mut emit);
    }
}

/// A hidden layer's output: ReLU, saturated to the u8 range. A named
/// function (not a closure) so that the decoder and the latent filter share
/// one copy of the kernel for it (code size).
pub(crate) fn relu_u8(v: i32) -> i16 {
    v.clamp(0, 255) as i16
}

/// A last layer's output: the Q8 logit, saturated to i16 (shared like
/// [`relu_u8`]).
pub(crate) fn logit_q8(v: i32) -> i16 {
    v.clamp(i32::from(i16::MIN), i32::from(i16::MAX)) as i16
}

/// [`dense`] everywhere but on the Thumb-2 cores, not generic so that one
/// copy serves every output type: it hands the requantized values to
/// `emit` in order, up to 8 at a time.
#[inline(never)]
fn dense_dyn(layer: &Layer<'_>, input: &[i16], emit: &mut dyn FnMut(&[i32])) {
    let kp = padded_inputs(usize::from(layer.input_dim));
    let x = input.get(..kp).unwrap_or(input);
    #[cfg(any(vae_kernel = "dsp", vae_kernel = "thumb2", vae_kernel = "thumb1"))]
    if asm::dense_fused(layer, x, &mut *emit) {
        return;
    }
    blocks(layer, x, None, emit);
}

/// Runs a layer with the safe twin `sums` (e.g. [`thumb::block_sums`]):
/// block by block, each row gets its bias, the even rows lose their excess
/// `128 * sum(x)`, every row is requantized, and `stage` makes the output.
/// `x` holds the padded inputs (missing ones count as zero). Equals
/// [`reference::dense`] bit for bit; the host tests prove it per twin.
pub fn dense_with_twin<O>(
    layer: &Layer<'_>,
    x: &[i16],
    output: &mut [O],
    stage: impl Fn(i32) -> O,
    sums: Twin,
) {
    let mut outs = output.iter_mut();
    blocks(layer, x, Some(sums), |values: &[i32]| {
        for (&value, out) in values.iter().zip(&mut outs) {
            *out = stage(value);
        }
    });
}

/// The int8 sums a host runs: [`host`], in its AVX2 build where the CPU has
/// AVX2 (`x86`, x86-64 with feature `std`).
#[cfg(all(feature = "std", target_arch = "x86_64"))]
const HOST_SUMS: Twin = x86::block_sums;
#[cfg(not(all(feature = "std", target_arch = "x86_64")))]
const HOST_SUMS: Twin = host::block_sums;

/// A safe twin: the raw sums of one block (see [`BlockSums`]).
pub type Twin = fn(&[u8], &[i16]) -> BlockSums;

/// [`dense_with_twin`] handing the values to `emit`, up to 8 at a time;
/// with `twin` `None`, the twin for the layer's weight width ([`thumb`] or
/// [`int4`]). (Chosen here rather than by the callers: on the Cortex-M3 a
/// separate chooser made the compiler lay out [`dense`] 4 instructions per
/// block slower.)
fn blocks(layer: &Layer<'_>, x: &[i16], twin: Option<Twin>, mut emit: impl FnMut(&[i32])) {
    // int4 blocks: half the bytes, two's complement nibbles (no excess).
    let int4 = layer.is_int4();
    let sums = twin.unwrap_or(if int4 {
        int4::block_sums
    } else if cfg!(vae_kernel = "twin") {
        HOST_SUMS
    } else if cfg!(vae_kernel = "rv32") {
        rv32::block_sums
    } else {
        thumb::block_sums
    });
    let excess = if int4 { 0 } else { excess(x) };
    let block_len =
        ROW_BLOCK * padded_inputs(usize::from(layer.input_dim)) / if int4 { 2 } else { 1 };
    let (mut weights, mut bias, mut multiplier, mut shift) =
        (layer.weights, layer.bias, layer.multiplier, layer.shift);
    while let (Some((block, w)), false) = (weights.split_at_checked(block_len), shift.is_empty()) {
        let mut values = [0i32; ROW_BLOCK];
        let rows = requant_block(sums(block, x), bias, multiplier, shift, excess, &mut values);
        emit(values.get(..rows).unwrap_or(&[]));
        weights = w;
        bias = bias.get(4 * rows..).unwrap_or(&[]);
        multiplier = multiplier.get(4 * rows..).unwrap_or(&[]);
        shift = shift.get(rows..).unwrap_or(&[]);
    }
}

/// Whether every shift of a layer lies in `[-31, 0]` (bytes 0xE1 to 0xFF,
/// or 0x00), the range the routines' requantization covers. Four bytes at
/// a time: with `t = b + 31` per byte (no carries between bytes), the test
/// is `t <= 31` for every byte.
#[cfg_attr(
    not(any(vae_kernel = "dsp", vae_kernel = "thumb2", vae_kernel = "thumb1")),
    allow(dead_code)
)]
pub(crate) fn shifts_fit(shift: &[u8]) -> bool {
    if cfg!(vae_kernel = "thumb1") {
        // Smaller code where code size counts most.
        return shift.iter().all(|&b| b.wrapping_add(31) <= 31);
    }
    const LOW7: u32 = 0x7F7F_7F7F;
    const HIGH: u32 = 0x8080_8080;
    let mut bad = 0u32;
    let mut words = shift.chunks_exact(4);
    for word in &mut words {
        let w = <[u8; 4]>::try_from(word).map_or(u32::MAX, u32::from_le_bytes);
        let t = ((w & LOW7) + 0x1F1F_1F1F) ^ (w & HIGH);
        // Some byte of t above 31 ("has more than n" bit hack, n = 31).
        bad |= (t.wrapping_add(0x6060_6060) | t) & HIGH;
    }
    for &b in words.remainder() {
        bad |= u32::from(b.wrapping_add(31) > 31);
    }
    bad == 0
}

/// `128 * sum(x)`: what the even rows' excess-128 weights add.
pub(crate) fn excess(x: &[i16]) -> i32 {
    x.iter()
        .fold(0i32, |s, &v| s.wrapping_add(i32::from(v)))
        .wrapping_mul(128)
}

/// Requantizes one block's raw sums into `values`: bias, minus the excess
/// for even rows, requantization; as many rows (at most 8) as the parameter
/// slices hold, which it returns.
pub(crate) fn requant_block(
    raw: BlockSums,
    bias: &[u8],
    multiplier: &[u8],
    shift: &[u8],
    excess: i32,
    values: &mut [i32; ROW_BLOCK],
) -> usize {
    let mut count = 0;
    for (row, (value, raw)) in values.iter_mut().zip(raw).enumerate() {
        let params = (
            bias.get(4 * row..4 * row + 4),
            multiplier.get(4 * row..4 * row + 4),
            shift.get(row),
        );
        let (Some(b), Some(m), Some(&s)) = params else {
            break;
        };
        let dot = if row % 2 == 0 {
            raw.wrapping_sub(excess)
        } else {
            raw
        };
        *value = requantize_fast(le_i32(b).wrapping_add(dot), le_i32(m), s as i8);
        count = row + 1;
    }
    count
}

#[cfg(test)]
mod tests {
    use super::shifts_fit;

    #[test]
    fn shift_check_matches_the_plain_test() {
        let plain = |s: &[u8]| s.iter().all(|&b| (-31..=0).contains(&(b as i8)));
        for b in 0..=255u8 {
            for len in 1..=9 {
                for at in 0..len {
                    let mut v = std::vec![0xF0u8; len];
                    v[at] = b;
                    assert_eq!(shifts_fit(&v), plain(&v), "byte {b:#x} at {at} of {len}");
                }
            }
        }
        assert!(shifts_fit(&[]));
    }
}
