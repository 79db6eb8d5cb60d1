//! Fidelity and variety of a set of digits against real ones, in the
//! judge's penultimate features: the Fréchet distance (the FID recipe with
//! this judge in place of Inception), precision and recall (Kynkäänniemi et
//! al. 2019, k = 3), density and coverage (Naeem et al. 2020, k = 5); and
//! two pixel figures: the share of mid-grey pixels (sharpness) and the
//! distance to the nearest training image (copying).
//!
//! Every figure comes with the same figure for real digits (training digits
//! against the test digits), because what a number means depends on the
//! features: the pair is what to read.

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use dfdx::prelude::*;

use super::Image;
use crate::data::{Dataset, PIXELS};
use crate::layers::{Dev, Mat};

/// Neighbours for precision and recall.
pub const K_PR: usize = 3;
/// Neighbours for density and coverage.
pub const K_DC: usize = 5;
/// Digits compared with the whole training set for the copying figure.
pub const NEAREST_QUERIES: usize = 1000;

/// What one set of digits scores against the real test digits.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Default)]
pub struct Fidelity {
    /// Digits measured.
    pub images: usize,
    /// Fréchet distance between the two feature distributions (Gaussians
    /// fitted to each): lower is closer, 0 for identical statistics.
    pub frechet: f64,
    /// Share of the digits inside the real digits' k-NN manifold (k = 3):
    /// how many look real.
    pub precision: f64,
    /// Share of the real digits inside these digits' k-NN manifold (k = 3):
    /// how much of real handwriting they cover.
    pub recall: f64,
    /// Mean count of real k-NN balls (k = 5) a digit falls in, over k: 1
    /// for a set drawn like the real one.
    pub density: f64,
    /// Share of real digits whose k-NN ball (k = 5) holds one of these.
    pub coverage: f64,
    /// Share of pixels that are mid-grey (0.2 < p < 0.8): blur shows here.
    pub mid_grey: f64,
    /// Mean distance (L2, grey levels scaled to [0, 1]) from a digit to its
    /// nearest training image, over the first [`NEAREST_QUERIES`] digits: a
    /// model that copies its training digits scores below real test digits.
    pub nearest_train: f64,
}

/// The real digits every set is measured against, with what each
/// measurement needs of them computed once: their features' mean and
/// covariance, and their k-NN radii (k = 3 and k = 5).
pub struct Reference {
    features: Vec<f32>,
    dim: usize,
    mean: Vec<f64>,
    cov: Vec<f64>,
    radius_pr: Vec<f32>,
    radius_dc: Vec<f32>,
}

impl Reference {
    /// The reference of the real digits with judge features `features`
    /// (`dim` per digit).
    pub fn new(dev: &Dev, features: Vec<f32>, dim: usize) -> Reference {
        let (mean, cov) = mean_cov(&features, dim);
        let mut radii = kth_radii(dev, &features, dim, &[K_PR, K_DC]).into_iter();
        let radius_pr = radii.next().unwrap_or_default();
        let radius_dc = radii.next().unwrap_or_default();
        Reference {
            features,
            dim,
            mean,
            cov,
            radius_pr,
            radius_dc,
        }
    }

    /// Fréchet distance between `features`' Gaussian and the reference's.
    pub fn frechet(&self, features: &[f32]) -> f64 {
        let (m, s) = mean_cov(features, self.dim);
        frechet_of(&m, &s, &self.mean, &self.cov, self.dim)
    }
}

/// Measures `images` (with their judge features `features`) against the
/// real digits of `reference`; the copying figure is that of `queries` (the
/// first [`NEAREST_QUERIES`] of the digits it stands for) against `train`.
pub fn measure(
    dev: &Dev,
    images: &[&Image],
    features: &[f32],
    reference: &Reference,
    queries: &[&Image],
    train: &Dataset,
) -> Fidelity {
    let m = manifold(dev, reference, features);
    Fidelity {
        images: images.len(),
        frechet: reference.frechet(features),
        precision: m.precision,
        recall: m.recall,
        density: m.density,
        coverage: m.coverage,
        mid_grey: mid_grey(images),
        nearest_train: nearest_train(dev, &queries[..queries.len().min(NEAREST_QUERIES)], train),
    }
}

