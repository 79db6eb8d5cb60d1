//! From a Q8 logit to an 8-bit grey level: `round(255 * sigmoid(logit))`,
//! by a 256-entry table over `|logit|` in Q5 and the symmetry
//! `sigmoid(-x) = 1 - sigmoid(x)`. No floating point on the device.

/// `round(255 / (1 + exp(-k / 32)))` for `k` in 0..256.
#[rustfmt::skip]
pub(crate) const GREY_OF_Q5: [u8; 256] = [
    128, 129, 131, 133, 135, 137, 139, 141, 143, 145, 147, 149, 151, 153, 155, 157,
    159, 161, 162, 164, 166, 168, 170, 171, 173, 175, 177, 178, 180, 182, 183, 185,
    186, 188, 190, 191, 193, 194, 195, 197, 198, 200, 201, 202, 204, 205, 206, 207,
    208, 210, 211, 212, 213, 214, 215, 216, 217, 218, 219, 220, 221, 222, 223, 224,
    225, 225, 226, 227, 228, 229, 229, 230, 231, 231, 232, 233, 233, 234, 235, 235,
    236, 236, 237, 237, 238, 238, 239, 239, 240, 240, 241, 241, 241, 242, 242, 243,
    243, 243, 244, 244, 244, 245, 245, 245, 245, 246, 246, 246, 247, 247, 247, 247,
    248, 248, 248, 248, 248, 249, 249, 249, 249, 249, 249, 250, 250, 250, 250, 250,
    250, 251, 251, 251, 251, 251, 251, 251, 251, 252, 252, 252, 252, 252, 252, 252,
    252, 252, 252, 252, 253, 253, 253, 253, 253, 253, 253, 253, 253, 253, 253, 253,
    253, 253, 253, 253, 253, 254, 254, 254, 254, 254, 254, 254, 254, 254, 254, 254,
    254, 254, 254, 254, 254, 254, 254, 254, 254, 254, 254, 254, 254, 254, 254, 254,
    254, 254, 254, 254, 254, 254, 254, 254, 255, 255, 255, 255, 255, 255, 255, 255,
    255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255,
    255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255,
    255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255,];

/// Grey level (0 = black, 255 = white) of a Bernoulli logit given in Q8.
///
/// `k = min((|logit| + 4) >> 3, 255)` (the magnitude rounded to Q5); the grey
/// is `GREY_OF_Q5[k]` for `logit >= 0` and `255 - GREY_OF_Q5[k]` otherwise.
///
/// ```
/// use runtime::sigmoid::grey_of_logit;
/// assert_eq!(grey_of_logit(0), 128);
/// assert_eq!(grey_of_logit(i16::MAX), 255);
/// assert_eq!(grey_of_logit(i16::MIN), 0);
/// ```
pub fn grey_of_logit(logit_q8: i16) -> u8 {
    let magnitude = u32::from(logit_q8.unsigned_abs());
    let k = (magnitude.wrapping_add(4) >> 3).min(255) as usize;
    let grey = GREY_OF_Q5.get(k).copied().unwrap_or(255);
    if logit_q8 < 0 {
        255u8.wrapping_sub(grey)
    } else {
        grey
    }
}

/// A Q8 logit times a Q8 gain (`256` = 1.0), rounded to the nearest Q8
/// step (halves upwards) and saturated to i16:
/// `clamp((logit * gain + 128) >> 8, -32768, 32767)`, `>>` flooring. With
/// gain 256 it is the logit itself.
///
/// ```
/// use runtime::sigmoid::gained_logit;
/// assert_eq!(gained_logit(-300, 256), -300);
/// assert_eq!(gained_logit(-300, 512), -600);
/// assert_eq!(gained_logit(3, 384), 5); // 4.5 rounds up
/// assert_eq!(gained_logit(20_000, 512), i16::MAX);
/// ```
pub fn gained_logit(logit_q8: i16, gain_q8: u16) -> i16 {
    // Validation keeps the gain at most 4096 = 2^12, so |logit * gain| <=
    // 2^27 and i32 is exact (a Cortex-M0 has no 64-bit multiply); larger
    // gains saturate the same way through the wrapping-free clamp below.
    let gain = i32::from(gain_q8.min(crate::format::MAX_LOGIT_GAIN));
    let v = i32::from(logit_q8).wrapping_mul(gain).wrapping_add(128) >> 8;
    v.clamp(i32::from(i16::MIN), i32::from(i16::MAX)) as i16
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_matches_regenerated_sigmoid() {
        for (k, &g) in GREY_OF_Q5.iter().enumerate() {
            let expect = (255.0 / (1.0 + (-(k as f64) / 32.0).exp())).round();
            assert_eq!(f64::from(g), expect, "k = {k}");
        }
    }

    #[test]
    fn close_to_float_sigmoid_and_monotonic() {
        let mut previous = 0u8;
        for l in i16::MIN..=i16::MAX {
            let g = grey_of_logit(l);
            let exact = 255.0 / (1.0 + (-f64::from(l) / 256.0).exp());
            assert!(
                (f64::from(g) - exact).abs() <= 1.6,
                "logit {l}: {g} vs {exact}"
            );
            assert!(g >= previous, "not monotonic at {l}");
            previous = g;
        }
    }
}
