//! Latent vectors in Q12 fixed point, their sampling from N(0, I), and
//! interpolation between two of them.

use crate::format::{LATENT_FRAC_BITS, MAX_LATENT_DIM};
use crate::normal::next_normal_q12;
use crate::prng::Rng;

/// A latent vector: up to [`MAX_LATENT_DIM`] values in Q12 (`z * 4096`).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Latent {
    values: heapless::Vec<i16, MAX_LATENT_DIM>,
}

impl Latent {
    /// A latent from Q12 values; `None` if there are more than [`MAX_LATENT_DIM`].
    pub fn from_q12(values: &[i16]) -> Option<Self> {
        heapless::Vec::from_slice(values)
            .ok()
            .map(|values| Latent { values })
    }

    /// A latent from real values, each rounded to the nearest Q12 step
    /// (halves away from zero) and saturated to about ±8. `None` if there are
    /// more than [`MAX_LATENT_DIM`] values.
    pub fn from_f32(values: &[f32]) -> Option<Self> {
        if values.len() > MAX_LATENT_DIM {
            return None;
        }
        let scale = (1u32 << LATENT_FRAC_BITS) as f32;
        let q = values.iter().map(|&z| {
            // Float-to-int `as` saturates, and NaN maps to 0.
            libm::roundf(z * scale) as i16
        });
        let mut out = heapless::Vec::new();
        for v in q {
            out.push(v).ok()?;
        }
        Some(Latent { values: out })
    }

    /// The values in Q12.
    pub fn as_q12(&self) -> &[i16] {
        &self.values
    }

    /// The values as real numbers.
    pub fn to_f32(&self) -> impl Iterator<Item = f32> + '_ {
        let scale = 1.0 / (1u32 << LATENT_FRAC_BITS) as f32;
        self.values.iter().map(move |&v| f32::from(v) * scale)
    }

    /// Number of values.
    pub fn len(&self) -> usize {
        self.values.len()
    }

    /// Whether the latent has no values.
    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }

    /// The point `step / steps` of the way from `a` to `b` (so `step = 0`
    /// gives `a` and `step = steps` gives `b`), per value
    /// `floor((a * (steps - step) + b * step) / steps + 1/2)`. Integer only,
    /// identical on every target. `step` is clamped to `steps`; `steps = 0`
    /// gives `a`. Only the first `min(a.len(), b.len())` values are used.
    ///
    /// ```
    /// use runtime::Latent;
    /// let a = Latent::from_q12(&[0, 4096]).ok_or("too many values")?;
    /// let b = Latent::from_q12(&[4096, -4096]).ok_or("too many values")?;
    /// assert_eq!(Latent::lerp(&a, &b, 1, 4).as_q12(), &[1024, 2048]);
    /// # Ok::<(), &str>(())
    /// ```
    pub fn lerp(a: &Latent, b: &Latent, step: u32, steps: u32) -> Latent {
        if steps == 0 {
            return a.clone();
        }
        let n = i64::from(steps);
        let s = i64::from(step.min(steps));
        let mut values = heapless::Vec::new();
        for (&x, &y) in a.values.iter().zip(b.values.iter()) {
            // |x|, |y| <= 2^15 and n < 2^32: the sums stay far below 2^63.
            let num = i64::from(x) * (n - s) + i64::from(y) * s;
            let v = (2 * num + n).div_euclid(2 * n);
            // A convex combination of two i16 values is an i16.
            let _ = values.push(v.clamp(i64::from(i16::MIN), i64::from(i16::MAX)) as i16);
        }
        Latent { values }
    }
}

/// Draws latent vectors from N(0, I) with a seeded [`Rng`].
///
/// ```
/// use runtime::LatentSampler;
/// let z1 = LatentSampler::new(3).sample(16);
/// let z2 = LatentSampler::new(3).sample(16);
/// assert_eq!(z1, z2); // same seed, same latent, on every target
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LatentSampler {
    rng: Rng,
}

impl LatentSampler {
    /// A sampler seeded with `seed`.
    pub fn new(seed: u64) -> Self {
        LatentSampler {
            rng: Rng::new(seed),
        }
    }

    /// Draws `dim` independent standard-normal values (at most
    /// [`MAX_LATENT_DIM`]; larger requests are capped). Each value uses one
    /// 32-bit draw, in order.
    pub fn sample(&mut self, dim: usize) -> Latent {
        let mut values = heapless::Vec::new();
        for _ in 0..dim.min(MAX_LATENT_DIM) {
            let _ = values.push(next_normal_q12(&mut self.rng));
        }
        Latent { values }
    }

    /// The underlying generator.
    pub fn rng(&mut self) -> &mut Rng {
        &mut self.rng
    }
}
