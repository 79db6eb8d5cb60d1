//! The learned latent prior of a version-3 model: per class, a mixture of
//! Gaussians `N(m, L L^T)`, and the integer map from `eps ~ N(0, I)` to
//! `z = m + L eps` that draws from it. From version 5 a class's components
//! may share one `L` (stored once).
//!
//! The sampler still draws `eps` from N(0, I) with the seeded PRNG (the
//! reparameterization stays); the prior only moves and shapes it. Every
//! step is integer arithmetic, so each target draws the same latent.
//!
//! Order of the random draws for one latent (each a `next_u32`):
//! 1. unconditional draws only: one to pick the class, by class weight;
//! 2. one to pick the component within the class, by component weight;
//! 3. `latent_dim` for `eps`, in order (as [`crate::LatentSampler::sample`]).
//!
//! A weighted pick with total weight `W` and draw `u` takes
//! `r = (u * W) >> 32` (64-bit product) and the first entry whose
//! cumulative weight exceeds `r`.

use crate::error::{ModelError, PriorField};
#[cfg(doc)]
use crate::format::Prior;
use crate::format::{take_canonical, ClassPrior, LATENT_FRAC_BITS, MAX_CLASSES, MAX_LABEL_LEN};
use crate::latent::Latent;
use crate::normal::next_normal_q12;
use crate::prng::Rng;

/// Largest number of fractional bits of a scale entry.
pub const MAX_SCALE_BITS: u8 = 15;
/// Largest number of fractional bits of a mean (a mean is then exact in Q12).
pub const MAX_MEAN_BITS: u8 = LATENT_FRAC_BITS as u8;

/// Entries of a packed lower triangle of side `d`.
pub const fn triangle_len(d: usize) -> usize {
    d * (d + 1) / 2
}

/// The little-endian i16 at index `i` of `bytes` (0 if absent).
#[inline(always)]
fn le_i16(bytes: &[u8], i: usize) -> i16 {
    let at = i.wrapping_mul(2);
    match (bytes.get(at), bytes.get(at.wrapping_add(1))) {
        (Some(&lo), Some(&hi)) => i16::from_le_bytes([lo, hi]),
        _ => 0,
    }
}

/// The little-endian u16 at index `i` of `bytes` (0 if absent).
#[inline(always)]
fn le_u16(bytes: &[u8], i: usize) -> u16 {
    le_i16(bytes, i) as u16
}

/// Index of the entry picked by the draw `u` among `n` entries weighted by
/// `weight(i)` (see the module docs). Returns `n - 1` if the weights sum
/// to zero, which validation rules out.
fn pick(u: u32, n: usize, weight: impl Fn(usize) -> u32) -> usize {
    let total: u64 = (0..n).map(|i| u64::from(weight(i))).sum();
    let r = (u64::from(u).wrapping_mul(total)) >> 32;
    let mut cumulative = 0u64;
    for i in 0..n {
        cumulative = cumulative.wrapping_add(u64::from(weight(i)));
        if r < cumulative {
            return i;
        }
    }
    n.saturating_sub(1)
}

impl<'a> ClassPrior<'a> {
    /// Number of mixture components.
    pub fn components(&self) -> usize {
        self.scale_bits.len()
    }

    /// Whether the components share one scale factor (version 5): more than
    /// one component and a single triangle in [`ClassPrior::scales`].
    pub fn shares_factor(&self) -> bool {
        let n = self.components();
        let dim = self.means.len().checked_div(n).unwrap_or(0);
        let tri = dim.saturating_mul(dim.saturating_add(1)) / 2;
        n > 1 && self.scales.len() == tri
    }

    /// Weight of component `c` within the class.
    pub fn component_weight(&self, c: usize) -> u16 {
        le_u16(self.component_weights, c)
    }

