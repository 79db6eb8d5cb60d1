//! The reference dense kernel: one output channel at a time, one
//! multiply-accumulate at a time, in i32, reading each weight through
//! [`crate::layout::weight_of`] (int8 or int4). It is the oracle every faster kernel must match
//! bit for bit, and the kernel the host runs.
//!
//! Overflow cannot happen for a validated model: a product is at most
//! `32768 * 127 < 2^22` (latent) or `255 * 127 < 2^15` (activations), at most
//! 64 latent or 4096 activation inputs are summed (`< 2^28` and `< 2^27`), and
//! biases are at most `2^28`, so every partial sum stays inside `(-2^29, 2^29)`.
//! The `wrapping_*` operations therefore compute the exact mathematical sum;
//! they only make "cannot panic" visible to the compiler.

use crate::format::le_i32s;
use crate::format::Layer;
use crate::layout;
use crate::requant::requantize;

/// `sum(w(row, i) * input[i])` over the layer's inputs.
pub fn dot(layer: &Layer<'_>, row: usize, input: &[i16]) -> i32 {
    let kp = layout::padded_inputs(usize::from(layer.input_dim));
    input
        .iter()
        .take(usize::from(layer.input_dim))
        .enumerate()
        .fold(0i32, |acc, (i, &x)| {
            let w = layout::weight_of(layer.weights, layer.weight_bits, kp, row, i).unwrap_or(0);
            acc.wrapping_add(i32::from(w).wrapping_mul(i32::from(x)))
        })
}

/// Runs one dense layer: for output channel `c`,
/// `output[c] = stage(requantize(bias[c] + dot(c, input), multiplier[c], shift[c]))`.
///
/// `input` holds at least `input_dim` values (latent Q12 or activations);
/// `output` takes the values in channel order (a slice, or any iterator of
/// places, e.g. the computed pixels of a masked image); extra elements of
/// `input` or `output` are ignored.
pub fn dense<'o, O: 'o>(
    layer: &Layer<'_>,
    input: &[i16],
    output: impl IntoIterator<Item = &'o mut O>,
    stage: impl Fn(i32) -> O,
) {
    let channels = le_i32s(layer.bias)
        .zip(le_i32s(layer.multiplier))
        .zip(layer.shift.iter());
    for (row, (out, ((bias, multiplier), &shift))) in output.into_iter().zip(channels).enumerate() {
        let acc = bias.wrapping_add(dot(layer, row, input));
        *out = stage(requantize(acc, multiplier, shift as i8));
    }
}
