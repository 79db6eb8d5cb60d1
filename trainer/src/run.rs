//! A run's record: how it trains (config, schedule, default recipe), what
//! it has done (state, per-epoch metrics), and where its files live. The
//! checkpoint module saves and loads this record with the weights.

use std::path::PathBuf;

use anyhow::Result;
use serde::{Deserialize, Serialize};

use crate::arch::Arch;
use runtime::host::atomic_file::write_atomic_creating_dirs;

/// How a run trains (fixed when it starts; `--resume` keeps it).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrainConfig {
    /// Epochs to train in total.
    pub epochs: usize,
    /// Images per batch.
    pub batch: usize,
    /// Peak learning rate.
    pub lr: f32,
    /// Learning-rate schedule.
    pub lr_schedule: LrSchedule,
    /// Epochs over which the KL weight rises linearly from 0 to 1 (0: none).
    pub kl_warmup: usize,
    /// Seed of everything random.
    pub seed: u64,
    /// Dataset name.
    pub dataset: String,
    /// Training images used (60,000 for the full set).
    pub train_images: usize,
    /// From this epoch on (0-based), quantization-aware fine-tuning: the
    /// decoder's forward and backward passes use its weights rounded to
    /// the export's per-channel int8 grid, and the gradients update the
    /// float weights (straight-through estimator). `None`: float training.
    #[serde(default)]
    pub qat_from: Option<usize>,
    /// Bits per decoder weight in the exported model (8 or 4); also the grid
    /// quantization-aware fine-tuning rounds to.
    #[serde(default = "int8")]
    pub weight_bits: u8,
}

fn int8() -> u8 {
    8
}

/// Learning-rate schedules.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "kebab-case")]
pub enum LrSchedule {
    /// The same rate throughout.
    Constant,
    /// Cosine decay from the peak to 1% of it over the run.
    Cosine,
}

impl LrSchedule {
    /// The rate for `epoch` (0-based) of `epochs`.
    pub fn rate(self, peak: f32, epoch: usize, epochs: usize) -> f32 {
        match self {
            LrSchedule::Constant => peak,
            LrSchedule::Cosine => {
                let t = epoch as f32 / epochs.max(1) as f32;
                let floor = 0.01 * peak;
                floor + (peak - floor) * 0.5 * (1.0 + (std::f32::consts::PI * t).cos())
            }
        }
    }
}

/// Metrics of one epoch.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EpochMetrics {
    /// 1-based epoch number.
    pub epoch: usize,
    /// Mean training negative ELBO (nats/image) over the epoch's batches.
    pub train_nelbo: f64,
    /// Its BCE part.
    pub train_bce: f64,
    /// Its KL part.
    pub train_kl: f64,
    /// Test negative ELBO (single sample, float model) after the epoch.
    pub test_nelbo: f64,
    /// Learning rate used.
    pub lr: f32,
    /// KL weight used.
    pub kl_weight: f32,
    /// Wall-clock seconds of the epoch (training only).
    pub seconds: f64,
}

/// Everything besides tensors that a run needs to continue.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunState {
    /// Layer widths.
    pub arch: Arch,
    /// Training settings.
    pub config: TrainConfig,
    /// Epochs completed.
    pub epochs_done: usize,
    /// Adam's step count.
    pub adam_t: u64,
    /// Metrics of every completed epoch.
    pub history: Vec<EpochMetrics>,
    /// Total training wall-clock seconds.
    pub training_seconds: f64,
    /// Trainer version that wrote the checkpoint.
    pub trainer_version: String,
}

/// How an architecture trains when the command line does not say.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Recipe {
    /// Epochs in total.
    pub epochs: usize,
    /// Learning-rate schedule.
    pub schedule: LrSchedule,
    /// Adam's (peak) learning rate.
    pub lr: f32,
    /// Final epochs trained through the rounded decoder weights
    /// (quantization-aware fine-tuning; 0: none).
    pub qat_epochs: usize,
}

/// The default recipe: the PyTorch example's for its `classic` model (10
/// epochs, Adam 1e-3 constant, no QAT); for the others (the exported
/// microcontroller models) 50 epochs of Adam 2e-3 with cosine decay, the
/// last 10 quantization-aware. Measured on the default `mcu` model over 60
/// epochs: 2e-3 reached 103.32 nats quantized where 1e-3 reached 104.29
/// (both with the last 10 epochs QAT; 104.32 for 1e-3 without QAT) and 3e-3
/// trailed both by epoch 30. 50 epochs keep `export` within five minutes
/// from a fresh clone on a slow day of a 2-core machine.
pub fn default_recipe(arch: &Arch) -> Recipe {
    if arch.is_classic() {
        Recipe {
            epochs: 10,
            schedule: LrSchedule::Constant,
            lr: 1e-3,
            qat_epochs: 0,
        }
    } else {
        Recipe {
            epochs: 50,
            schedule: LrSchedule::Cosine,
            lr: 2e-3,
            qat_epochs: 10,
        }
    }
}

/// Paths of a run's files.
#[derive(Debug, Clone)]
pub struct RunPaths {
    /// The run directory.
    pub dir: PathBuf,
}

impl From<PathBuf> for RunPaths {
    fn from(dir: PathBuf) -> Self {
        RunPaths { dir }
    }
}

impl RunPaths {
    /// The checkpoint.
    pub fn checkpoint(&self) -> PathBuf {
        self.dir.join("checkpoint.safetensors")
    }
    /// Per-epoch metrics as CSV.
    pub fn metrics_csv(&self) -> PathBuf {
        self.dir.join("metrics.csv")
    }
    /// Per-epoch metrics as JSON.
    pub fn metrics_json(&self) -> PathBuf {
        self.dir.join("metrics.json")
    }
    /// Writes the per-epoch metrics (CSV and JSON), atomically.
    pub fn write_metrics(&self, history: &[EpochMetrics]) -> Result<()> {
        let mut csv =
            String::from("epoch,train_nelbo,train_bce,train_kl,test_nelbo,lr,kl_weight,seconds\n");
        for m in history {
            csv.push_str(&format!(
                "{},{:.4},{:.4},{:.4},{:.4},{:e},{:.4},{:.2}\n",
                m.epoch,
                m.train_nelbo,
                m.train_bce,
                m.train_kl,
                m.test_nelbo,
                m.lr,
                m.kl_weight,
                m.seconds
            ));
        }
        write_atomic_creating_dirs(&self.metrics_csv(), csv.as_bytes())?;
        Ok(write_atomic_creating_dirs(
            &self.metrics_json(),
            serde_json::to_string_pretty(history)?.as_bytes(),
        )?)
    }
}

/// How `train` treats a checkpoint already in the run's folder.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Start {
    /// Start a new run; refuse if the folder holds a checkpoint.
    Fresh,
    /// Continue from the checkpoint (a new run if there is none).
    Resume,
    /// Start a new run, replacing any checkpoint.
    Overwrite,
}
