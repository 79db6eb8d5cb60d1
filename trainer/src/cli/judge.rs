//! `trainer judge`: judge digits drawn exactly as a device draws them with the digit classifier.

use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::builder::TypedValueParser as _;
use clap::Args;

use super::common::{load_judge, load_second_judge, ModelSource};
use super::Global;
use crate::layers::Dev;

#[derive(Debug, Args)]
pub(crate) struct JudgeArgs {
    #[command(flatten)]
    source: ModelSource,
    /// Digits drawn per class on request (and ten times as many unconditionally).
    #[arg(long, default_value_t = 1000, value_parser = clap::value_parser!(u32).range(1..=100_000).map(|v| v as usize))]
    count: usize,
    /// Seed of the latent sampler.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Judge this many seeds (`--seed`, `--seed + 1`, ...) and end with
    /// their mean and range: one seed's 10,000 draws move the requested
    /// share by about 0.1 point and GAN-train by 0.3.
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..=100).map(|v| v as usize))]
    seeds: usize,
    /// Also GAN-train: classifiers trained this many epochs on 60,000
    /// drawn digits and on 60,000 real ones, tested on the real test set
    /// (0: skip; minutes per epoch).
    #[arg(long, default_value_t = 0)]
    gan_train_epochs: usize,
    /// Judge with the second judge (an MLP, seed 2, cached in
    /// runs/judge-second) instead: the one never used for choosing.
    #[arg(long)]
    second_judge: bool,
    /// Write the figures as JSON to this file too.
    #[arg(long)]
    json: Option<PathBuf>,
}

/// Runs `trainer judge`.
pub(super) fn run(args: JudgeArgs, global: &Global, dev: &Dev) -> Result<()> {
    let (train_set, test_set) = global.load()?;
    let source = &args.source;
    let bytes = source.bytes(dev, global, Some(&train_set))?;
    let model = runtime::Model::from_bytes(&bytes).context("loading the model")?;
    let judge_dir = match &source.model {
        Some(_) => crate::folders::judge_cache(),
        None => crate::folders::judge_cache_beside(
            &source.run.paths(&source.run.arch(global.dataset)?).dir,
        ),
    };
    let (judge, card) = if args.second_judge {
        load_second_judge(dev, &train_set, &test_set)?
    } else {
        load_judge(dev, &judge_dir, &train_set, &test_set)?
    };
    let mut all = Vec::with_capacity(args.seeds);
    for seed in (args.seed..).take(args.seeds) {
        let mut judged = crate::judge::judge_model(
            &judge, &card, dev, &model, &train_set, &test_set, seed, args.count,
        )?;
        if args.gan_train_epochs > 0 {
            judged.gan_train = Some(crate::judge::gan_train(
                dev,
                &model,
                &train_set,
                &test_set,
                seed,
                args.gan_train_epochs,
            )?);
        }
        if args.seeds > 1 {
            println!("seed {seed}:");
        }
        print!("{}", judged.lines());
        all.push(judged);
    }
    if args.seeds > 1 {
        print!("{}", crate::judge::over_seeds(&all));
    }
    if let Some(path) = &args.json {
        // One seed: its figures; several: the list of them.
        let json = match all.as_slice() {
            [one] => serde_json::to_string_pretty(one)?,
            many => serde_json::to_string_pretty(many)?,
        };
        runtime::host::atomic_file::write_atomic_creating_dirs(path, json.as_bytes())?;
    }
    Ok(())
}
