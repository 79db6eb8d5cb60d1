//! Standard-normal latent values in Q12 from 32 random bits, with integer
//! arithmetic only, so every target draws the very same numbers.
//!
//! Method: inverse transform sampling with a piecewise-linear quantile table.
//! The sign comes from bit 31; the other 31 bits give a two-sided tail
//! probability `t = (2r + 1) / 2^32` in (0, 1), and the sample is
//! `|z| = Phi^-1(1 - t/2)`. The table samples `|z|` at
//! `t = 2^-(e+1) * (1 + j/8)` for octaves `e` in 0..32 and segments `j` in
//! 0..8 (257 points, 514 bytes), so tails down to `t = 2^-32` (|z| = 6.34)
//! are as accurate as the centre. Between points `|z|` is interpolated
//! linearly in `t`; the result is within 4/4096 of the exact quantile (the
//! unit test regenerates the table and sweeps the error).

use crate::prng::Rng;

/// `round(4096 * Phi^-1(1 - t_q / 2))` for `q` in 0..=256, where
/// `q = 8e + 8 - j` and `t_q = 2^-(e+1) * (1 + j/8)`; `t_0 = 1`, `t_256 = 2^-32`.
#[rustfmt::skip]
pub(crate) const QUANTILE_Q12: [u16; 257] = [
    0, 321, 644, 972, 1305, 1648, 2002, 2372, 2763, 2968, 3180, 3402,
    3634, 3878, 4137, 4414, 4712, 4871, 5038, 5213, 5399, 5596, 5807, 6035,
    6284, 6417, 6558, 6706, 6865, 7034, 7216, 7413, 7630, 7746, 7870, 8001,
    8141, 8290, 8452, 8628, 8822, 8927, 9038, 9156, 9282, 9418, 9565, 9725,
    9902, 9998, 10100, 10208, 10324, 10449, 10584, 10732, 10896, 10984, 11079, 11179,
    11287, 11403, 11529, 11667, 11820, 11903, 11991, 12085, 12186, 12295, 12413, 12543,
    12686, 12765, 12848, 12936, 13032, 13135, 13246, 13369, 13505, 13579, 13658, 13742,
    13833, 13931, 14037, 14154, 14283, 14354, 14429, 14509, 14595, 14689, 14790, 14902,
    15025, 15093, 15165, 15242, 15324, 15413, 15511, 15618, 15737, 15801, 15870, 15944,
    16023, 16109, 16203, 16306, 16420, 16482, 16549, 16620, 16696, 16779, 16869, 16968,
    17079, 17139, 17203, 17271, 17345, 17425, 17512, 17608, 17715, 17773, 17835, 17901,
    17973, 18050, 18135, 18228, 18331, 18387, 18447, 18512, 18581, 18656, 18738, 18828,
    18929, 18983, 19042, 19104, 19172, 19244, 19324, 19412, 19509, 19563, 19619, 19680,
    19746, 19817, 19894, 19979, 20074, 20126, 20182, 20241, 20305, 20374, 20449, 20532,
    20625, 20676, 20730, 20787, 20850, 20917, 20991, 21072, 21162, 21212, 21264, 21321,
    21382, 21447, 21519, 21599, 21687, 21735, 21787, 21842, 21901, 21966, 22036, 22114,
    22200, 22247, 22298, 22352, 22410, 22473, 22542, 22618, 22702, 22749, 22798, 22851,
    22908, 22970, 23037, 23112, 23194, 23240, 23288, 23340, 23396, 23456, 23522, 23595,
    23677, 23721, 23769, 23819, 23874, 23934, 23998, 24070, 24150, 24193, 24240, 24290,
    24344, 24402, 24466, 24536, 24614, 24657, 24703, 24752, 24805, 24862, 24925, 24994,
    25071, 25113, 25158, 25206, 25258, 25314, 25376, 25443, 25519, 25561, 25605, 25652,
    25703, 25759, 25819, 25886, 25960,];

