//! Seeded random streams. Everything random in the trainer draws from
//! [`rng_for`] with its own [`Stream`], so runs reproduce from the seed and
//! resuming at any epoch boundary reproduces the uninterrupted run exactly.
//! The stream numbers are part of what a seed means: changing one changes
//! every model trained since.

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, StandardNormal};

/// What a random stream is for (its ChaCha stream id).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u64)]
pub enum Stream {
    /// The VAE's initial weights.
    Init = 0,
    /// The order of the training images, per epoch.
    Shuffle = 1,
    /// The reparameterization noise `eps` of training, per epoch.
    Noise = 2,
    /// The noise of the single-sample test -ELBO.
    EvalNelbo = 10,
    /// The noise of the importance-weighted bound.
    EvalIwae = 11,
    /// The latents that calibrate the quantizer's activation ranges.
    Calibration = 20,
    /// k-means initialisation of the class prior.
    KMeans = 40,
    /// The digit judge's initial weights.
    JudgeInit = 50,
    /// The order of the judge's training images, per epoch.
    JudgeShuffle = 51,
    /// The judge's ±1 pixel shifts, per epoch.
    JudgeShift = 52,
}

/// A seeded generator for one purpose (`stream`) of one epoch.
pub fn rng_for(seed: u64, stream: Stream, epoch: u64) -> ChaCha8Rng {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    rng.set_stream(stream as u64);
    rng.set_word_pos(u128::from(epoch) << 64);
    rng
}

/// Standard-normal f32 values.
pub fn normals(rng: &mut ChaCha8Rng, n: usize) -> Vec<f32> {
    (0..n).map(|_| StandardNormal.sample(rng)).collect()
}
