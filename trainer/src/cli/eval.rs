//! `trainer eval`: evaluate a trained model, float and quantized, and draw its pictures.

use anyhow::{Context, Result};
use clap::Args;

use super::common::{judge_figures, PriorOpts, RunArgs};
use super::Global;
use crate::layers::Dev;
use crate::train::{self};
use crate::{draw, eval, quantize};

#[derive(Debug, Args)]
pub(crate) struct EvalArgs {
    #[command(flatten)]
    run: RunArgs,
    #[command(flatten)]
    prior: PriorOpts,
    /// Importance samples per image for the IWAE bound (1: skip it).
    #[arg(long, default_value_t = 100)]
    iw_samples: usize,
    /// Evaluate only the first N test images.
    #[arg(long)]
    limit_test: Option<usize>,
}

/// Runs `trainer eval`.
pub(super) fn run(args: EvalArgs, global: &Global, dev: &Dev) -> Result<()> {
    let arch = args.run.arch(global.dataset)?;
    let paths = args.run.paths(&arch);
    let (vae, state) = train::load_run(dev, &paths.dir)?;
    let (train_set, test_set) = global.load()?;
    let test_set = test_set.take(args.limit_test.unwrap_or(usize::MAX));
    let bytes =
        quantize::quantized_file(dev, &vae, &state, &train_set, args.prior.spec()?.as_ref())?;
    let model = runtime::Model::from_bytes(&bytes)?;
    let single = eval::nelbo(dev, &vae, &test_set, state.config.seed, Some(&model))?;
    let q1 = single.quantized.context("quantized result")?;
    println!("test images: {}", test_set.len());
    println!("negative ELBO, single sample (nats/image): float {:.3} (BCE {:.3} + KL {:.3}), quantized {:.3} (+{:.3})", single.float.nelbo, single.float.bce, single.float.kl, q1.nelbo, q1.nelbo - single.float.nelbo);
    if args.iw_samples > 1 {
        let iw = eval::iwae(
            dev,
            &vae,
            &test_set,
            args.iw_samples,
            state.config.seed,
            Some(&model),
        )?;
        println!(
            "importance-weighted bound, k = {} (nats/image): float {:.3}, quantized {:.3}",
            args.iw_samples,
            iw.float,
            iw.quantized.unwrap_or(f64::NAN)
        );
    }
    draw::draw_pictures(dev, &vae, &state, &model, &test_set, &paths.dir)?;
    let judged = judge_figures(
        dev,
        &crate::folders::judge_cache_beside(&paths.dir),
        &model,
        &train_set,
        &test_set,
        state.config.seed,
        1000,
    )?;
    print!("{}", judged.lines());
    Ok(())
}
