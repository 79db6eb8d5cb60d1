//! `trainer quality`'s evaluation of one run: its assessment (see
//! `assess`) as a row of the quality-per-byte table (see `table`), with a
//! grid of 64 samples as a device draws them.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use crate::judge::{Judge, JudgeCard};

use anyhow::{Context, Result};

use crate::assess::{self, JudgeSpec};
use crate::data::Dataset;
use crate::layers::Dev;
use crate::run::LrSchedule;
use crate::table::{JudgedRow, Row};
use crate::{draw, images};

/// A run to evaluate: `DIR`, or `DIR@4` / `DIR@8` to quantize its weights
/// to 4 or 8 bits (default: the run's own width).
pub fn parse_run_spec(spec: &str) -> Result<(PathBuf, Option<u8>)> {
    Ok(match spec.rsplit_once('@') {
        Some((d, "4")) => (PathBuf::from(d), Some(4)),
        Some((d, "8")) => (PathBuf::from(d), Some(8)),
        Some((_, b)) => anyhow::bail!("`{spec}`: weight bits must be 8 or 4, not `{b}`"),
        None => (PathBuf::from(spec), None),
    })
}

/// Evaluates the run in `dir` (with `bits` bits per weight, default the
/// run's own); writes its sample grid into `grids`. With a judge, the model
/// also gets the default class prior and the judge's figures (1,000 draws
/// per class).
#[allow(clippy::too_many_arguments)]
pub fn evaluate(
    dev: &Dev,
    dir: &Path,
    bits: Option<u8>,
    train_set: &Dataset,
    test_set: &Dataset,
    iw_samples: usize,
    grids: &Path,
    judge: Option<(&Judge, &JudgeCard)>,
) -> Result<Row> {
    let (vae, state) = crate::checkpoint::load_run(dev, &dir.to_path_buf().into())
        .with_context(|| format!("loading the run in {}", dir.display()))?;
    let bits = bits.unwrap_or(state.config.weight_bits);
    let prior = crate::prior::PriorSpec::DEFAULT;
    let a = assess::assess(
        dev,
        &vae,
        &state,
        train_set,
        test_set,
        &assess::Spec {
            bits,
            prior: judge.is_some().then_some(prior),
            drawing: judge
                .is_some()
                .then_some(crate::latent_filter::DrawingSpec::DEFAULT),
            mask: None,
            iw_samples,
            judge: judge.map(|(judge, card)| JudgeSpec {
                judge,
                card,
                per_class: 1000,
            }),
        },
    )?;
    let model = a.model()?;
    let prior_bytes = a
        .quantized
        .model
        .prior
        .as_ref()
        .map_or(0, |p| p.array_bytes());
    let judged = a
        .judged
        .as_ref()
        .map(|j| JudgedRow::new(prior.name(), prior_bytes, j))
        .transpose()?;
    let dir_name = dir.file_name().map_or_else(
        || state.arch.name.clone(),
        |n| n.to_string_lossy().into_owned(),
    );
    // An int8 run evaluated with int4 weights gets its own row and grid.
    let name = if bits == 4 && !dir_name.contains("int4") && !dir_name.contains("qat4") {
        format!("{dir_name}-int4")
    } else {
        dir_name
    };
    let grid = grids.join(format!("{name}.png"));
    images::save_grid(&grid, &draw::device_samples(&model, 1, 64, None)?, 8, 1)?;
    let decoder = state.arch.decoder_widths();
    let mut training = format!(
        "{} ep, {}",
        state.epochs_done,
        match state.config.lr_schedule {
            LrSchedule::Constant => "constant",
            LrSchedule::Cosine => "cosine",
        }
    );
    if state.config.kl_warmup > 0 {
        let _ = write!(training, ", KL warm-up {}", state.config.kl_warmup);
    }
    if let Some(from) = state.config.qat_from {
        let _ = write!(
            training,
            ", QAT int{} from {}",
            state.config.weight_bits, from
        );
    }
    let _ = write!(training, "; int{bits}");
    Ok(Row {
        name,
        decoder,
        training,
        weight_bytes: model.weight_bytes(),
        macs: model.macs(),
        float_nelbo: a.float.nelbo,
        quantized_nelbo: a.quantized_nelbo.nelbo,
        iwae: a
            .iwae
            .map_or((f64::NAN, f64::NAN), |iw| (iw.float, iw.quantized)),
        train_seconds: state.training_seconds,
        grid,
        judged,
    })
}
