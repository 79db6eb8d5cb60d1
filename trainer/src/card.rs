//! The model card written beside every exported model (`models/<name>.json`):
//! what the model is, how it was trained and quantized, what it scores, and
//! which data it saw. Written as sorted JSON (field names in alphabetical
//! order at every level), so cards diff cleanly.

use anyhow::Result;
use serde::Serialize;

use crate::assess::Assessment;
use crate::eval::Nelbo;
use crate::judge::Judged;
use crate::latent_filter::{DrawingSpec, FilterSpec};
use crate::prior::PriorSpec;
use crate::run::{LrSchedule, RunState};
use crate::table::QualityPosition;
use runtime::{LatentSampler, Model};

/// The model card. Fields are declared in alphabetical order; [`ModelCard::to_json`]
/// sorts nested values too.
#[derive(Debug, Clone, Serialize)]
pub struct ModelCard {
    /// Layer widths and parameter counts.
    pub architecture: Architecture,
    /// The training data and the SHA-256 of its files.
    pub data: Data,
    /// Multiply-accumulates per decoded digit.
    pub decoder_macs: usize,
    /// Stored weight bytes of the quantized decoder (padded layout).
    pub decoder_weight_bytes: usize,
    /// The digit judge's figures for the written file, if judged.
    pub judge: Option<Judged>,
    /// Test-set figures.
    pub metrics: Metrics,
    /// Size of the model file.
    pub model_file_bytes: usize,
    /// The model's name (file stem).
    pub name: String,
    /// The class prior in the file, if any.
    pub prior: Option<PriorCard>,
    /// The drawing section (gain, latent filter), if any (format version 4).
    pub drawing: Option<DrawingCard>,
    /// The pixel mask (format version 6), if the decoder leaves pixels out.
    pub pixel_mask: Option<PixelMaskCard>,
    /// Everything a device reads to draw, by the 64 KB budget's count: the
    /// whole model file (weights, biases, multipliers and shifts, prior,
    /// filter, mask and the format's framing), as `model_file_bytes`.
    pub device_budget_bytes: usize,
    /// How the decoder was quantized.
    pub quantization: Quantization,
    /// The model's row and rank in `docs/quality.md`, if it has one.
    pub quality_table: Option<QualityPosition>,
    /// Single-sample test -ELBO of the float model (nats/image).
    pub test_nelbo_float: f64,
    /// The same through the runtime's integer decoder.
    pub test_nelbo_quantized: f64,
    /// The training run.
    pub training: Training,
    /// Version of the trainer that wrote the card.
    pub trainer_version: String,
}

/// Layer widths and parameter counts.
#[derive(Debug, Clone, Serialize)]
pub struct Architecture {
    /// Activation functions.
    pub activation: String,
    /// Decoder widths, e.g. `24-128-64-784`.
    pub decoder: String,
    /// Every decoder layer as stored.
    pub decoder_layers: Vec<LayerCard>,
    /// Encoder widths, e.g. `784-400-24`.
    pub encoder: String,
    /// Float parameters of encoder and decoder.
    pub float_parameters_total: usize,
    /// Latent size.
    pub latent: usize,
}

/// One stored decoder layer.
#[derive(Debug, Clone, Serialize)]
pub struct LayerCard {
    /// `Relu` or `Logits`.
    pub activation: String,
    /// Layer index.
    pub index: usize,
    /// Inputs.
    pub inputs: u16,
    /// Outputs.
    pub outputs: u16,
    /// Weights and biases.
    pub parameters: usize,
    /// Bytes of biases, multipliers and shifts.
    pub requant_bytes: usize,
    /// Bytes of weights (padded layout).
    pub weight_bytes: usize,
}

/// The training data.
#[derive(Debug, Clone, Serialize)]
pub struct Data {
    /// Dataset name.
    pub dataset: String,
    /// SHA-256 of every data file.
    pub sha256: Vec<FileSum>,
}

