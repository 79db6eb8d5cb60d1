//! Host-side (`std` feature) post-training quantization of a float decoder
//! ([`FloatDecoder`], the f64 reference decoder in `float_decoder`) into the
//! model format.
//!
//! Scheme (see `docs/quantization.md`):
//! - weights: symmetric int8 per output channel, `s_w[c] = max|W[c]| / 127`;
//! - layer 0 input: the latent in Q12 (`s = 2^-12`);
//! - hidden activations: u8 after ReLU, `s = range / 255`, the range taken from
//!   the float network run on calibration latents (maximum or a percentile);
//! - logits: Q8 (`s = 2^-8`);
//! - biases: i32 in accumulator units `s_in * s_w[c]`;
//! - requantization: `s_in * s_w[c] / s_out` as a Q31 multiplier and a shift.
#![allow(clippy::indexing_slicing, clippy::cast_possible_truncation)]

use std::string::String;
use std::vec::Vec;
use std::{fmt, format, vec};

use crate::error::ModelError;
use crate::format::{
    Activation, Layer, ModelBody, PixelMask, LATENT_FRAC_BITS, LOGIT_FRAC_BITS, MAX_ABS_BIAS,
};
pub use crate::host::float_decoder::{FloatDecoder, FloatLayer};
use crate::model::Model;

/// Why a float decoder could not be quantized.
#[derive(Debug, Clone, PartialEq)]
pub enum QuantizeError {
    /// The float decoder's shapes are inconsistent.
    Shape(String),
    /// A weight or bias is NaN or infinite.
    NonFinite {
        /// Layer index.
        layer: usize,
    },
    /// No calibration latents were given.
    NoCalibration,
    /// A scale ratio cannot be expressed as multiplier and shift.
    ScaleOutOfRange {
        /// Layer index.
        layer: usize,
        /// Output channel.
        channel: usize,
    },
    /// The result failed the runtime's validation.
    Invalid(ModelError),
}

impl fmt::Display for QuantizeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            QuantizeError::Shape(s) => write!(f, "float decoder shape: {s}"),
            QuantizeError::NonFinite { layer } => {
                write!(f, "layer {layer} has NaN or infinite parameters")
            }
            QuantizeError::NoCalibration => write!(f, "no calibration latents"),
            QuantizeError::ScaleOutOfRange { layer, channel } => {
                write!(
                    f,
                    "layer {layer} channel {channel}: scale ratio out of range"
                )
            }
            QuantizeError::Invalid(e) => write!(f, "quantized model is invalid: {e}"),
        }
    }
}

impl std::error::Error for QuantizeError {}

impl FloatDecoder {
    /// Checks that the shapes chain from the latent to one logit per pixel.
    pub fn check(&self) -> Result<(), QuantizeError> {
        let mut fed = self.latent_dim;
        if self.layers.is_empty() {
            return Err(QuantizeError::Shape("no layers".into()));
        }
        for (i, l) in self.layers.iter().enumerate() {
            if l.input_dim != fed {
                return Err(QuantizeError::Shape(format!(
                    "layer {i} takes {} inputs, fed {fed}",
                    l.input_dim
                )));
            }
            if l.weights.len() != l.input_dim * l.output_dim || l.bias.len() != l.output_dim {
                return Err(QuantizeError::Shape(format!(
                    "layer {i} arrays do not match {}x{}",
                    l.output_dim, l.input_dim
                )));
            }
            if l.weights.iter().chain(&l.bias).any(|v| !v.is_finite()) {
                return Err(QuantizeError::NonFinite { layer: i });
            }
            fed = l.output_dim;
        }
        if fed != self.image_width * self.image_height {
            return Err(QuantizeError::Shape(format!(
                "last layer gives {fed} logits, image has {} pixels",
                self.image_width * self.image_height
            )));
        }
        Ok(())
    }
}

/// How the range of a hidden activation is calibrated.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Calibration {
    /// The largest value seen.
    Max,
    /// The given percentile (e.g. 99.99) of all values seen in the layer.
    Percentile(f64),
}

