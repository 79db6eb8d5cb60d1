//! The VAE in dfdx: runtime-sized dense layers, encoder q(z|x) = N(mu, diag
//! sigma^2) and Bernoulli decoder. Its objective (reparameterization, KL,
//! BCE, the negative ELBO and the importance-weighted bound) is in
//! `objective`.
//! A conditional model (`Arch::classes > 0`) also gets each image's label,
//! one-hot, beside the pixels and beside the latent.

use std::borrow::Cow;
use std::sync::Arc;

use dfdx::prelude::*;
use rand::Rng;

use crate::arch::Arch;
use crate::data::PIXELS;
use crate::layers::{push_one_hot, Dense, Dev, Mat, Vector};
use crate::sparse::{self, SparseRows};

/// Encoder and decoder parameters.
#[derive(Debug, Clone)]
pub struct Vae {
    /// Layer widths.
    pub arch: Arch,
    /// Encoder trunk (ReLU after each).
    pub enc: Vec<Dense>,
    /// Head for the posterior mean.
    pub mu: Dense,
    /// Head for the posterior log-variance.
    pub logvar: Dense,
    /// Decoder (ReLU after all but the last, which gives logits).
    pub dec: Vec<Dense>,
}

impl Vae {
    /// A freshly initialised model.
    pub fn new(dev: &Dev, arch: &Arch, rng: &mut impl Rng) -> Self {
        let enc = arch
            .encoder_shapes()
            .into_iter()
            .map(|(i, o)| Dense::new(dev, rng, i, o))
            .collect();
        let h = arch.head_input();
        let mu = Dense::new(dev, rng, h, arch.latent);
        let logvar = Dense::new(dev, rng, h, arch.latent);
        let dec = arch
            .decoder_shapes()
            .into_iter()
            .map(|(i, o)| Dense::new(dev, rng, i, o))
            .collect();
        Vae {
            arch: arch.clone(),
            enc,
            mu,
            logvar,
            dec,
        }
    }

    /// Every parameter tensor with a stable name, weights before biases.
    pub fn named_params(&self) -> Vec<(String, &Mat, &Vector)> {
        let mut out = Vec::new();
        for (i, d) in self.enc.iter().enumerate() {
            out.push((format!("enc.{i}"), &d.w, &d.b));
        }
        out.push(("mu".into(), &self.mu.w, &self.mu.b));
        out.push(("logvar".into(), &self.logvar.w, &self.logvar.b));
        for (i, d) in self.dec.iter().enumerate() {
            out.push((format!("dec.{i}"), &d.w, &d.b));
        }
        out
    }

    /// Mutable access to every layer, in [`Vae::named_params`] order.
    pub fn layers_mut(&mut self) -> Vec<&mut Dense> {
        let mut out: Vec<&mut Dense> = self.enc.iter_mut().collect();
        out.push(&mut self.mu);
        out.push(&mut self.logvar);
        out.extend(self.dec.iter_mut());
        out
    }

    /// Number of scalar parameters.
    pub fn num_params(&self) -> usize {
        self.named_params()
            .iter()
            .map(|(_, w, b)| w.shape().0 * w.shape().1 + b.shape().0)
            .sum()
    }

    /// Rows of `width` values, each followed by the one-hot code of its
    /// label when the model is conditional (one row per label; `width` 0
    /// gives the codes alone); the rows themselves, borrowed, otherwise.
    /// Labels outside `0..classes` give an all-zero code.
    pub fn with_labels<'r>(&self, rows: &'r [f32], width: usize, labels: &[u8]) -> Cow<'r, [f32]> {
        let classes = self.arch.classes;
        if classes == 0 {
            return Cow::Borrowed(rows);
        }
        assert_eq!(rows.len(), labels.len() * width, "one label per row");
        let mut out = Vec::with_capacity(labels.len() * (width + classes));
        for (r, &label) in labels.iter().enumerate() {
            out.extend_from_slice(&rows[r * width..(r + 1) * width]);
            push_one_hot(&mut out, label, classes);
        }
        Cow::Owned(out)
    }

    /// Posterior means and log-variances (row-major, `latent` wide) of the
    /// images `x` (grey levels, row-major) with labels `labels` (read only
    /// by a conditional model), without a tape.
    pub fn posterior(&self, x: &[f32], labels: &[u8]) -> (Vec<f32>, Vec<f32>) {
        let input = SparseRows::new(x, PIXELS, labels, self.arch.classes);
        let (mu, logvar) = self.encode(&Arc::new(input), NoneTape);
        (mu.as_vec(), logvar.as_vec())
    }

    /// Float Bernoulli logits (row-major, 784 wide) of the latents `z`
    /// (row-major, `latent` wide) with labels `labels` (read only by a
    /// conditional model), without a tape.
    pub fn logits(&self, dev: &Dev, z: &[f32], labels: &[u8]) -> Vec<f32> {
        let d = self.arch.latent;
        let input = self.with_labels(z, d, labels).into_owned();
        let rows = z.len() / d;
        self.decode(dev.tensor_from_vec(input, (rows, self.arch.decoder_inputs())))
            .as_vec()
    }

    /// Posterior mean and log-variance for a batch, with gradients recorded
    /// on `tape`. The first layer runs on the input's nonzeros only
    /// ([`sparse`]).
    pub fn encode<T: Tape<f32, Dev> + Merge<NoneTape>>(
        &self,
        x: &Arc<SparseRows>,
        tape: T,
    ) -> (Mat<T>, Mat<T>) {
        let mut layers = self.enc.iter();
        let mut h = match layers.next() {
            Some(first) => sparse::forward(first, x, tape).relu(),
            None => {
                let dev = self.mu.w.device();
                dev.tensor_from_vec(x.to_dense(), (x.rows(), x.width()))
                    .put_tape(tape)
            }
        };
        for layer in layers {
            h = layer.forward(h).relu();
        }
        let h2 = h.with_empty_tape();
        (self.mu.forward(h), self.logvar.forward(h2))
    }

    /// Bernoulli logits for a batch of latents.
    pub fn decode<T: Tape<f32, Dev> + Merge<NoneTape>>(&self, z: Mat<T>) -> Mat<T> {
        let last = self.dec.len() - 1;
        let mut h = z;
        for (i, layer) in self.dec.iter().enumerate() {
            h = layer.forward(h);
            if i != last {
                h = h.relu();
            }
        }
        h
    }
}