/// A file's checksum.
#[derive(Debug, Clone, Serialize)]
pub struct FileSum {
    /// File name.
    pub file: String,
    /// Its SHA-256, hex.
    pub sha256: String,
}

/// Test-set figures.
#[derive(Debug, Clone, Serialize)]
pub struct Metrics {
    /// The importance-weighted bound, if computed.
    pub importance_weighted: Option<Iwae>,
    /// The single-sample negative ELBO, float and quantized.
    pub single_sample: SingleSample,
    /// Test images evaluated.
    pub test_set_images: usize,
    /// What the numbers measure.
    pub units: String,
}

/// The single-sample negative ELBO.
#[derive(Debug, Clone, Serialize)]
pub struct SingleSample {
    /// Float decoder.
    pub float: Nelbo,
    /// Integer decoder.
    pub quantized: Nelbo,
}

/// The importance-weighted bound.
#[derive(Debug, Clone, Serialize)]
pub struct Iwae {
    /// Float decoder.
    pub float: f64,
    /// Importance samples per image.
    pub k: usize,
    /// Integer decoder.
    pub quantized: Option<f64>,
}

/// How the decoder was quantized.
#[derive(Debug, Clone, Serialize)]
pub struct Quantization {
    /// The activation calibration chosen.
    pub activation_calibration: String,
    /// Every calibration tried, with its holdout -ELBO.
    pub calibration_candidates_holdout_nelbo: Vec<CalibrationTried>,
    /// Biases clamped to the format's range.
    pub clamped_biases: usize,
    /// Model file format version.
    pub format_version: u16,
    /// The scheme, in words.
    pub scheme: String,
}

/// One calibration tried.
#[derive(Debug, Clone, Serialize)]
pub struct CalibrationTried {
    /// Its name.
    pub calibration: String,
    /// Holdout negative ELBO through the integer decoder.
    pub nelbo: f64,
}

/// The class prior in the file.
#[derive(Debug, Clone, Serialize)]
pub struct PriorCard {
    /// Bytes of the prior's arrays.
    pub array_bytes: usize,
    /// Classes in the prior.
    pub classes: usize,
    /// What it is, in words.
    pub kind: String,
    /// How it was fitted.
    pub spec: PriorSpec,
}

/// The pixel mask in the file (see [`crate::pixel_mask`]).
#[derive(Debug, Clone, Serialize)]
pub struct PixelMaskCard {
    /// A pixel is computed when at least this many of every 10,000
    /// training digits are inked (grey >= 0.5) there.
    pub min_inked_per_10000: f64,
    /// Pixels the decoder computes.
    pub computed_pixels: usize,
    /// Pixels of the image.
    pub pixels: usize,
    /// The logit of every pixel left out.
    pub background_logit: f64,
}

/// The drawing section in the file.
#[derive(Debug, Clone, Serialize)]
pub struct DrawingCard {
    /// Factor on the logits before the grey-level table (stored in Q8).
    pub logit_gain: f64,
    /// The figures `metrics` reports are of the logits without the gain.
    pub note: String,
    /// The latent filter, if any.
    pub filter: Option<FilterCard>,
}

/// The latent filter in the file.
#[derive(Debug, Clone, Serialize)]
pub struct FilterCard {
    /// Layer widths, latent to class logits.
    pub layers: String,
    /// How it was trained and set.
    pub spec: FilterSpec,
    /// Its stored margin (Q8).
    pub margin_q8: u16,
    /// Latents drawn at most per digit.
    pub max_draws: u8,
    /// Bytes of its weights.
    pub weight_bytes: usize,
    /// Bytes of its biases, multipliers and shifts.
    pub requant_bytes: usize,
    /// Mean latents drawn per requested digit (1,000 per class, seed 1).
    pub draws_per_digit: f64,
    /// Share of those digits that took every draw allowed.
    pub at_most_draws: f64,
}

