//! The integer decoder: latent in, logits or grey pixels out.

use crate::error::DecodeError;
use crate::format::MAX_LATENT_DIM;
use crate::format::{Layer, PixelMask};
use crate::image::GrayImage;
use crate::kernels::{dense, logit_q8, relu_u8};
use crate::latent::Latent;
use crate::layout::padded_inputs;
use crate::model::Model;
use crate::sigmoid::{gained_logit, grey_of_logit};

/// Runs a validated [`Model`] with scratch space for hidden layers up to `W`
/// wide (rounded up to a multiple of 4): `2 * W` i16 values, fixed at compile
/// time, word-aligned for the kernels' word loads. No heap, bounded stack.
///
/// ```
/// use runtime::{Decoder, Digit, LatentSampler, Model};
/// # let bytes = runtime::testing::tiny_model_bytes();
/// let model = Model::from_bytes(&bytes)?;
/// let mut decoder = Decoder::<64>::new(&model)?;
/// let z = LatentSampler::new(1).sample(model.latent_dim());
/// let mut digit = Digit::new();
/// decoder.decode(&z, &mut digit)?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug)]
pub struct Decoder<'m, const W: usize> {
    model: &'m Model<'m>,
    ping: Scratch<W>,
    pong: Scratch<W>,
}

/// Activations (or the latent) fed to a layer, word-aligned.
#[derive(Debug, Clone)]
#[repr(C, align(4))]
struct Scratch<const N: usize>([i16; N]);

impl<'m, const W: usize> Decoder<'m, W> {
    /// A decoder for `model`; fails if a hidden layer, rounded up to a
    /// multiple of 4, is wider than `W`.
    pub fn new(model: &'m Model<'m>) -> Result<Self, DecodeError> {
        let needed = padded_inputs(model.max_hidden_width());
        if needed > W {
            return Err(DecodeError::ScratchTooSmall {
                needed,
                capacity: W,
            });
        }
        Ok(Decoder {
            model,
            ping: Scratch([0; W]),
            pong: Scratch([0; W]),
        })
    }

    /// The model this decoder runs.
    pub fn model(&self) -> &'m Model<'m> {
        self.model
    }

    /// Decodes `latent` to a grey image: per pixel
    /// `round(255 * sigmoid(gain * logit))`, with the model's logit gain
    /// ([`Model::logit_gain`], 1 unless a version-4 file sets it).
    pub fn decode<const IW: usize, const IH: usize>(
        &mut self,
        latent: &Latent,
        image: &mut GrayImage<IW, IH>,
    ) -> Result<(), DecodeError> {
        let gain = self.model.logit_gain();
        let grey = |logit: i16| grey_of_logit(gained_logit(logit, gain));
        self.run(
            latent.as_q12(),
            image.pixels_mut(),
            |v| grey(logit_q8(v)),
            grey,
        )
    }

    /// Decodes `latent` to Bernoulli logits in Q8 (`logit * 256`, saturated),
    /// one per pixel, row-major: what the host uses to score the quantized
    /// model. Pixels outside the model's pixel mask get its background logit.
    pub fn decode_logits(
        &mut self,
        latent: &Latent,
        logits: &mut [i16],
    ) -> Result<(), DecodeError> {
        self.run(latent.as_q12(), logits, logit_q8, |l| l)
    }

