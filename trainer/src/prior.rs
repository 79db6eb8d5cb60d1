//! The class-aware latent prior: Gaussian mixtures fitted per class to the
//! encoder means of the training images, written into the model file
//! (format version 3) so a device can draw a requested digit, and draws
//! unconditionally from the mixture over classes (weighted by class
//! frequency) instead of N(0, I), whose outskirts the decoder never learned.
//!
//! The device keeps the reparameterization: it draws `eps ~ N(0, I)` and maps
//! it, `z = m_k + L_k eps`. `L_k` is the Cholesky factor of the component's
//! covariance times a temperature (below 1 draws nearer the class centre).

use anyhow::{ensure, Context, Result};
use rand::Rng;
use runtime::host::quantize_prior::{FloatClass, FloatComponent, FloatPrior};
use serde::{Deserialize, Serialize};

use crate::data::Dataset;
use crate::rng::{rng_for, Stream};
use crate::vae::Vae;

/// How the covariance of a component is modelled.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Covariance {
    /// A variance per latent dimension.
    Diag,
    /// The full covariance (Cholesky factor).
    Full,
    /// One full covariance per class, shared by its components: the pooled
    /// covariance of the class's clusters around their own means (each
    /// component keeps its mean). The file still stores one factor per
    /// component (format versions 3 and 4 have no shared factor).
    Tied,
    /// N(0, I) for every class, the VAE's own prior: useful for a
    /// conditional model, whose class is in the label it is given.
    Standard,
}

/// What prior to fit.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct PriorSpec {
    /// Gaussian components per class (k-means clusters of the class).
    pub components: usize,
    /// Covariance model.
    pub covariance: Covariance,
    /// Factor on the standard deviations (1: the fitted spread).
    pub temperature: f64,
}

impl PriorSpec {
    /// The prior `export` writes unless told otherwise: per class four
    /// Gaussians (k-means clusters of the class's encoder means) sharing the
    /// class's pooled covariance (one factor per class, format version 5),
    /// at temperature 1.1 (a little wider than the spread of the encoder
    /// means it is fitted to: the variety GAN-train asks for), whose
    /// off-class draws the latent filter
    /// ([`crate::latent_filter::DrawingSpec::DEFAULT`]) redraws. Chosen by
    /// the first judge and GAN-train among the priors that fit the 64 KB
    /// budget beside the default decoder and its pixel mask, checked by the
    /// second judge (see `docs/quality.md`, "Components that share their
    /// class's factor" and "Pixels the device does not compute").
    pub const DEFAULT: PriorSpec = PriorSpec {
        components: 4,
        covariance: Covariance::Tied,
        temperature: 1.1,
    };

    /// A short name, e.g. `full-k3-t0.7`.
    pub fn name(&self) -> String {
        let cov = match self.covariance {
            Covariance::Diag => "diag",
            Covariance::Full => "full",
            Covariance::Tied => "tied",
            Covariance::Standard => "standard",
        };
        format!("{cov}-k{}-t{}", self.components, self.temperature)
    }
}

/// Encoder means of every image of `data`, row-major (`len x latent`).
pub fn encoder_means(vae: &Vae, data: &Dataset) -> Vec<f32> {
    let mut out = Vec::with_capacity(data.len() * vae.arch.latent);
    let idx: Vec<usize> = (0..data.len()).collect();
    for chunk in idx.chunks(2000) {
        let (mu, _) = vae.posterior(&data.batch(chunk), &data.labels_of(chunk));
        out.extend(mu);
    }
    out
}

/// Mean and covariance (with a small ridge) of the rows `rows` of `z`.
fn gaussian(z: &[f32], d: usize, rows: &[usize]) -> (Vec<f64>, Vec<f64>) {
    let n = rows.len().max(1) as f64;
    let mut mean = vec![0.0; d];
    for &r in rows {
        for (m, &v) in mean.iter_mut().zip(&z[r * d..][..d]) {
            *m += f64::from(v) / n;
        }
    }
    let mut cov = vec![0.0; d * d];
    for &r in rows {
        let row = &z[r * d..][..d];
        for i in 0..d {
            let a = f64::from(row[i]) - mean[i];
            for j in 0..=i {
                cov[i * d + j] += a * (f64::from(row[j]) - mean[j]) / n;
            }
        }
    }
    for i in 0..d {
        for j in 0..i {
            cov[j * d + i] = cov[i * d + j];
        }
        cov[i * d + i] += 1e-4;
    }
    (mean, cov)
}