/// The training run.
#[derive(Debug, Clone, Serialize)]
pub struct Training {
    /// Images per batch.
    pub batch: usize,
    /// Epochs trained.
    pub epochs: usize,
    /// Training -ELBO of the last epoch.
    pub final_train_nelbo: Option<f64>,
    /// KL warm-up epochs.
    pub kl_warmup_epochs: usize,
    /// Peak learning rate.
    pub lr: f32,
    /// Learning-rate schedule.
    pub lr_schedule: LrSchedule,
    /// First epoch (0-based) of quantization-aware fine-tuning, if any.
    pub qat_from_epoch: Option<usize>,
    /// Optimizer, in words.
    pub optimizer: String,
    /// Seed of every random stream.
    pub seed: u64,
    /// Training images used.
    pub train_images: usize,
    /// Wall-clock seconds of training.
    pub training_seconds: f64,
}

/// The quantization scheme in words, with the weight width it used.
pub fn scheme(weight_bits: u8) -> String {
    format!(
        "post-training; int{weight_bits} symmetric per-output-channel weights; u8 ReLU activations (zero point 0); Q12 latent; Q8 logits; i32 biases; Q31 multiplier (15 significant bits) + shift requantization (see docs/quantization.md)"
    )
}

/// The drawing section's card, the filter's draws counted on 1,000
/// requested digits per class (seed 1).
fn drawing_card(model: &Model<'_>, spec: &DrawingSpec) -> DrawingCard {
    let filter = model.filter().map(|f| {
        let classes = model.prior().map_or(0, |p| p.classes());
        let mut sampler = LatentSampler::new(1);
        let (mut draws, mut capped, mut n) = (0usize, 0usize, 0usize);
        for k in 0..classes {
            for _ in 0..1000 {
                let (_, d) = sampler.draw_counted(model, Some(k));
                draws += usize::from(d);
                capped += usize::from(d == f.max_draws);
                n += 1;
            }
        }
        let mut widths = vec![model.latent_dim().to_string()];
        widths.extend(f.layers.iter().map(|l| l.output_dim.to_string()));
        FilterCard {
            layers: widths.join("-"),
            spec: spec.filter.unwrap_or(FilterSpec {
                hidden: 0,
                margin: f64::from(f.margin) / 256.0,
                max_draws: f.max_draws,
                latents_per_class: 0,
            }),
            margin_q8: f.margin,
            max_draws: f.max_draws,
            weight_bytes: f.layers.iter().map(|l| l.weights.len()).sum(),
            requant_bytes: f
                .layers
                .iter()
                .map(|l| l.bias.len() + l.multiplier.len() + l.shift.len())
                .sum(),
            draws_per_digit: draws as f64 / n.max(1) as f64,
            at_most_draws: capped as f64 / n.max(1) as f64,
        }
    });
    DrawingCard {
        logit_gain: f64::from(model.logit_gain()) / 256.0,
        note: "the device draws sigmoid(gain x logit); the -ELBO and IWAE figures are of the Bernoulli decoder (gain 1), which is what was trained".into(),
        filter,
    }
}

impl ModelCard {
    /// The card as pretty JSON with every object's keys sorted, and a final
    /// newline.
    pub fn to_json(&self) -> serde_json::Result<String> {
        // Through `Value`, whose maps are sorted by key.
        let value = serde_json::to_value(self)?;
        Ok(format!("{}\n", serde_json::to_string_pretty(&value)?))
    }
}

