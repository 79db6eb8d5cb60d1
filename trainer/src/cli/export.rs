//! `trainer export`: quantize the decoder and write `models/<name>.postcard`,
//! `.json` and `.png` (training the model first if it has no checkpoint).

use std::path::PathBuf;

use anyhow::Result;
use clap::Args;

use super::common::{load_judge, PriorOpts, RunArgs, TrainOpts};
use super::Global;
use crate::assess::{self, JudgeSpec};
use crate::data::DatasetKind;
use crate::layers::Dev;
use crate::train::{self, TrainRequest};
use crate::{export, folders};

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
    let models_dir = args.models_dir.unwrap_or_else(folders::models);
    // The judge's figures go into the model card.
    let judge_wanted = args.judge_count > 0 && global.dataset == DatasetKind::Mnist;
    let judge = judge_wanted
        .then(|| {
            load_judge(
                dev,
                &folders::judge_cache_beside(&paths.dir),
                &train_set,
                &test_set,
            )
        })
        .transpose()?;
    let spec = assess::Spec {
        bits: state.config.weight_bits,
        prior: args.prior.spec()?,
        drawing: args.prior.drawing()?,
        mask: args.prior.mask(),
        iw_samples: args.iw_samples,
        judge: judge.as_ref().map(|(judge, card)| JudgeSpec {
            judge,
            card,
            per_class: args.judge_count,
        }),
    };
    let (a, files) = export::export(
        dev,
        &vae,
        &state,
        &train_set,
        &test_set,
        &spec,
        &models_dir,
        &global.checksums()?,
    )?;
    let model = a.model()?;
    if let Some(f) = model.filter() {
        println!(
            "drawn with logit gain {} and a latent filter ({} layers, margin {} nats, at most {} draws per digit)",
            f64::from(model.logit_gain()) / 256.0,
            f.layers.len(),
            f64::from(f.margin) / 256.0,
            f.max_draws
        );
    } else if model.logit_gain() != runtime::format::LOGIT_GAIN_ONE {
        println!(
            "drawn with logit gain {}",
            f64::from(model.logit_gain()) / 256.0
        );
    }
    if let Some(judged) = &a.judged {
        print!("{}", judged.lines());
    }
    crate::pictures::draw_pictures(dev, &vae, &state, &model, &test_set, &paths.dir)?;
    println!(
        "wrote {}, {} and {}",
        files.model.display(),
        files.card.display(),
        files.grid.display()
    );
    Ok(())
}
