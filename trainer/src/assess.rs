//! One assessment of a trained run: its decoder quantized as `export`
//! writes it (with the chosen prior), loaded by the runtime, and everything
//! measured about that very file: the single-sample and importance-weighted
//! bounds, float and quantized, and the judge's figures. `trainer eval`,
//! `export` (and its model card) and `quality` are all built from
//! [`assess`], so a figure added here reaches every one of them.

use anyhow::{Context, Result};
use runtime::Model;

use crate::data::Dataset;
use crate::eval::{self, Nelbo};
use crate::judge::{self, Judge, JudgeCard, Judged};
use crate::latent_filter::{self, DrawingSpec};
use crate::layers::Dev;
use crate::pixel_mask::{self, MaskSpec};
use crate::prior::PriorSpec;
use crate::quantize::{fitted_prior, quantize_decoder, Quantized};
use crate::run::RunState;
use crate::vae::Vae;

/// What to measure, beside the quantized file itself.
pub struct Spec<'j> {
    /// Bits per decoder weight (8 or 4).
    pub bits: u8,
    /// The latent prior written into the file (`None`: N(0, I)).
    pub prior: Option<PriorSpec>,
    /// The drawing section (logit gain, latent filter; `None`: a version-3
    /// file drawn as the Bernoulli means, every latent kept). Its filter is
    /// labelled by the judge of `judge`.
    pub drawing: Option<DrawingSpec>,
    /// Which pixels the decoder computes (`None`: all; format version 6
    /// otherwise).
    pub mask: Option<MaskSpec>,
    /// Importance samples per test image for the IWAE bound (1: skip it).
    pub iw_samples: usize,
    /// The judge and the digits per class it scores (`None`: not judged).
    pub judge: Option<JudgeSpec<'j>>,
}

/// A loaded judge and how many digits per class it scores.
pub struct JudgeSpec<'j> {
    /// The network.
    pub judge: &'j Judge,
    /// Its card (accuracy and provenance).
    pub card: &'j JudgeCard,
    /// Digits drawn per class.
    pub per_class: usize,
}

/// The importance-weighted bound (nats/image).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct IwaeBound {
    /// Importance samples per image.
    pub k: usize,
    /// Through the float decoder.
    pub float: f64,
    /// Through the runtime's integer decoder.
    pub quantized: f64,
}

/// Everything measured about one quantized model file.
pub struct Assessment {
    /// The quantized decoder with its prior, and the calibrations tried.
    pub quantized: Quantized,
    /// Bits per decoder weight.
    pub bits: u8,
    /// The prior it was given.
    pub prior: Option<PriorSpec>,
    /// The drawing section it was given.
    pub drawing: Option<DrawingSpec>,
    /// The pixel mask it was given.
    pub mask: Option<MaskSpec>,
    /// The model file's bytes.
    pub bytes: Vec<u8>,
    /// Single-sample negative ELBO through the float decoder.
    pub float: Nelbo,
    /// The same through the runtime's integer decoder.
    pub quantized_nelbo: Nelbo,
    /// The importance-weighted bound (when asked for).
    pub iwae: Option<IwaeBound>,
    /// The judge's figures (when asked for).
    pub judged: Option<Judged>,
    /// Test images the bounds are averaged over.
    pub test_images: usize,
}

impl Assessment {
    /// The model file, as the runtime reads it.
    pub fn model(&self) -> Result<Model<'_>> {
        Model::from_bytes(&self.bytes).context("the exported model does not load in the runtime")
    }
}

/// Quantizes the run's decoder (with the run's seed), fits the prior,
/// loads the file in the runtime and measures it on `test`.
pub fn assess(
    dev: &Dev,
    vae: &Vae,
    state: &RunState,
    train: &Dataset,
    test: &Dataset,
    spec: &Spec<'_>,
) -> Result<Assessment> {
    let seed = state.config.seed;
    let bits = spec.bits;
    eprintln!(
        "Quantizing the decoder (per-channel int{bits} weights, calibrating activation ranges)..."
    );
    let mut q = quantize_decoder(dev, vae, train, seed, bits)?;
    if let Some(m) = &spec.mask {
        pixel_mask::apply(&mut q.model, train, m)?;
    }
    if let Some(p) = &spec.prior {
        eprintln!(
            "Fitting the class prior ({}) to the encoder means of the training images...",
            p.name()
        );
    }
    q.model.prior = fitted_prior(vae, train, spec.prior.as_ref(), seed)?;
    if let Some(d) = &spec.drawing {
        let plain = q.model.to_bytes()?;
        let plain = Model::from_bytes(&plain).context("the quantized model does not load")?;
        let labeller = spec.judge.as_ref().map(|j| j.judge);
        q.model.drawing = Some(latent_filter::drawing(dev, &plain, d, labeller, seed)?);
    }
    let bytes = q.model.to_bytes()?;
    let model =
        Model::from_bytes(&bytes).context("the exported model does not load in the runtime")?;
    // The judge scores the very file that is written.
    let judged = spec
        .judge
        .as_ref()
        .map(|j| judge::judge_model(j.judge, j.card, dev, &model, train, test, seed, j.per_class))
        .transpose()?;
    eprintln!(
        "Evaluating float and quantized decoders on {} test images...",
        test.len()
    );
    let single = eval::nelbo(dev, vae, test, seed, Some(&model))?;
    let iwae = if spec.iw_samples > 1 {
        eprintln!(
            "Importance-weighted bound with k = {} (float and quantized)...",
            spec.iw_samples
        );
        let iw = eval::iwae(dev, vae, test, spec.iw_samples, seed, Some(&model))?;
        Some(IwaeBound {
            k: spec.iw_samples,
            float: iw.float,
            quantized: iw.quantized.context("quantized IWAE missing")?,
        })
    } else {
        None
    };
    drop(model);
    Ok(Assessment {
        quantized: q,
        bits,
        prior: spec.prior,
        drawing: spec.drawing,
        mask: spec.mask,
        bytes,
        float: single.float,
        quantized_nelbo: single.quantized.context("quantized evaluation missing")?,
        iwae,
        judged,
        test_images: test.len(),
    })
}
