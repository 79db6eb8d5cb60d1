//! What several commands share: the run, training and prior options, the
//! model to judge or sample, and the judge's figures.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use clap::builder::TypedValueParser as _;
use clap::Args;

use super::Global;
use crate::arch::Arch;
use crate::data::{self, DatasetKind};
use crate::judge::JudgeArch;
use crate::latent_filter::{DrawingSpec, FilterSpec};
use crate::layers::Dev;
use crate::pixel_mask::MaskSpec;
use crate::prior::{Covariance, PriorSpec};
use crate::quantize;
use crate::run::{self, LrSchedule, RunPaths, TrainConfig};

#[derive(Debug, Args, Clone)]
pub(crate) struct RunArgs {
    /// Architecture: classic, mcu, or dec:LATENT-HIDDEN[-HIDDEN...]; a `+cond`
    /// suffix (e.g. `mcu+cond`) makes it a conditional VAE on the digit labels.
    #[arg(long, default_value = "mcu")]
    pub(super) arch: String,
    /// Run directory (default: runs/<arch name>).
    #[arg(long)]
    pub(super) run_dir: Option<PathBuf>,
}

#[derive(Debug, Args, Clone)]
pub(crate) struct TrainOpts {
    /// Epochs in total (default: 10 for classic, 50 otherwise).
    #[arg(long)]
    pub(super) epochs: Option<usize>,
    /// Images per batch.
    #[arg(long, default_value_t = 128, value_parser = clap::value_parser!(u32).range(1..=60000))]
    pub(super) batch: u32,
    /// Adam learning rate (default: 1e-3 for classic, as the PyTorch
    /// example, 2e-3 otherwise).
    #[arg(long)]
    pub(super) lr: Option<f32>,
    /// Learning-rate schedule (default: constant for classic, as the
    /// PyTorch example, cosine otherwise).
    #[arg(long, value_enum)]
    pub(super) lr_schedule: Option<LrSchedule>,
    /// Epochs of linear KL warm-up (0: none).
    #[arg(long, default_value_t = 0)]
    pub(super) kl_warmup: usize,
    /// Quantization-aware fine-tuning from this epoch on (0-based): the
    /// decoder trains through its rounded weights (straight-through).
    /// Default: the last 10 epochs, except for classic (none); pass the
    /// epoch count to train without it.
    #[arg(long)]
    pub(super) qat_from: Option<usize>,
    /// Bits per exported decoder weight: 8 (int8) or 4 (int4, two per byte;
    /// the model is named <arch>-int4).
    #[arg(long, default_value_t = 8, value_parser = clap::builder::PossibleValuesParser::new(["8", "4"]).map(|s| s.parse::<u8>().unwrap_or(8)))]
    pub(super) weight_bits: u8,
    /// Seed of everything random (initialisation, shuffling, noise).
    #[arg(long, default_value_t = 1)]
    pub(super) seed: u64,
    /// Use only the first N training images (for quick experiments).
    #[arg(long)]
    pub(super) limit_train: Option<usize>,
}

/// Which latent prior goes into the model file: `none`, or a covariance
/// model of [`Covariance`] (its variants are the accepted names).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct PriorKind(Option<Covariance>);

/// `none` or a [`Covariance`] name, checked while the flags are parsed.
fn parse_prior(s: &str) -> Result<PriorKind, String> {
    use clap::ValueEnum as _;
    if s == "none" {
        return Ok(PriorKind(None));
    }
    Covariance::from_str(s, false)
        .map(|c| PriorKind(Some(c)))
        .map_err(|_| {
            let names: Vec<String> = Covariance::value_variants()
                .iter()
                .filter_map(|v| v.to_possible_value())
                .map(|p| p.get_name().to_string())
                .collect();
            format!("`{s}` is not a prior; use none, {}", names.join(", "))
        })
}

