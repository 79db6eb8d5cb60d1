//! A tiny seeded pseudo-random number generator: xoshiro128** 1.1
//! (Blackman and Vigna), 128 bits of state, 32-bit operations only, so it is
//! fast on a Cortex-M0 and gives the same stream on every target.
//!
//! Seeding maps a u64 seed to the four state words with a 32-bit
//! Weyl sequence passed through the `lowbias32` integer hash:
//!
//! ```text
//! lo = seed & 0xFFFF_FFFF, hi = seed >> 32, w = lo
//! for k in 0..4: w += 0x9E37_79B9; s[k] = mix(w ^ mix(hi + k))
//! (all arithmetic modulo 2^32; an all-zero state becomes s[0] = 1)
//! mix(x): x ^= x >> 16; x *= 0x7FEB_352D; x ^= x >> 15; x *= 0x846C_A68B; x ^= x >> 16
//! ```

/// `lowbias32` by Chris Wellons: a 32-bit integer hash with low bias.
#[inline]
fn mix(mut x: u32) -> u32 {
    x ^= x >> 16;
    x = x.wrapping_mul(0x7FEB_352D);
    x ^= x >> 15;
    x = x.wrapping_mul(0x846C_A68B);
    x ^ (x >> 16)
}

/// xoshiro128** generator.
///
/// ```
/// use runtime::Rng;
/// let mut a = Rng::new(7);
/// let mut b = Rng::new(7);
/// assert_eq!(a.next_u32(), b.next_u32());
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rng {
    s: [u32; 4],
}

impl Rng {
    /// A generator seeded from `seed` (see the module docs for the mapping).
    pub fn new(seed: u64) -> Self {
        let lo = seed as u32;
        let hi = (seed >> 32) as u32;
        let mut w = lo;
        let mut s = [0u32; 4];
        for (k, word) in (0u32..).zip(s.iter_mut()) {
            w = w.wrapping_add(0x9E37_79B9);
            *word = mix(w ^ mix(hi.wrapping_add(k)));
        }
        Self::from_state(s)
    }

    /// A generator with the given raw state (an all-zero state, which would
    /// only ever produce zeros, is replaced by `[1, 0, 0, 0]`).
    pub fn from_state(mut s: [u32; 4]) -> Self {
        if s == [0; 4] {
            s = [1, 0, 0, 0];
        }
        Rng { s }
    }

    /// The next 32 uniformly distributed bits.
    #[inline]
    pub fn next_u32(&mut self) -> u32 {
        let [s0, s1, s2, s3] = self.s;
        let result = s1.wrapping_mul(5).rotate_left(7).wrapping_mul(9);
        let t = s1 << 9;
        let s2 = s2 ^ s0;
        let s3 = s3 ^ s1;
        let s1 = s1 ^ s2;
        let s0 = s0 ^ s3;
        let s2 = s2 ^ t;
        let s3 = s3.rotate_left(11);
        self.s = [s0, s1, s2, s3];
        result
    }
}

#[cfg(test)]
mod tests {
    use super::Rng;

    #[test]
    fn xoshiro128starstar_from_state_1_2_3_4() {
        // Worked by hand from the algorithm's definition:
        // out0 = rotl(2 * 5, 7) * 9 = 1280 * 9; the update makes s1 = 0, so
        // out1 = 0; then s1 = 1029, out2 = rotl(1029 * 5, 7) * 9.
        let mut r = Rng::from_state([1, 2, 3, 4]);
        assert_eq!(r.next_u32(), 11_520);
        assert_eq!(r.next_u32(), 0);
        assert_eq!(r.next_u32(), (1029u32 * 5).rotate_left(7) * 9);
    }

    #[test]
    fn seeds_give_distinct_streams() {
        let firsts: std::vec::Vec<u32> = (0..1000u64).map(|s| Rng::new(s).next_u32()).collect();
        let mut sorted = firsts.clone();
        sorted.sort_unstable();
        sorted.dedup();
        assert_eq!(sorted.len(), firsts.len());
        assert_ne!(Rng::new(1 << 32).next_u32(), Rng::new(1).next_u32());
    }

    #[test]
    fn zero_state_is_replaced() {
        let mut r = Rng::from_state([0; 4]);
        assert!((0..8).any(|_| r.next_u32() != 0));
    }

    #[test]
    fn bits_are_balanced() {
        let mut r = Rng::new(99);
        let n = 100_000u32;
        let mut ones = [0u32; 32];
        for _ in 0..n {
            let v = r.next_u32();
            for (bit, count) in ones.iter_mut().enumerate() {
                *count += (v >> bit) & 1;
            }
        }
        // Binomial(n, 1/2): sd = sqrt(n)/2 ~ 158; allow 5 sd.
        for (bit, &c) in ones.iter().enumerate() {
            assert!((c as i64 - 50_000).abs() < 790, "bit {bit}: {c} ones");
        }
    }
}
