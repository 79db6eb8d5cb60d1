//! A portable kernel that computes four output channels per pass over the
//! input: each activation is loaded once for four weights, and the four
//! accumulators stay in registers. Safe Rust; the compiler maps it to
//! `ldrb`/`ldrsb`/`mla` on Cortex-M3/M4 and `ldrb`/`ldrsb`/`muls`/`adds` on
//! Cortex-M0. Integer sums are exact (see the bound in [`super::reference`]),
//! so the order of the additions cannot change the result: it is
//! bit-identical to the reference kernel, which the tests check.

use super::Input;
use crate::format::Layer;
use crate::model::le_i32s;
use crate::requant::requantize;

#[inline(always)]
fn mac(acc: i32, w: u8, x: i32) -> i32 {
    acc.wrapping_add(i32::from(w as i8).wrapping_mul(x))
}

/// Same contract as [`super::reference::dense`].
pub fn dense<X: Input, O>(
    layer: &Layer<'_>,
    input: &[X],
    output: &mut [O],
    stage: impl Fn(i32) -> O,
) {
    let inputs = usize::from(layer.input_dim).max(1);
    let mut rows = layer.weights.chunks_exact(inputs);
    let mut params = le_i32s(layer.bias)
        .zip(le_i32s(layer.multiplier))
        .zip(layer.shift.iter());
    let mut outs = output.iter_mut();
    while let (Some(r0), Some(r1), Some(r2), Some(r3)) =
        (rows.next(), rows.next(), rows.next(), rows.next())
    {
        let (mut a0, mut a1, mut a2, mut a3) = (0i32, 0i32, 0i32, 0i32);
        for ((((&x, &w0), &w1), &w2), &w3) in input.iter().zip(r0).zip(r1).zip(r2).zip(r3) {
            let x = x.widen();
            a0 = mac(a0, w0, x);
            a1 = mac(a1, w1, x);
            a2 = mac(a2, w2, x);
            a3 = mac(a3, w3, x);
        }
        for acc in [a0, a1, a2, a3] {
            let (Some(out), Some(((bias, multiplier), &shift))) = (outs.next(), params.next())
            else {
                return;
            };
            *out = stage(requantize(bias.wrapping_add(acc), multiplier, shift as i8));
        }
    }
    // The last 0 to 3 channels (and any rows the 4-way loop stopped short of).
    let remainder = layer.weights.len() / inputs % 4;
    let tail = layer
        .weights
        .chunks_exact(inputs)
        .skip(usize::from(layer.output_dim).saturating_sub(remainder));
    for ((out, row), ((bias, multiplier), &shift)) in outs.zip(tail).zip(params) {
        let acc = bias.wrapping_add(super::reference::dot(row, input));
        *out = stage(requantize(acc, multiplier, shift as i8));
    }
}
