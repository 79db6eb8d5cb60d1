//! Checkpoints: model parameters and Adam state in one safetensors file (the
//! format dfdx uses), with the run's state as JSON in its metadata. Written
//! atomically, so an interrupted save keeps the previous checkpoint.

use std::collections::HashMap;
use std::path::Path;

use ::safetensors::tensor::{Dtype as StDtype, SafeTensorError, SafeTensors, TensorView};
use anyhow::{bail, Context, Result};
use dfdx::prelude::*;

use crate::adam::Adam;
use crate::layers::Dev;
use crate::run::{RunPaths, RunState};
use crate::vae::Vae;
use runtime::host::atomic_file::write_atomic_creating_dirs;

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

/// Reads a finished or partial run's model and record (without Adam's state).
pub fn load_run(dev: &Dev, paths: &RunPaths) -> Result<(Vae, RunState)> {
    let (vae, _, state) = load(&paths.checkpoint(), dev)?;
    Ok((vae, state))
}