/// A quantized model that owns its arrays; [`QuantizedModel::model`] views it.
#[derive(Debug, Clone, PartialEq)]
pub struct QuantizedModel {
    name: String,
    latent_dim: u16,
    image_width: u16,
    image_height: u16,
    layers: Vec<OwnedLayer>,
    /// Real value of one unit of each layer's output (hidden: u8 step; last: 2^-8).
    pub output_scales: Vec<f64>,
    /// Per layer, the per-channel weight scales.
    pub weight_scales: Vec<Vec<f64>>,
    /// Number of biases that had to be clamped to `[-2^28, 2^28]`.
    pub clamped_biases: usize,
    /// The latent prior written with the model (format version 3), if any.
    pub prior: Option<crate::host::quantize_prior::OwnedPrior>,
    /// The drawing section written with the model (format version 4), if any.
    pub drawing: Option<OwnedDrawing>,
    /// The pixel mask written with the model (format version 6), if any:
    /// set by [`QuantizedModel::keep_pixels`].
    mask: Option<OwnedPixelMask>,
}

/// The pixel mask of a [`QuantizedModel`] (see [`crate::format::PixelMask`]).
#[derive(Debug, Clone, PartialEq)]
struct OwnedPixelMask {
    background: i16,
    bits: Vec<u8>,
}

/// The drawing section of a [`QuantizedModel`] (see [`crate::format::Drawing`]).
#[derive(Debug, Clone, PartialEq)]
pub struct OwnedDrawing {
    /// Gain on the Q8 logits before the grey-level table, Q8 (256 = 1.0).
    pub logit_gain: u16,
    /// The latent filter, if any.
    pub filter: Option<OwnedFilter>,
}

/// A latent filter that owns its layers (see [`crate::format::LatentFilter`]).
#[derive(Debug, Clone, PartialEq)]
pub struct OwnedFilter {
    /// Required lead of the drawn class's logit, Q8.
    pub margin: u16,
    /// Latents drawn at most per digit.
    pub max_draws: u8,
    layers: Vec<OwnedLayer>,
}

impl OwnedFilter {
    /// A filter whose network is `net`: a model quantized with
    /// [`quantize`] from a float classifier whose "image" is `1 x classes`
    /// logits (latent in, Q8 class logits out).
    pub fn new(net: &QuantizedModel, margin: u16, max_draws: u8) -> Self {
        OwnedFilter {
            margin,
            max_draws,
            layers: net.layers.clone(),
        }
    }
}

impl OwnedLayer {
    /// The layer as stored, borrowing this value's arrays (padding unset).
    fn view(&self) -> Layer<'_> {
        Layer {
            activation: self.activation,
            input_dim: self.input_dim,
            output_dim: self.output_dim,
            weight_bits: self.weight_bits,
            padding: &[],
            weights: &self.weights,
            bias: &self.bias,
            multiplier: &self.multiplier,
            shift: &self.shift,
        }
    }
}

/// `layers` as a fixed-capacity list of views, or the capacity error.
fn views<'a, const N: usize>(
    layers: &'a [OwnedLayer],
    what: &'static str,
) -> Result<heapless::Vec<Layer<'a>, N>, ModelError> {
    let mut out = heapless::Vec::new();
    for l in layers {
        out.push(l.view())
            .map_err(|_| ModelError::ExceedsCapacity {
                what,
                value: layers.len(),
                max: N,
            })?;
    }
    Ok(out)
}

#[derive(Debug, Clone, PartialEq)]
struct OwnedLayer {
    activation: Activation,
    input_dim: u16,
    output_dim: u16,
    weight_bits: u8,
    weights: Vec<u8>,
    bias: Vec<u8>,
    multiplier: Vec<u8>,
    shift: Vec<u8>,
}