impl ModelCard {
    /// The card of an assessed model: `state` is its run's record,
    /// `float_parameters` the float VAE's parameter count, `data_checksums`
    /// the data files' SHA-256 sums, and `quality_table` the model's place
    /// in the quality table (if it has a row there).
    pub fn new(
        name: &str,
        a: &Assessment,
        state: &RunState,
        float_parameters: usize,
        data_checksums: &[(String, String)],
        quality_table: Option<QualityPosition>,
    ) -> Result<ModelCard> {
        let model = a.model()?;
        let layers = model
            .layers()
            .iter()
            .enumerate()
            .map(|(i, l)| LayerCard {
                index: i,
                inputs: l.input_dim,
                outputs: l.output_dim,
                activation: format!("{:?}", l.activation),
                parameters: usize::from(l.input_dim) * usize::from(l.output_dim)
                    + usize::from(l.output_dim),
                weight_bytes: l.weights.len(),
                requant_bytes: l.bias.len() + l.multiplier.len() + l.shift.len(),
            })
            .collect();
        let q = &a.quantized;
        Ok(ModelCard {
            name: name.to_string(),
            test_nelbo_float: a.float.nelbo,
            test_nelbo_quantized: a.quantized_nelbo.nelbo,
            decoder_weight_bytes: model.weight_bytes(),
            model_file_bytes: a.bytes.len(),
            decoder_macs: model.macs(),
            metrics: Metrics {
                test_set_images: a.test_images,
                single_sample: SingleSample {
                    float: a.float,
                    quantized: a.quantized_nelbo,
                },
                importance_weighted: a.iwae.map(|p| Iwae {
                    k: p.k,
                    float: p.float,
                    quantized: Some(p.quantized),
                }),
                units: "nats per image; grey levels scaled to [0, 1]; BCE summed over 784 pixels + analytic KL".into(),
            },
            architecture: Architecture {
                encoder: state.arch.encoder_widths(),
                decoder: state.arch.decoder_widths(),
                latent: state.arch.latent,
                activation: "ReLU; Bernoulli logits out".into(),
                decoder_layers: layers,
                float_parameters_total: float_parameters,
            },
            quantization: Quantization {
                scheme: scheme(a.bits),
                activation_calibration: format!("{:?}", q.calibration),
                calibration_candidates_holdout_nelbo: q
                    .tried
                    .iter()
                    .map(|(c, s)| CalibrationTried {
                        calibration: c.clone(),
                        nelbo: *s,
                    })
                    .collect(),
                clamped_biases: q.model.clamped_biases,
                format_version: model.format_version(),
            },
            prior: a.prior.map(|p| PriorCard {
                kind: "per-class Gaussian mixture fitted to the encoder means of the training images; z = m_k + L_k eps, eps ~ N(0, I)".into(),
                spec: p,
                classes: model.prior().map_or(0, |q| q.classes()),
                array_bytes: q.model.prior.as_ref().map_or(0, |o| o.array_bytes()),
            }),
            drawing: a.drawing.map(|d| drawing_card(&model, &d)),
            pixel_mask: a.mask.zip(model.pixel_mask()).map(|(spec, m)| PixelMaskCard {
                min_inked_per_10000: spec.per_10000,
                computed_pixels: m.count(),
                pixels: model.pixel_count(),
                background_logit: f64::from(m.background) / 256.0,
            }),
            device_budget_bytes: a.bytes.len(),
            judge: a.judged.clone(),
            training: Training {
                epochs: state.epochs_done,
                batch: state.config.batch,
                lr: state.config.lr,
                lr_schedule: state.config.lr_schedule,
                kl_warmup_epochs: state.config.kl_warmup,
                qat_from_epoch: state.config.qat_from,
                optimizer: "Adam (beta1 0.9, beta2 0.999, eps 1e-8)".into(),
                seed: state.config.seed,
                training_seconds: state.training_seconds,
                train_images: state.config.train_images,
                final_train_nelbo: state.history.last().map(|m| m.train_nelbo),
            },
            data: Data {
                dataset: state.config.dataset.clone(),
                sha256: data_checksums
                    .iter()
                    .map(|(n, s)| FileSum {
                        file: n.clone(),
                        sha256: s.clone(),
                    })
                    .collect(),
            },
            trainer_version: env!("CARGO_PKG_VERSION").into(),
            quality_table,
        })
    }
}
