//! Honest evaluation: the test-set negative ELBO (single sample) and the
//! importance-weighted bound with k samples, for the float model and for the
//! quantized decoder run through the runtime crate's integer code, with the
//! very same latent samples, so the quantization loss is a measured number.

use anyhow::{Context, Result};
use runtime::{Decoder, Latent, Model};

use crate::data::{Dataset, PIXELS};
use rayon::prelude::*;

use crate::draw::HOST_SCRATCH;
use crate::layers::Dev;
use crate::objective::{
    self, bce_of_logits, bce_of_quantized_logits, iwae_nats, log_prior_over_posterior,
    reparameterize,
};
use crate::rng::{normals, rng_for, Stream};
use crate::vae::Vae;

/// Mean per-image negative ELBO and its parts (nats/image).
#[derive(Debug, Clone, Copy, Default, PartialEq, serde::Serialize)]
pub struct Nelbo {
    /// BCE + KL.
    pub nelbo: f64,
    /// Reconstruction term: BCE summed over the pixels.
    pub bce: f64,
    /// KL divergence to the prior.
    pub kl: f64,
}

/// Float and (optionally) quantized results on the same samples.
#[derive(Debug, Clone, Copy, Default, PartialEq, serde::Serialize)]
pub struct Paired<T> {
    /// Float decoder.
    pub float: T,
    /// Integer decoder from the runtime, if a model was given.
    pub quantized: Option<T>,
}

/// Per-row `-log p(x | z)` through the runtime's integer decoder, split over
/// the machine's cores. Row `r` of `z` (latent size `latent`) goes with image
/// `r` of `x`.
pub fn quantized_bce(model: &Model<'_>, x: &[f32], z: &[f32], latent: usize) -> Result<Vec<f64>> {
    let rows = z.len() / latent;
    let threads = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(rows.max(1));
    let per = rows.div_ceil(threads.max(1)).max(1);
    std::thread::scope(|s| {
        let handles: Vec<_> = (0..rows)
            .step_by(per)
            .map(|start| {
                let end = (start + per).min(rows);
                s.spawn(move || -> Result<Vec<f64>> {
                    let mut decoder = Decoder::<HOST_SCRATCH>::new(model)?;
                    let mut logits = vec![0i16; PIXELS];
                    (start..end)
                        .map(|r| {
                            let latent = Latent::from_f32(&z[r * latent..(r + 1) * latent])
                                .context("latent too large")?;
                            decoder.decode_logits(&latent, &mut logits)?;
                            let xi = x
                                .get(r * PIXELS..(r + 1) * PIXELS)
                                .context("fewer images than latents")?;
                            Ok(bce_of_quantized_logits(xi, &logits))
                        })
                        .collect()
                })
            })
            .collect();
        let mut out = Vec::with_capacity(rows);
        for h in handles {
            out.extend(
                h.join()
                    .map_err(|_| anyhow::anyhow!("evaluation thread panicked"))??,
            );
        }
        Ok(out)
    })
}

const EVAL_BATCH: usize = 500;

/// Per-row `-log p(x | logits)` of float logits, rows split over the cores
/// (each row summed in order, as on one core).
fn float_bce(x: &[f32], logits: &[f32]) -> Vec<f64> {
    x.par_chunks(PIXELS)
        .zip(logits.par_chunks(PIXELS))
        .map(|(xi, li)| bce_of_logits(xi, li.iter().map(|&l| f64::from(l))))
        .collect()
}

