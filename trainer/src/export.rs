//! Export: the decoder quantized (see `quantize`), evaluated, and written
//! as the model file, its model card and its pictures.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use runtime::Model;

use crate::card::{
    self, Architecture, BestRow, CalibrationTried, Data, FileSum, Iwae, LayerCard, Metrics,
    ModelCard, PriorCard, QualityPosition, QualityRow, Quantization, SingleSample, Training,
};
use crate::checkpoint::RunState;
use crate::data::Dataset;
use crate::draw::{device_samples, digit_rows};
use crate::eval;
use crate::images;
use crate::layers::Dev;
use crate::prior::PriorSpec;
use crate::quantize::{fitted_prior, model_name, quantize_decoder};
use crate::vae::Vae;
use runtime::host::atomic_file::write_atomic_creating_dirs;

/// Files written by an export.
pub struct ExportFiles {
    /// The model file.
    pub model: PathBuf,
    /// The model card.
    pub card: PathBuf,
    /// The sample grid.
    pub grid: PathBuf,
    /// The grid of requested digits, one row per class (models with a prior).
    pub digits: PathBuf,
    /// The model file's bytes, as written.
    pub model_bytes: Vec<u8>,
}

/// Where the model sits in the quality-per-byte table (`docs/quality.md`,
/// rows saved by `trainer quality` in `docs/quality/*.json` next to the
/// models folder): its row and its rank by quantized -ELBO among the rows
/// with at most 64 KB of weights. `None` if the table has no row of that name.
fn quality_position(models_dir: &Path, name: &str) -> Option<QualityPosition> {
    let grids = crate::folders::quality_rows(models_dir);
    let rows = crate::quality::saved_rows(&grids).ok()?;
    let row = rows.iter().find(|r| r.name == name)?;
    let small: Vec<_> = rows.iter().filter(|r| r.weight_bytes <= 65_536).collect();
    let rank = small
        .iter()
        .filter(|r| r.quantized_nelbo < row.quantized_nelbo)
        .count()
        + 1;
    Some(QualityPosition {
        table: crate::folders::QUALITY_DOC.into(),
        row: QualityRow {
            decoder: row.decoder.clone(),
            training: row.training.clone(),
            weight_bytes: row.weight_bytes,
            quantized_nelbo: row.quantized_nelbo,
            iwae_quantized: row.iwae.1,
        },
        rank_under_64kb: rank,
        rows_under_64kb: small.len(),
        best_under_64kb: small
            .iter()
            .min_by(|a, b| a.quantized_nelbo.total_cmp(&b.quantized_nelbo))
            .map(|r| BestRow {
                run: r.name.clone(),
                quantized_nelbo: r.quantized_nelbo,
                training: r.training.clone(),
            }),
    })
}

/// Scores an exported model with the digit judge (for its model card).
pub type JudgeFn<'j> = dyn Fn(&Model<'_>) -> Result<crate::judge::Judged> + 'j;

