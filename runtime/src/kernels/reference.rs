//! The reference dense kernel: one output channel at a time, one
//! multiply-accumulate at a time, in i32.
//!
//! Overflow cannot happen for a validated model: a product is at most
//! `32768 * 127 < 2^22` (latent) or `255 * 127 < 2^15` (activations), at most
//! 64 latent or 4096 activation inputs are summed (`< 2^28` and `< 2^27`), and
//! biases are at most `2^30`, so every partial sum stays inside `(-2^31, 2^31)`.
//! The `wrapping_*` operations therefore compute the exact mathematical sum;
//! they only make "cannot panic" visible to the compiler.

use super::Input;
use crate::format::Layer;
use crate::model::le_i32s;
use crate::requant::requantize;

/// `sum(row[i] * input[i])` with weights read as int8.
#[inline]
pub fn dot<X: Input>(row: &[u8], input: &[X]) -> i32 {
    row.iter().zip(input).fold(0i32, |acc, (&w, &x)| {
        acc.wrapping_add(i32::from(w as i8).wrapping_mul(x.widen()))
    })
}

/// Runs one dense layer: for output channel `c`,
/// `output[c] = stage(requantize(bias[c] + dot(weights[c], input), multiplier[c], shift[c]))`.
///
/// Extra elements of `input` or `output` beyond the layer's dimensions are
/// ignored; the caller passes slices of exactly the right length.
pub fn dense<X: Input, O>(
    layer: &Layer<'_>,
    input: &[X],
    output: &mut [O],
    stage: impl Fn(i32) -> O,
) {
    let inputs = usize::from(layer.input_dim).max(1);
    let channels = layer
        .weights
        .chunks_exact(inputs)
        .zip(le_i32s(layer.bias))
        .zip(le_i32s(layer.multiplier))
        .zip(layer.shift.iter());
    for (out, (((row, bias), multiplier), &shift)) in output.iter_mut().zip(channels) {
        let acc = bias.wrapping_add(dot(row, input));
        *out = stage(requantize(acc, multiplier, shift as i8));
    }
}
