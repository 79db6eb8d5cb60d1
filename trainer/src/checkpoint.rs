//! Checkpoints: model parameters and Adam state in one safetensors file (the
//! format dfdx uses), with the run's state as JSON in its metadata. Written
//! atomically, so an interrupted save keeps the previous checkpoint.

use std::collections::HashMap;
use std::path::Path;

use ::safetensors::tensor::{Dtype as StDtype, SafeTensorError, SafeTensors, TensorView};
use anyhow::{bail, Context, Result};
use dfdx::prelude::*;
use serde::{Deserialize, Serialize};

use crate::adam::Adam;
use crate::arch::Arch;
use crate::layers::Dev;
use crate::vae::Vae;
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

fn f32_bytes(v: &[f32]) -> Vec<u8> {
    v.iter().flat_map(|x| x.to_le_bytes()).collect()
}

/// Saves `vae`, `adam` and `state` to `path` atomically.
pub fn save(path: &Path, vae: &Vae, adam: &Adam, state: &RunState) -> Result<()> {
    let mut owned: Vec<(String, Vec<usize>, Vec<u8>)> = Vec::new();
    for (name, w, b) in vae.named_params() {
        owned.push((
            format!("{name}.weight"),
            vec![w.shape().0, w.shape().1],
            f32_bytes(&w.as_vec()),
        ));
        owned.push((
            format!("{name}.bias"),
            vec![b.shape().0],
            f32_bytes(&b.as_vec()),
        ));
    }
    for (slot, (m, v)) in adam.m.iter().zip(&adam.v).enumerate() {
        owned.push((format!("adam.m.{slot:03}"), vec![m.len()], f32_bytes(m)));
        owned.push((format!("adam.v.{slot:03}"), vec![v.len()], f32_bytes(v)));
    }
    let views = owned
        .iter()
        .map(|(n, shape, data)| {
            Ok((
                n.clone(),
                TensorView::new(StDtype::F32, shape.clone(), data)?,
            ))
        })
        .collect::<Result<Vec<_>, SafeTensorError>>()?;
    let mut meta = HashMap::new();
    meta.insert("run_state".to_string(), serde_json::to_string(state)?);
    let bytes = ::safetensors::tensor::serialize(views, &Some(meta))?;
    Ok(write_atomic_creating_dirs(path, &bytes)?)
}

fn read_f32(st: &SafeTensors<'_>, name: &str, shape: &[usize], path: &Path) -> Result<Vec<f32>> {
    let t = st
        .tensor(name)
        .with_context(|| format!("{}: tensor `{name}` missing", path.display()))?;
    if t.dtype() != StDtype::F32 || t.shape() != shape {
        bail!(
            "{}: tensor `{name}` is {:?} {:?}, expected F32 {shape:?}",
            path.display(),
            t.dtype(),
            t.shape()
        );
    }
    Ok(t.data()
        .chunks_exact(4)
        .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
        .collect())
}

/// Loads a checkpoint written by [`save`].
pub fn load(path: &Path, dev: &Dev) -> Result<(Vae, Adam, RunState)> {
    let bytes =
        std::fs::read(path).with_context(|| format!("reading checkpoint {}", path.display()))?;
    let st = SafeTensors::deserialize(&bytes)
        .with_context(|| format!("{}: not a safetensors file", path.display()))?;
    let (_, meta) = SafeTensors::read_metadata(&bytes)?;
    let json = meta
        .metadata()
        .as_ref()
        .and_then(|m| m.get("run_state"))
        .with_context(|| format!("{}: no run_state metadata", path.display()))?;
    let state: RunState = serde_json::from_str(json)
        .with_context(|| format!("{}: unreadable run_state", path.display()))?;
    let mut rng = rand::rngs::mock::StepRng::new(0, 0);
    let mut vae = Vae::new(dev, &state.arch, &mut rng);
    let names: Vec<String> = vae
        .named_params()
        .iter()
        .map(|(n, _, _)| n.clone())
        .collect();
    for (name, layer) in names.iter().zip(vae.layers_mut()) {
        let (i, o) = layer.shape();
        layer
            .w
            .copy_from(&read_f32(&st, &format!("{name}.weight"), &[o, i], path)?);
        layer
            .b
            .copy_from(&read_f32(&st, &format!("{name}.bias"), &[o], path)?);
    }
    let mut adam = Adam::new(&vae, state.config.lr);
    adam.t = state.adam_t;
    for slot in 0..adam.m.len() {
        let n = adam.m[slot].len();
        adam.m[slot] = read_f32(&st, &format!("adam.m.{slot:03}"), &[n], path)?;
        adam.v[slot] = read_f32(&st, &format!("adam.v.{slot:03}"), &[n], path)?;
    }
    Ok((vae, adam, state))
}