/// The pooled within-cluster covariance of `clusters` (rows of `z`): each
/// cluster's covariance around its own mean, weighted by its size.
fn pooled(z: &[f32], d: usize, clusters: &[Vec<usize>]) -> Vec<f64> {
    let total: usize = clusters.iter().map(Vec::len).sum();
    let mut out = vec![0.0; d * d];
    for members in clusters {
        let (_, cov) = gaussian(z, d, members);
        let share = members.len() as f64 / total.max(1) as f64;
        for (o, c) in out.iter_mut().zip(&cov) {
            *o += share * c;
        }
    }
    out
}

/// Lower Cholesky factor of a symmetric positive-definite matrix, packed
/// row by row (`d (d + 1) / 2` entries).
pub fn cholesky_packed(a: &[f64], d: usize) -> Result<Vec<f64>> {
    let mut l = vec![0.0; d * d];
    for i in 0..d {
        for j in 0..=i {
            let s: f64 = (0..j).map(|k| l[i * d + k] * l[j * d + k]).sum();
            if i == j {
                let v = a[i * d + i] - s;
                ensure!(v > 0.0, "covariance is not positive definite");
                l[i * d + i] = v.sqrt();
            } else {
                l[i * d + j] = (a[i * d + j] - s) / l[j * d + j];
            }
        }
    }
    Ok((0..d)
        .flat_map(|i| (0..=i).map(move |j| (i, j)))
        .map(|(i, j)| l[i * d + j])
        .collect())
}

/// k-means (k-means++ seeding, 25 Lloyd steps) of the rows `rows` of `z`;
/// the clusters as lists of rows (none empty).
fn kmeans(z: &[f32], d: usize, rows: &[usize], k: usize, rng: &mut impl Rng) -> Vec<Vec<usize>> {
    if k <= 1 || rows.len() <= k {
        return vec![rows.to_vec()];
    }
    let dist = |r: usize, c: &[f64]| -> f64 {
        z[r * d..][..d]
            .iter()
            .zip(c)
            .map(|(&v, &m)| (f64::from(v) - m).powi(2))
            .sum()
    };
    let point = |r: usize| -> Vec<f64> { z[r * d..][..d].iter().map(|&v| f64::from(v)).collect() };
    let mut centres = vec![point(rows[rng.gen_range(0..rows.len())])];
    while centres.len() < k {
        let d2: Vec<f64> = rows
            .iter()
            .map(|&r| {
                centres
                    .iter()
                    .map(|c| dist(r, c))
                    .fold(f64::INFINITY, f64::min)
            })
            .collect();
        let total: f64 = d2.iter().sum();
        let mut t = rng.gen::<f64>() * total;
        let mut pick = rows.len() - 1;
        for (i, w) in d2.iter().enumerate() {
            if t < *w {
                pick = i;
                break;
            }
            t -= w;
        }
        centres.push(point(rows[pick]));
    }
    let mut clusters = vec![Vec::new(); k];
    for _ in 0..25 {
        clusters = vec![Vec::new(); k];
        for &r in rows {
            let best = (0..k)
                .min_by(|&a, &b| dist(r, &centres[a]).total_cmp(&dist(r, &centres[b])))
                .unwrap_or(0);
            clusters[best].push(r);
        }
        for (c, members) in centres.iter_mut().zip(&clusters) {
            if !members.is_empty() {
                let (m, _) = gaussian(z, d, members);
                *c = m;
            }
        }
    }
    clusters.retain(|c| c.len() > d);
    if clusters.is_empty() {
        vec![rows.to_vec()]
    } else {
        clusters
    }
}

