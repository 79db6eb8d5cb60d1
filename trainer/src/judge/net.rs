//! The judge's network (LeNet-like, see the module above), its training
//! with augmentation, its probabilities and its bytes.

use anyhow::{ensure, Context, Result};
use dfdx::prelude::*;
use rand::seq::SliceRandom;
use rand::Rng;

use super::{Image, CLASSES};
use crate::adam::Adam;
use crate::data::{Dataset, SIDE};
use crate::layers::{Dense, Dev, Mat};
use crate::rng::{rng_for, Stream};

/// Channels of the first convolution.
const CHANNELS: usize = 16;
/// Channels of the second convolution.
const CHANNELS2: usize = 32;
/// Kernel side.
const K: usize = 5;
/// Side of the first convolution's output (valid convolution).
const CONV: usize = SIDE - K + 1;
/// Side after the first 2x2 pooling.
const POOLED: usize = CONV / 2;
/// Side of the second convolution's output.
const CONV2: usize = POOLED - K + 1;
/// Side after the second pooling.
const POOLED2: usize = CONV2 / 2;
/// Hidden units of the dense layer: the judge's features.
const HIDDEN: usize = 128;
/// Features per image ([`Judge::features`]).
pub const FEATURES: usize = HIDDEN;
/// Epochs the cached judge is trained for.
pub const EPOCHS: usize = 6;
/// Factor on the learning rate after each epoch.
const LR_DECAY: f32 = 0.7;
/// Largest shift, in pixels, of a training image (augmentation).
const MAX_SHIFT: i32 = 1;
/// Hidden units of the multilayer perceptron's first layer.
const MLP_HIDDEN: usize = 512;

/// The judge's network.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum JudgeArch {
    /// The LeNet-like CNN above: the judge every choice is made by.
    #[default]
    LeNet,
    /// A multilayer perceptron, 784-512-128-10 (ReLU), on the pixels: the
    /// second judge, of another kind, never used for choosing.
    Mlp,
}

impl JudgeArch {
    /// The test accuracy a full-size training must reach for the judge to
    /// be used: 99.0% for the LeNet, 98.0% for the MLP (which tops out near
    /// 98.5% on MNIST; it reports figures, it does not choose).
    pub fn min_accuracy(self) -> f64 {
        match self {
            JudgeArch::LeNet => 0.99,
            JudgeArch::Mlp => 0.98,
        }
    }

    /// File magic of the cached weights.
    fn magic(self) -> &'static [u8; 8] {
        match self {
            JudgeArch::LeNet => b"JUDGE\0v2",
            JudgeArch::Mlp => b"JUDGEMv1",
        }
    }
}

/// The classifier's parameters: for [`JudgeArch::LeNet`] the two
/// convolutions, the hidden and the output layer; for [`JudgeArch::Mlp`]
/// two hidden layers and the output layer.
#[derive(Debug, Clone)]
pub struct Judge {
    arch: JudgeArch,
    layers: Vec<Dense>,
}

/// Image patches of a batch: per image, per pooled cell, per window cell,
/// the 25 pixels under the kernel, scaled to [0, 1].
fn patches(images: &[&Image]) -> Vec<f32> {
    let mut out = Vec::with_capacity(images.len() * CONV * CONV * K * K);
    for img in images {
        for py in 0..POOLED {
            for px in 0..POOLED {
                for (dy, dx) in [(0, 0), (0, 1), (1, 0), (1, 1)] {
                    let (y, x) = (2 * py + dy, 2 * px + dx);
                    for ky in 0..K {
                        for kx in 0..K {
                            let p = img.get((y + ky) * SIDE + x + kx).copied().unwrap_or(0);
                            out.push(f32::from(p) / 255.0);
                        }
                    }
                }
            }
        }
    }
    out
}

/// For the second convolution: per image, per pooled cell, per window
/// cell, per kernel position, the row of the first pooled map it reads.
fn second_patches(batch: usize) -> Vec<usize> {
    let mut out = Vec::with_capacity(batch * CONV2 * CONV2 * K * K);
    for b in 0..batch {
        for py in 0..POOLED2 {
            for px in 0..POOLED2 {
                for (dy, dx) in [(0, 0), (0, 1), (1, 0), (1, 1)] {
                    let (y, x) = (2 * py + dy, 2 * px + dx);
                    for ky in 0..K {
                        for kx in 0..K {
                            out.push(b * POOLED * POOLED + (y + ky) * POOLED + x + kx);
                        }
                    }
                }
            }
        }
    }
    out
}