/// Quantizes, evaluates and writes `models/<name>.postcard`, `.json`, `.png`.
#[allow(clippy::too_many_arguments)]
pub fn export(
    dev: &Dev,
    vae: &Vae,
    state: &RunState,
    train: &Dataset,
    test: &Dataset,
    models_dir: &Path,
    iw_samples: usize,
    data_checksums: &[(String, String)],
    prior: Option<&PriorSpec>,
    judge: Option<&JudgeFn<'_>>,
) -> Result<ExportFiles> {
    let seed = state.config.seed;
    let bits = state.config.weight_bits;
    eprintln!(
        "Quantizing the decoder (per-channel int{bits} weights, calibrating activation ranges)..."
    );
    let mut q = quantize_decoder(dev, vae, train, seed, bits)?;
    if let Some(spec) = prior {
        eprintln!(
            "Fitting the class prior ({}) to the encoder means of the training images...",
            spec.name()
        );
    }
    q.model.prior = fitted_prior(vae, train, prior, seed)?;
    let bytes = q.model.to_bytes()?;
    let model =
        Model::from_bytes(&bytes).context("the exported model does not load in the runtime")?;
    // The judge scores the very file that is written (for the model card).
    let judged = judge.map(|j| j(&model)).transpose()?;
    eprintln!(
        "Evaluating float and quantized decoders on {} test images...",
        test.len()
    );
    let single = eval::nelbo(dev, vae, test, seed, Some(&model))?;
    let iw = if iw_samples > 1 {
        eprintln!("Importance-weighted bound with k = {iw_samples} (float and quantized)...");
        Some(eval::iwae(dev, vae, test, iw_samples, seed, Some(&model))?)
    } else {
        None
    };
    let quantized = single.quantized.context("quantized evaluation missing")?;
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
    let name = &model_name(&state.arch.name, bits);
    let card = ModelCard {
        name: name.clone(),
        test_nelbo_float: single.float.nelbo,
        test_nelbo_quantized: quantized.nelbo,
        decoder_weight_bytes: model.weight_bytes(),
        model_file_bytes: bytes.len(),
        decoder_macs: model.macs(),
        metrics: Metrics {
            test_set_images: test.len(),
            single_sample: SingleSample {
                float: single.float,
                quantized,
            },
            importance_weighted: iw.map(|p| Iwae {
                k: iw_samples,
                float: p.float,
                quantized: p.quantized,
            }),
            units: "nats per image; grey levels scaled to [0, 1]; BCE summed over 784 pixels + analytic KL".into(),
        },
        architecture: Architecture {
            encoder: state.arch.encoder_widths(),
            decoder: state.arch.decoder_widths(),
            latent: state.arch.latent,
            activation: "ReLU; Bernoulli logits out".into(),
            decoder_layers: layers,
            float_parameters_total: vae.num_params(),
        },
        quantization: Quantization {
            scheme: card::scheme(bits),
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
        prior: prior.map(|p| PriorCard {
            kind: "per-class Gaussian mixture fitted to the encoder means of the training images; z = m_k + L_k eps, eps ~ N(0, I)".into(),
            spec: *p,
            classes: model.prior().map_or(0, |q| q.classes()),
            array_bytes: q.model.prior.as_ref().map_or(0, |o| o.array_bytes()),
        }),
        judge: judged,
        training: Training {
            epochs: state.epochs_done,
            batch: state.config.batch,
            lr: state.config.lr,
            lr_schedule: state.config.lr_schedule,
            kl_warmup_epochs: state.config.kl_warmup,
            qat_from_epoch: state.config.qat_from,
            optimizer: "Adam (beta1 0.9, beta2 0.999, eps 1e-8)".into(),
            seed,
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
        quality_table: quality_position(models_dir, name),
    };
    let path = |suffix: &str| models_dir.join(format!("{name}{suffix}"));
    let (model_path, card_path) = (path(".postcard"), path(".json"));
    let (grid, digits) = (path(".png"), path("-digits.png"));
    write_atomic_creating_dirs(&model_path, &bytes)?;
    write_atomic_creating_dirs(&card_path, card.to_json()?.as_bytes())?;
    images::save_grid(&grid, &device_samples(&model, seed, 64, None)?, 8, 2)?;
    if model.prior().is_some() {
        images::save_grid(&digits, &digit_rows(&model, seed, 10)?, 10, 2)?;
    }
    eprintln!(
        "test -ELBO: float {:.3}, quantized {:.3} (+{:.3}) nats/image; decoder weights {} bytes",
        single.float.nelbo,
        quantized.nelbo,
        quantized.nelbo - single.float.nelbo,
        model.weight_bytes()
    );
    drop(model);
    Ok(ExportFiles {
        model: model_path,
        card: card_path,
        grid,
        digits,
        model_bytes: bytes,
    })
}
