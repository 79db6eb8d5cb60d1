//! Export: a run's assessed model (see `assess`) written as the model file,
//! its model card and its pictures.

use std::path::{Path, PathBuf};

use anyhow::Result;

use crate::assess::{self, Assessment};
use crate::card::ModelCard;
use crate::data::Dataset;
use crate::draw::{device_samples, digit_rows};
use crate::layers::Dev;
use crate::quantize::model_name;
use crate::run::RunState;
use crate::vae::Vae;
use crate::{folders, images, table};
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
}

/// Assesses the run (see [`assess::assess`]) and writes the model, its
/// card (with the data files' SHA-256 sums and the model's place in the
/// quality table beside `models_dir`) and its pictures into `models_dir`.
#[allow(clippy::too_many_arguments)]
pub fn export(
    dev: &Dev,
    vae: &Vae,
    state: &RunState,
    train: &Dataset,
    test: &Dataset,
    spec: &assess::Spec<'_>,
    models_dir: &Path,
    data_checksums: &[(String, String)],
) -> Result<(Assessment, ExportFiles)> {
    let a = assess::assess(dev, vae, state, train, test, spec)?;
    let name = name(state, &a);
    let position = table::position(&folders::quality_rows(models_dir), &name);
    let card = ModelCard::new(&name, &a, state, vae.num_params(), data_checksums, position)?;
    let files = write(models_dir, &a, &card, state.config.seed)?;
    Ok((a, files))
}

/// The exported model's name: the architecture's, `-int4` for 4-bit weights.
pub fn name(state: &RunState, a: &Assessment) -> String {
    model_name(&state.arch.name, a.bits)
}

/// Writes `<models_dir>/<name>.postcard`, `.json` (the card), `.png` (64
/// device samples) and `-digits.png` (ten per class, models with a prior).
pub fn write(
    models_dir: &Path,
    a: &Assessment,
    card: &ModelCard,
    seed: u64,
) -> Result<ExportFiles> {
    let model = a.model()?;
    let path = |suffix: &str| models_dir.join(format!("{}{suffix}", card.name));
    let (model_path, card_path) = (path(".postcard"), path(".json"));
    let (grid, digits) = (path(".png"), path("-digits.png"));
    write_atomic_creating_dirs(&model_path, &a.bytes)?;
    write_atomic_creating_dirs(&card_path, card.to_json()?.as_bytes())?;
    images::save_grid(&grid, &device_samples(&model, seed, 64, None)?, 8, 2)?;
    if model.prior().is_some() {
        images::save_grid(&digits, &digit_rows(&model, seed, 10)?, 10, 2)?;
    }
    eprintln!(
        "test -ELBO: float {:.3}, quantized {:.3} (+{:.3}) nats/image; decoder weights {} bytes",
        a.float.nelbo,
        a.quantized_nelbo.nelbo,
        a.quantized_nelbo.nelbo - a.float.nelbo,
        model.weight_bytes()
    );
    Ok(ExportFiles {
        model: model_path,
        card: card_path,
        grid,
        digits,
    })
}
