//! The VAE objective in one place: the reparameterization
//! `z = mu + exp(logvar / 2) * eps`, the analytic KL divergence to N(0, I),
//! the Bernoulli BCE of the pixels, the negative ELBO on dfdx's tape (for
//! training, QAT and the judge-free figures) and, on the host, the same
//! terms and the importance-weighted bound's log-weights (for evaluation and
//! export).

use std::sync::Arc;

use dfdx::prelude::*;

use crate::data::PIXELS;
use crate::fused;
use crate::sparse::SparseRows;

use crate::layers::{Dev, Mat};
use crate::vae::Vae;

/// Per-image averages of one batch's loss terms.
#[derive(Debug, Clone, Copy, Default)]
pub struct LossParts {
    /// Binary cross-entropy summed over the pixels (nats per image).
    pub bce: f64,
    /// KL(q(z|x) || N(0, I)) (nats per image).
    pub kl: f64,
}

/// The loss `BCE + kl_weight * KL` averaged over the batch (with
/// `kl_weight = 1` the negative ELBO), with gradients recorded on `tape`.
/// `pixels` holds the images' grey levels in [0, 1], row-major (the first
/// layer reads their nonzeros, the BCE all of them); `eps` standard-normal
/// noise, one row per image; `labels` the images' labels (read only by a
/// conditional model).
pub fn loss<T: Tape<f32, Dev> + Merge<NoneTape>>(
    vae: &Vae,
    pixels: &[f32],
    labels: &[u8],
    eps: &Mat,
    kl_weight: f32,
    tape: T,
) -> (Tensor<Rank0, f32, Dev, T>, LossParts) {
    let rows = eps.shape().0;
    assert_eq!(pixels.len(), rows * PIXELS, "one image per noise row");
    let batch = rows as f32;
    let classes = vae.arch.classes;
    let input = SparseRows::new(pixels, PIXELS, labels, classes);
    let (mu, logvar) = vae.encode(&Arc::new(input), tape);
    let sigma = (logvar.with_empty_tape() * 0.5).exp();
    let z = mu.with_empty_tape() + sigma * eps.clone();
    let z = if classes > 0 {
        let codes = vae.with_labels(&[], 0, labels).into_owned();
        let one_hot: Mat = eps.device().tensor_from_vec(codes, (rows, classes));
        (z, one_hot).concat_along(Axis::<1>)
    } else {
        z
    };
    let logits = vae.decode(z);
    let bce = fused::bce_with_logits_sum(logits, pixels) / batch;
    let kl_terms = logvar.with_empty_tape() + 1.0 - mu.square() - logvar.exp();
    let kl = kl_terms.sum::<Rank0, _>() * (-0.5 / batch);
    let parts = LossParts {
        bce: f64::from(bce.array()),
        kl: f64::from(kl.array()),
    };
    (bce + kl * kl_weight, parts)
}

/// `z = mu + exp(logvar / 2) * eps`, value by value, in f32 as in training.
pub fn reparameterize(mu: &[f32], logvar: &[f32], eps: &[f32]) -> Vec<f32> {
    mu.iter()
        .zip(logvar)
        .zip(eps)
        .map(|((m, lv), e)| m + (0.5 * lv).exp() * e)
        .collect()
}

/// `KL(N(mu, exp(logvar)) || N(0, 1))` summed over the values, in f64.
pub fn kl(mu: &[f32], logvar: &[f32]) -> f64 {
    mu.iter()
        .zip(logvar)
        .map(|(&m, &lv)| -0.5 * (1.0 + f64::from(lv) - f64::from(m).powi(2) - f64::from(lv).exp()))
        .sum::<f64>()
}

/// `-log p(x | logits)` of a Bernoulli decoder with grey-level targets:
/// `sum softplus(l) - x * l`, computed stably in f64.
pub fn bce_of_logits(x: &[f32], logits: impl Iterator<Item = f64>) -> f64 {
    x.iter()
        .zip(logits)
        .map(|(&x, l)| l.max(0.0) - f64::from(x) * l + (-l.abs()).exp().ln_1p())
        .sum()
}

/// [`bce_of_logits`] of the runtime's integer logits (`q / 256`), with the
/// same f64 arithmetic and the same result to the last bit, but with
/// `ln(1 + exp(-|l|))` looked up: the exponential and logarithm were most
/// of the time of the importance-weighted bound, which runs a million
/// decodes.
pub fn bce_of_quantized_logits(x: &[f32], logits: &[i16]) -> f64 {
    let table = softplus_tails();
    x.iter()
        .zip(logits)
        .map(|(&x, &q)| {
            let l = f64::from(q) / 256.0;
            l.max(0.0) - f64::from(x) * l + table[usize::from(q as u16)]
        })
        .sum()
}

/// `ln(1 + exp(-|q / 256|))` for every i16 `q`, indexed by `q as u16`.
fn softplus_tails() -> &'static [f64] {
    static TABLE: std::sync::OnceLock<Vec<f64>> = std::sync::OnceLock::new();
    TABLE.get_or_init(|| {
        (0..=u16::MAX)
            .map(|bits| {
                let l = f64::from(bits as i16) / 256.0;
                (-l.abs()).exp().ln_1p()
            })
            .collect()
    })
}

/// `log N(v; 0, I)`, summed over the values.
pub fn log_standard_normal(v: &[f32]) -> f64 {
    v.iter()
        .map(|&x| -0.5 * (f64::from(x).powi(2) + (2.0 * std::f64::consts::PI).ln()))
        .sum()
}

/// `log p(z) - log q(z | x)` for `z` reparameterized from `eps` with
/// posterior log-variances `logvar`: `log N(z; 0, I) - (log N(eps; 0, I) -
/// sum(logvar) / 2)`.
pub fn log_prior_over_posterior(z: &[f32], eps: &[f32], logvar: &[f32]) -> f64 {
    let log_q = log_standard_normal(eps) - 0.5 * logvar.iter().map(|&v| f64::from(v)).sum::<f64>();
    log_standard_normal(z) - log_q
}

/// The importance-weighted bound of one image, `-log (1/k) sum_j exp(w_j)`,
/// from its `k` log-weights `w_j = log p(x | z_j) + log p(z_j) - log q(z_j | x)`
/// (nats; `k = 1` gives the negative ELBO).
pub fn iwae_nats(log_weights: &[f64]) -> f64 {
    let k = log_weights.len() as f64;
    let max = log_weights
        .iter()
        .cloned()
        .fold(f64::NEG_INFINITY, f64::max);
    -(max + (log_weights.iter().map(|v| (v - max).exp()).sum::<f64>() / k).ln())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_quantized_bce_table_gives_the_direct_formula_bit_for_bit() {
        let logits: Vec<i16> = (i16::MIN..=i16::MAX).step_by(7).collect();
        let x: Vec<f32> = (0..logits.len())
            .map(|i| (i % 256) as f32 / 255.0)
            .collect();
        for (xs, ls) in x.chunks(784).zip(logits.chunks(784)) {
            let direct = bce_of_logits(xs, ls.iter().map(|&l| f64::from(l) / 256.0));
            assert_eq!(bce_of_quantized_logits(xs, ls).to_bits(), direct.to_bits());
        }
    }
}