impl QuantizedModel {
    /// The validated model view, borrowing this value's arrays.
    pub fn model(&self) -> Result<Model<'_>, ModelError> {
        let mut body = ModelBody {
            name: &self.name,
            latent_dim: self.latent_dim,
            image_width: self.image_width,
            image_height: self.image_height,
            layers: views(&self.layers, "layer count")?,
        };
        body.align_weights();
        let prior = self.prior.as_ref().map(|p| p.encoded());
        let drawing = match &self.drawing {
            None => None,
            Some(d) => {
                let filter = match &d.filter {
                    None => None,
                    Some(f) => Some(crate::format::LatentFilter {
                        margin: f.margin,
                        max_draws: f.max_draws,
                        layers: views(&f.layers, "filter layer count")?,
                    }),
                };
                let mut drawing = crate::format::Drawing {
                    logit_gain: d.logit_gain,
                    filter,
                };
                // The section follows the header, the body and the prior
                // section (its tag, then the prior's encoding).
                let at = crate::format::HEADER_LEN
                    + body.encoded_len()
                    + 1
                    + prior.map_or(0, <[u8]>::len);
                drawing.align_weights(at);
                Some(drawing)
            }
        };
        let mask = self.mask.as_ref().map(|m| PixelMask {
            background: m.background,
            bits: &m.bits,
        });
        Model::from_sections(body, prior, drawing, mask)
    }

    /// Keeps only the pixels where `keep` is true (row-major, one entry per
    /// pixel): the last layer's other rows are dropped, bit for bit the
    /// kept rows stay as they were, and the model gets a pixel mask
    /// (format version 6) whose other pixels take the Q8 logit
    /// `background`. Call it once, on a model without a mask.
    pub fn keep_pixels(&mut self, keep: &[bool], background: i16) -> Result<(), QuantizeError> {
        let pixels = usize::from(self.image_width) * usize::from(self.image_height);
        if keep.len() != pixels || self.mask.is_some() {
            return Err(QuantizeError::Shape(format!(
                "pixel mask of {} entries for {pixels} pixels{}",
                keep.len(),
                if self.mask.is_some() {
                    " (the model already has one)"
                } else {
                    ""
                }
            )));
        }
        let rows: Vec<usize> = (0..pixels).filter(|&p| keep[p]).collect();
        if rows.is_empty() {
            return Err(QuantizeError::Shape("pixel mask keeps no pixel".into()));
        }
        let layer = self
            .layers
            .last_mut()
            .ok_or_else(|| QuantizeError::Shape("no layers".into()))?;
        let (m, k) = (usize::from(layer.output_dim), usize::from(layer.input_dim));
        if m != pixels {
            return Err(QuantizeError::Shape(format!(
                "last layer has {m} outputs, image has {pixels} pixels"
            )));
        }
        let kp = crate::layout::padded_inputs(k);
        let old = std::mem::take(&mut layer.weights);
        let bits = layer.weight_bits;
        let kept =
            |r: usize, i: usize| crate::layout::weight_of(&old, bits, kp, rows[r], i).unwrap_or(0);
        layer.weights = vec![0; crate::layout::packed_bytes(rows.len(), k, bits)];
        crate::layout::pack_into(rows.len(), k, bits, kept, &mut layer.weights);
        let pick = |bytes: &[u8], width: usize| -> Vec<u8> {
            rows.iter()
                .flat_map(|&r| bytes[r * width..(r + 1) * width].iter().copied())
                .collect()
        };
        layer.bias = pick(&layer.bias, 4);
        layer.multiplier = pick(&layer.multiplier, 4);
        layer.shift = pick(&layer.shift, 1);
        layer.output_dim = rows.len() as u16;
        if let Some(scales) = self.weight_scales.last_mut() {
            *scales = rows.iter().map(|&r| scales[r]).collect();
        }
        let mut bits = vec![0u8; PixelMask::len_for(pixels)];
        for &p in &rows {
            bits[p / 8] |= 1 << (p % 8);
        }
        self.mask = Some(OwnedPixelMask { background, bits });
        Ok(())
    }

    /// The encoded model file.
    pub fn to_bytes(&self) -> Result<Vec<u8>, ModelError> {
        Ok(self.model()?.to_vec())
    }
}