impl Judge {
    /// A freshly initialised judge (the LeNet).
    pub fn new(dev: &Dev, seed: u64) -> Self {
        Judge::with_arch(dev, JudgeArch::LeNet, seed)
    }

    /// A freshly initialised judge of the network `arch`.
    pub fn with_arch(dev: &Dev, arch: JudgeArch, seed: u64) -> Self {
        let mut rng = rng_for(seed, Stream::JudgeInit, 0);
        let shapes: &[(usize, usize)] = match arch {
            JudgeArch::LeNet => &[
                (K * K, CHANNELS),
                (K * K * CHANNELS, CHANNELS2),
                (POOLED2 * POOLED2 * CHANNELS2, HIDDEN),
                (HIDDEN, CLASSES),
            ],
            JudgeArch::Mlp => &[
                (SIDE * SIDE, MLP_HIDDEN),
                (MLP_HIDDEN, HIDDEN),
                (HIDDEN, CLASSES),
            ],
        };
        Judge {
            arch,
            layers: shapes
                .iter()
                .map(|&(i, o)| Dense::new(dev, &mut rng, i, o))
                .collect(),
        }
    }

    /// The network.
    pub fn arch(&self) -> JudgeArch {
        self.arch
    }

    fn layers_mut(&mut self) -> Vec<&mut Dense> {
        self.layers.iter_mut().collect()
    }

    /// The network's input for a batch of images: the first convolution's
    /// patches (LeNet) or the pixels (MLP), scaled to [0, 1].
    fn input(&self, dev: &Dev, images: &[&Image]) -> Mat {
        match self.arch {
            JudgeArch::LeNet => {
                let rows = images.len() * CONV * CONV;
                dev.tensor_from_vec(patches(images), (rows, K * K))
            }
            JudgeArch::Mlp => {
                let px: Vec<f32> = images
                    .iter()
                    .flat_map(|i| i.iter().map(|&p| f32::from(p) / 255.0))
                    .collect();
                dev.tensor_from_vec(px, (images.len(), SIDE * SIDE))
            }
        }
    }

    /// The penultimate layer (after its ReLU) for a batch of images,
    /// given their input ([`Judge::input`]).
    fn features_of<T: Tape<f32, Dev> + Merge<NoneTape>>(
        &self,
        dev: &Dev,
        p: Mat<T>,
        batch: usize,
    ) -> Mat<T> {
        let [conv, conv2, hidden] = match (self.arch, self.layers.as_slice()) {
            (JudgeArch::LeNet, [a, b, c, _]) => [a, b, c],
            (_, [first, hidden, _]) => return hidden.forward(first.forward(p).relu()).relu(),
            _ => unreachable!("a judge has the layers of its network"),
        };
        let h = conv.forward(p).relu();
        let windows = batch * POOLED * POOLED;
        // Rows (image, y, x) of the 12 x 12 map, CHANNELS columns.
        let pooled = h
            .reshape_like(&(windows, 4, CHANNELS))
            .max::<(usize, usize), Axis<1>>();
        let idx = dev.tensor_from_vec(second_patches(batch), (batch * CONV2 * CONV2 * K * K,));
        let gathered: Mat<T> = pooled.gather(idx);
        let p2 = gathered.reshape_like(&(batch * CONV2 * CONV2, K * K * CHANNELS));
        let h2 = conv2.forward(p2).relu();
        let pooled2 = h2
            .reshape_like(&(batch * POOLED2 * POOLED2, 4, CHANNELS2))
            .max::<(usize, usize), Axis<1>>();
        let flat = pooled2.reshape_like(&(batch, POOLED2 * POOLED2 * CHANNELS2));
        hidden.forward(flat).relu()
    }

