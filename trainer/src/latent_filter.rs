//! The drawing section of a version-4 file: the logit gain and the latent
//! filter (see `docs/model-format.md`, section 2b, and `docs/quality.md`).
//!
//! The filter is a small classifier `z -> hidden (ReLU) -> classes`, trained
//! on latents drawn **from the very file** (its quantized prior, by the
//! runtime's sampler), each labelled with what the judge reads in the digit
//! the runtime draws from it (integer decoder, gain included): it learns
//! which latents a device would draw as the wrong digit. It is then
//! quantized like a decoder whose "image" is one logit per class.

use anyhow::{ensure, Context, Result};
use dfdx::prelude::*;
use rand::seq::SliceRandom;
use rand::SeedableRng;
use runtime::host::quantize::{
    quantize, Calibration, FloatDecoder, FloatLayer, OwnedDrawing, OwnedFilter,
};
use runtime::{Decoder, LatentSampler, Model};
use serde::{Deserialize, Serialize};

use crate::adam::Adam;
use crate::draw::HOST_SCRATCH;
use crate::judge::{self, Image, Judge};
use crate::layers::{Dense, Dev};

/// How the device draws: the gain on its logits and the latent filter.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct DrawingSpec {
    /// Factor on the decoder's logits before the grey-level table (1: the
    /// Bernoulli means).
    pub gain: f64,
    /// The latent filter, if any.
    pub filter: Option<FilterSpec>,
}

/// The latent filter to train.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct FilterSpec {
    /// Hidden units.
    pub hidden: usize,
    /// Lead of the drawn class's logit over every other that keeps a latent, in nats.
    pub margin: f64,
    /// Latents drawn at most per digit.
    pub max_draws: u8,
    /// Latents per class it is trained on.
    pub latents_per_class: usize,
}

impl DrawingSpec {
    /// What `export` writes unless told otherwise: gain 1.5, a 16-unit filter
    /// with a 3-nat margin and at most 16 draws, chosen in `docs/quality.md`
    /// (requested share, recall, precision and Fréchet distance by both
    /// judges) within the 64 KB budget.
    pub const DEFAULT: DrawingSpec = DrawingSpec {
        gain: 1.5,
        filter: Some(FilterSpec {
            hidden: 16,
            margin: 3.0,
            max_draws: 16,
            latents_per_class: 20_000,
        }),
    };

    /// The gain in the file's Q8 (256 = 1.0).
    pub fn gain_q8(&self) -> u16 {
        (self.gain * 256.0)
            .round()
            .clamp(1.0, f64::from(runtime::format::MAX_LOGIT_GAIN)) as u16
    }

    /// A short name, e.g. `gain2-filter16-m4`.
    pub fn name(&self) -> String {
        match self.filter {
            Some(f) => format!("gain{}-filter{}-m{}", self.gain, f.hidden, f.margin),
            None => format!("gain{}", self.gain),
        }
    }
}

/// Training epochs of the filter: 25 (was 5) keeps more of the right digits
/// at the same margin (first judge, t = 1, margin 3: requested 99.22% ->
/// 99.38%, recall 0.665 -> 0.680; 50 epochs on 2.5 x the latents did no
/// better at 2.5 nats; `docs/quality.md`, "GAN-train against the requested
/// share").
pub const EPOCHS: usize = 25;

/// The drawing section for `model` (a file without one, with its prior):
/// the gain, and the filter trained on latents drawn from `model` and
/// labelled by `labeller` reading the digits drawn with the gain.
pub fn drawing(
    dev: &Dev,
    model: &Model<'_>,
    spec: &DrawingSpec,
    labeller: Option<&Judge>,
    seed: u64,
) -> Result<OwnedDrawing> {
    let logit_gain = spec.gain_q8();
    let Some(fs) = spec.filter else {
        return Ok(OwnedDrawing {
            logit_gain,
            filter: None,
        });
    };
    let judge = labeller.context(
        "the latent filter learns from the judge's reading of drawn digits: export with a judge (not --judge-count 0) or with --filter-margin none",
    )?;
    let prior = model
        .prior()
        .context("the latent filter needs a prior (not --prior none)")?;
    let classes = prior.classes();
    let (latents, labels) = labelled_latents(
        dev,
        model,
        logit_gain,
        judge,
        classes,
        fs.latents_per_class,
        seed,
    )?;
    eprintln!(
        "Training the latent filter ({}-{}-{classes}) on {} latents labelled by the judge...",
        model.latent_dim(),
        fs.hidden,
        labels.len()
    );
    let float = train(
        dev,
        &latents,
        &labels,
        model.latent_dim(),
        fs.hidden,
        classes,
        seed,
    );
    let calibration: Vec<Vec<f32>> = latents
        .chunks(model.latent_dim())
        .step_by(20)
        .map(<[f32]>::to_vec)
        .collect();
    let net = quantize(&float, &calibration, Calibration::Max, "filter")
        .context("quantizing the latent filter")?;
    let margin = (fs.margin * 256.0).round().clamp(0.0, f64::from(u16::MAX)) as u16;
    Ok(OwnedDrawing {
        logit_gain,
        filter: Some(OwnedFilter::new(&net, margin, fs.max_draws)),
    })
}