/// Expresses a positive real `ratio` as `(multiplier, shift)` with
/// `ratio ~= multiplier * 2^(shift - 31)`, the multiplier a multiple of
/// `2^16` (format rule: 15 significant bits, so a Cortex-M0 without a
/// 64-bit multiply needs two 16x16 products) in `[2^30, 2^31)` where
/// possible (very small ratios use shift -31 and a smaller multiplier).
/// Relative error at most `2^-15`.
pub fn quantize_multiplier(ratio: f64) -> Option<(i32, i8)> {
    const UNIT: f64 = 65536.0;
    if !ratio.is_finite() || ratio < 0.0 {
        return None;
    }
    if ratio == 0.0 {
        return Some((0, 0));
    }
    let (mantissa, exponent) = libm::frexp(ratio); // ratio = m * 2^e, m in [0.5, 1)
    let mut q = (mantissa * f64::from(1u32 << 15)).round() as i64; // in [2^14, 2^15]
    let mut e = exponent;
    if q == 1i64 << 15 {
        q /= 2;
        e += 1;
    }
    if e > 30 {
        return None;
    }
    if e < -31 {
        // Denormalize: keep shift at -31 and shrink the multiplier.
        let q_small = (ratio * 2f64.powi(62) / UNIT).round() as i64;
        return Some(((q_small << 16) as i32, -31));
    }
    Some(((q << 16) as i32, e as i8))
}

/// Range of a set of non-negative activations.
fn activation_range(mut values: Vec<f64>, calibration: Calibration) -> f64 {
    match calibration {
        Calibration::Max => values.into_iter().fold(0.0, f64::max),
        Calibration::Percentile(p) => {
            if values.is_empty() {
                return 0.0;
            }
            values.sort_by(f64::total_cmp);
            let rank = ((p / 100.0) * (values.len() - 1) as f64).round() as usize;
            values[rank.min(values.len() - 1)]
        }
    }
}

/// Quantizes `decoder`, calibrating hidden activation ranges on `latents`.
pub fn quantize(
    decoder: &FloatDecoder,
    latents: &[Vec<f32>],
    calibration: Calibration,
    name: &str,
) -> Result<QuantizedModel, QuantizeError> {
    quantize_bits(decoder, latents, calibration, name, 8)
}

/// The largest weight level of `bits`-bit weights: 7 for 4 bits, 127
/// otherwise (symmetric: levels run from `-L` to `L`).
pub fn weight_levels(bits: u8) -> f64 {
    if bits == 4 {
        7.0
    } else {
        127.0
    }
}

/// One output channel (a row of the weight matrix) on the weight grid: its
/// scale `s = max|w| / L` (1 for an all-zero row) and every weight's level
/// `round(w / s)` (halves away from zero) clamped to `[-L, L]`, with
/// `L = weight_levels(bits)`, in f64. The exported weight is `level * s`;
/// quantization-aware training rounds to the same grid.
pub fn quantize_row(row: &[f32], bits: u8) -> (f64, Vec<i8>) {
    let levels = weight_levels(bits);
    let max_abs = row.iter().fold(0.0f64, |m, &w| m.max(f64::from(w).abs()));
    let scale = if max_abs > 0.0 { max_abs / levels } else { 1.0 };
    let q = row
        .iter()
        .map(|&w| (f64::from(w) / scale).round().clamp(-levels, levels) as i8)
        .collect();
    (scale, q)
}