#[derive(Debug, Args, Clone)]
pub(crate) struct PriorOpts {
    /// Latent prior written into the model (format version 3): a Gaussian
    /// mixture per class fitted to the encoder means with `diag` or `full`
    /// covariance per component, `tied` (one full covariance per class
    /// shared by its components; with `--prior-components` above 1),
    /// `standard` (N(0, I) for every class, for a conditional model), or
    /// `none` (the device draws from N(0, I); format version 2).
    #[arg(long, default_value = "tied", value_parser = parse_prior)]
    pub(super) prior: PriorKind,
    /// Gaussian components per class (k-means clusters).
    #[arg(long, default_value_t = PriorSpec::DEFAULT.components, value_parser = clap::value_parser!(u8).range(1..=8).map(usize::from))]
    pub(super) prior_components: usize,
    /// Factor on the prior's standard deviations (below 1: nearer the class
    /// centres), in (0, 4].
    #[arg(long, default_value_t = PriorSpec::DEFAULT.temperature, value_parser = parse_temperature)]
    pub(super) prior_temperature: f64,
    /// Factor on the decoder's logits when a device draws (format version
    /// 4; 1: the Bernoulli means), in (0, 16]. Scores (the ELBO) never use it.
    #[arg(long, default_value_t = DrawingSpec::DEFAULT.gain, value_parser = parse_gain)]
    pub(super) gain: f64,
    /// Latent filter (format version 4): a latent drawn for a class is
    /// kept when the filter's logit for that class leads every other by
    /// this many nats, else redrawn; `none` keeps every latent.
    #[arg(long, default_value = "3", value_parser = parse_margin)]
    pub(super) filter_margin: Margin,
    /// Hidden units of the latent filter.
    #[arg(long, default_value_t = 16, value_parser = clap::value_parser!(u8).range(1..=64).map(usize::from))]
    pub(super) filter_hidden: usize,
    /// Latents drawn at most per digit by the filter (the last is kept).
    #[arg(long, default_value_t = 16, value_parser = clap::value_parser!(u8).range(1..=64))]
    pub(super) filter_draws: u8,
    /// Latents per class the filter learns from (drawn from the file's
    /// prior, labelled by the judge).
    #[arg(long, default_value_t = 20_000, value_parser = clap::value_parser!(u32).range(100..=1_000_000).map(|v| v as usize))]
    pub(super) filter_latents: usize,
    /// Pixel mask (format version 6): the decoder computes only the pixels
    /// inked (grey >= 0.5) in at least this many of every 10,000 training
    /// digits, in (0, 10000]; the others are drawn with one constant logit.
    /// `none` computes every pixel.
    #[arg(long, default_value = "1", value_parser = parse_pixel_mask)]
    pub(super) pixel_mask: PixelMaskOpt,
}

/// A pixel mask threshold per 10,000 training digits, or none (no mask).
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct PixelMaskOpt(Option<f64>);

/// `none` or a count per 10,000 in (0, 10000], checked while the flags are parsed.
fn parse_pixel_mask(s: &str) -> Result<PixelMaskOpt, String> {
    if s == "none" {
        return Ok(PixelMaskOpt(None));
    }
    let n: f64 = s.parse().map_err(|_| {
        format!("`{s}` is not a pixel mask; use none or digits per 10,000 in (0, 10000]")
    })?;
    if n > 0.0 && n <= 10_000.0 {
        Ok(PixelMaskOpt(Some(n)))
    } else {
        Err(format!("{n} is outside (0, 10000]"))
    }
}

/// A filter margin in nats, or none (no filter).
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Margin(Option<f64>);

/// `none` or a margin in [0, 64] nats, checked while the flags are parsed.
fn parse_margin(s: &str) -> Result<Margin, String> {
    if s == "none" {
        return Ok(Margin(None));
    }
    let m: f64 = s
        .parse()
        .map_err(|_| format!("`{s}` is not a margin; use none or nats in [0, 64]"))?;
    if (0.0..=64.0).contains(&m) {
        Ok(Margin(Some(m)))
    } else {
        Err(format!("{m} is outside [0, 64]"))
    }
}

/// A logit gain in (0, 16], checked while the flags are parsed.
fn parse_gain(s: &str) -> Result<f64, String> {
    let g: f64 = s.parse().map_err(|_| format!("`{s}` is not a number"))?;
    if g > 0.0 && g <= 16.0 {
        Ok(g)
    } else {
        Err(format!("{g} is outside (0, 16]"))
    }
}

/// A temperature in (0, 4], checked while the flags are parsed, before any
/// data is loaded or any model trained.
fn parse_temperature(s: &str) -> Result<f64, String> {
    let t: f64 = s.parse().map_err(|_| format!("`{s}` is not a number"))?;
    if t > 0.0 && t <= 4.0 {
        Ok(t)
    } else {
        Err(format!("{t} is outside (0, 4]"))
    }
}

impl PriorOpts {
    /// The drawing section these flags ask for: `None` (a version-3 or 2
    /// file) for gain 1 without a filter. A filter needs a prior.
    pub(super) fn drawing(&self) -> Result<Option<DrawingSpec>> {
        let filter = self.filter_margin.0.map(|margin| FilterSpec {
            hidden: self.filter_hidden,
            margin,
            max_draws: self.filter_draws,
            latents_per_class: self.filter_latents,
        });
        anyhow::ensure!(
            filter.is_none() || self.prior.0.is_some(),
            "the latent filter judges latents drawn from the prior: with --prior none use --filter-margin none"
        );
        Ok(
            (filter.is_some() || self.gain != 1.0).then_some(DrawingSpec {
                gain: self.gain,
                filter,
            }),
        )
    }

    /// The pixel mask these flags ask for (`None`: every pixel computed).
    pub(super) fn mask(&self) -> Option<MaskSpec> {
        self.pixel_mask.0.map(|per_10000| MaskSpec { per_10000 })
    }