/// Maps 32 uniform random bits to a standard-normal value in Q12
/// (`z * 4096`, in `[-25960, 25960]`).
///
/// ```
/// use runtime::normal::normal_q12;
/// assert_eq!(normal_q12(0x7FFF_FFFF), 0); // t = 1: the median
/// assert_eq!(normal_q12(0x0000_0000), 25_960); // t = 2^-32: the far tail
/// assert_eq!(normal_q12(0x8000_0000), -25_960);
/// ```
pub fn normal_q12(bits: u32) -> i16 {
    let negative = bits >> 31 == 1;
    let v = (bits << 1) | 1; // odd, t = v / 2^32
    let octave = v.leading_zeros(); // 0..=31
    let n = v << octave; // top bit set
    let segment = (n >> 28) & 7;
    let frac = (n >> 12) & 0xFFFF;
    // q of the segment's start (larger |z|) and end; always in 0..=256.
    let q_start = (octave * 8 + 8).wrapping_sub(segment) as usize;
    let at = |q: usize| u32::from(QUANTILE_Q12.get(q).copied().unwrap_or(0));
    let (z_start, z_end) = (at(q_start), at(q_start.wrapping_sub(1)));
    // z_start >= z_end and both < 2^16, so the product fits in u32.
    let drop = (z_start
        .wrapping_sub(z_end)
        .wrapping_mul(frac)
        .wrapping_add(1 << 15))
        >> 16;
    let magnitude = z_start.wrapping_sub(drop) as i16;
    if negative {
        magnitude.wrapping_neg()
    } else {
        magnitude
    }
}

/// Draws a standard-normal value in Q12 from `rng` (one `next_u32` call).
#[inline]
pub fn next_normal_q12(rng: &mut Rng) -> i16 {
    normal_q12(rng.next_u32())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `Phi^-1(1 - t/2)` in f64 by bisection on `erfc(z / sqrt 2) = t`.
    fn exact_quantile(t: f64) -> f64 {
        if t >= 1.0 {
            return 0.0;
        }
        let (mut lo, mut hi) = (0.0f64, 40.0f64);
        for _ in 0..200 {
            let mid = 0.5 * (lo + hi);
            if libm::erfc(mid / core::f64::consts::SQRT_2) > t {
                lo = mid;
            } else {
                hi = mid;
            }
        }
        0.5 * (lo + hi)
    }

    #[test]
    fn table_matches_regenerated_quantiles() {
        for (q, &entry) in QUANTILE_Q12.iter().enumerate() {
            let j = (8 - q % 8) % 8;
            let e = (q as i32 - 8 + j as i32) / 8;
            let t = 2f64.powi(-(e + 1)) * (1.0 + j as f64 / 8.0);
            let expect = (exact_quantile(t) * 4096.0).round();
            assert_eq!(f64::from(entry), expect, "q = {q}");
        }
    }

    #[test]
    fn interpolation_error_is_below_4_q12_units() {
        let mut rng = Rng::new(5);
        let mut worst = 0.0f64;
        for i in 0..200_000u32 {
            // Half the probes uniform, half spread over the tails.
            let mut bits = rng.next_u32() & 0x7FFF_FFFF;
            if i % 2 == 1 {
                bits >>= i % 31;
            }
            let t = (f64::from(bits) * 2.0 + 1.0) / 2f64.powi(32);
            let exact = exact_quantile(t) * 4096.0;
            let got = f64::from(normal_q12(bits));
            worst = worst.max((got - exact).abs());
        }
        assert!(worst < 4.0, "worst error {worst} Q12 units");
    }

    #[test]
    fn symmetric_in_the_sign_bit() {
        let mut rng = Rng::new(11);
        for _ in 0..10_000 {
            let b = rng.next_u32() & 0x7FFF_FFFF;
            assert_eq!(normal_q12(b), -normal_q12(b | 0x8000_0000));
        }
    }
}
