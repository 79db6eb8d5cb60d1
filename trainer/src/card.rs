//! The model card written beside every exported model (`models/<name>.json`):
//! what the model is, how it was trained and quantized, what it scores, and
//! which data it saw. Written as sorted JSON (field names in alphabetical
//! order at every level), so cards diff cleanly.

use serde::Serialize;

use crate::checkpoint::LrSchedule;
use crate::eval::Nelbo;
use crate::judge::Judged;
use crate::prior::PriorSpec;

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

impl ModelCard {
    /// The card as pretty JSON with every object's keys sorted, and a final
    /// newline.
    pub fn to_json(&self) -> serde_json::Result<String> {
        // Through `Value`, whose maps are sorted by key.
        let value = serde_json::to_value(self)?;
        Ok(format!("{}\n", serde_json::to_string_pretty(&value)?))
    }
}

/// Where the model sits in the quality-per-byte table.
#[derive(Debug, Clone, Serialize)]
pub struct QualityPosition {
    /// The best row with at most 64 KB of weights.
    #[serde(rename = "best_under_64KB")]
    pub best_under_64kb: Option<BestRow>,
    /// 1 + the rows under 64 KB with a lower quantized -ELBO.
    #[serde(rename = "rank_by_quantized_nelbo_among_rows_under_64KB")]
    pub rank_under_64kb: usize,
    /// The model's own row.
    pub row: QualityRow,
    /// Rows with at most 64 KB of weights.
    #[serde(rename = "rows_under_64KB")]
    pub rows_under_64kb: usize,
    /// The document holding the table.
    pub table: String,
}

/// A row of the quality table, as the card quotes it.
#[derive(Debug, Clone, Serialize)]
pub struct QualityRow {
    /// Decoder widths.
    pub decoder: String,
    /// Quantized importance-weighted bound.
    pub iwae_quantized: f64,
    /// Quantized single-sample -ELBO.
    pub quantized_nelbo: f64,
    /// Training recipe.
    pub training: String,
    /// Stored weight bytes.
    pub weight_bytes: usize,
}

/// The best row under 64 KB.
#[derive(Debug, Clone, Serialize)]
pub struct BestRow {
    /// Quantized single-sample -ELBO.
    pub quantized_nelbo: f64,
    /// Its run name.
    pub run: String,
    /// Training recipe.
    pub training: String,
}