/// Share of pixels with 0.2 < p < 0.8 (grey levels 52 ..= 203).
pub fn mid_grey(images: &[&Image]) -> f64 {
    let mid: usize = images
        .iter()
        .map(|i| i.iter().filter(|&&p| p > 51 && p < 204).count())
        .sum();
    let all: usize = images.iter().map(|i| i.len()).sum();
    mid as f64 / all.max(1) as f64
}

/// Mean distance from each image to its nearest image in `train`.
pub fn nearest_train(dev: &Dev, images: &[&Image], train: &Dataset) -> f64 {
    let scaled = |img: &Image| {
        img.iter()
            .map(|&p| f32::from(p) / 255.0)
            .collect::<Vec<f32>>()
    };
    let queries: Vec<f32> = images.iter().flat_map(|i| scaled(i)).collect();
    let mut best = vec![f32::INFINITY; images.len()];
    // The training set a slice at a time, so no block outgrows 50 MB.
    let rows: Vec<usize> = (0..train.len()).collect();
    for part in rows.chunks(10_000) {
        let reference: Vec<f32> = part.iter().flat_map(|&t| scaled(train.image(t))).collect();
        for_each_row(dev, &queries, &reference, PIXELS, |i, d| {
            let m = d.iter().copied().fold(f32::INFINITY, f32::min);
            best[i] = best[i].min(m);
        });
    }
    let total: f64 = best.iter().map(|&d| f64::from(d.max(0.0)).sqrt()).sum();
    total / images.len().max(1) as f64
}

/// Calls `f(i, d)` for each row `i` of `a` (`dim` wide) with `d` its
/// squared distances to every row of `b`, computed a block of rows at a
/// time as `|a|^2 + |b|^2 - 2 a.b` (the product by gemm).
fn for_each_row(dev: &Dev, a: &[f32], b: &[f32], dim: usize, mut f: impl FnMut(usize, &[f32])) {
    let n = b.len() / dim;
    if n == 0 {
        return;
    }
    let norm = |x: &[f32]| {
        x.chunks_exact(dim)
            .map(|r| r.iter().map(|v| v * v).sum())
            .collect::<Vec<f32>>()
    };
    let (na, nb) = (norm(a), norm(b));
    let bt: Mat = dev.tensor_from_vec(b.to_vec(), (n, dim));
    let block = (2_000_000 / n).clamp(1, 4096);
    for (k, rows) in a.chunks(block * dim).enumerate() {
        let m = rows.len() / dim;
        let at: Mat = dev.tensor_from_vec(rows.to_vec(), (m, dim));
        let dots = at
            .matmul(bt.clone().permute::<(usize, usize), Axes2<1, 0>>())
            .as_vec();
        let mut d = vec![0.0f32; n];
        for (r, dot_row) in dots.chunks_exact(n).enumerate() {
            let i = k * block + r;
            for ((out, &dot), &q) in d.iter_mut().zip(dot_row).zip(&nb) {
                *out = na[i] + q - 2.0 * dot;
            }
            f(i, &d);
        }
    }
}

/// Mean and covariance (row-major, `dim` x `dim`) of the rows of `x`.
fn mean_cov(x: &[f32], dim: usize) -> (Vec<f64>, Vec<f64>) {
    let n = x.len() / dim.max(1);
    let mut mean = vec![0.0; dim];
    for row in x.chunks_exact(dim) {
        for (m, &v) in mean.iter_mut().zip(row) {
            *m += f64::from(v);
        }
    }
    mean.iter_mut().for_each(|m| *m /= n.max(1) as f64);
    let cov: Vec<f64> = (0..dim * dim)
        .into_par_iter()
        .map(|ij| {
            let (i, j) = (ij / dim, ij % dim);
            let s: f64 = x
                .chunks_exact(dim)
                .map(|r| (f64::from(r[i]) - mean[i]) * (f64::from(r[j]) - mean[j]))
                .sum();
            s / (n.max(2) - 1) as f64
        })
        .collect();
    (mean, cov)
}

