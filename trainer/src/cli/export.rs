//! `trainer export`: quantize the decoder and write `models/<name>.postcard`,
//! `.json` and `.png` (training the model first if it has no checkpoint).

use std::path::PathBuf;

use anyhow::Result;
use clap::Args;

use super::common::{judge_figures, PriorOpts, RunArgs, TrainOpts};
use super::Global;
use crate::data::DatasetKind;
use crate::layers::Dev;
use crate::train::{self, TrainRequest};
use crate::{draw, export};

#[derive(Debug, Args)]
pub(crate) struct ExportArgs {
    #[command(flatten)]
    run: RunArgs,
    #[command(flatten)]
    opts: TrainOpts,
    #[command(flatten)]
    prior: PriorOpts,
    /// Digits per class the judge scores for the model card (0: skip the judge).
    #[arg(long, default_value_t = 1000)]
    judge_count: usize,
    /// Output folder for the model, its card and its sample grid.
    #[arg(long)]
    models_dir: Option<PathBuf>,
    /// Importance samples per test image for the IWAE bound (1: skip it).
    #[arg(long, default_value_t = 100)]
    iw_samples: usize,
}

/// Runs `trainer export`.
pub(super) fn run(args: ExportArgs, global: &Global, dev: &Dev) -> Result<()> {
    let arch = args.run.arch(global.dataset)?;
    let paths = args.run.paths(&arch);
    let (train_set, test_set) = global.load()?;
    let config = args.opts.config(&arch, global.dataset, train_set.len());
    let (vae, state) = train::ensure_trained(
        dev,
        TrainRequest {
            arch,
            config,
            paths: paths.clone(),
            train: &train_set,
            test: &test_set,
        },
    )?;
    let models_dir = args.models_dir.unwrap_or_else(crate::folders::models);
    let prior_spec = args.prior.spec()?;
    // The judge's figures go into the model card; `export` calls
    // it on the model it writes.
    let judge_dir = crate::folders::judge_cache_beside(&paths.dir);
    let judge = |model: &runtime::Model<'_>| {
        let judged = judge_figures(
            dev,
            &judge_dir,
            model,
            &train_set,
            &test_set,
            state.config.seed,
            args.judge_count,
        )?;
        print!("{}", judged.lines());
        Ok(judged)
    };
    let judge_wanted = args.judge_count > 0 && global.dataset == DatasetKind::Mnist;
    let files = export::export(
        dev,
        &vae,
        &state,
        &train_set,
        &test_set,
        &models_dir,
        args.iw_samples,
        &global.checksums()?,
        prior_spec.as_ref(),
        judge_wanted.then_some(&judge as &export::JudgeFn<'_>),
    )?;
    let model = runtime::Model::from_bytes(&files.model_bytes)?;
    draw::draw_pictures(dev, &vae, &state, &model, &test_set, &paths.dir)?;
    println!(
        "wrote {}, {} and {}",
        files.model.display(),
        files.card.display(),
        files.grid.display()
    );
    Ok(())
}
