//! `trainer sample`: draw a grid of random digits from a trained model or a model file.

use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::Args;

use super::common::ModelSource;
use super::Global;
use crate::data::{self};
use crate::layers::Dev;
use crate::{draw, images};

#[derive(Debug, Args)]
pub(crate) struct SampleArgs {
    #[command(flatten)]
    source: ModelSource,
    /// Draw this digit (the model's prior class with this label).
    #[arg(long)]
    digit: Option<String>,
    /// Also write the digits as an IDX image file (the MNIST format).
    #[arg(long)]
    idx: Option<PathBuf>,
    /// Number of digits.
    #[arg(long, default_value_t = 64)]
    count: usize,
    /// Seed of the latent sampler (the runtime's LatentSampler).
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Output PNG (default: <run dir>/samples-<seed>.png; with --model,
    /// ./<model name>.samples-<seed>.png; none when only --idx is asked for).
    #[arg(long)]
    out: Option<PathBuf>,
    /// Decode with the float decoder instead of the quantized one.
    #[arg(long)]
    float: bool,
}

/// Runs `trainer sample`.
pub(super) fn run(args: SampleArgs, global: &Global, dev: &Dev) -> Result<()> {
    // A command writes what it was asked for, where it was asked:
    // the grid goes to --out; without --out, to the run's folder, or
    // for --model to the current folder; and not at all when only
    // --idx was asked for (a model's folder, such as the tracked
    // models/, is never written to).
    let out = match (&args.out, &args.idx, &args.source.model) {
        (Some(out), _, _) => Some(out.clone()),
        (None, Some(_), _) => None,
        (None, None, Some(m)) => {
            let stem = m
                .file_stem()
                .map_or_else(|| "model".into(), |s| s.to_string_lossy().into_owned());
            Some(PathBuf::from(format!("{stem}.samples-{}.png", args.seed)))
        }
        (None, None, None) => Some(
            args.source
                .run
                .paths(&args.source.run.arch(global.dataset).unwrap_or_else(|_| {
                    crate::arch::Arch::parse("mcu").expect("mcu is an architecture")
                }))
                .dir
                .join(format!("samples-{}.png", args.seed)),
        ),
    };
    let digits = if args.float {
        anyhow::ensure!(args.source.model.is_none() && args.digit.is_none(), "--float draws from N(0, I) through a run's float decoder; it takes neither --model nor --digit");
        let arch = args.source.run.arch(global.dataset)?;
        let (vae, _) = crate::checkpoint::load_run(dev, &args.source.run.paths(&arch))?;
        crate::pictures::float_samples(dev, &vae, args.seed, args.count)
    } else {
        let bytes = args.source.bytes(dev, global, None)?;
        let model = runtime::Model::from_bytes(&bytes).context("loading the model")?;
        let class = match &args.digit {
            None => None,
            Some(label) => {
                let prior = model
                    .prior()
                    .context("the model has no class prior: it cannot draw a requested digit")?;
                let labels: Vec<&str> = (0..prior.classes())
                    .filter_map(|k| prior.label(k))
                    .collect();
                Some(prior.class_of(label).with_context(|| {
                    format!(
                        "--digit {label}: the model's classes are {}",
                        labels.join(", ")
                    )
                })?)
            }
        };
        draw::device_samples(&model, args.seed, args.count, class)?
    };
    if let Some(out) = &out {
        images::save_grid(out, &digits, 8, 2)?;
        eprintln!("wrote {}", out.display());
    }
    if let Some(idx) = &args.idx {
        let pixels: Vec<u8> = digits.concat();
        let side = data::SIDE;
        runtime::host::atomic_file::write_atomic_creating_dirs(
            idx,
            &data::idx::encode_images(digits.len(), side, side, &pixels),
        )?;
        eprintln!("wrote {} ({} images, IDX)", idx.display(), digits.len());
    }
    Ok(())
}
