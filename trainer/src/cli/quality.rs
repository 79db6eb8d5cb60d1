//! `trainer quality`: evaluate trained runs and write the quality table.

use std::path::{Path, PathBuf};

use anyhow::Result;
use clap::Args;

use super::Global;
use crate::data::DatasetKind;
use crate::folders;
use crate::layers::Dev;

#[derive(Debug, Args)]
pub(crate) struct QualityArgs {
    /// Run directories to evaluate (each holds a finished checkpoint);
    /// `DIR@4` evaluates the run with int4 weights.
    #[arg(long, num_args = 1.., required = true)]
    runs: Vec<String>,
    /// Importance samples per test image for the IWAE bound.
    #[arg(long, default_value_t = 100)]
    iw_samples: usize,
    /// Document whose table (between its markers) is rewritten (default:
    /// the workspace's docs/quality.md).
    #[arg(long)]
    doc: Option<PathBuf>,
    /// Folder for the saved rows and sample grids (default: the
    /// workspace's docs/quality, where `export` looks for its model's row).
    #[arg(long)]
    grids: Option<PathBuf>,
    /// Skip the digit judge (and the default class prior it judges).
    #[arg(long)]
    no_judge: bool,
}

/// Runs `trainer quality`.
pub(super) fn run(args: QualityArgs, global: &Global, dev: &Dev) -> Result<()> {
    let doc = args.doc.clone().unwrap_or_else(folders::quality_doc);
    let grids = args
        .grids
        .clone()
        .unwrap_or_else(|| folders::quality_rows(&folders::models()));
    let (train_set, test_set) = global.load()?;
    let judge = if args.no_judge || global.dataset != DatasetKind::Mnist {
        None
    } else {
        Some(super::common::load_judge(
            dev,
            &folders::judge_cache(),
            &train_set,
            &test_set,
        )?)
    };
    for spec in &args.runs {
        let (dir, bits) = crate::quality::parse_run_spec(spec)?;
        eprintln!("evaluating {spec} ...");
        let row = crate::quality::evaluate(
            dev,
            &dir,
            bits,
            &train_set,
            &test_set,
            args.iw_samples,
            &grids,
            judge.as_ref().map(|(j, c)| (j, c)),
        )?;
        eprintln!(
            "  {}: {} bytes, quantized -ELBO {:.3}",
            row.name, row.weight_bytes, row.quantized_nelbo
        );
        crate::table::save_row(&row, &grids)?;
    }
    // The table holds every run evaluated so far (saved rows).
    let rows = crate::table::saved_rows(&grids)?;
    let rel = crate::table::pathdiff(&grids, doc.parent().unwrap_or(Path::new(".")));
    let table = crate::table::table(&rows, args.iw_samples, &rel);
    print!("{table}");
    crate::table::write_doc(&doc, &table)?;
    eprintln!(
        "wrote {} and {} grids in {}",
        doc.display(),
        rows.len(),
        grids.display()
    );
    Ok(())
}
