//! The training loop: shuffled mini-batches, Adam, per-epoch test metrics,
//! CSV/JSON metrics and an atomic checkpoint after every epoch.

use std::time::Instant;

use anyhow::{bail, Result};
use dfdx::prelude::*;
use indicatif::{ProgressBar, ProgressStyle};
use rand::seq::SliceRandom;

use crate::adam::Adam;
use crate::arch::Arch;
use crate::checkpoint;
use crate::data::Dataset;
use crate::eval;
use crate::layers::Dev;
use crate::objective;
use crate::qat::fake_quantize_decoder;
use crate::rng::{normals, rng_for, Stream};
use crate::run::{EpochMetrics, RunPaths, RunState, Start, TrainConfig};
use crate::vae::Vae;

/// What `train` was asked to do.
pub struct TrainRequest<'a> {
    /// Architecture.
    pub arch: Arch,
    /// Settings for a new run (on resume only `epochs` may change).
    pub config: TrainConfig,
    /// Where the run lives.
    pub paths: RunPaths,
    /// Training images.
    pub train: &'a Dataset,
    /// Test images (metrics after each epoch).
    pub test: &'a Dataset,
}

/// Trains (or resumes, see [`Start`]) a run and returns the model and its
/// state.
pub fn train(dev: &Dev, req: TrainRequest<'_>, start: Start) -> Result<(Vae, RunState)> {
    let ckpt = req.paths.checkpoint();
    let (mut vae, mut adam, mut state) = if ckpt.exists() && start != Start::Overwrite {
        if start == Start::Fresh {
            bail!(
                "{} already holds a checkpoint; pass --resume to continue it or --overwrite to start over",
                req.paths.dir.display()
            );
        }
        let (vae, adam, mut state) = checkpoint::load(&ckpt, dev)?;
        if state.arch != req.arch {
            bail!(
                "checkpoint {} is architecture `{}`, not `{}`",
                ckpt.display(),
                state.arch.name,
                req.arch.name
            );
        }
        state.config.epochs = req.config.epochs;
        // Fine-tuning settings may be added when a finished run is resumed.
        if req.config.qat_from.is_some() {
            state.config.qat_from = req.config.qat_from;
            state.config.weight_bits = req.config.weight_bits;
        }
        eprintln!(
            "Resuming {} at epoch {} of {}",
            ckpt.display(),
            state.epochs_done,
            state.config.epochs
        );
        (vae, adam, state)
    } else {
        let mut init_rng = rng_for(req.config.seed, Stream::Init, 0);
        let vae = Vae::new(dev, &req.arch, &mut init_rng);
        let adam = Adam::new(&vae, req.config.lr);
        let state = RunState {
            arch: req.arch.clone(),
            config: req.config.clone(),
            epochs_done: 0,
            adam_t: 0,
            history: Vec::new(),
            training_seconds: 0.0,
            trainer_version: env!("CARGO_PKG_VERSION").to_string(),
        };
        (vae, adam, state)
    };
    let cfg = state.config.clone();
    let train = req.train.take(cfg.train_images);
    let n = train.len();
    if n == 0 {
        bail!("no training images");
    }
    let batches = n.div_ceil(cfg.batch);
    eprintln!(
        "Training `{}` ({} parameters) on {n} images: {} epochs, batch {}, lr {} ({:?}), seed {}",
        state.arch.name,
        vae.num_params(),
        cfg.epochs,
        cfg.batch,
        cfg.lr,
        cfg.lr_schedule,
        cfg.seed
    );
    for epoch in state.epochs_done..cfg.epochs {
        let started = Instant::now();
        let lr = cfg.lr_schedule.rate(cfg.lr, epoch, cfg.epochs);
        adam.lr = lr;
        let kl_weight = if cfg.kl_warmup == 0 {
            1.0
        } else {
            ((epoch + 1) as f32 / cfg.kl_warmup as f32).min(1.0)
        };
        let mut order: Vec<usize> = (0..n).collect();
        order.shuffle(&mut rng_for(cfg.seed, Stream::Shuffle, epoch as u64));
        let mut noise = rng_for(cfg.seed, Stream::Noise, epoch as u64);
        let bar = ProgressBar::new(batches as u64);
        bar.set_style(
            ProgressStyle::with_template("epoch {prefix} [{bar:30}] {pos}/{len} {msg} ({eta})")
                .unwrap_or_else(|_| ProgressStyle::default_bar())
                .progress_chars("=> "),
        );
        bar.set_prefix(format!("{}/{}", epoch + 1, cfg.epochs));
        let (mut sum_bce, mut sum_kl, mut seen) = (0.0f64, 0.0f64, 0usize);
        for chunk in order.chunks(cfg.batch) {
            let b = chunk.len();
            let pixels = train.batch(chunk);
            let eps = dev.tensor_from_vec(
                normals(&mut noise, b * state.arch.latent),
                (b, state.arch.latent),
            );
            let qat = cfg.qat_from.is_some_and(|from| epoch >= from);
            // Straight-through: forward and backward through the rounded
            // decoder weights, then the float weights get the update.
            let float_weights = qat.then(|| fake_quantize_decoder(&mut vae, cfg.weight_bits));
            let labels = train.labels_of(chunk);
            let (loss, parts) = objective::loss(
                &vae,
                &pixels,
                &labels,
                &eps,
                kl_weight,
                OwnedTape::<f32, Dev>::default(),
            );
            if !parts.bce.is_finite() || !parts.kl.is_finite() {
                bail!(
                    "training diverged at epoch {} (loss is not finite); try a lower --lr",
                    epoch + 1
                );
            }
            let mut grads = loss.backward();
            if let Some(saved) = float_weights {
                for (layer, w) in vae.dec.iter_mut().zip(&saved) {
                    layer.w.copy_from(w);
                }
            }
            adam.step(&mut vae, &mut grads);
            sum_bce += parts.bce * b as f64;
            sum_kl += parts.kl * b as f64;
            seen += b;
            bar.set_message(format!("loss {:.2}", (sum_bce + sum_kl) / seen as f64));
            bar.inc(1);
        }
        bar.finish_and_clear();
        let seconds = started.elapsed().as_secs_f64();
        let test_nelbo = eval::nelbo(dev, &vae, req.test, cfg.seed, None)?
            .float
            .nelbo;
        let m = EpochMetrics {
            epoch: epoch + 1,
            train_nelbo: (sum_bce + sum_kl) / seen as f64,
            train_bce: sum_bce / seen as f64,
            train_kl: sum_kl / seen as f64,
            test_nelbo,
            lr,
            kl_weight,
            seconds,
        };
        eprintln!(
            "epoch {:>3}/{}: train -ELBO {:.3} (BCE {:.3} + KL {:.3}), test -ELBO {:.3}, {:.1} s",
            m.epoch, cfg.epochs, m.train_nelbo, m.train_bce, m.train_kl, m.test_nelbo, m.seconds
        );
        state.history.push(m);
        state.epochs_done = epoch + 1;
        state.adam_t = adam.t;
        state.training_seconds += seconds;
        checkpoint::save(&ckpt, &vae, &adam, &state)?;
        req.paths.write_metrics(&state.history)?;
    }
    Ok((vae, state))
}

/// The run of `req`, trained first when it has no finished checkpoint
/// (resumed when it has a partial one), saying which: a finished run is
/// never retrained.
pub fn ensure_trained(dev: &Dev, req: TrainRequest<'_>) -> Result<(Vae, RunState)> {
    let dir = req.paths.dir.clone();
    let existing = if req.paths.checkpoint().exists() {
        Some(checkpoint::load_run(dev, &req.paths)?)
    } else {
        None
    };
    match existing {
        Some((vae, state)) if state.epochs_done >= req.config.epochs => Ok((vae, state)),
        existing => {
            if let Some((_, state)) = &existing {
                eprintln!(
                    "Checkpoint in {} has {} of {} epochs: resuming training.",
                    dir.display(),
                    state.epochs_done,
                    req.config.epochs
                );
            } else {
                eprintln!(
                    "No checkpoint in {}: training `{}` first.",
                    dir.display(),
                    req.arch.name
                );
            }
            let start = if existing.is_some() {
                Start::Resume
            } else {
                Start::Fresh
            };
            train(dev, req, start)
        }
    }
}
