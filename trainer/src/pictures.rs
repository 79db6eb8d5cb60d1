//! A run's pictures: device samples beside the same latents through the
//! float decoder, reconstructions, interpolations and the loss curve.

use std::path::Path;

use anyhow::{Context, Result};
use runtime::{Decoder, Digit, Latent, LatentSampler, Model};

use crate::data::{Dataset, CLASSES, PIXELS};
use crate::draw::{device_samples, HOST_SCRATCH};
use crate::images;
use crate::layers::Dev;
use crate::run::RunState;
use crate::vae::Vae;

/// The same latents through the float decoder (for comparison).
/// A conditional model draws digit `i % 10` as the `i`-th.
pub fn float_samples(dev: &Dev, vae: &Vae, seed: u64, n: usize) -> Vec<Vec<u8>> {
    let mut sampler = LatentSampler::new(seed);
    let z: Vec<f32> = (0..n)
        .flat_map(|_| sampler.sample(vae.arch.latent).to_f32().collect::<Vec<_>>())
        .collect();
    let labels: Vec<u8> = (0..n).map(|i| (i % CLASSES) as u8).collect();
    let logits = vae.logits(dev, &z, &labels);
    logits
        .chunks(PIXELS)
        .map(|l| {
            l.iter()
                .map(|&v| (255.0 / (1.0 + (-v).exp())).round() as u8)
                .collect()
        })
        .collect()
}

/// Test images beside their reconstructions (posterior means through the
/// integer decoder): pairs of rows, originals above.
pub fn reconstructions(
    vae: &Vae,
    model: &Model<'_>,
    test: &Dataset,
    n: usize,
) -> Result<Vec<Vec<u8>>> {
    let idx: Vec<usize> = (0..n.min(test.len())).collect();
    let labels = test.labels_of(&idx);
    let (mu, _) = vae.posterior(&test.batch(&idx), &labels);
    let inputs = vae.with_labels(&mu, vae.arch.latent, &labels);
    let mut decoder = Decoder::<HOST_SCRATCH>::new(model)?;
    let mut digit = Digit::new();
    let mut recon = Vec::new();
    for m in inputs.chunks(vae.arch.decoder_inputs()) {
        decoder.decode(
            &Latent::from_f32(m).context("latent too large")?,
            &mut digit,
        )?;
        recon.push(digit.pixels().to_vec());
    }
    let originals: Vec<Vec<u8>> = idx.iter().map(|&i| test.image(i).to_vec()).collect();
    let mut out = Vec::new();
    for (o, r) in originals.chunks(8).zip(recon.chunks(8)) {
        out.extend(o.iter().cloned());
        out.extend(r.iter().cloned());
    }
    Ok(out)
}

/// Rows of latent interpolations between pairs of test digits (posterior
/// means), with the runtime's integer interpolation.
pub fn interpolations(
    vae: &Vae,
    model: &Model<'_>,
    test: &Dataset,
    pairs: &[(usize, usize)],
    steps: u32,
) -> Result<Vec<Vec<u8>>> {
    let idx: Vec<usize> = pairs.iter().flat_map(|&(a, b)| [a, b]).collect();
    let labels = test.labels_of(&idx);
    let (mu, _) = vae.posterior(&test.batch(&idx), &labels);
    // A conditional model interpolates the one-hot labels too.
    let mu = vae.with_labels(&mu, vae.arch.latent, &labels);
    let d = vae.arch.decoder_inputs();
    let mut decoder = Decoder::<HOST_SCRATCH>::new(model)?;
    let mut digit = Digit::new();
    let mut out = Vec::new();
    for p in 0..pairs.len() {
        let a = Latent::from_f32(&mu[2 * p * d..][..d]).context("latent")?;
        let b = Latent::from_f32(&mu[(2 * p + 1) * d..][..d]).context("latent")?;
        for s in 0..=steps {
            decoder.decode(&Latent::lerp(&a, &b, s, steps), &mut digit)?;
            out.push(digit.pixels().to_vec());
        }
    }
    Ok(out)
}

/// Writes a run's pictures into `dir`: 64 device samples, the same latents
/// through the float decoder, reconstructions, interpolations, the loss curve.
pub fn draw_pictures(
    dev: &Dev,
    vae: &Vae,
    state: &RunState,
    model: &runtime::Model<'_>,
    test: &Dataset,
    dir: &Path,
) -> Result<()> {
    let seed = state.config.seed;
    images::save_grid(
        &dir.join("samples.png"),
        &device_samples(model, seed, 64, None)?,
        8,
        2,
    )?;
    images::save_grid(
        &dir.join("samples-float.png"),
        &float_samples(dev, vae, seed, 64),
        8,
        2,
    )?;
    images::save_grid(
        &dir.join("reconstructions.png"),
        &reconstructions(vae, model, test, 32)?,
        8,
        2,
    )?;
    let pairs = [(0, 1), (2, 3), (4, 5), (6, 7)];
    images::save_grid(
        &dir.join("interpolation.png"),
        &interpolations(vae, model, test, &pairs, 9)?,
        10,
        2,
    )?;
    images::save_loss_curve(
        &dir.join("loss_curve.png"),
        &format!("{} on {}", state.arch.name, state.config.dataset),
        &state.history,
    )?;
    eprintln!("Pictures in {}: samples.png, samples-float.png, reconstructions.png, interpolation.png, loss_curve.png", dir.display());
    Ok(())
}
