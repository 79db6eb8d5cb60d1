//! The decoder quantized with the runtime's own quantizer: the float
//! decoder in its form, the calibration latents, the choice of activation
//! calibration, the fitted class prior, the model file, and the weight grid
//! that quantization-aware training rounds to.

use anyhow::{Context, Result};
use runtime::host::quantize::{Calibration, FloatDecoder, FloatLayer, QuantizedModel};
use runtime::host::quantize_prior::OwnedPrior;

use crate::data::{Dataset, SIDE};
use crate::eval;
use crate::layers::Dev;
use crate::pixel_mask::MaskSpec;
use crate::prior::{self, PriorSpec};
use crate::rng::{normals, rng_for, Stream};
use crate::run::RunState;
use crate::vae::Vae;

/// The decoder's float weights in the runtime quantizer's form.
pub fn float_decoder(vae: &Vae) -> FloatDecoder {
    FloatDecoder {
        latent_dim: vae.arch.decoder_inputs(),
        image_width: SIDE,
        image_height: SIDE,
        layers: vae
            .dec
            .iter()
            .map(|d| {
                let (i, o) = d.shape();
                FloatLayer {
                    input_dim: i,
                    output_dim: o,
                    weights: d.w.as_vec(),
                    bias: d.b.as_vec(),
                }
            })
            .collect(),
    }
}

/// Decoder inputs that exercise the decoder as it will be used: posterior
/// samples of training images (reconstruction) and prior samples
/// (generation), with the images' labels for a conditional model.
pub fn calibration_latents(vae: &Vae, train: &Dataset, seed: u64, n: usize) -> Vec<Vec<f32>> {
    let d = vae.arch.latent;
    let idx: Vec<usize> = (0..n.min(train.len())).collect();
    let labels = train.labels_of(&idx);
    let (mu, logvar) = vae.posterior(&train.batch(&idx), &labels);
    let mut rng = rng_for(seed, Stream::Calibration, 0);
    let eps = normals(&mut rng, mu.len());
    let mut z = crate::objective::reparameterize(&mu, &logvar, &eps);
    z.extend(normals(&mut rng, n * d));
    // A conditional model's prior samples get the training labels in turn.
    let rows = z.len() / d.max(1);
    let labels: Vec<u8> = labels.iter().cycle().take(rows).copied().collect();
    let width = vae.arch.decoder_inputs();
    vae.with_labels(&z, d, &labels)
        .chunks(width)
        .map(<[f32]>::to_vec)
        .collect()
}

/// The calibration choices tried, and the quantized model that scored best
/// (lowest quantized negative ELBO on `holdout`, a slice of the training set).
pub struct Quantized {
    /// The chosen quantized model.
    pub model: QuantizedModel,
    /// The chosen calibration.
    pub calibration: Calibration,
    /// Every candidate with its holdout negative ELBO.
    pub tried: Vec<(String, f64)>,
}

/// Quantizes the decoder, choosing the activation calibration on training data.
pub fn quantize_decoder(
    dev: &Dev,
    vae: &Vae,
    train: &Dataset,
    seed: u64,
    bits: u8,
) -> Result<Quantized> {
    let float = float_decoder(vae);
    let latents = calibration_latents(vae, train, seed, 1000);
    let holdout = train.take(2000);
    let mut best: Option<(f64, QuantizedModel, Calibration)> = None;
    let mut tried = Vec::new();
    for cal in [
        Calibration::Max,
        Calibration::Percentile(99.999),
        Calibration::Percentile(99.99),
        Calibration::Percentile(99.9),
    ] {
        // The file holds at most 32 bytes of name (names here are ASCII).
        let full = model_name(&vae.arch.name, bits);
        let name = full.get(..runtime::format::MAX_NAME_LEN).unwrap_or(&full);
        let q = runtime::host::quantize::quantize_bits(&float, &latents, cal, name, bits)
            .context("quantizing the decoder")?;
        let score = eval::nelbo(dev, vae, &holdout, seed, Some(&q.model()?))?
            .quantized
            .map_or(f64::INFINITY, |n| n.nelbo);
        tried.push((format!("{cal:?}"), score));
        if best.as_ref().is_none_or(|(s, _, _)| score < *s) {
            best = Some((score, q, cal));
        }
    }
    let (_, model, calibration) = best.context("no calibration candidate")?;
    Ok(Quantized {
        model,
        calibration,
        tried,
    })
}

/// The model file of a run's decoder, quantized with the run's seed and
/// weight width, with the latent prior `prior` fitted to the training set
/// and the pixel mask `mask` (what `export` would write without a drawing
/// section, and without evaluating it).
pub fn quantized_file(
    dev: &Dev,
    vae: &Vae,
    state: &RunState,
    train: &Dataset,
    prior: Option<&PriorSpec>,
    mask: Option<&MaskSpec>,
) -> Result<Vec<u8>> {
    let mut q = quantize_decoder(dev, vae, train, state.config.seed, state.config.weight_bits)?;
    if let Some(m) = mask {
        crate::pixel_mask::apply(&mut q.model, train, m)?;
    }
    q.model.prior = fitted_prior(vae, train, prior, state.config.seed)?;
    Ok(q.model.to_bytes()?)
}

/// The integer prior section for `spec` (`None`: no prior, N(0, I)).
pub fn fitted_prior(
    vae: &Vae,
    train: &Dataset,
    spec: Option<&PriorSpec>,
    seed: u64,
) -> Result<Option<OwnedPrior>> {
    let classes = vae.arch.classes;
    let Some(spec) = spec else {
        anyhow::ensure!(
            classes == 0,
            "`{}` is a conditional model: its prior supplies the label the decoder needs, so it cannot be exported with --prior none",
            vae.arch.name
        );
        return Ok(None);
    };
    let means = prior::encoder_means(vae, train);
    let mut float = prior::fit(&means, &train.labels, vae.arch.latent, spec, seed)?;
    if classes > 0 {
        float = prior::condition(float, vae.arch.latent, classes)?;
    }
    let owned = float
        .quantize(vae.arch.decoder_inputs())
        .context("the prior does not fit the model format")?;
    Ok(Some(owned))
}

/// The model's name: the architecture's, with `-int4` for 4-bit weights.
pub fn model_name(arch: &str, bits: u8) -> String {
    if bits == 4 {
        format!("{arch}-int4")
    } else {
        arch.to_string()
    }
}
