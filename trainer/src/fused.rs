//! The reconstruction term as one dfdx op: the binary cross-entropy of the
//! Bernoulli logits, summed, in a single pass over the batch on every core.
//!
//! dfdx's `bce_with_logits(..).sum()` is three passes on one core (the
//! loss, then backward the sum's broadcast and the loss's derivative, which
//! computes its exponential again) over the largest activation of the step
//! (batch x 784). Here the forward pass computes each pixel's loss and its
//! gradient together, from one exponential, row by row in parallel; the
//! backward pass only scales the stored gradient. Each row is summed in
//! order and the rows in order, so the result does not depend on the
//! thread count.

use dfdx::prelude::*;
use rayon::prelude::*;

use crate::layers::{Dev, Mat};

/// `sum over rows and columns of BCE(logits, targets)`, with
/// `BCE(l, t) = max(l, 0) - l t + ln(1 + exp(-|l|))` (dfdx's formula) and
/// derivative `sigmoid(l) - t` recorded on the tape. `targets` is row-major,
/// the logits' shape.
///
/// # Panics
/// If `targets` does not have one value per logit.
pub fn bce_with_logits_sum<T: Tape<f32, Dev>>(
    logits: Mat<T>,
    targets: &[f32],
) -> Tensor<Rank0, f32, Dev, T> {
    let (rows, cols) = *logits.shape();
    assert_eq!(targets.len(), rows * cols, "one target per logit");
    let (logits, mut tape) = logits.split_tape();
    // `copy_into` is a plain copy of the (contiguous) logits; `as_vec`
    // walks them index by index.
    let mut values = vec![0.0f32; rows * cols];
    logits.copy_into(&mut values);
    let mut grad = vec![0.0f32; values.len()];
    let width = cols.max(1);
    let row_sums: Vec<f32> = grad
        .par_chunks_mut(width)
        .zip(values.par_chunks(width))
        .zip(targets.par_chunks(width))
        .map(|((g, l), t)| row_loss_and_gradient(l, t, g))
        .collect();
    let total: f32 = row_sums.iter().sum();
    let out = logits.device().tensor(total);
    if T::OWNS_TAPE {
        let (logits_ghost, out_ghost) = (logits.ghost(), out.ghost());
        tape.add_backward_op(move |grads| {
            let scale = grads.get_or_alloc_mut(&out_ghost)?[0];
            let g = grads.get_or_alloc_mut(&logits_ghost)?;
            for (g, d) in g.iter_mut().zip(&grad) {
                *g += d * scale;
            }
            Ok(())
        });
    }
    out.put_tape(tape)
}

/// One row's summed loss; its per-pixel derivatives go to `grad`.
fn row_loss_and_gradient(logits: &[f32], targets: &[f32], grad: &mut [f32]) -> f32 {
    let mut sum = 0.0f32;
    for ((&l, &t), g) in logits.iter().zip(targets).zip(grad) {
        let e = (-l.abs()).exp();
        sum += l.max(0.0) - l * t + (1.0 + e).ln();
        // 1 / (1 + exp(l)) from the same exponential, for either sign.
        let below = if l >= 0.0 {
            e / (1.0 + e)
        } else {
            1.0 / (1.0 + e)
        };
        *g = 1.0 - t - below;
    }
    sum
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};

    #[test]
    fn matches_dfdx_bce_with_logits_and_its_gradient() {
        let dev = Dev::default();
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(9);
        let (rows, cols) = (7, 33);
        let logits: Vec<f32> = (0..rows * cols)
            .map(|_| rng.gen_range(-30.0..30.0))
            .collect();
        let targets: Vec<f32> = (0..rows * cols).map(|_| rng.gen_range(0.0..1.0)).collect();
        let l: Mat = dev.tensor_from_vec(logits, (rows, cols));
        let t: Mat = dev.tensor_from_vec(targets.clone(), (rows, cols));

        let ours = bce_with_logits_sum(l.leaky_trace(), &targets) * 0.5;
        let theirs = l.leaky_trace().bce_with_logits(t).sum::<Rank0, _>() * 0.5;
        let (a, b) = (ours.array(), theirs.array());
        assert!((a - b).abs() <= 1e-5 * b.abs(), "{a} vs {b}");
        let ga = ours.backward().get(&l).as_vec();
        let gb = theirs.backward().get(&l).as_vec();
        for (u, v) in ga.iter().zip(&gb) {
            assert!((u - v).abs() <= 1e-6, "{u} vs {v}");
        }
        let untaped = bce_with_logits_sum(l.clone(), &targets);
        assert!((untaped.array() - 2.0 * a).abs() <= 1e-6 * a.abs());
    }
}