    pub(super) fn spec(&self) -> Result<Option<PriorSpec>> {
        let Some(covariance) = self.prior.0 else {
            return Ok(None);
        };
        Ok(Some(PriorSpec {
            components: self.prior_components,
            covariance,
            temperature: self.prior_temperature,
        }))
    }
}

impl RunArgs {
    /// The architecture; on Fashion-MNIST its name (and so its run
    /// directory and model files) gets a `-fashion` suffix, so the two
    /// datasets never overwrite each other's results.
    pub(super) fn arch(&self, dataset: DatasetKind) -> Result<Arch> {
        let mut arch = Arch::parse(&self.arch)?;
        if dataset == DatasetKind::Fashion {
            arch.name.push_str("-fashion");
        }
        Ok(arch)
    }
    pub(super) fn paths(&self, arch: &Arch) -> RunPaths {
        RunPaths {
            dir: self
                .run_dir
                .clone()
                .unwrap_or_else(|| crate::folders::run(&arch.name)),
        }
    }
}

impl TrainOpts {
    pub(super) fn config(
        &self,
        arch: &Arch,
        dataset: DatasetKind,
        train_len: usize,
    ) -> TrainConfig {
        let recipe = run::default_recipe(arch);
        let epochs = self.epochs.unwrap_or(recipe.epochs);
        let default_qat = (recipe.qat_epochs > 0).then(|| epochs.saturating_sub(recipe.qat_epochs));
        TrainConfig {
            epochs,
            batch: self.batch as usize,
            lr: self.lr.unwrap_or(recipe.lr),
            lr_schedule: self.lr_schedule.unwrap_or(recipe.schedule),
            kl_warmup: self.kl_warmup,
            seed: self.seed,
            dataset: format!("{dataset:?}").to_lowercase(),
            train_images: self.limit_train.unwrap_or(train_len).min(train_len),
            qat_from: self.qat_from.or(default_qat),
            weight_bits: self.weight_bits,
        }
    }
}

/// An exported model file, read with a clear error.
fn read_model_file(path: &Path) -> Result<Vec<u8>> {
    std::fs::read(path).with_context(|| format!("reading model file {}", path.display()))
}

/// The model a command draws from (`judge`, `sample`): an exported file,
/// or a run's decoder quantized with the chosen prior.
#[derive(Debug, Args, Clone)]
pub(crate) struct ModelSource {
    #[command(flatten)]
    pub(super) run: RunArgs,
    #[command(flatten)]
    pub(super) prior: PriorOpts,
    /// Use this exported model file instead of a run's (no training needed).
    #[arg(long)]
    pub(super) model: Option<PathBuf>,
}

impl ModelSource {
    /// The model file's bytes: the given file, or the run's decoder
    /// quantized with the chosen prior (the run must exist; its prior is
    /// fitted on `train_set`, loaded here when not given).
    pub(super) fn bytes(
        &self,
        dev: &Dev,
        global: &Global,
        train_set: Option<&data::Dataset>,
    ) -> Result<Vec<u8>> {
        if let Some(path) = &self.model {
            return read_model_file(path);
        }
        let arch = self.run.arch(global.dataset)?;
        let (vae, state) = crate::checkpoint::load_run(dev, &self.run.paths(&arch))?;
        let loaded;
        let train_set = match train_set {
            Some(t) => t,
            None => {
                loaded = global.load()?.0;
                &loaded
            }
        };
        quantize::quantized_file(
            dev,
            &vae,
            &state,
            train_set,
            self.prior.spec()?.as_ref(),
            self.prior.mask().as_ref(),
        )
    }
}

/// The digit judge, trained once and cached in `judge_dir` (or the
/// committed one in `models/` when it was trained on the same data).
pub(super) fn load_judge(
    dev: &Dev,
    judge_dir: &Path,
    train_set: &data::Dataset,
    test_set: &data::Dataset,
) -> Result<(crate::judge::Judge, crate::judge::JudgeCard)> {
    crate::judge::cached(
        dev,
        judge_dir,
        Some(&crate::folders::models()),
        train_set,
        test_set,
        JudgeArch::LeNet,
        1,
        crate::judge::EPOCHS,
    )
}

/// The second judge: another network ([`JudgeArch::Mlp`]) and seed (2),
/// cached in `runs/judge-second/`; it reports figures, it never chooses.
pub(super) fn load_second_judge(
    dev: &Dev,
    train_set: &data::Dataset,
    test_set: &data::Dataset,
) -> Result<(crate::judge::Judge, crate::judge::JudgeCard)> {
    crate::judge::cached(
        dev,
        &crate::folders::second_judge_cache(),
        None,
        train_set,
        test_set,
        JudgeArch::Mlp,
        2,
        crate::judge::EPOCHS,
    )
}