/// `per_class` latents per class drawn by the runtime from
/// `model`'s prior (seeded), as f32, each labelled with the judge's reading
/// of the digit the runtime draws from it with `gain`.
fn labelled_latents(
    dev: &Dev,
    model: &Model<'_>,
    gain: u16,
    judge: &Judge,
    classes: usize,
    per_class: usize,
    seed: u64,
) -> Result<(Vec<f32>, Vec<usize>)> {
    // The digits as a device with this gain draws them: the same file with
    // only the gain (no filter yet).
    let mut decoder = Decoder::<HOST_SCRATCH>::new(model)?;
    let mut sampler = LatentSampler::new(seed.wrapping_add(0xF11_7E4));
    let mut latents = Vec::new();
    let mut labels = Vec::new();
    let mut pixels: Vec<u8> = Vec::new();
    for k in 0..classes {
        for _ in 0..per_class {
            let z = sampler.draw(model, Some(k));
            pixels.extend(digit_with_gain(&mut decoder, &z, gain)?);
            latents.extend(z.to_f32());
        }
        let images: Vec<&Image> = pixels.chunks(crate::data::PIXELS).collect();
        labels.extend(judge.probabilities(dev, &images).iter().map(judge::top));
        pixels.clear();
    }
    ensure!(!labels.is_empty(), "no latents to train the filter on");
    Ok((latents, labels))
}

/// The digit the runtime draws from `z` with logit gain `gain` (Q8).
fn digit_with_gain(
    decoder: &mut Decoder<'_, HOST_SCRATCH>,
    z: &runtime::Latent,
    gain: u16,
) -> Result<Vec<u8>> {
    let mut logits = vec![0i16; decoder.model().pixel_count()];
    decoder.decode_logits(z, &mut logits)?;
    Ok(logits
        .iter()
        .map(|&l| runtime::sigmoid::grey_of_logit(runtime::sigmoid::gained_logit(l, gain)))
        .collect())
}

/// Trains `z -> hidden (ReLU) -> classes` on `labels.len()` latents `z`
/// (`d` values each) with softmax cross-entropy (Adam, learning rate 1e-3,
/// batches of 256, [`EPOCHS`] epochs, seeded); the network as a float
/// "decoder" whose image is `classes x 1` logits.
pub fn train(
    dev: &Dev,
    z: &[f32],
    labels: &[usize],
    d: usize,
    hidden: usize,
    classes: usize,
    seed: u64,
) -> FloatDecoder {
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed.wrapping_add(8));
    let mut l1 = Dense::new(dev, &mut rng, d, hidden);
    let mut l2 = Dense::new(dev, &mut rng, hidden, classes);
    let mut adam = Adam::for_layers(&[&l1, &l2], 1e-3);
    let mut order: Vec<usize> = (0..labels.len()).collect();
    for _ in 0..EPOCHS {
        order.shuffle(&mut rng);
        for batch in order.chunks(256) {
            let x: Vec<f32> = batch
                .iter()
                .flat_map(|&r| z[r * d..][..d].iter().copied())
                .collect();
            let mut y = vec![0.0f32; batch.len() * classes];
            for (i, &r) in batch.iter().enumerate() {
                y[i * classes + labels[r]] = 1.0;
            }
            let x = dev.tensor_from_vec(x, (batch.len(), d));
            let y = dev.tensor_from_vec(y, (batch.len(), classes));
            let out = l2.forward(
                l1.forward(x.put_tape(OwnedTape::<f32, Dev>::default()))
                    .relu(),
            );
            let loss = cross_entropy_with_logits_loss(out, y);
            let mut grads = loss.backward();
            adam.step_layers(vec![&mut l1, &mut l2], &mut grads);
        }
    }
    let layer = |l: &Dense| {
        let (i, o) = l.shape();
        FloatLayer {
            input_dim: i,
            output_dim: o,
            weights: l.w.as_vec(),
            bias: l.b.as_vec(),
        }
    };
    FloatDecoder {
        latent_dim: d,
        image_width: classes,
        image_height: 1,
        layers: vec![layer(&l1), layer(&l2)],
    }
}