/// Eigenvalues and eigenvectors (columns of the returned matrix) of the
/// symmetric `dim` x `dim` matrix `a`, by cyclic Jacobi rotations.
pub fn symmetric_eigen(a: &[f64], dim: usize) -> (Vec<f64>, Vec<f64>) {
    let mut a = a.to_vec();
    let mut v: Vec<f64> = (0..dim * dim)
        .map(|i| f64::from(u8::from(i % (dim + 1) == 0)))
        .collect();
    for _sweep in 0..100 {
        let off: f64 = (0..dim)
            .flat_map(|i| (0..dim).filter(move |&j| j != i).map(move |j| (i, j)))
            .map(|(i, j)| a[i * dim + j] * a[i * dim + j])
            .sum();
        let scale: f64 = (0..dim).map(|i| a[i * dim + i].powi(2)).sum::<f64>();
        if off <= 1e-22 * scale.max(f64::MIN_POSITIVE) {
            break;
        }
        for p in 0..dim {
            for q in p + 1..dim {
                let apq = a[p * dim + q];
                if apq == 0.0 {
                    continue;
                }
                let theta = (a[q * dim + q] - a[p * dim + p]) / (2.0 * apq);
                let t = theta.signum() / (theta.abs() + (theta * theta + 1.0).sqrt());
                let t = if theta == 0.0 { 1.0 } else { t };
                let c = 1.0 / (t * t + 1.0).sqrt();
                let s = t * c;
                for k in 0..dim {
                    let (akp, akq) = (a[k * dim + p], a[k * dim + q]);
                    a[k * dim + p] = c * akp - s * akq;
                    a[k * dim + q] = s * akp + c * akq;
                }
                for k in 0..dim {
                    let (apk, aqk) = (a[p * dim + k], a[q * dim + k]);
                    a[p * dim + k] = c * apk - s * aqk;
                    a[q * dim + k] = s * apk + c * aqk;
                }
                for k in 0..dim {
                    let (vkp, vkq) = (v[k * dim + p], v[k * dim + q]);
                    v[k * dim + p] = c * vkp - s * vkq;
                    v[k * dim + q] = s * vkp + c * vkq;
                }
            }
        }
    }
    ((0..dim).map(|i| a[i * dim + i]).collect(), v)
}

/// `a * b` for `dim` x `dim` row-major matrices.
fn matmul(a: &[f64], b: &[f64], dim: usize) -> Vec<f64> {
    (0..dim * dim)
        .into_par_iter()
        .map(|ij| {
            let (i, j) = (ij / dim, ij % dim);
            (0..dim).map(|k| a[i * dim + k] * b[k * dim + j]).sum()
        })
        .collect()
}

/// Fréchet distance between Gaussians fitted to the rows of `a` and `b`:
/// `|m_a - m_b|^2 + tr(S_a) + tr(S_b) - 2 tr((S_a^1/2 S_b S_a^1/2)^1/2)`.
pub fn frechet(a: &[f32], b: &[f32], dim: usize) -> f64 {
    let (ma, sa) = mean_cov(a, dim);
    let (mb, sb) = mean_cov(b, dim);
    frechet_of(&ma, &sa, &mb, &sb, dim)
}

