//! What the judge says of a set of images: requested digit drawn,
//! confidence, class histogram, inception score, within-class distance.

use serde::{Deserialize, Serialize};

use super::{top, Judge};
use super::{Image, CLASSES};
use crate::data::Dataset;
use crate::layers::Dev;

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

/// [`score`] of `images` (with the judge's probabilities `probs`), with
/// [`Report::within_class_distance`] filled in.
pub(super) fn score_images(
    images: &[&Image],
    probs: &[[f32; CLASSES]],
    requested: Option<&[usize]>,
) -> Report {
    let mut r = score(probs, requested);
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
    score_images(&images, &judge.probabilities(dev, &images), Some(&labels))
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
        // Unconditional draws have no requested class: no share to print.
        let requested = if per.is_empty() {
            String::new()
        } else {
            format!(
                "requested drawn {:.2}% (per class {}), ",
                100.0 * self.requested_drawn,
                per.join(" ")
            )
        };
        format!(
            "{requested}confident {:.2}%, inception score {:.3}, within-class distance {:.4}, histogram % [{}]",
            100.0 * self.confident,
            self.inception_score,
            self.within_class_distance,
            hist.join(" ")
        )
    }
}
