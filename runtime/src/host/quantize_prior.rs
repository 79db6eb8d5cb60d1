//! Host-side (`std` feature): the float latent prior a trainer fits, and its
//! conversion to the integer prior section of a model file (version 3 and
//! later).
#![allow(clippy::indexing_slicing, clippy::cast_possible_truncation)]

use std::string::String;
use std::vec::Vec;

use crate::format::{ClassPrior, Prior, MAX_CLASSES};
use crate::prior::{triangle_len, MAX_MEAN_BITS, MAX_SCALE_BITS};

/// One Gaussian `N(mean, L L^T)` of a class mixture, in real latent units.
#[derive(Debug, Clone, PartialEq)]
pub struct FloatComponent {
    /// Relative weight within the class (positive).
    pub weight: f64,
    /// `latent_dim` means.
    pub mean: Vec<f64>,
    /// Lower triangle of `L`, row by row (`latent_dim (latent_dim + 1) / 2`).
    pub scale: Vec<f64>,
}

/// One class of a float prior.
#[derive(Debug, Clone, PartialEq)]
pub struct FloatClass {
    /// Label, e.g. `"7"`.
    pub label: String,
    /// Relative weight in unconditional draws (class frequency).
    pub weight: f64,
    /// The mixture components.
    pub components: Vec<FloatComponent>,
}

/// A float prior: per class a Gaussian mixture in the latent space.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct FloatPrior {
    /// The classes in order.
    pub classes: Vec<FloatClass>,
}

/// The integer prior section, owning its arrays; [`OwnedPrior::view`]
/// borrows it as the format's [`Prior`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OwnedPrior {
    classes: Vec<OwnedClass>,
    /// The postcard encoding of [`OwnedPrior::view`], which a model borrows.
    encoded: Vec<u8>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct OwnedClass {
    label: String,
    weight: u16,
    component_weights: Vec<u8>,
    mean_bits: Vec<u8>,
    scale_bits: Vec<u8>,
    means: Vec<u8>,
    scales: Vec<u8>,
}

/// Integer weights proportional to `w`, the largest 65,535, none below 1.
fn integer_weights(w: &[f64]) -> Vec<u16> {
    let max = w.iter().copied().fold(0.0f64, f64::max);
    w.iter()
        .map(|&v| {
            if max > 0.0 && v.is_finite() && v > 0.0 {
                ((v / max) * 65535.0).round().clamp(1.0, 65535.0) as u16
            } else {
                1
            }
        })
        .collect()
}

/// The most fractional bits `b <= max` with every `round(v * 2^b)` in
/// `[-127, 127]` (0 if even that overflows: values are then saturated).
fn frac_bits(values: &[f64], max: u8) -> u8 {
    let fits = |b: u8| {
        values
            .iter()
            .all(|&v| (v * f64::from(1u32 << b)).round().abs() <= 127.0)
    };
    (0..=max).rev().find(|&b| fits(b)).unwrap_or(0)
}

/// `round(v * 2^b)` saturated to i8, as a byte.
fn to_i8(v: f64, b: u8) -> u8 {
    (v * f64::from(1u32 << b)).round().clamp(-127.0, 127.0) as i8 as u8
}

impl FloatPrior {
    /// Rounds the prior to the file's integers: weights scaled so the
    /// largest is 65,535; each component's means and `L` as i8 with the most
    /// fractional bits that keep every entry in `[-127, 127]` (halves away
    /// from zero). A class whose components round to the same `L` (a tied
    /// covariance) stores it once, which makes the file version 5 (or 6). `None`
    /// if it has more classes than the format allows, a component of the
    /// wrong size, or a non-finite value.
    pub fn quantize(&self, latent_dim: usize) -> Option<OwnedPrior> {
        if self.classes.is_empty() || self.classes.len() > MAX_CLASSES {
            return None;
        }
        let tri = triangle_len(latent_dim);
        let class_w = integer_weights(&self.classes.iter().map(|c| c.weight).collect::<Vec<_>>());
        let mut classes = Vec::new();
        for (c, &weight) in self.classes.iter().zip(&class_w) {
            let mut owned = OwnedClass {
                label: c.label.clone(),
                weight,
                component_weights: Vec::new(),
                mean_bits: Vec::new(),
                scale_bits: Vec::new(),
                means: Vec::new(),
                scales: Vec::new(),
            };
            let cw = integer_weights(&c.components.iter().map(|k| k.weight).collect::<Vec<_>>());
            for (k, w) in c.components.iter().zip(cw) {
                let finite = k.mean.iter().chain(&k.scale).all(|v| v.is_finite());
                if k.mean.len() != latent_dim || k.scale.len() != tri || !finite {
                    return None;
                }
                owned.component_weights.extend_from_slice(&w.to_le_bytes());
                let a = frac_bits(&k.mean, MAX_MEAN_BITS);
                owned.mean_bits.push(a);
                owned.means.extend(k.mean.iter().map(|&m| to_i8(m, a)));
                let b = frac_bits(&k.scale, MAX_SCALE_BITS);
                owned.scale_bits.push(b);
                owned.scales.extend(k.scale.iter().map(|&l| to_i8(l, b)));
            }
            // Components with one factor (a tied covariance) store it once:
            // format version 5 (or 6).
            let first = owned.scales.get(..tri).unwrap_or(&[]).to_vec();
            let n = owned.scale_bits.len();
            if n > 1 && owned.scales.chunks(tri.max(1)).all(|t| t == first) {
                owned.scales = first;
            }
            classes.push(owned);
        }
        let mut owned = OwnedPrior {
            classes,
            encoded: Vec::new(),
        };
        let encoded = postcard::to_allocvec(&owned.view()).ok()?;
        owned.encoded = encoded;
        Some(owned)
    }
}

impl OwnedPrior {
    /// The prior as the format's borrowed type.
    pub fn view(&self) -> Prior<'_> {
        let mut classes = heapless::Vec::new();
        for c in &self.classes {
            // At most MAX_CLASSES classes were built.
            let _ = classes.push(ClassPrior {
                label: &c.label,
                weight: c.weight,
                component_weights: &c.component_weights,
                mean_bits: &c.mean_bits,
                scale_bits: &c.scale_bits,
                means: &c.means,
                scales: &c.scales,
            });
        }
        Prior { classes }
    }

    /// The postcard encoding of the prior (class count, then the classes):
    /// what [`crate::Model::from_parts`] takes.
    pub fn encoded(&self) -> &[u8] {
        &self.encoded
    }

    /// Bytes of the prior's arrays (weights, bits, means, scales, labels).
    pub fn array_bytes(&self) -> usize {
        self.classes
            .iter()
            .map(|c| {
                c.label.len()
                    + 2
                    + c.component_weights.len()
                    + c.mean_bits.len()
                    + c.scale_bits.len()
                    + c.means.len()
                    + c.scales.len()
            })
            .sum()
    }
}
