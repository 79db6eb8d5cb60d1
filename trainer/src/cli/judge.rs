//! `trainer judge`: judge digits drawn exactly as a device draws them with the digit classifier.

use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::builder::TypedValueParser as _;
use clap::Args;

use super::common::{load_judge, ModelSource};
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
    let (judge, card) = load_judge(dev, &judge_dir, &train_set, &test_set)?;
    let judged =
        crate::judge::judge_model(&judge, &card, dev, &model, &test_set, args.seed, args.count)?;
    print!("{}", judged.lines());
    if let Some(path) = &args.json {
        runtime::host::atomic_file::write_atomic_creating_dirs(
            path,
            serde_json::to_string_pretty(&judged)?.as_bytes(),
        )?;
    }
    Ok(())
}
