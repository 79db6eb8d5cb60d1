//! The digit judge: a small convolutional classifier trained with dfdx on
//! the MNIST training set, cached under `runs/judge/`, that scores drawn
//! digits the way a person would: is it the digit that was asked for, is it
//! clearly any digit at all, and are all ten digits drawn.
//!
//! Network (LeNet-like): 5x5 convolution, 16 channels -> ReLU -> 2x2 max
//! pool -> 5x5 convolution, 32 channels -> ReLU -> 2x2 max pool -> dense
//! 512-128 -> ReLU -> dense 128-10. Each convolution is a matrix product
//! over patches (the image's are cut on the host; the second layer's are
//! gathered from the first layer's output on the tape, so gradients flow).
//! Patches are ordered so the four cells of each pooling window are
//! adjacent rows, which makes the pool a reshape and a max.

use std::path::Path;

use anyhow::{bail, ensure, Context, Result};
use dfdx::prelude::*;
use rand::seq::SliceRandom;
use rand::Rng;
use serde::{Deserialize, Serialize};

use crate::adam::Adam;
use crate::data::{Dataset, SIDE};
use crate::layers::{Dense, Dev, Mat};
use crate::rng::{rng_for, Stream};
use runtime::host::atomic_file::write_atomic_creating_dirs;

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
/// Hidden units of the dense layer.
const HIDDEN: usize = 128;
pub use crate::data::CLASSES;
/// A judged image: grey levels, row-major, 28 x 28.
pub type Image = [u8];
/// Epochs the cached judge is trained for.
pub const EPOCHS: usize = 6;
/// Factor on the learning rate after each epoch.
const LR_DECAY: f32 = 0.7;
/// Largest shift, in pixels, of a training image (augmentation).
const MAX_SHIFT: i32 = 1;
/// File magic of the cached weights.
const MAGIC: &[u8; 8] = b"JUDGE\0v2";

/// The classifier's parameters.
#[derive(Debug, Clone)]
pub struct Judge {
    conv: Dense,
    conv2: Dense,
    hidden: Dense,
    out: Dense,
}

/// How the judge was trained and how well it does (saved beside it).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct JudgeCard {
    /// Seed of initialisation and shuffling.
    pub seed: u64,
    /// Epochs over the training set.
    pub epochs: usize,
    /// Top-1 accuracy on the test set.
    pub test_accuracy: f64,
    /// Seconds of training.
    pub training_seconds: f64,
    /// Fingerprint of the training set it learned from (see [`fingerprint`]).
    pub data_fingerprint: String,
}

