//! The latent filter of a version-4 file: a small dense network that reads
//! a drawn latent and says whether it looks like the class it was drawn
//! for. The sampler redraws (from the same generator, so still a function
//! of the seed) until it does, at most `max_draws` times
//! (see `LatentSampler::draw` and `docs/model-format.md`, section 2b).
//!
//! It runs on the decoder's kernels ([`crate::kernels::dense`]), so every
//! target computes the same class logits bit for bit, in two stack buffers
//! of [`MAX_FILTER_WIDTH`] values.

use crate::format::{LatentFilter, MAX_FILTER_WIDTH, MAX_LATENT_DIM};
use crate::kernels::{dense, logit_q8, relu_u8};
use crate::layout::padded_inputs;

/// Values fed to a filter layer, word-aligned for the kernels' word loads.
#[repr(C, align(4))]
struct Buffer<const N: usize>([i16; N]);

/// Upper bound on a filter's class logits (one per prior class).
const MAX_CLASSES: usize = crate::format::MAX_CLASSES;

/// The filter's class logits in Q8 for the latent `z` (Q12), one per prior
/// class, written to the front of `logits`; returns how many. For a
/// validated model: hidden layers at most [`MAX_FILTER_WIDTH`] wide, the
/// last one giving at most [`crate::format::MAX_CLASSES`] logits.
pub fn class_logits(
    filter: &LatentFilter<'_>,
    z: &[i16],
    logits: &mut [i16; MAX_CLASSES],
) -> usize {
    let mut latent = Buffer([0i16; MAX_LATENT_DIM]);
    for (d, &s) in latent.0.iter_mut().zip(z) {
        *d = s;
    }
    let mut ping = Buffer([0; MAX_FILTER_WIDTH]);
    let mut pong = Buffer([0; MAX_FILTER_WIDTH]);
    let Some((last, hidden)) = filter.layers.split_last() else {
        return 0;
    };
    // The latent, zero-padded to a multiple of 4 inputs, feeds layer 0.
    let mut input: &[i16] = latent.0.get(..padded_inputs(z.len())).unwrap_or(&[]);
    let (mut src, mut dst) = (&mut ping.0, &mut pong.0);
    for layer in hidden {
        let width = usize::from(layer.output_dim);
        let padded = padded_inputs(width).min(MAX_FILTER_WIDTH);
        let (values, padding) = dst.split_at_mut(width.min(padded));
        dense(layer, input, values, relu_u8);
        padding.fill(0);
        core::mem::swap(&mut src, &mut dst);
        input = src.get(..padded).unwrap_or(&[]);
    }
    let n = usize::from(last.output_dim).min(MAX_CLASSES);
    let out = logits.get_mut(..n).unwrap_or(&mut []);
    dense(last, input, out, logit_q8);
    n
}

/// Whether `filter` keeps the latent `z` drawn for class `class`: logit
/// `class` exceeds every other class's logit by at least `margin` (Q8, in
/// i32, so no overflow). A class the filter has no logit for is never kept.
pub fn accepts(filter: &LatentFilter<'_>, z: &[i16], class: usize) -> bool {
    let mut logits = [0i16; MAX_CLASSES];
    let n = class_logits(filter, z, &mut logits);
    let logits = logits.get(..n).unwrap_or(&[]);
    let Some(&own) = logits.get(class) else {
        return false;
    };
    let need = i32::from(own).saturating_sub(i32::from(filter.margin));
    logits
        .iter()
        .enumerate()
        .all(|(j, &l)| j == class || i32::from(l) <= need)
}