/// [`quantize`] with `bits` bits per weight: 8 (int8, `[-127, 127]`) or 4
/// (int4 packed two per byte, `[-7, 7]`, per-channel scale `max|w| / 7`).
/// Other values are treated as 8.
pub fn quantize_bits(
    decoder: &FloatDecoder,
    latents: &[Vec<f32>],
    calibration: Calibration,
    name: &str,
    bits: u8,
) -> Result<QuantizedModel, QuantizeError> {
    let bits = if bits == 4 { 4 } else { 8 };
    decoder.check()?;
    if latents.is_empty() {
        return Err(QuantizeError::NoCalibration);
    }
    let n_layers = decoder.layers.len();
    let mut samples: Vec<Vec<f64>> = vec![Vec::new(); n_layers];
    for z in latents {
        let z: Vec<f64> = z.iter().map(|&v| f64::from(v)).collect();
        for (i, out) in decoder.forward_all(&z).into_iter().enumerate() {
            samples[i].extend(out);
        }
    }
    let mut in_scale = 2f64.powi(-(LATENT_FRAC_BITS as i32));
    let mut q = QuantizedModel {
        name: name.into(),
        latent_dim: decoder.latent_dim as u16,
        image_width: decoder.image_width as u16,
        image_height: decoder.image_height as u16,
        layers: Vec::new(),
        output_scales: Vec::new(),
        weight_scales: Vec::new(),
        clamped_biases: 0,
        prior: None,
        drawing: None,
        mask: None,
    };
    for (index, (layer, acts)) in decoder.layers.iter().zip(samples).enumerate() {
        let is_last = index + 1 == n_layers;
        let out_scale = if is_last {
            2f64.powi(-(LOGIT_FRAC_BITS as i32))
        } else {
            let range = activation_range(acts, calibration);
            if range > 0.0 {
                range / 255.0
            } else {
                1.0
            }
        };
        let mut owned = OwnedLayer {
            activation: if is_last {
                Activation::Logits
            } else {
                Activation::Relu
            },
            input_dim: layer.input_dim as u16,
            output_dim: layer.output_dim as u16,
            weight_bits: bits,
            weights: Vec::with_capacity(layer.weights.len()),
            bias: Vec::new(),
            multiplier: Vec::new(),
            shift: Vec::new(),
        };
        let mut scales = Vec::with_capacity(layer.output_dim);
        let mut row_major = Vec::with_capacity(layer.weights.len());
        for (channel, (row, &b)) in layer
            .weights
            .chunks_exact(layer.input_dim.max(1))
            .zip(&layer.bias)
            .enumerate()
        {
            let (w_scale, levels) = quantize_row(row, bits);
            row_major.extend(levels);
            let acc_scale = in_scale * w_scale;
            let bias_q = (f64::from(b) / acc_scale).round();
            let limit = f64::from(MAX_ABS_BIAS);
            if bias_q.abs() > limit {
                q.clamped_biases += 1;
            }
            owned
                .bias
                .extend_from_slice(&(bias_q.clamp(-limit, limit) as i32).to_le_bytes());
            let (m, s) = quantize_multiplier(acc_scale / out_scale).ok_or(
                QuantizeError::ScaleOutOfRange {
                    layer: index,
                    channel,
                },
            )?;
            owned.multiplier.extend_from_slice(&m.to_le_bytes());
            owned.shift.push(s as u8);
            scales.push(w_scale);
        }
        owned.weights = crate::layout::pack(layer.output_dim, layer.input_dim, bits, &row_major);
        q.layers.push(owned);
        q.output_scales.push(out_scale);
        q.weight_scales.push(scales);
        in_scale = out_scale;
    }
    q.model().map_err(QuantizeError::Invalid)?;
    Ok(q)
}

#[cfg(test)]
mod tests {
    use super::quantize_multiplier;

    #[test]
    fn multiplier_round_trips() {
        for &r in &[
            1.0,
            0.5,
            0.75,
            1e-3,
            3.7e-7,
            123.456,
            1e-12,
            0.999_999_999_9,
        ] {
            let (m, s) = quantize_multiplier(r).unwrap();
            let back = f64::from(m) * 2f64.powi(i32::from(s) - 31);
            assert!(
                (back - r).abs() <= r * 2f64.powi(-15) + 2f64.powi(-46),
                "{r}: {m} {s}"
            );
            assert!((-31..=30).contains(&s));
            assert_eq!(m % 65536, 0, "{r}: 15 significant bits");
        }
        assert_eq!(quantize_multiplier(0.0), Some((0, 0)));
        assert_eq!(quantize_multiplier(-1.0), None);
        assert_eq!(quantize_multiplier(f64::NAN), None);
        assert_eq!(quantize_multiplier(1e12), None);
    }
}