    /// `z = m_c + L_c eps` for component `c`, in Q12, saturated to i16.
    /// `L_c` is the component's triangle, or the class's one triangle when
    /// the components share it. With `a`, `b` the component's mean and
    /// scale bits, row `i` of `L` being entries
    /// `i(i+1)/2 ..= i(i+1)/2 + i` of the packed triangle:
    /// `z_i = sat16((mean_i << (12 - a)) + ((sum_j L_ij eps_j + 2^(b-1)) >> b))`
    /// (`b = 0`: no rounding term), `>>` flooring.
    pub fn map(&self, c: usize, eps: &[i16], dim: usize) -> Latent {
        let a = u32::from(self.mean_bits.get(c).copied().unwrap_or(0)).min(LATENT_FRAC_BITS);
        let bits = u32::from(self.scale_bits.get(c).copied().unwrap_or(0)).min(31);
        let half = if bits == 0 { 0 } else { 1i32 << (bits - 1) };
        let tri = triangle_len(dim);
        // One triangle (a shared factor, or a single component) starts at 0.
        let start = if self.scales.len() == tri {
            0
        } else {
            c.wrapping_mul(tri)
        };
        // Validation guarantees these lengths; empty slices only if not.
        let scales = self
            .scales
            .get(start..start.wrapping_add(tri))
            .unwrap_or(&[]);
        let start = c.wrapping_mul(dim);
        let means = self
            .means
            .get(start..start.wrapping_add(dim))
            .unwrap_or(&[]);
        let mut out: heapless::Vec<i16, { crate::format::MAX_LATENT_DIM }> = heapless::Vec::new();
        let mut rest = scales;
        for (i, &mean) in means.iter().enumerate() {
            let (row, tail) = rest
                .split_at_checked(i.wrapping_add(1))
                .unwrap_or((rest, &[]));
            rest = tail;
            // |L_ij| <= 128, |eps_j| <= 2^15 and at most 64 terms: the sum
            // stays within 2^28.
            let acc = row.iter().zip(eps).fold(0i32, |acc, (&l, &e)| {
                acc.wrapping_add(i32::from(l as i8).wrapping_mul(i32::from(e)))
            });
            let mean = i32::from(mean as i8) << (LATENT_FRAC_BITS - a);
            let z = mean.wrapping_add(acc.wrapping_add(half) >> bits);
            let _ = out.push(z.clamp(i32::from(i16::MIN), i32::from(i16::MAX)) as i16);
        }
        Latent::from_q12(&out).unwrap_or_default()
    }

    /// Draws a latent from this class: one draw picks the component, then
    /// `dim` draws give `eps` (see the module docs).
    pub fn sample(&self, rng: &mut Rng, dim: usize) -> Latent {
        let c = pick(rng.next_u32(), self.components(), |i| {
            u32::from(self.component_weight(i))
        });
        let mut eps = [0i16; crate::format::MAX_LATENT_DIM];
        for e in eps.iter_mut().take(dim) {
            *e = next_normal_q12(rng);
        }
        self.map(c, eps.get(..dim).unwrap_or(&[]), dim)
    }
}

/// The prior section of a loaded model, used in place: its classes stay
/// encoded in the file (flash) and the one a draw needs is parsed then, so
/// the prior costs about a hundred bytes of RAM (where each class starts,
/// and the class weights an unconditional draw picks by), not a table of
/// decoded classes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PriorView<'a> {
    /// The postcard encodings of the classes, back to back.
    classes: &'a [u8],
    /// How many there are.
    count: usize,
    /// Offset of each class in `classes`.
    starts: [u32; MAX_CLASSES],
    /// Each class's weight.
    weights: [u16; MAX_CLASSES],
}

impl<'a> PriorView<'a> {
    /// Number of classes.
    pub fn classes(&self) -> usize {
        self.count
    }

    /// The classes in order.
    pub fn iter(&self) -> impl Iterator<Item = ClassPrior<'a>> + 'a {
        let mut rest = self.classes;
        (0..self.count).map_while(move |_| {
            let (class, tail) = postcard::take_from_bytes::<ClassPrior<'a>>(rest).ok()?;
            rest = tail;
            Some(class)
        })
    }

    /// Class `k`, if it exists.
    pub fn class(&self, k: usize) -> Option<ClassPrior<'a>> {
        if k >= self.count {
            return None;
        }
        let start = usize::try_from(*self.starts.get(k)?).ok()?;
        let bytes = self.classes.get(start..)?;
        postcard::take_from_bytes::<ClassPrior<'a>>(bytes)
            .ok()
            .map(|(c, _)| c)
    }

    /// The label of class `k` (e.g. `"7"`), if it exists.
    pub fn label(&self, k: usize) -> Option<&'a str> {
        self.class(k).map(|c| c.label)
    }

    /// The class whose label is `label`.
    pub fn class_of(&self, label: &str) -> Option<usize> {
        self.iter().position(|c| c.label == label)
    }

    /// Draws from class `k` (`None` if there is no such class).
    pub fn sample_class(&self, rng: &mut Rng, k: usize, dim: usize) -> Option<Latent> {
        self.class(k).map(|c| c.sample(rng, dim))
    }

    /// Picks a class by class weight with one draw (step 1 of an
    /// unconditional draw).
    pub fn pick_class(&self, rng: &mut Rng) -> usize {
        let weights = |i: usize| self.weights.get(i).map_or(0, |&w| u32::from(w));
        pick(rng.next_u32(), self.count, weights)
    }

    /// Draws unconditionally: one draw picks the class by class weight, then
    /// as [`PriorView::sample_class`]. Returns the class and the latent.
    pub fn sample(&self, rng: &mut Rng, dim: usize) -> (usize, Latent) {
        let k = self.pick_class(rng);
        let z = self.sample_class(rng, k, dim).unwrap_or_default();
        (k, z)
    }

    /// Whether a class's components share one scale factor (the model is
    /// then written as format version 5, or 6 with a pixel mask).
    pub fn shares_factor(&self) -> bool {
        self.iter().any(|c| c.shares_factor())
    }

    /// Bytes of the encoded classes (what follows the class count).
    pub fn encoded_classes(&self) -> &'a [u8] {
        self.classes
    }
}

