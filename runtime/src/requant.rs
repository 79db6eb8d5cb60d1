//! Fixed-point requantization: scaling an i32 accumulator by a real factor
//! `M = multiplier * 2^(shift - 31)` using integers only.
//!
//! This is TensorFlow Lite Micro's `MultiplyByQuantizedMultiplier` in its
//! single-rounding form (`TFLITE_SINGLE_ROUNDING`): one 64-bit product and one
//! rounding right shift, rounding halves towards positive infinity.

use crate::format::{MAX_SHIFT, MIN_SHIFT};

/// Scales `acc` by `multiplier * 2^(shift - 31)`, rounding to nearest (halves
/// up), and saturates the result to i32.
///
/// `multiplier` is a non-negative Q31 value (normally in `[2^30, 2^31)`),
/// `shift` lies in `[-31, 30]`; a validated model guarantees both. Out-of-range
/// shifts are clamped here so the function is total.
///
/// ```
/// use runtime::requant::requantize;
/// // 0.75 = (3 << 29) * 2^(0 - 31)
/// assert_eq!(requantize(1000, 3 << 29, 0), 750);
/// // 1.5 = (3 << 29) * 2^(1 - 31); halves round up: -1.5 -> -1
/// assert_eq!(requantize(-1, 3 << 29, 1), -1);
/// ```
#[inline]
pub fn requantize(acc: i32, multiplier: i32, shift: i8) -> i32 {
    let total_shift = 31u32.wrapping_sub(shift.clamp(MIN_SHIFT, MAX_SHIFT) as i32 as u32); // in [1, 62]
    let round = 1i64 << (total_shift.wrapping_sub(1));
    // |acc * multiplier| < 2^62, so adding `round` (at most 2^61) cannot overflow.
    let product = i64::from(acc)
        .wrapping_mul(i64::from(multiplier))
        .wrapping_add(round);
    let scaled = product >> total_shift;
    scaled.clamp(i64::from(i32::MIN), i64::from(i32::MAX)) as i32
}

/// [`requantize`] with a cheaper path for the usual case, `shift <= 0`
/// (scale below 1) and `|acc| < 2^29` (true for every validated model): the
/// same result, bit for bit, for every input.
///
/// With `t = 31 - shift = 31 + s`, `floor((P + 2^(t-1)) / 2^t)` equals
/// `floor((q + 1) / 2)` for `q = floor(P / 2^(30 + s))` (nested floor
/// divisions compose), and `q = floor(floor(P / 2^30) / 2^s)`, where
/// `floor(P / 2^30)` fits 32 bits because `|acc| < 2^29`. So no 64-bit
/// shift is needed: on a Cortex-M4 `floor(P / 2^30)` is one `SMMUL` of
/// `4 acc` and `m`, on a Cortex-M3 an `SMULL`, on a Cortex-M0 two 16x16
/// products (multipliers are multiples of 2^16).
#[inline]
pub fn requantize_fast(acc: i32, multiplier: i32, shift: i8) -> i32 {
    if (-31..=0).contains(&shift) && (-(1 << 29)..(1 << 29)).contains(&acc) {
        let q = mul_shr30(acc, multiplier);
        let s = u32::from(shift.unsigned_abs()); // in [0, 31]
        ((q >> s) + 1) >> 1
    } else {
        requantize(acc, multiplier, shift)
    }
}

/// `floor(a * b / 2^30)` for `|a| < 2^29`, `0 <= b < 2^31`: fits i32.
#[inline]
fn mul_shr30(a: i32, b: i32) -> i32 {
    ((i64::from(a) * i64::from(b)) >> 30) as i32
}

#[cfg(test)]
mod tests {
    use super::{requantize, requantize_fast};

    #[test]
    fn fast_path_is_bit_identical() {
        let mut state = 0x9E37_79B9u32;
        let mut next = || {
            state ^= state << 13;
            state ^= state >> 17;
            state ^= state << 5;
            state
        };
        let edges = [
            0,
            1,
            -1,
            2,
            -2,
            i32::MAX,
            i32::MIN,
            1 << 30,
            -(1 << 30),
            12_345_678,
        ];
        for s in -31i8..=30 {
            for &a in &edges {
                for &m in &[0, 1, 1 << 30, i32::MAX, 1_518_500_250] {
                    assert_eq!(requantize_fast(a, m, s), requantize(a, m, s), "{a} {m} {s}");
                }
            }
            for _ in 0..20_000 {
                let a = next() as i32 >> (next() % 32);
                let m = (next() >> 1) as i32;
                assert_eq!(requantize_fast(a, m, s), requantize(a, m, s), "{a} {m} {s}");
            }
        }
    }

    /// Exact rational reference: round(acc * m / 2^(31 - shift)), halves up.
    fn oracle(acc: i32, m: i32, shift: i8) -> i128 {
        let num = i128::from(acc) * i128::from(m);
        let den = 1i128 << (31 - i32::from(shift));
        // floor((2 * num + den) / (2 * den))
        (2 * num + den).div_euclid(2 * den)
    }

    #[test]
    fn matches_exact_rounding() {
        let accs = [
            0,
            1,
            -1,
            2,
            -2,
            3,
            127,
            -128,
            32_767,
            -32_768,
            1 << 20,
            -(1 << 30),
            (1 << 30) + 7,
        ];
        let mults = [0, 1, 1 << 30, (1 << 30) + 12_345, i32::MAX, 1_518_500_250];
        for &a in &accs {
            for &m in &mults {
                for s in -31i8..=30 {
                    let expect = oracle(a, m, s).clamp(i128::from(i32::MIN), i128::from(i32::MAX));
                    assert_eq!(
                        i128::from(requantize(a, m, s)),
                        expect,
                        "acc={a} m={m} shift={s}"
                    );
                }
            }
        }
    }

    #[test]
    fn halves_round_up() {
        // multiplier 2^30 with shift 0 is exactly 0.5.
        assert_eq!(requantize(1, 1 << 30, 0), 1);
        assert_eq!(requantize(-1, 1 << 30, 0), 0);
        assert_eq!(requantize(3, 1 << 30, 0), 2);
        assert_eq!(requantize(-3, 1 << 30, 0), -1);
    }

    #[test]
    fn saturates() {
        assert_eq!(requantize(i32::MAX, i32::MAX, 30), i32::MAX);
        assert_eq!(requantize(i32::MIN, i32::MAX, 30), i32::MIN);
    }
}