    /// Logits for a batch of images, given their patches.
    fn logits<T: Tape<f32, Dev> + Merge<NoneTape>>(
        &self,
        dev: &Dev,
        p: Mat<T>,
        batch: usize,
    ) -> Mat<T> {
        let out = self.layers.last().expect("a judge has layers");
        out.forward(self.features_of(dev, p, batch))
    }

    /// The penultimate layer's activations ([`FEATURES`] per image), the
    /// space the Fréchet distance and the nearest-neighbour figures
    /// measure in, row-major, in batches.
    pub fn features(&self, dev: &Dev, images: &[&Image]) -> Vec<f32> {
        let mut out = Vec::with_capacity(images.len() * FEATURES);
        for chunk in images.chunks(500) {
            let f = self.features_of(dev, self.input(dev, chunk), chunk.len());
            out.extend(f.as_vec());
        }
        out
    }

    /// Class probabilities (softmax) of each image, in batches.
    pub fn probabilities(&self, dev: &Dev, images: &[&Image]) -> Vec<[f32; CLASSES]> {
        let mut out = Vec::with_capacity(images.len());
        for chunk in images.chunks(500) {
            let logits = self.logits(dev, self.input(dev, chunk), chunk.len());
            push_softmax(&mut out, logits);
        }
        out
    }

    /// Features and class probabilities of each image from one pass of the
    /// network (the same values as [`Judge::features`] and
    /// [`Judge::probabilities`]).
    pub fn read(&self, dev: &Dev, images: &[&Image]) -> Reading {
        let mut reading = Reading {
            features: Vec::with_capacity(images.len() * FEATURES),
            probabilities: Vec::with_capacity(images.len()),
        };
        let out = self.layers.last().expect("a judge has layers");
        for chunk in images.chunks(500) {
            let f = self.features_of(dev, self.input(dev, chunk), chunk.len());
            reading.features.extend(f.as_vec());
            push_softmax(&mut reading.probabilities, out.forward(f));
        }
        reading
    }

    /// Top-1 accuracy on a labelled set.
    pub fn accuracy(&self, dev: &Dev, data: &Dataset) -> f64 {
        let images: Vec<&Image> = (0..data.len()).map(|i| data.image(i)).collect();
        let probs = self.probabilities(dev, &images);
        let right = probs
            .iter()
            .zip(&data.labels)
            .filter(|(p, &l)| top(p) == usize::from(l))
            .count();
        right as f64 / data.len().max(1) as f64
    }

    /// Trains a judge: Adam (lr 1e-3, times 0.7 after each epoch), batch 64,
    /// cross-entropy, each image shifted by up to one pixel in each
    /// direction (a seeded draw per image and epoch).
    pub fn train(dev: &Dev, train: &Dataset, epochs: usize, seed: u64) -> Judge {
        Judge::train_arch(dev, JudgeArch::LeNet, train, epochs, seed)
    }

    /// [`Judge::train`] for the network `arch`.
    pub fn train_arch(
        dev: &Dev,
        arch: JudgeArch,
        train: &Dataset,
        epochs: usize,
        seed: u64,
    ) -> Judge {
        let mut judge = Judge::with_arch(dev, arch, seed);
        let mut adam = Adam::for_layers(&judge.layers.iter().collect::<Vec<_>>(), 1e-3);
        for epoch in 0..epochs {
            adam.lr = 1e-3 * LR_DECAY.powi(epoch as i32);
            let mut order: Vec<usize> = (0..train.len()).collect();
            order.shuffle(&mut rng_for(seed, Stream::JudgeShuffle, epoch as u64));
            let (mut sum, mut seen) = (0.0f64, 0usize);
            let mut shifts = rng_for(seed, Stream::JudgeShift, epoch as u64);
            for chunk in order.chunks(64) {
                let shifted: Vec<Vec<u8>> = chunk
                    .iter()
                    .map(|&i| {
                        let (dy, dx) = (
                            shifts.gen_range(-MAX_SHIFT..=MAX_SHIFT),
                            shifts.gen_range(-MAX_SHIFT..=MAX_SHIFT),
                        );
                        shift(train.image(i), dy, dx)
                    })
                    .collect();
                let images: Vec<&Image> = shifted.iter().map(Vec::as_slice).collect();
                let p = judge.input(dev, &images);
                let mut onehot = vec![0.0f32; chunk.len() * CLASSES];
                for (r, &i) in chunk.iter().enumerate() {
                    onehot[r * CLASSES + usize::from(train.labels[i])] = 1.0;
                }
                let y = dev.tensor_from_vec(onehot, (chunk.len(), CLASSES));
                let logits = judge.logits(
                    dev,
                    p.put_tape(OwnedTape::<f32, Dev>::default()),
                    chunk.len(),
                );
                let loss = cross_entropy_with_logits_loss(logits, y);
                sum += f64::from(loss.array()) * chunk.len() as f64;
                seen += chunk.len();
                let mut grads = loss.backward();
                adam.step_layers(judge.layers_mut(), &mut grads);
            }
            eprintln!(
                "judge epoch {}/{epochs}: train cross-entropy {:.4}",
                epoch + 1,
                sum / seen as f64
            );
        }
        judge
    }

