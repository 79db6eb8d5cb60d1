//! `trainer eval`: evaluate a trained model, float and quantized, and draw its pictures.

use anyhow::Result;
use clap::Args;

use super::common::{load_judge, PriorOpts, RunArgs};
use super::Global;
use crate::assess::{self, JudgeSpec};
use crate::layers::Dev;

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
    let (vae, state) = crate::checkpoint::load_run(dev, &paths)?;
    let (train_set, test_set) = global.load()?;
    let test_set = test_set.take(args.limit_test.unwrap_or(usize::MAX));
    let (judge, card) = load_judge(
        dev,
        &crate::folders::judge_cache_beside(&paths.dir),
        &train_set,
        &test_set,
    )?;
    let a = assess::assess(
        dev,
        &vae,
        &state,
        &train_set,
        &test_set,
        &assess::Spec {
            bits: state.config.weight_bits,
            prior: args.prior.spec()?,
            drawing: args.prior.drawing()?,
            mask: args.prior.mask(),
            iw_samples: args.iw_samples,
            judge: Some(JudgeSpec {
                judge: &judge,
                card: &card,
                per_class: 1000,
            }),
        },
    )?;
    let (f, q) = (a.float, a.quantized_nelbo);
    println!("test images: {}", a.test_images);
    println!("negative ELBO, single sample (nats/image): float {:.3} (BCE {:.3} + KL {:.3}), quantized {:.3} (+{:.3})", f.nelbo, f.bce, f.kl, q.nelbo, q.nelbo - f.nelbo);
    if let Some(iw) = a.iwae {
        println!(
            "importance-weighted bound, k = {} (nats/image): float {:.3}, quantized {:.3}",
            iw.k, iw.float, iw.quantized
        );
    }
    crate::pictures::draw_pictures(dev, &vae, &state, &a.model()?, &test_set, &paths.dir)?;
    if let Some(judged) = &a.judged {
        print!("{}", judged.lines());
    }
    Ok(())
}