/// Single-sample negative ELBO over all of `data`.
pub fn nelbo(
    dev: &Dev,
    vae: &Vae,
    data: &Dataset,
    seed: u64,
    model: Option<&Model<'_>>,
) -> Result<Paired<Nelbo>> {
    let d = vae.arch.latent;
    let mut rng = rng_for(seed, Stream::EvalNelbo, 0);
    let (mut bce_f, mut bce_q, mut kl) = (0.0f64, 0.0f64, 0.0f64);
    let indices: Vec<usize> = (0..data.len()).collect();
    for chunk in indices.chunks(EVAL_BATCH) {
        let x = data.batch(chunk);
        let labels = data.labels_of(chunk);
        let (mu, logvar) = vae.posterior(&x, &labels);
        let eps = normals(&mut rng, mu.len());
        let z = reparameterize(&mu, &logvar, &eps);
        kl += objective::kl(&mu, &logvar);
        let logits = vae.logits(dev, &z, &labels);
        for row in float_bce(&x, &logits) {
            bce_f += row;
        }
        if let Some(m) = model {
            let inputs = vae.with_labels(&z, d, &labels);
            bce_q += quantized_bce(m, &x, &inputs, vae.arch.decoder_inputs())?
                .iter()
                .sum::<f64>();
        }
    }
    let n = data.len().max(1) as f64;
    let float = Nelbo {
        nelbo: (bce_f + kl) / n,
        bce: bce_f / n,
        kl: kl / n,
    };
    let quantized = model.map(|_| Nelbo {
        nelbo: (bce_q + kl) / n,
        bce: bce_q / n,
        kl: kl / n,
    });
    Ok(Paired { float, quantized })
}

/// Importance-weighted bound with `k` samples per image:
/// `-log (1/k) sum_j p(x, z_j) / q(z_j | x)` averaged over `data` (nats/image).
/// Approaches the true `-log p(x)` from above as `k` grows; `k = 1` is the ELBO.
pub fn iwae(
    dev: &Dev,
    vae: &Vae,
    data: &Dataset,
    k: usize,
    seed: u64,
    model: Option<&Model<'_>>,
) -> Result<Paired<f64>> {
    let d = vae.arch.latent;
    let mut rng = rng_for(seed, Stream::EvalIwae, 0);
    let (mut total_f, mut total_q) = (0.0f64, 0.0f64);
    let indices: Vec<usize> = (0..data.len()).collect();
    let per = (EVAL_BATCH / k.max(1)).max(1);
    for chunk in indices.chunks(per) {
        let x = data.batch(chunk);
        let b = chunk.len();
        let labels = data.labels_of(chunk);
        let (mu, logvar) = vae.posterior(&x, &labels);
        let labels_rep: Vec<u8> = labels
            .iter()
            .flat_map(|&l| std::iter::repeat_n(l, k))
            .collect();
        // Rows ordered image-major: row i * k + j is sample j of image i.
        let eps = normals(&mut rng, b * k * d);
        let mut z = Vec::with_capacity(eps.len());
        let mut log_prior_minus_q = Vec::with_capacity(b * k);
        let mut x_rep = Vec::with_capacity(b * k * PIXELS);
        for i in 0..b {
            for j in 0..k {
                let e = &eps[(i * k + j) * d..][..d];
                let (m, lv) = (&mu[i * d..][..d], &logvar[i * d..][..d]);
                let row = reparameterize(m, lv, e);
                log_prior_minus_q.push(log_prior_over_posterior(&row, e, lv));
                z.extend(row);
                x_rep.extend_from_slice(&x[i * PIXELS..][..PIXELS]);
            }
        }
        let logits = vae.logits(dev, &z, &labels_rep);
        let bce_f = float_bce(&x_rep, &logits);
        let bce_q = match model {
            Some(m) => Some(quantized_bce(
                m,
                &x_rep,
                &vae.with_labels(&z, d, &labels_rep),
                vae.arch.decoder_inputs(),
            )?),
            None => None,
        };
        let bound = |bce: &[f64], i: usize| {
            let w: Vec<f64> = (0..k)
                .map(|j| -bce[i * k + j] + log_prior_minus_q[i * k + j])
                .collect();
            iwae_nats(&w)
        };
        for i in 0..b {
            total_f += bound(&bce_f, i);
            if let Some(q) = &bce_q {
                total_q += bound(q, i);
            }
        }
    }
    let n = data.len().max(1) as f64;
    Ok(Paired {
        float: total_f / n,
        quantized: model.map(|_| total_q / n),
    })
}
