//! The pixel mask written with the decoder (format version 6): which pixels
//! the device computes. MNIST digits are centred in a 20 x 20 box of the
//! 28 x 28 image, so about 150 pixels at the corners and edges hold ink in
//! fewer than 1 of 10,000 training digits; each costs a row of 64 weights
//! and 9 bytes of requantization in the decoder's last layer (73 bytes, a
//! sixth of the file between them), and the decoder draws them black anyway.
//! The mask keeps the others; a pixel left out takes one constant logit,
//! the Bernoulli probability that fits those pixels of the training set.

use anyhow::{Context, Result};
use runtime::host::quantize::QuantizedModel;

use crate::data::Dataset;

/// Which pixels to keep.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MaskSpec {
    /// A pixel is kept when at least this many of every 10,000 training
    /// digits have a grey level of at least 0.5 there.
    pub per_10000: f64,
}

impl MaskSpec {
    /// Pixels inked in at least 1 of 10,000 training digits: on MNIST
    /// 629 of 784 kept, 0.18% of the test digits have a pixel of grey
    /// 0.5 or more outside (`docs/quality.md`, "Pixels the device does not
    /// compute").
    pub const DEFAULT: MaskSpec = MaskSpec { per_10000: 1.0 };
}

/// The fitted mask: one flag per pixel (row-major) and the Q8 logit of the
/// pixels left out.
#[derive(Debug, Clone, PartialEq)]
pub struct FittedMask {
    /// Whether each pixel is computed.
    pub keep: Vec<bool>,
    /// The logit of every pixel left out, Q8.
    pub background_q8: i16,
}

impl FittedMask {
    /// Pixels computed.
    pub fn kept(&self) -> usize {
        self.keep.iter().filter(|&&k| k).count()
    }
}

/// Grey level (u8) from which a pixel counts as inked.
const INK: u8 = 128;

/// The mask `spec` asks for on `train`: pixel `p` is kept when at least
/// `ceil(per_10000 * n / 10,000)` of the `n` images have grey >= 0.5
/// there (at least one image). The background is the logit of the mean grey
/// level of the pixels left out, with one inked and one blank pseudo-pixel
/// added (so it stays finite), in Q8.
pub fn fit(train: &Dataset, spec: &MaskSpec) -> FittedMask {
    let pixels = crate::data::PIXELS;
    let mut inked = vec![0usize; pixels];
    let mut grey = vec![0u64; pixels];
    for i in 0..train.len() {
        for (p, &v) in train.image(i).iter().enumerate() {
            inked[p] += usize::from(v >= INK);
            grey[p] += u64::from(v);
        }
    }
    let needed = ((spec.per_10000 * train.len() as f64 / 10_000.0).ceil() as usize).max(1);
    let keep: Vec<bool> = inked.iter().map(|&n| n >= needed).collect();
    let (mut sum, mut count) = (0.0f64, 0.0f64);
    for p in (0..pixels).filter(|&p| !keep[p]) {
        sum += grey[p] as f64 / 255.0;
        count += train.len() as f64;
    }
    let mean = (sum + 1.0) / (count + 2.0);
    let logit = (mean / (1.0 - mean)).ln();
    let background_q8 = (logit * 256.0).round().clamp(-32768.0, 32767.0) as i16;
    FittedMask {
        keep,
        background_q8,
    }
}

/// Leaves out of `model` the pixels `spec`'s mask (fitted on `train`) drops.
pub fn apply(model: &mut QuantizedModel, train: &Dataset, spec: &MaskSpec) -> Result<()> {
    let mask = fit(train, spec);
    eprintln!(
        "Pixel mask: {} of {} pixels computed (inked in at least {} of 10,000 training digits), background logit {:.2}",
        mask.kept(),
        mask.keep.len(),
        spec.per_10000,
        f64::from(mask.background_q8) / 256.0
    );
    model
        .keep_pixels(&mask.keep, mask.background_q8)
        .context("masking the decoder's pixels")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::PIXELS;

    /// Ten images inked in the first 100 pixels, pixel 100 inked in one
    /// image only, the rest blank.
    fn data() -> Dataset {
        let mut pixels = vec![0u8; 10 * PIXELS];
        for i in 0..10 {
            pixels[i * PIXELS..i * PIXELS + 100].fill(200);
        }
        pixels[100] = 255;
        Dataset {
            pixels,
            labels: vec![0; 10],
        }
    }

    #[test]
    fn keeps_the_pixels_inked_often_enough() {
        let train = data();
        // 1 per 10,000 of 10 images: at least one image.
        let m = fit(&train, &MaskSpec::DEFAULT);
        assert_eq!(m.kept(), 101);
        assert!(m.keep[100] && !m.keep[101]);
        // 2,000 per 10,000: at least 2 images; pixel 100 goes.
        let m = fit(&train, &MaskSpec { per_10000: 2000.0 });
        assert_eq!(m.kept(), 100);
        // The background: one inked pseudo-pixel in 684 * 10 + 2 blank ones.
        let expected = (1.0f64 + 1.0) / (684.0 * 10.0 + 2.0);
        let expected = (expected / (1.0 - expected)).ln() * 256.0;
        assert!((f64::from(m.background_q8) - expected).abs() <= 0.5);
        assert!(m.background_q8 < -8 * 256, "{}", m.background_q8);
    }
}