/// [`frechet`] of two Gaussians given by their means and covariances.
fn frechet_of(ma: &[f64], sa: &[f64], mb: &[f64], sb: &[f64], dim: usize) -> f64 {
    let (lam, vec) = symmetric_eigen(sa, dim);
    // S_a^1/2 = V diag(sqrt(lambda)) V^T.
    let root: Vec<f64> = (0..dim * dim)
        .map(|ij| {
            let (i, j) = (ij / dim, ij % dim);
            (0..dim)
                .map(|k| vec[i * dim + k] * lam[k].max(0.0).sqrt() * vec[j * dim + k])
                .sum()
        })
        .collect();
    let m = matmul(&matmul(&root, sb, dim), &root, dim);
    let (mu, _) = symmetric_eigen(&m, dim);
    let cross: f64 = mu.iter().map(|&x| x.max(0.0).sqrt()).sum();
    let trace = |s: &[f64]| (0..dim).map(|i| s[i * dim + i]).sum::<f64>();
    let mean_sq: f64 = ma.iter().zip(mb).map(|(x, y)| (x - y).powi(2)).sum();
    (mean_sq + trace(sa) + trace(sb) - 2.0 * cross).max(0.0)
}

/// For each `k` of `ks`, the squared distance from each row of `x` to its
/// `k`-th nearest other row (one pass over the distances for all of them).
fn kth_radii(dev: &Dev, x: &[f32], dim: usize, ks: &[usize]) -> Vec<Vec<f32>> {
    let rows = x.len() / dim.max(1);
    let most = ks.iter().copied().max().unwrap_or(1).max(1);
    let mut out = vec![vec![f32::INFINITY; rows]; ks.len()];
    for_each_row(dev, x, x, dim, |i, d| {
        let mut best = vec![f32::INFINITY; most];
        for (j, &v) in d.iter().enumerate() {
            if j != i && v < best[most - 1] {
                let pos = best.partition_point(|&b| b <= v);
                best.insert(pos, v);
                best.truncate(most);
            }
        }
        for (radii, &k) in out.iter_mut().zip(ks) {
            radii[i] = best[k.max(1) - 1];
        }
    });
    out
}

/// Precision, recall, density and coverage of `fake` against `real`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Manifold {
    /// See [`Fidelity::precision`].
    pub precision: f64,
    /// See [`Fidelity::recall`].
    pub recall: f64,
    /// See [`Fidelity::density`].
    pub density: f64,
    /// See [`Fidelity::coverage`].
    pub coverage: f64,
}