/// Fits the prior to the encoder means `z` (`labels.len() x d`) of the
/// training images, one class per label value 0..=9 present.
pub fn fit(z: &[f32], labels: &[u8], d: usize, spec: &PriorSpec, seed: u64) -> Result<FloatPrior> {
    ensure!(z.len() == labels.len() * d, "means and labels disagree");
    ensure!(
        spec.components >= 1 && spec.components <= runtime::format::MAX_COMPONENTS,
        "components per class must be 1 to {}",
        runtime::format::MAX_COMPONENTS
    );
    ensure!(
        spec.temperature > 0.0 && spec.temperature.is_finite(),
        "temperature must be positive"
    );
    let mut rng = rng_for(seed, Stream::KMeans, 0);
    let mut classes = Vec::new();
    for label in 0..=9u8 {
        let rows: Vec<usize> = (0..labels.len()).filter(|&i| labels[i] == label).collect();
        if rows.is_empty() {
            continue;
        }
        let mut components = Vec::new();
        let clusters = match spec.covariance {
            Covariance::Standard => vec![rows.clone()],
            _ => kmeans(z, d, &rows, spec.components, &mut rng),
        };
        let tied = (spec.covariance == Covariance::Tied).then(|| pooled(z, d, &clusters));
        for members in clusters {
            let (mut mean, mut cov) = gaussian(z, d, &members);
            if let Some(tied) = &tied {
                cov.clone_from(tied);
            }
            if spec.covariance == Covariance::Standard {
                mean = vec![0.0; d];
                cov = (0..d * d)
                    .map(|i| f64::from(u8::from(i % (d + 1) == 0)))
                    .collect();
            }
            if spec.covariance == Covariance::Diag {
                for i in 0..d {
                    for j in 0..d {
                        if i != j {
                            cov[i * d + j] = 0.0;
                        }
                    }
                }
            }
            let scale = cholesky_packed(&cov, d)
                .with_context(|| format!("class {label}"))?
                .into_iter()
                .map(|l| l * spec.temperature)
                .collect();
            components.push(FloatComponent {
                weight: members.len() as f64,
                mean,
                scale,
            });
        }
        classes.push(FloatClass {
            label: label.to_string(),
            weight: rows.len() as f64,
            components,
        });
    }
    ensure!(!classes.is_empty(), "no labelled images to fit a prior to");
    Ok(FloatPrior { classes })
}

/// The prior of a conditional model, whose decoder takes `classes` one-hot
/// label values after the `d` latent values: every component of class `c`
/// gets the one-hot code of `c` appended to its mean, with no spread (the
/// scale factor's new rows and columns are zero). Drawing class `c` then
/// feeds the decoder its label, exactly as in training.
pub fn condition(prior: FloatPrior, d: usize, classes: usize) -> Result<FloatPrior> {
    let mut out = prior;
    for class in &mut out.classes {
        let label: usize = class
            .label
            .parse()
            .ok()
            .filter(|&l| l < classes)
            .with_context(|| format!("class label `{}` is not a digit", class.label))?;
        for comp in &mut class.components {
            ensure!(comp.mean.len() == d, "component mean is not {d} wide");
            comp.mean
                .extend((0..classes).map(|c| f64::from(u8::from(c == label))));
            // Rows d.. of the packed lower triangle: all zero.
            let n = d + classes;
            comp.scale.resize(n * (n + 1) / 2, 0.0);
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    /// Two classes in 2-d, each two tight blobs 10 apart along x, with
    /// uniform noise of half-width 1 (variance 1/3) on both axes.
    fn blobs() -> (Vec<f32>, Vec<u8>) {
        let mut rng = rand::rngs::StdRng::seed_from_u64(7);
        let (mut z, mut labels) = (Vec::new(), Vec::new());
        for label in 0..2u8 {
            for i in 0..400 {
                let centre = if i % 2 == 0 { -5.0 } else { 5.0 };
                z.push(centre + rng.gen_range(-1.0..1.0f32));
                z.push(f32::from(label) * 20.0 + rng.gen_range(-1.0..1.0f32));
                labels.push(label);
            }
        }
        (z, labels)
    }

    #[test]
    fn tied_components_share_the_within_cluster_factor() {
        let (z, labels) = blobs();
        let spec = |covariance, components| PriorSpec {
            components,
            covariance,
            temperature: 1.0,
        };
        let tied = fit(&z, &labels, 2, &spec(Covariance::Tied, 2), 1).unwrap();
        let full = fit(&z, &labels, 2, &spec(Covariance::Full, 1), 1).unwrap();
        for (t, f) in tied.classes.iter().zip(&full.classes) {
            assert_eq!(t.components.len(), 2);
            let [a, b] = [&t.components[0], &t.components[1]];
            assert_eq!(a.scale, b.scale, "class {}: one factor", t.label);
            assert!(
                (a.mean[0] - b.mean[0]).abs() > 9.0,
                "the blobs are the means"
            );
            // Within a blob x varies by 1/3; across the class by 25 + 1/3.
            let x_var = a.scale[0] * a.scale[0];
            assert!((x_var - 1.0 / 3.0).abs() < 0.05, "tied x variance {x_var}");
            let class_var = f.components[0].scale[0].powi(2);
            assert!(
                class_var > 20.0,
                "one Gaussian spans both blobs: {class_var}"
            );
        }
    }
}