    /// Runs every layer; `last` turns the last layer's requantized values
    /// into outputs, `outside` a Q8 logit into the output of a pixel the
    /// pixel mask leaves out (the mask's background).
    fn run<O: Copy>(
        &mut self,
        latent: &[i16],
        out: &mut [O],
        last: impl Fn(i32) -> O,
        outside: impl Fn(i16) -> O,
    ) -> Result<(), DecodeError> {
        let model = self.model;
        if latent.len() != model.latent_dim() {
            return Err(DecodeError::LatentSize {
                expected: model.latent_dim(),
                found: latent.len(),
            });
        }
        if out.len() != model.pixel_count() {
            return Err(DecodeError::ImageSize {
                expected: model.pixel_count(),
                found: out.len(),
            });
        }
        let mask = model.pixel_mask();
        // The latent, zero-padded to a multiple of 4 inputs.
        let mut z = Scratch([0i16; MAX_LATENT_DIM]);
        for (d, &s) in z.0.iter_mut().zip(latent) {
            *d = s;
        }
        let z = z.0.get(..padded_inputs(latent.len())).unwrap_or(&[]);
        let Some((final_layer, hidden)) = model.layers().split_last() else {
            return Ok(()); // unreachable for a validated model
        };
        let Some((first, rest)) = hidden.split_first() else {
            last_layer(final_layer, z, out, mask, last, outside);
            return Ok(());
        };
        let (mut src, mut dst) = (&mut self.ping.0, &mut self.pong.0);
        let mut width = hidden_layer(first, z, src)?;
        for layer in rest {
            let input = src.get(..width).ok_or(DecodeError::ScratchTooSmall {
                needed: width,
                capacity: W,
            })?;
            width = hidden_layer(layer, input, dst)?;
            core::mem::swap(&mut src, &mut dst);
        }
        let input = src.get(..width).ok_or(DecodeError::ScratchTooSmall {
            needed: width,
            capacity: W,
        })?;
        last_layer(final_layer, input, out, mask, last, outside);
        Ok(())
    }
}

/// Runs the last layer into `out`: every pixel without a mask; with one,
/// the computed pixels (through [`Computed`]) after every pixel got the
/// background. Two calls, so that a model without a mask writes its plain
/// slice as fast as before masks existed.
fn last_layer<O: Copy>(
    layer: &Layer<'_>,
    input: &[i16],
    out: &mut [O],
    mask: Option<&PixelMask<'_>>,
    last: impl Fn(i32) -> O,
    outside: impl Fn(i16) -> O,
) {
    match mask {
        None => dense(layer, input, out, last),
        Some(m) => {
            out.fill(outside(m.background));
            dense(layer, input, Computed::new(out, m.bits), last);
        }
    }
}

/// The places of the computed pixels of a masked image, in pixel order:
/// those whose mask bit is set, read one byte at a time, least significant
/// bit first.
struct Computed<'o, 'm, O> {
    pixels: core::slice::IterMut<'o, O>,
    bits: core::slice::Iter<'m, u8>,
    /// The current byte's unread bits above a marker bit: bit 0 is the
    /// next pixel's; the value 1 (the marker alone) means "read a byte".
    word: u32,
}

impl<'o, 'm, O> Computed<'o, 'm, O> {
    fn new(out: &'o mut [O], bits: &'m [u8]) -> Self {
        Computed {
            pixels: out.iter_mut(),
            bits: bits.iter(),
            word: 1,
        }
    }
}

impl<'o, O> Iterator for Computed<'o, '_, O> {
    type Item = &'o mut O;

    #[inline]
    fn next(&mut self) -> Option<&'o mut O> {
        loop {
            let pixel = self.pixels.next()?;
            if self.word == 1 {
                self.word = u32::from(self.bits.next().copied().unwrap_or(0)) | 0x100;
            }
            let computed = self.word & 1 == 1;
            self.word >>= 1;
            if computed {
                return Some(pixel);
            }
        }
    }
}

/// Runs a ReLU layer into `scratch`, zeroes the padding after its outputs,
/// and returns its padded width (what the next layer reads).
fn hidden_layer<const W: usize>(
    layer: &Layer<'_>,
    input: &[i16],
    scratch: &mut [i16; W],
) -> Result<usize, DecodeError> {
    let width = usize::from(layer.output_dim);
    let padded = padded_inputs(width);
    let out = scratch
        .get_mut(..padded)
        .ok_or(DecodeError::ScratchTooSmall {
            needed: padded,
            capacity: W,
        })?;
    let (values, padding) = out.split_at_mut(width.min(padded));
    dense(layer, input, values, relu_u8);
    padding.fill(0);
    Ok(padded)
}
