//! Statistical checks of the N(0, 1) sampler over 1,000,000 draws from a
//! fixed seed: mean, variance, Kolmogorov-Smirnov distance, tail masses and
//! lag-1 correlation. Bounds are 5 standard errors (or the KS 1% critical
//! value), so a correct sampler fails with negligible probability and a
//! wrong one (uniform, truncated tails, wrong scale) fails for certain.

use runtime::normal::normal_q12;
use runtime::{LatentSampler, Rng};

const N: usize = 1_000_000;

fn draws(seed: u64) -> Vec<f64> {
    let mut rng = Rng::new(seed);
    (0..N)
        .map(|_| f64::from(normal_q12(rng.next_u32())) / 4096.0)
        .collect()
}

fn phi(x: f64) -> f64 {
    0.5 * libm::erfc(-x / std::f64::consts::SQRT_2)
}

#[test]
fn mean_and_variance() {
    let z = draws(1);
    let n = N as f64;
    let mean = z.iter().sum::<f64>() / n;
    let var = z.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1.0);
    assert!(mean.abs() < 5.0 / n.sqrt(), "mean {mean}");
    assert!((var - 1.0).abs() < 5.0 * (2.0 / n).sqrt(), "variance {var}");
    let kurtosis = z.iter().map(|v| v.powi(4)).sum::<f64>() / n;
    assert!(
        (kurtosis - 3.0).abs() < 5.0 * (96.0 / n).sqrt(),
        "fourth moment {kurtosis}"
    );
}

#[test]
fn kolmogorov_smirnov() {
    let mut z = draws(2);
    z.sort_by(f64::total_cmp);
    let n = N as f64;
    let mut d = 0.0f64;
    let mut i = 0;
    while i < z.len() {
        // Values are on a 1/4096 grid: compare the empirical CDF just below
        // and at each distinct value with the normal CDF there.
        let x = z[i];
        let below = i as f64 / n;
        while i < z.len() && z[i] == x {
            i += 1;
        }
        let at = i as f64 / n;
        let f = phi(x);
        d = d.max((f - below).abs()).max((at - f).abs());
    }
    // Grid effect: one Q12 step holds at most 0.4/4096 ~ 1e-4 probability.
    let critical = 1.628 / n.sqrt() + 1e-4;
    assert!(d < critical, "KS distance {d} >= {critical}");
}

#[test]
fn tail_masses() {
    let z = draws(3);
    let n = N as f64;
    for k in [1.0f64, 2.0, 3.0, 4.0] {
        let p = 2.0 * (1.0 - phi(k));
        let count = z.iter().filter(|v| v.abs() > k).count() as f64;
        let sd = (n * p * (1.0 - p)).sqrt();
        assert!(
            (count - n * p).abs() < 5.0 * sd,
            "|z| > {k}: {count} vs {}",
            n * p
        );
    }
    let max = z.iter().fold(0.0f64, |m, v| m.max(v.abs()));
    assert!(max > 4.4, "largest |z| {max}: tails look truncated");
}

#[test]
fn consecutive_draws_are_uncorrelated() {
    let z = draws(4);
    let n = (N - 1) as f64;
    let r = z.windows(2).map(|w| w[0] * w[1]).sum::<f64>() / n;
    assert!(r.abs() < 5.0 / n.sqrt(), "lag-1 correlation {r}");
}

#[test]
fn latent_dimensions_are_independent_and_standard() {
    let mut s = LatentSampler::new(5);
    let dim = 16;
    let rows = 50_000;
    let mut sums = vec![0.0f64; dim];
    let mut cross = 0.0f64;
    for _ in 0..rows {
        let z: Vec<f64> = s.sample(dim).to_f32().map(f64::from).collect();
        for (acc, v) in sums.iter_mut().zip(&z) {
            *acc += v * v;
        }
        cross += z[0] * z[1];
    }
    let n = rows as f64;
    for (d, &sq) in sums.iter().enumerate() {
        assert!(
            (sq / n - 1.0).abs() < 5.0 * (2.0 / n).sqrt(),
            "dim {d}: E[z^2] = {}",
            sq / n
        );
    }
    assert!(
        (cross / n).abs() < 5.0 / n.sqrt(),
        "dims 0 and 1 correlate: {}",
        cross / n
    );
}