    /// The weights as bytes (magic, then per layer inputs, outputs as u32
    /// and the weights and biases as f32, all little-endian).
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = self.arch.magic().to_vec();
        for d in &self.layers {
            let (i, o) = d.shape();
            out.extend_from_slice(&(i as u32).to_le_bytes());
            out.extend_from_slice(&(o as u32).to_le_bytes());
            for v in d.w.as_vec().into_iter().chain(d.b.as_vec()) {
                out.extend_from_slice(&v.to_le_bytes());
            }
        }
        out
    }

    /// Reads weights written by [`Judge::to_bytes`].
    pub fn from_bytes(dev: &Dev, bytes: &[u8]) -> Result<Judge> {
        let arch = [JudgeArch::LeNet, JudgeArch::Mlp]
            .into_iter()
            .find(|a| bytes.starts_with(a.magic()))
            .context("not a judge weights file")?;
        let mut judge = Judge::with_arch(dev, arch, 0);
        let mut at = arch.magic().len();
        for d in judge.layers_mut() {
            let (i, o) = d.shape();
            let head = bytes.get(at..at + 8).context("judge weights truncated")?;
            let fi = u32::from_le_bytes([head[0], head[1], head[2], head[3]]) as usize;
            let fo = u32::from_le_bytes([head[4], head[5], head[6], head[7]]) as usize;
            ensure!(
                (fi, fo) == (i, o),
                "judge layer is {fi}x{fo}, expected {i}x{o}"
            );
            at += 8;
            let n = i * o + o;
            let data = bytes
                .get(at..at + 4 * n)
                .context("judge weights truncated")?;
            let v: Vec<f32> = data
                .chunks_exact(4)
                .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
                .collect();
            d.w.copy_from(&v[..i * o]);
            d.b.copy_from(&v[i * o..]);
            at += 4 * n;
        }
        ensure!(at == bytes.len(), "judge weights file has trailing bytes");
        Ok(judge)
    }
}

/// What the judge reads from a set of images.
pub struct Reading {
    /// [`FEATURES`] per image, row-major.
    pub features: Vec<f32>,
    /// Class probabilities per image.
    pub probabilities: Vec<[f32; CLASSES]>,
}

/// Appends the softmax of each row of `logits` to `out`.
fn push_softmax(out: &mut Vec<[f32; CLASSES]>, logits: Mat) {
    for row in logits.softmax::<Axis<1>>().as_vec().chunks_exact(CLASSES) {
        let mut a = [0.0; CLASSES];
        a.copy_from_slice(row);
        out.push(a);
    }
}

/// `img` moved by `dy` rows and `dx` columns, zeros shifted in.
fn shift(img: &Image, dy: i32, dx: i32) -> Vec<u8> {
    let side = SIDE as i32;
    let mut out = vec![0u8; SIDE * SIDE];
    for y in 0..side {
        for x in 0..side {
            let (sy, sx) = (y - dy, x - dx);
            if (0..side).contains(&sy) && (0..side).contains(&sx) {
                out[(y * side + x) as usize] = img[(sy * side + sx) as usize];
            }
        }
    }
    out
}

/// Index of the largest probability.
pub fn top(p: &[f32; CLASSES]) -> usize {
    (0..CLASSES)
        .max_by(|&a, &b| p[a].total_cmp(&p[b]))
        .unwrap_or(0)
}