/// The length the `scales` of a class of `n` components must have: one
/// triangle per component, or with `shared` (version 5) one for them all
/// if that is what the class holds.
fn scales_len(scales: &[u8], n: usize, tri: usize, shared: bool) -> usize {
    if shared && scales.len() == tri {
        tri
    } else {
        n.saturating_mul(tri)
    }
}

/// Reads a prior section (class count, then the classes, as postcard
/// encodes [`Prior`]) from the front of `bytes`; returns it, not yet
/// validated (see [`validate`]), with the bytes after it.
pub(crate) fn parse(bytes: &[u8]) -> Result<(PriorView<'_>, &[u8]), ModelError> {
    // The count is a u32 on every target (see `take_canonical`).
    let (count, start) = take_canonical::<u32>(bytes).ok_or(ModelError::Malformed)?;
    let count = usize::try_from(count).unwrap_or(usize::MAX);
    if count == 0 {
        return Err(ModelError::PriorEmpty);
    }
    if count > MAX_CLASSES {
        return Err(ModelError::ExceedsCapacity {
            what: "prior class count",
            value: count,
            max: MAX_CLASSES,
        });
    }
    let mut rest = start;
    let mut starts = [0u32; MAX_CLASSES];
    let mut weights = [0u16; MAX_CLASSES];
    for (at, weight) in starts.iter_mut().zip(weights.iter_mut()).take(count) {
        // A model file is far below 4 GiB (its length is a u32).
        *at = u32::try_from(start.len().saturating_sub(rest.len())).unwrap_or(u32::MAX);
        let (class, tail) = take_canonical::<ClassPrior<'_>>(rest).ok_or(ModelError::Malformed)?;
        *weight = class.weight;
        rest = tail;
    }
    let used = start.len().saturating_sub(rest.len());
    let view = PriorView {
        classes: start.get(..used).unwrap_or(&[]),
        count,
        starts,
        weights,
    };
    Ok((view, rest))
}

/// Checks a parsed prior against the model's latent size (rule 10 of
/// `docs/model-format.md`); `shared` allows a class's components to share
/// one triangle (version 5).
pub(crate) fn validate(
    prior: &PriorView<'_>,
    latent: usize,
    shared: bool,
) -> Result<(), ModelError> {
    let tri = triangle_len(latent);
    let mut total = 0u32;
    for (class, c) in prior.iter().enumerate() {
        if c.label.is_empty() || c.label.len() > MAX_LABEL_LEN {
            return Err(ModelError::PriorLabel { class });
        }
        if prior.iter().take(class).any(|o| o.label == c.label) {
            return Err(ModelError::PriorLabel { class });
        }
        total = total.saturating_add(u32::from(c.weight));
        let n = c.components();
        if n == 0 || n > crate::format::MAX_COMPONENTS {
            return Err(ModelError::PriorComponents { class, found: n });
        }
        let lengths = [
            (PriorField::ComponentWeights, c.component_weights, 2 * n),
            (PriorField::MeanBits, c.mean_bits, n),
            (PriorField::Means, c.means, n * latent),
            (
                PriorField::Scales,
                c.scales,
                scales_len(c.scales, n, tri, shared),
            ),
        ];
        for (field, bytes, expected) in lengths {
            if bytes.len() != expected {
                return Err(ModelError::PriorLength {
                    class,
                    field,
                    expected,
                    found: bytes.len(),
                });
            }
        }
        for component in 0..n {
            if c.component_weight(component) == 0 {
                return Err(ModelError::PriorZeroWeight {
                    class,
                    component: Some(component),
                });
            }
            let mean_bits = c.mean_bits.get(component).copied().unwrap_or(u8::MAX);
            if mean_bits > MAX_MEAN_BITS {
                return Err(ModelError::PriorBits {
                    class,
                    component,
                    field: PriorField::MeanBits,
                    bits: mean_bits,
                });
            }
            let bits = c.scale_bits.get(component).copied().unwrap_or(u8::MAX);
            if bits > MAX_SCALE_BITS {
                return Err(ModelError::PriorBits {
                    class,
                    component,
                    field: PriorField::ScaleBits,
                    bits,
                });
            }
        }
    }
    if total == 0 {
        return Err(ModelError::PriorZeroWeight {
            class: 0,
            component: None,
        });
    }
    Ok(())
}
