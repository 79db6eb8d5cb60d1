//! The hand-written inner loops: the crate's only `unsafe` code, one file
//! per core, each routine beside the notes that explain it:
//!
//! - `thumb1`: Cortex-M0/M0+ (ARMv6-M);
//! - `thumb2`: Cortex-M3, and the Cortex-M4's fallback;
//! - `dsp`: Cortex-M4/M7 with the DSP extension.
//!
//! Each routine computes raw block sums exactly as its safe twin does
//! ([`super::dsp`] for the DSP routine, [`super::thumb`] for the Thumb-2
//! and Thumb-1 routines); [`dense_fused`] checks every precondition the
//! assembly relies on and otherwise leaves the layer to the twin. Host tests
//! prove the twins equal the reference kernel; on each core under QEMU the
//! benchmark firmware compares these routines with the reference kernel
//! (`tests/tests/cores_bit_exact.rs`).
//!
//! The routines follow the AAPCS: arguments in r0-r3, r4-r11 saved and
//! restored, results stored through the `out` pointer only. The instruction
//! counts per multiply-accumulate in the notes are what `scripts/bench.sh`
//! measures around them.
#![allow(unsafe_code)]

#[cfg(vae_kernel = "dsp")]
mod dsp;
#[cfg(vae_kernel = "thumb1")]
mod thumb1;
#[cfg(any(vae_kernel = "dsp", vae_kernel = "thumb2"))]
mod thumb2;

#[cfg(vae_kernel = "dsp")]
use dsp::routine_for;
#[cfg(vae_kernel = "thumb1")]
use thumb1::routine_for;
#[cfg(vae_kernel = "thumb2")]
use thumb2::routine_for;

use super::{shifts_fit, thumb};
use crate::format::Layer;

/// What the block routines read besides weights and inputs; they advance
/// `out`, `bias`, `multiplier` and `shift` past the rows done.
#[repr(C)]
struct BlockArgs {
    out: *mut i32,
    bias: *const u8,
    multiplier: *const u8,
    shift: *const u8,
    excess: i32,
    /// Nonzero when `bias` and `multiplier` are 2-aligned: the Cortex-M0
    /// routine then loads them by half-words instead of bytes.
    halfword_params: u32,
}

/// A block routine (`vae_block8_*`): one block of 8 rows.
type Routine = unsafe extern "C" fn(*const u8, *const i16, u32, *mut BlockArgs);

/// Runs `layer` with this core's assembly routine, handing each block's 8
/// requantized values to `emit`; returns `false`, having written nothing,
/// when the routine does not apply, and the caller runs the safe twin.
///
/// What the routines rely on:
/// - a validated model: biases within `2^28`, so accumulators stay within
///   `2^29`; on the Cortex-M0, multipliers that are multiples of `2^16`;
/// - the shapes checked here: int8 weights, a whole number of 4-input
///   groups, arrays of exactly the layer's lengths;
/// - per core ([`routine_for`]): on the M4, word-aligned weights and inputs
///   that [`super::dsp::applies`] to (else the Thumb-2 routine); on the M0,
///   no negative input.
///
/// The routines requantize for shifts in `[-31, 0]` (scales below 1); the
/// rare block with a positive shift is recomputed by the twin before it is
/// handed over.
pub fn dense_fused(layer: &Layer<'_>, x: &[i16], mut emit: impl FnMut(&[i32])) -> bool {
    let rows = usize::from(layer.output_dim);
    let kp = x.len();
    let shapes = layer.weight_bits == 8
        && kp >= 4
        && kp % 4 == 0
        && layer.weights.len() == crate::layout::padded_outputs(rows) * kp
        && layer.bias.len() == 4 * rows
        && layer.multiplier.len() == 4 * rows
        && layer.shift.len() == rows;
    if !shapes {
        return false;
    }
    let Some(routine) = routine_for(layer, x) else {
        return false;
    };
    let all_shifts_fit = shifts_fit(layer.shift);
    let excess = super::excess(x);
    let mut buf = [0i32; 8];
    let mut args = BlockArgs {
        out: buf.as_mut_ptr(),
        bias: layer.bias.as_ptr(),
        multiplier: layer.multiplier.as_ptr(),
        shift: layer.shift.as_ptr(),
        excess,
        halfword_params: u32::from(
            (layer.bias.as_ptr() as usize | layer.multiplier.as_ptr() as usize) % 2 == 0,
        ),
    };
    let quads = (kp / 4) as u32;
    let full = rows / 8;
    let mut weights = layer.weights;
    for block_index in 0..full {
        let Some((block, rest)) = weights.split_at_checked(8 * kp) else {
            break;
        };
        weights = rest;
        args.out = buf.as_mut_ptr();
        // SAFETY: checked above: `quads >= 1`; the block holds `8 * kp`
        // bytes and `x` `kp` values, which is all the routine reads of
        // them (DSP: both 4-aligned, as LDRD needs); at most `full` calls
        // each read the next 8 rows' parameters (32 + 32 + 8 bytes, read
        // with `ldr`/`ldrsb` on ARMv7-M, which accept any alignment, or
        // byte by byte on ARMv6-M) and write the 8 values of `buf`. A
        // shift outside [-31, 0] only gives a meaningless register shift
        // amount (defined on ARM: the bottom byte is used), whose row is
        // recomputed below. The routine preserves r4-r11 and sp.
        unsafe { routine(block.as_ptr(), x.as_ptr(), quads, &mut args) };
        // A block with a positive shift (a scale of 1 or more: rare) is
        // done again by the safe twin, whose requantization covers it.
        let first = 8 * block_index;
        if !all_shifts_fit
            && layer
                .shift
                .get(first..first + 8)
                .is_some_and(|s| s.iter().any(|&b| (b as i8) > 0))
        {
            let params = (
                layer.bias.get(4 * first..),
                layer.multiplier.get(4 * first..),
                layer.shift.get(first..),
            );
            if let (Some(b), Some(m), Some(s)) = params {
                super::requant_block(thumb::block_sums(block, x), b, m, s, excess, &mut buf);
            }
        }
        emit(&buf);
    }
    // The last 1 to 7 rows, if any: the safe twin.
    let done = full * 8;
    if done < rows {
        let params = (
            layer.bias.get(4 * done..),
            layer.multiplier.get(4 * done..),
            layer.shift.get(done..),
        );
        if let (Some(b), Some(m), Some(s)) = params {
            let rows =
                super::requant_block(thumb::block_sums(weights, x), b, m, s, excess, &mut buf);
            emit(buf.get(..rows).unwrap_or(&[]));
        }
    }
    true
}
