//! Digits drawn exactly as a device draws them: the runtime's
//! `LatentSampler` and integer decoder, run on the host. The model card's
//! grids, the judge and `trainer sample` all draw through here.

use anyhow::{Context, Result};
use runtime::{Decoder, Digit, LatentSampler, Model};

/// Scratch capacity of the runtime decoder used on the host (wide enough
/// for every layer the trainer builds; a device uses the board's own).
pub const HOST_SCRATCH: usize = 4096;

/// `n` digits exactly as a device draws them: `LatentSampler::new(seed)`,
/// one latent after another ([`LatentSampler::draw`]: from the model's prior
/// for `class`, or unconditionally with `None`), through the integer decoder.
pub fn device_samples(
    model: &Model<'_>,
    seed: u64,
    n: usize,
    class: Option<usize>,
) -> Result<Vec<Vec<u8>>> {
    let mut decoder = Decoder::<HOST_SCRATCH>::new(model)?;
    let mut sampler = LatentSampler::new(seed);
    let mut digit = Digit::new();
    (0..n)
        .map(|_| {
            decoder.decode(&sampler.draw(model, class), &mut digit)?;
            Ok(digit.pixels().to_vec())
        })
        .collect()
}

/// The grid of requested digits: row `k` holds `per_row` draws of class `k`
/// (`LatentSampler::new(seed + k)`), for every class of the model's prior.
pub fn digit_rows(model: &Model<'_>, seed: u64, per_row: usize) -> Result<Vec<Vec<u8>>> {
    let classes = model
        .prior()
        .map(|p| p.classes())
        .context("the model has no class prior, so no digit can be requested")?;
    let mut out = Vec::new();
    for k in 0..classes {
        out.extend(device_samples(
            model,
            seed.wrapping_add(k as u64),
            per_row,
            Some(k),
        )?);
    }
    Ok(out)
}