/// FNV-1a over the labels and pixels of a data set, with its size: a cached
/// judge is only reused for the data it was trained on.
pub fn fingerprint(data: &Dataset) -> String {
    let h = data
        .labels
        .iter()
        .chain(&data.pixels)
        .fold(0xcbf2_9ce4_8422_2325u64, |h, &b| {
            (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3)
        });
    format!("{}:{h:016x}", data.len())
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
    /// A freshly initialised judge.
    pub fn new(dev: &Dev, seed: u64) -> Self {
        let mut rng = rng_for(seed, Stream::JudgeInit, 0);
        Judge {
            conv: Dense::new(dev, &mut rng, K * K, CHANNELS),
            conv2: Dense::new(dev, &mut rng, K * K * CHANNELS, CHANNELS2),
            hidden: Dense::new(dev, &mut rng, POOLED2 * POOLED2 * CHANNELS2, HIDDEN),
            out: Dense::new(dev, &mut rng, HIDDEN, CLASSES),
        }
    }

    fn layers_mut(&mut self) -> Vec<&mut Dense> {
        vec![
            &mut self.conv,
            &mut self.conv2,
            &mut self.hidden,
            &mut self.out,
        ]
    }

    /// Logits for a batch of images, given their patches.
    fn logits<T: Tape<f32, Dev> + Merge<NoneTape>>(
        &self,
        dev: &Dev,
        p: Mat<T>,
        batch: usize,
    ) -> Mat<T> {
        let h = self.conv.forward(p).relu();
        let windows = batch * POOLED * POOLED;
        // Rows (image, y, x) of the 12 x 12 map, CHANNELS columns.
        let pooled = h
            .reshape_like(&(windows, 4, CHANNELS))
            .max::<(usize, usize), Axis<1>>();
        let idx = dev.tensor_from_vec(second_patches(batch), (batch * CONV2 * CONV2 * K * K,));
        let gathered: Mat<T> = pooled.gather(idx);
        let p2 = gathered.reshape_like(&(batch * CONV2 * CONV2, K * K * CHANNELS));
        let h2 = self.conv2.forward(p2).relu();
        let pooled2 = h2
            .reshape_like(&(batch * POOLED2 * POOLED2, 4, CHANNELS2))
            .max::<(usize, usize), Axis<1>>();
        let flat = pooled2.reshape_like(&(batch, POOLED2 * POOLED2 * CHANNELS2));
        self.out.forward(self.hidden.forward(flat).relu())
    }

    /// Class probabilities (softmax) of each image, in batches.
    pub fn probabilities(&self, dev: &Dev, images: &[&Image]) -> Vec<[f32; CLASSES]> {
        let mut out = Vec::with_capacity(images.len());
        for chunk in images.chunks(500) {
            let p = patches(chunk);
            let rows = chunk.len() * CONV * CONV;
            let logits = self.logits(dev, dev.tensor_from_vec(p, (rows, K * K)), chunk.len());
            let probs = logits.softmax::<Axis<1>>().as_vec();
            for row in probs.chunks_exact(CLASSES) {
                let mut a = [0.0; CLASSES];
                a.copy_from_slice(row);
                out.push(a);
            }
        }
        out
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
        let mut judge = Judge::new(dev, seed);
        let mut adam = Adam::for_layers(
            &[&judge.conv, &judge.conv2, &judge.hidden, &judge.out],
            1e-3,
        );
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
                let rows = chunk.len() * CONV * CONV;
                let p = dev.tensor_from_vec(patches(&images), (rows, K * K));
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
        let mut out = MAGIC.to_vec();
        for d in [&self.conv, &self.conv2, &self.hidden, &self.out] {
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
        ensure!(bytes.starts_with(MAGIC), "not a judge weights file");
        let mut judge = Judge::new(dev, 0);
        let mut at = MAGIC.len();
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

/// The judge saved in `dir` as `judge.bin` and `judge.json`, if it was made
/// with this seed, epoch count and training set and reads back whole.
fn load_matching(
    dev: &Dev,
    dir: &Path,
    seed: u64,
    epochs: usize,
    fingerprint: &str,
) -> Option<(Judge, JudgeCard)> {
    let card = std::fs::read(dir.join("judge.json")).ok()?;
    let card: JudgeCard = serde_json::from_slice(&card).ok()?;
    if card.seed != seed || card.epochs != epochs || card.data_fingerprint != fingerprint {
        return None;
    }
    let judge = Judge::from_bytes(dev, &std::fs::read(dir.join("judge.bin")).ok()?).ok()?;
    Some((judge, card))
}

/// The judge cached in `dir` (`judge.bin`, `judge.json`) or, failing that,
/// the one committed in `committed` (`models/`), trained first
/// (and saved atomically) when missing or made with another seed, epoch
/// count or training set. Fails if it scores under 99.0% on a full-size
/// (10,000-image) test set; smaller sets (tests) are not held to that.
pub fn cached(
    dev: &Dev,
    dir: &Path,
    committed: Option<&Path>,
    train: &Dataset,
    test: &Dataset,
    seed: u64,
    epochs: usize,
) -> Result<(Judge, JudgeCard)> {
    let fp = fingerprint(train);
    // The run's cache first, then the judge committed with the models (the
    // one the published figures were measured with); a cache that is
    // unreadable, damaged or made differently is not used.
    for place in std::iter::once(dir).chain(committed) {
        if let Some(found) = load_matching(dev, place, seed, epochs, &fp) {
            return Ok(found);
        }
    }
    eprintln!(
        "Training the digit judge ({epochs} epochs, seed {seed}); cached in {}",
        dir.display()
    );
    let started = std::time::Instant::now();
    let judge = Judge::train(dev, train, epochs, seed);
    let card = JudgeCard {
        seed,
        epochs,
        test_accuracy: judge.accuracy(dev, test),
        training_seconds: started.elapsed().as_secs_f64(),
        data_fingerprint: fingerprint(train),
    };
    eprintln!("judge test accuracy {:.2}%", 100.0 * card.test_accuracy);
    if card.test_accuracy < 0.99 && test.len() >= 10_000 {
        bail!(
            "the judge reaches only {:.2}% test accuracy (needs 99.0%)",
            100.0 * card.test_accuracy
        );
    }
    write_atomic_creating_dirs(&dir.join("judge.bin"), &judge.to_bytes())?;
    write_atomic_creating_dirs(
        &dir.join("judge.json"),
        serde_json::to_string_pretty(&card)?.as_bytes(),
    )?;
    Ok((judge, card))
}

/// What the judge says of a set of digits.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Report {
    /// Digits judged.
    pub images: usize,
    /// Per class, the share of digits requested as that class that the
    /// judge classifies as it (for a labelled set: per-class accuracy).
    /// Empty when nothing was requested.
    pub requested_drawn_per_class: Vec<f64>,
    /// Mean of `requested_drawn_per_class` (0 when empty).
    pub requested_drawn: f64,
    /// Share of digits whose top class has probability above 0.9.
    pub confident: f64,
    /// Share of digits per top class.
    pub histogram: Vec<f64>,
    /// MNIST inception score, `exp(E[KL(p(y|x) || p(y))])` (10 at best).
    pub inception_score: f64,
    /// Variety within a class: the mean RMS pixel distance (grey levels
    /// scaled to [0, 1]) between two digits of the same class (requested,
    /// labelled, or else the judge's top class), over up to 100 per class.
    /// A prior drawn too near its class centres scores low here.
    pub within_class_distance: f64,
}

/// See [`Report::within_class_distance`].
pub fn within_class_distance(images: &[&Image], classes: &[usize]) -> f64 {
    let mut sum = 0.0;
    let mut pairs = 0usize;
    for k in 0..CLASSES {
        let members: Vec<&Image> = images
            .iter()
            .zip(classes)
            .filter(|(_, &c)| c == k)
            .map(|(i, _)| *i)
            .take(100)
            .collect();
        for (i, a) in members.iter().enumerate() {
            for b in &members[i + 1..] {
                let sq: f64 = a
                    .iter()
                    .zip(b.iter())
                    .map(|(&x, &y)| ((f64::from(x) - f64::from(y)) / 255.0).powi(2))
                    .sum();
                sum += (sq / a.len().max(1) as f64).sqrt();
                pairs += 1;
            }
        }
    }
    sum / pairs.max(1) as f64
}

/// Judges digits; `requested[i]` is the class digit `i` was drawn as, if any.
pub fn score(probs: &[[f32; CLASSES]], requested: Option<&[usize]>) -> Report {
    let n = probs.len().max(1) as f64;
    let mut marginal = [0.0f64; CLASSES];
    let mut histogram = vec![0.0; CLASSES];
    let mut confident = 0usize;
    for p in probs {
        for (m, &v) in marginal.iter_mut().zip(p) {
            *m += f64::from(v) / n;
        }
        histogram[top(p)] += 1.0 / n;
        if p[top(p)] > 0.9 {
            confident += 1;
        }
    }
    let kl: f64 = probs
        .iter()
        .map(|p| {
            p.iter()
                .zip(&marginal)
                .filter(|(&v, _)| v > 0.0)
                .map(|(&v, &m)| f64::from(v) * (f64::from(v).ln() - m.max(1e-30).ln()))
                .sum::<f64>()
        })
        .sum::<f64>()
        / n;
    let mut per_class = Vec::new();
    if let Some(req) = requested {
        let mut hits = [0usize; CLASSES];
        let mut asked = [0usize; CLASSES];
        for (p, &k) in probs.iter().zip(req) {
            if k < CLASSES {
                asked[k] += 1;
                if top(p) == k {
                    hits[k] += 1;
                }
            }
        }
        per_class = (0..CLASSES)
            .filter(|&k| asked[k] > 0)
            .map(|k| hits[k] as f64 / asked[k] as f64)
            .collect();
    }
    let requested_drawn = if per_class.is_empty() {
        0.0
    } else {
        per_class.iter().sum::<f64>() / per_class.len() as f64
    };
    Report {
        images: probs.len(),
        requested_drawn_per_class: per_class,
        requested_drawn,
        confident: confident as f64 / n,
        histogram,
        inception_score: kl.exp(),
        within_class_distance: 0.0,
    }
}

/// [`score`] with [`Report::within_class_distance`] filled in.
fn score_images(
    judge: &Judge,
    dev: &Dev,
    images: &[&Image],
    requested: Option<&[usize]>,
) -> Report {
    let probs = judge.probabilities(dev, images);
    let mut r = score(&probs, requested);
    let classes: Vec<usize> = match requested {
        Some(req) => req.to_vec(),
        None => probs.iter().map(top).collect(),
    };
    r.within_class_distance = within_class_distance(images, &classes);
    r
}

/// The judge's figures on a labelled set of real digits (the yardstick).
pub fn score_dataset(judge: &Judge, dev: &Dev, data: &Dataset) -> Report {
    let images: Vec<&Image> = (0..data.len()).map(|i| data.image(i)).collect();
    let labels: Vec<usize> = data.labels.iter().map(|&l| usize::from(l)).collect();
    score_images(judge, dev, &images, Some(&labels))
}

impl Report {
    /// One line of figures.
    pub fn line(&self) -> String {
        let per: Vec<String> = self
            .requested_drawn_per_class
            .iter()
            .map(|v| format!("{:.1}", 100.0 * v))
            .collect();
        let hist: Vec<String> = self
            .histogram
            .iter()
            .map(|v| format!("{:.1}", 100.0 * v))
            .collect();
        format!(
            "requested drawn {:.2}% (per class {}), confident {:.2}%, inception score {:.3}, within-class distance {:.4}, histogram % [{}]",
            100.0 * self.requested_drawn,
            if per.is_empty() { "-".into() } else { per.join(" ") },
            100.0 * self.confident,
            self.inception_score,
            self.within_class_distance,
            hist.join(" ")
        )
    }
}

/// The judge's verdict on a model, with the real test set beside it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Judged {
    /// The judge used.
    pub judge: JudgeCard,
    /// Seed of the draws (`LatentSampler::new(seed)`, as a device).
    pub seed: u64,
    /// Digits drawn per requested class (and unconditionally, in all).
    pub draws_per_class: usize,
    /// Digits drawn on request, class by class (`None` without a prior).
    pub requested: Option<Report>,
    /// Digits drawn unconditionally (the prior's mixture, or N(0, I)).
    pub unconditional: Report,
    /// The real test images, for comparison.
    pub test_set: Report,
}

/// Draws digits exactly as a device does (the runtime's sampler and integer
/// decoder) and judges them: `per_class` per class on request (when the
/// model has a prior) and `10 * per_class` unconditionally.
pub fn judge_model(
    judge: &Judge,
    card: &JudgeCard,
    dev: &Dev,
    model: &runtime::Model<'_>,
    test: &Dataset,
    seed: u64,
    per_class: usize,
) -> Result<Judged> {
    let requested = match model.prior() {
        Some(prior) => {
            let mut digits = Vec::new();
            let mut asked = Vec::new();
            for k in 0..prior.classes() {
                let label: usize = prior
                    .label(k)
                    .and_then(|l| l.parse().ok())
                    .filter(|&l| l < CLASSES)
                    .with_context(|| format!("prior class {k} is not a digit label"))?;
                digits.extend(crate::draw::device_samples(
                    model,
                    seed.wrapping_add(k as u64),
                    per_class,
                    Some(k),
                )?);
                asked.extend(std::iter::repeat_n(label, per_class));
            }
            let images: Vec<&Image> = digits.iter().map(Vec::as_slice).collect();
            Some(score_images(judge, dev, &images, Some(&asked)))
        }
        None => None,
    };
    let digits = crate::draw::device_samples(model, seed, CLASSES * per_class, None)?;
    let images: Vec<&Image> = digits.iter().map(Vec::as_slice).collect();
    Ok(Judged {
        judge: card.clone(),
        seed,
        draws_per_class: per_class,
        requested,
        unconditional: score_images(judge, dev, &images, None),
        test_set: score_dataset(judge, dev, test),
    })
}

impl Judged {
    /// The figures as printed lines.
    pub fn lines(&self) -> String {
        let mut s = format!(
            "judge: test accuracy {:.2}% ({} epochs, seed {})\n",
            100.0 * self.judge.test_accuracy,
            self.judge.epochs,
            self.judge.seed
        );
        if let Some(r) = &self.requested {
            s += &format!(
                "requested ({} per class): {}\n",
                self.draws_per_class,
                r.line()
            );
        }
        s += &format!(
            "unconditional ({}): {}\n",
            self.unconditional.images,
            self.unconditional.line()
        );
        s += &format!(
            "real test set ({}): {}\n",
            self.test_set.images,
            self.test_set.line()
        );
        s
    }
}