/// The k-NN manifold figures of `fake` (rows of the reference's width)
/// against the reference's real digits.
pub fn manifold(dev: &Dev, reference: &Reference, fake: &[f32]) -> Manifold {
    let (real, dim) = (&reference.features, reference.dim);
    let (real_pr, real_dc) = (&reference.radius_pr, &reference.radius_dc);
    let fake_pr = kth_radii(dev, fake, dim, &[K_PR]).remove(0);
    let (nr, nf) = (real_pr.len(), fake_pr.len());
    // Per fake digit: inside any real k = 3 ball; real k = 5 balls holding it.
    let (mut inside, mut balls) = (0usize, 0usize);
    let mut covered = vec![false; nr];
    for_each_row(dev, fake, real, dim, |_, d| {
        let mut hit = false;
        for (i, &v) in d.iter().enumerate() {
            hit |= v <= real_pr[i];
            let in_ball = v <= real_dc[i];
            balls += usize::from(in_ball);
            covered[i] |= in_ball;
        }
        inside += usize::from(hit);
    });
    // Per real digit: inside any fake k = 3 ball.
    let mut recalled = 0usize;
    for_each_row(dev, real, fake, dim, |_, d| {
        recalled += usize::from(d.iter().zip(&fake_pr).any(|(&v, &r)| v <= r));
    });
    let (nf, nr) = (nf.max(1) as f64, nr.max(1) as f64);
    Manifold {
        precision: inside as f64 / nf,
        recall: recalled as f64 / nr,
        density: balls as f64 / (K_DC as f64 * nf),
        coverage: covered.iter().filter(|&&c| c).count() as f64 / nr,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};

    fn gaussian(n: usize, dim: usize, shift: f32, scale: f32, seed: u64) -> Vec<f32> {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
        (0..n * dim)
            .map(|_| {
                // Sum of uniforms: near-normal, mean 0, variance 1.
                let s: f32 = (0..12).map(|_| rng.gen::<f32>()).sum::<f32>() - 6.0;
                shift + scale * s
            })
            .collect()
    }

    #[test]
    fn eigen_reconstructs_a_symmetric_matrix() {
        let a = [4.0, 1.0, 0.5, 1.0, 3.0, 0.2, 0.5, 0.2, 2.0];
        let (lam, v) = symmetric_eigen(&a, 3);
        for i in 0..3 {
            for j in 0..3 {
                let r: f64 = (0..3).map(|k| v[i * 3 + k] * lam[k] * v[j * 3 + k]).sum();
                assert!((r - a[i * 3 + j]).abs() < 1e-9, "{i},{j}: {r}");
            }
        }
    }

    #[test]
    fn frechet_is_zero_for_one_set_and_the_shift_squared_for_a_shifted_one() {
        let a = gaussian(4000, 4, 0.0, 1.0, 1);
        assert!(frechet(&a, &a, 4) < 1e-6);
        let b: Vec<f32> = a.iter().map(|x| x + 0.5).collect();
        let fd = frechet(&a, &b, 4);
        assert!((fd - 4.0 * 0.25).abs() < 1e-3, "{fd}");
        // A narrower copy: per dimension (1 - 0.5)^2.
        let c: Vec<f32> = a.iter().map(|x| 0.5 * x).collect();
        let fd = frechet(&a, &c, 4);
        assert!((fd - 4.0 * 0.25).abs() < 0.05, "{fd}");
    }

    #[test]
    fn manifold_tells_a_collapsed_set_from_a_matching_one() {
        let dev = Dev::default();
        let reference = Reference::new(&dev, gaussian(1000, 8, 0.0, 1.0, 2), 8);
        let alike = manifold(&dev, &reference, &gaussian(1000, 8, 0.0, 1.0, 3));
        assert!(alike.precision > 0.6 && alike.recall > 0.6, "{alike:?}");
        assert!((alike.density - 1.0).abs() < 0.3, "{alike:?}");
        // Near the centre only: real-looking, little variety.
        let collapsed = manifold(&dev, &reference, &gaussian(1000, 8, 0.0, 0.2, 4));
        assert!(collapsed.precision > 0.9, "{collapsed:?}");
        assert!(
            collapsed.recall < 0.2 && collapsed.coverage < 0.5,
            "{collapsed:?}"
        );
        // Far away: neither.
        let off = manifold(&dev, &reference, &gaussian(1000, 8, 5.0, 1.0, 5));
        assert!(off.precision < 0.05 && off.recall < 0.05, "{off:?}");
    }

    #[test]
    fn a_set_against_itself_is_fully_precise_and_recalled() {
        let real = gaussian(500, 8, 0.0, 1.0, 6);
        let dev = Dev::default();
        let reference = Reference::new(&dev, real.clone(), 8);
        let m = manifold(&dev, &reference, &real);
        assert_eq!((m.precision, m.recall, m.coverage), (1.0, 1.0, 1.0));
        assert!(frechet(&real, &real, 8) < 1e-9);
        assert_eq!(reference.frechet(&real), frechet(&real, &real, 8));
        // One pass for several k gives each k's radius.
        let both = kth_radii(&dev, &real, 8, &[3, 5]);
        assert_eq!(both[0], kth_radii(&dev, &real, 8, &[3]).remove(0));
        assert!(both[0].iter().zip(&both[1]).all(|(a, b)| a <= b));
    }

    #[test]
    fn mid_grey_counts_only_mid_levels() {
        let img = [0u8, 51, 52, 128, 203, 204, 255, 100];
        assert!((mid_grey(&[&img[..]]) - 4.0 / 8.0).abs() < 1e-12);
    }
}
