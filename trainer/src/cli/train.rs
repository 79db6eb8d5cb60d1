//! `trainer train`: train a model (writes a checkpoint and metrics after every epoch).

use anyhow::Result;
use clap::Args;

use super::common::{RunArgs, TrainOpts};
use super::Global;
use crate::layers::Dev;
use crate::run::Start;
use crate::train::{self, TrainRequest};

#[derive(Debug, Args)]
pub(crate) struct TrainArgs {
    #[command(flatten)]
    run: RunArgs,
    #[command(flatten)]
    opts: TrainOpts,
    /// Continue the run in the run directory.
    #[arg(long)]
    resume: bool,
    /// Start over even if the run directory holds a checkpoint.
    #[arg(long, conflicts_with = "resume")]
    overwrite: bool,
}

/// Runs `trainer train`.
pub(super) fn run(args: TrainArgs, global: &Global, dev: &Dev) -> Result<()> {
    let arch = args.run.arch(global.dataset)?;
    let (train_set, test_set) = global.load()?;
    let config = args.opts.config(&arch, global.dataset, train_set.len());
    let paths = args.run.paths(&arch);
    train::train(
        dev,
        TrainRequest {
            arch,
            config,
            paths,
            train: &train_set,
            test: &test_set,
        },
        match (args.resume, args.overwrite) {
            (true, _) => Start::Resume,
            (_, true) => Start::Overwrite,
            _ => Start::Fresh,
        },
    )?;
    Ok(())
}
