//! Loading and validating a model file, and writing one.
//!
//! [`Model::from_bytes`] borrows every weight array from the input buffer, so
//! a model `include_bytes!`-ed into flash is used in place: nothing is copied
//! to RAM. Once it returns `Ok`, every invariant the decoder relies on holds
//! (see the list in `docs/model-format.md`), which is why decoding cannot fail
//! or panic afterwards.

use crate::crc32::crc32;
use crate::error::{Field, ModelError};
use crate::format::{
    Activation, Layer, ModelBody, FORMAT_VERSION, FORMAT_VERSION_NO_PRIOR, HEADER_LEN, MAGIC,
    MAX_ABS_BIAS, MAX_IMAGE_SIDE, MAX_LATENT_DIM, MAX_LAYERS, MAX_LAYER_DIM, MAX_NAME_LEN,
    TRAILER_LEN,
};
use crate::layout;
use crate::prior::PriorView;

/// A validated model whose weights borrow from the bytes it was loaded from.
///
/// ```
/// # fn main() -> Result<(), runtime::ModelError> {
/// # let bytes = runtime::testing::tiny_model_bytes();
/// let model = runtime::Model::from_bytes(&bytes)?;
/// assert_eq!(model.image_width(), 28);
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Model<'a> {
    body: ModelBody<'a>,
    prior: Option<PriorView<'a>>,
}

/// Why a model could not be written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WriteError {
    /// The output buffer cannot hold the encoded model.
    BufferTooSmall,
}

impl core::fmt::Display for WriteError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("output buffer too small for the encoded model")
    }
}

impl core::error::Error for WriteError {}

/// Reads a little-endian u16 at `at`, if present.
fn read_u16(bytes: &[u8], at: usize) -> Option<u16> {
    let b = bytes.get(at..at.checked_add(2)?)?;
    Some(u16::from_le_bytes(b.try_into().ok()?))
}

/// Reads a little-endian u32 at `at`, if present.
fn read_u32(bytes: &[u8], at: usize) -> Option<u32> {
    let b = bytes.get(at..at.checked_add(4)?)?;
    Some(u32::from_le_bytes(b.try_into().ok()?))
}

impl<'a> Model<'a> {
    /// Parses and validates a model file without copying its arrays.
    ///
    /// Checks, in order: non-empty, magic, version, length, CRC-32, postcard
    /// decoding, then every structural invariant (see [`Model::from_body`]).
    pub fn from_bytes(bytes: &'a [u8]) -> Result<Self, ModelError> {
        if bytes.is_empty() {
            return Err(ModelError::Empty);
        }
        let found = bytes.len();
        let magic: [u8; 4] = match bytes.get(..4) {
            Some(m) => m.try_into().map_err(|_| ModelError::Malformed)?,
            None => {
                return Err(ModelError::Truncated {
                    needed: HEADER_LEN,
                    found,
                })
            }
        };
        if magic != MAGIC {
            return Err(ModelError::BadMagic(magic));
        }
        let version = read_u16(bytes, 4).ok_or(ModelError::Truncated {
            needed: HEADER_LEN,
            found,
        })?;
        if version != FORMAT_VERSION && version != FORMAT_VERSION_NO_PRIOR {
            return Err(ModelError::UnsupportedVersion(version));
        }
        let payload_len = read_u32(bytes, 6).ok_or(ModelError::Truncated {
            needed: HEADER_LEN,
            found,
        })?;
        let payload_end = usize::try_from(payload_len)
            .ok()
            .and_then(|n| n.checked_add(HEADER_LEN))
            .ok_or(ModelError::Truncated {
                needed: usize::MAX,
                found,
            })?;
        let needed = payload_end.saturating_add(TRAILER_LEN);
        let (payload, stored) = match (
            bytes.get(HEADER_LEN..payload_end),
            read_u32(bytes, payload_end),
        ) {
            (Some(p), Some(c)) => (p, c),
            _ => return Err(ModelError::Truncated { needed, found }),
        };
        if found > needed {
            return Err(ModelError::TrailingBytes(found.saturating_sub(needed)));
        }
        let computed = crc32(payload);
        if computed != stored {
            return Err(ModelError::CrcMismatch { stored, computed });
        }
        let (body, rest) = postcard::take_from_bytes::<ModelBody<'a>>(payload)
            .map_err(|_| ModelError::Malformed)?;
        // Version 3 appends the optional prior section after the body: a
        // tag byte (0 none, 1 some), then the prior, kept in place.
        let (prior, rest) = match (version == FORMAT_VERSION, rest.split_first()) {
            (false, _) => (None, rest),
            (true, Some((0, tail))) => (None, tail),
            (true, Some((1, tail))) => {
                let (view, tail) = crate::prior::parse(tail)?;
                (Some(view), tail)
            }
            (true, _) => return Err(ModelError::Malformed),
        };
        if !rest.is_empty() {
            return Err(ModelError::PayloadTooLong(rest.len()));
        }
        for (layer, l) in body.layers.iter().enumerate() {
            let offset = (l.weights.as_ptr() as usize).wrapping_sub(bytes.as_ptr() as usize);
            if offset % 4 != 0 {
                return Err(ModelError::MisalignedWeights { layer, offset });
            }
        }
        validate(&body)?;
        if let Some(view) = &prior {
            crate::prior::validate(view, usize::from(body.latent_dim))?;
        }
        Ok(Model { body, prior })
    }

    /// Validates a model body built in memory (for example by a quantizer).
    ///
    /// Invariants: 1 to [`MAX_LAYERS`] layers; latent size 1 to
    /// [`MAX_LATENT_DIM`]; image sides 1 to [`MAX_IMAGE_SIDE`]; every layer
    /// dimension 1 to [`MAX_LAYER_DIM`]; layer 0 takes the latent, each layer
    /// takes the previous one's outputs, the last one produces one logit per
    /// pixel; only the last layer has [`Activation::Logits`]; array lengths
    /// match the dimensions; weights in `[-127, 127]`; biases in
    /// `[-2^28, 2^28]`; multipliers non-negative; shifts in `[-31, 30]`.
    pub fn from_body(body: ModelBody<'a>) -> Result<Self, ModelError> {
        Self::from_parts(body, None)
    }

    /// Validates a model body with an optional latent prior given as its
    /// postcard encoding (a [`crate::format::Prior`]: class count, then the
    /// classes; see [`crate::prior`] for the invariants). The prior must use
    /// every byte.
    pub fn from_parts(body: ModelBody<'a>, prior: Option<&'a [u8]>) -> Result<Self, ModelError> {
        validate(&body)?;
        let prior = match prior {
            None => None,
            Some(bytes) => {
                let (view, rest) = crate::prior::parse(bytes)?;
                if !rest.is_empty() {
                    return Err(ModelError::PayloadTooLong(rest.len()));
                }
                crate::prior::validate(&view, usize::from(body.latent_dim))?;
                Some(view)
            }
        };
        Ok(Model { body, prior })
    }

    /// The learned latent prior, if the file has one (version 3).
    pub fn prior(&self) -> Option<&PriorView<'a>> {
        self.prior.as_ref()
    }

    /// The format version this model is written as: 3 with a prior, else 2.
    pub fn format_version(&self) -> u16 {
        if self.prior.is_some() {
            FORMAT_VERSION
        } else {
            FORMAT_VERSION_NO_PRIOR
        }
    }

    /// The model's name.
    pub fn name(&self) -> &'a str {
        self.body.name
    }

    /// Size of the latent vector the decoder takes.
    pub fn latent_dim(&self) -> usize {
        usize::from(self.body.latent_dim)
    }

    /// Image width in pixels.
    pub fn image_width(&self) -> usize {
        usize::from(self.body.image_width)
    }

    /// Image height in pixels.
    pub fn image_height(&self) -> usize {
        usize::from(self.body.image_height)
    }

    /// Pixels per image (`width * height`, at most 255 * 255).
    pub fn pixel_count(&self) -> usize {
        usize::from(self.body.image_width).saturating_mul(usize::from(self.body.image_height))
    }

    /// The layers, in the order they are applied.
    pub fn layers(&self) -> &[Layer<'a>] {
        &self.body.layers
    }

    /// The decoded body (for re-encoding or inspection).
    pub fn body(&self) -> &ModelBody<'a> {
        &self.body
    }

    /// Widest hidden activation (0 for a single-layer model): the scratch
    /// capacity a [`crate::Decoder`] needs.
    pub fn max_hidden_width(&self) -> usize {
        let layers = self.layers();
        let hidden = layers.len().saturating_sub(1);
        layers
            .iter()
            .take(hidden)
            .map(|l| usize::from(l.output_dim))
            .max()
            .unwrap_or(0)
    }

    /// Total bytes of stored weights (including the layout's padding).
    pub fn weight_bytes(&self) -> usize {
        self.layers().iter().map(|l| l.weights.len()).sum()
    }

    /// Multiply-accumulates per decoded image.
    pub fn macs(&self) -> usize {
        self.layers()
            .iter()
            .map(|l| usize::from(l.input_dim).saturating_mul(usize::from(l.output_dim)))
            .sum()
    }

    /// Length of the encoded file in bytes.
    pub fn encoded_len(&self) -> Result<usize, WriteError> {
        let mut payload = postcard::experimental::serialized_size(&self.body)
            .map_err(|_| WriteError::BufferTooSmall)?;
        if let Some(p) = &self.prior {
            payload = payload
                .saturating_add(1)
                .saturating_add(crate::format::varint_len(p.classes()))
                .saturating_add(p.encoded_classes().len());
        }
        Ok(HEADER_LEN
            .saturating_add(payload)
            .saturating_add(TRAILER_LEN))
    }

    /// Encodes the model into `buf`, returning the number of bytes written.
    pub fn write_to(&self, buf: &mut [u8]) -> Result<usize, WriteError> {
        let (header, rest) = buf
            .split_at_mut_checked(HEADER_LEN)
            .ok_or(WriteError::BufferTooSmall)?;
        let mut payload_len = postcard::to_slice(&self.body, rest)
            .map_err(|_| WriteError::BufferTooSmall)?
            .len();
        if let Some(p) = &self.prior {
            // Tag 1 (some), the class count, then the classes as stored.
            let tail = rest
                .get_mut(payload_len..)
                .ok_or(WriteError::BufferTooSmall)?;
            let (tag, tail) = tail.split_first_mut().ok_or(WriteError::BufferTooSmall)?;
            *tag = 1;
            let n = postcard::to_slice(&p.classes(), tail)
                .map_err(|_| WriteError::BufferTooSmall)?
                .len();
            let classes = p.encoded_classes();
            tail.get_mut(n..n.saturating_add(classes.len()))
                .ok_or(WriteError::BufferTooSmall)?
                .copy_from_slice(classes);
            payload_len = payload_len
                .saturating_add(1)
                .saturating_add(n)
                .saturating_add(classes.len());
        }
        let (payload, after) = rest
            .split_at_mut_checked(payload_len)
            .ok_or(WriteError::BufferTooSmall)?;
        let crc = crc32(payload);
        let trailer = after
            .get_mut(..TRAILER_LEN)
            .ok_or(WriteError::BufferTooSmall)?;
        trailer.copy_from_slice(&crc.to_le_bytes());
        let len32 = u32::try_from(payload_len).map_err(|_| WriteError::BufferTooSmall)?;
        let mut h = [0u8; HEADER_LEN];
        h[..4].copy_from_slice(&MAGIC);
        h[4..6].copy_from_slice(&self.format_version().to_le_bytes());
        h[6..].copy_from_slice(&len32.to_le_bytes());
        header.copy_from_slice(&h);
        Ok(HEADER_LEN
            .saturating_add(payload_len)
            .saturating_add(TRAILER_LEN))
    }

    /// Encodes the model into a new vector.
    #[cfg(feature = "std")]
    pub fn to_vec(&self) -> std::vec::Vec<u8> {
        let len = self.encoded_len().unwrap_or(0);
        let mut buf = std::vec![0u8; len];
        // The length was computed for exactly this body.
        let written = self.write_to(&mut buf).unwrap_or(0);
        buf.truncate(written);
        buf
    }
}

/// Checks that `value` lies in `1..=max`.
fn check_dim(what: &'static str, value: usize, max: usize) -> Result<(), ModelError> {
    if value == 0 {
        Err(ModelError::ZeroDimension { what })
    } else if value > max {
        Err(ModelError::ExceedsCapacity { what, value, max })
    } else {
        Ok(())
    }
}

/// Checks one array's length in bytes.
fn check_len(layer: usize, field: Field, bytes: &[u8], expected: usize) -> Result<(), ModelError> {
    if bytes.len() == expected {
        Ok(())
    } else {
        Err(ModelError::WrongLength {
            layer,
            field,
            expected,
            found: bytes.len(),
        })
    }
}

/// Whether every weight outside the layer's `output_dim x input_dim` (the
/// layout's padding rows and columns) is zero, as kernels rely on.
fn zero_padded(layer: &Layer<'_>) -> bool {
    let (m, k) = (usize::from(layer.output_dim), usize::from(layer.input_dim));
    let (mp, kp) = (layout::padded_outputs(m), layout::padded_inputs(k));
    (0..mp).all(|r| {
        let first = if r < m { k } else { 0 };
        (first..kp)
            .all(|i| layout::weight_of(layer.weights, layer.weight_bits, kp, r, i) == Some(0))
    })
}

/// A little-endian i32 from 4 bytes (0 if not exactly 4).
#[inline(always)]
pub(crate) fn le_i32(bytes: &[u8]) -> i32 {
    <[u8; 4]>::try_from(bytes).map_or(0, i32::from_le_bytes)
}

/// Decodes little-endian i32 values.
pub(crate) fn le_i32s(bytes: &[u8]) -> impl Iterator<Item = i32> + '_ {
    bytes.chunks_exact(4).map(le_i32)
}

fn validate(body: &ModelBody<'_>) -> Result<(), ModelError> {
    if body.name.len() > MAX_NAME_LEN {
        return Err(ModelError::ExceedsCapacity {
            what: "model name length",
            value: body.name.len(),
            max: MAX_NAME_LEN,
        });
    }
    let latent = usize::from(body.latent_dim);
    check_dim("latent size", latent, MAX_LATENT_DIM)?;
    check_dim("image width", usize::from(body.image_width), MAX_IMAGE_SIDE)?;
    check_dim(
        "image height",
        usize::from(body.image_height),
        MAX_IMAGE_SIDE,
    )?;
    let pixels = usize::from(body.image_width).saturating_mul(usize::from(body.image_height));
    let count = body.layers.len();
    if count == 0 {
        return Err(ModelError::NoLayers);
    }
    if count > MAX_LAYERS {
        return Err(ModelError::ExceedsCapacity {
            what: "layer count",
            value: count,
            max: MAX_LAYERS,
        });
    }
    let mut fed = latent;
    for (index, layer) in body.layers.iter().enumerate() {
        let is_last = index.saturating_add(1) == count;
        validate_layer(index, layer, fed, is_last)?;
        fed = usize::from(layer.output_dim);
    }
    if fed != pixels {
        return Err(ModelError::OutputSizeMismatch {
            logits: fed,
            pixels,
        });
    }
    Ok(())
}

fn validate_layer(
    index: usize,
    layer: &Layer<'_>,
    fed: usize,
    is_last: bool,
) -> Result<(), ModelError> {
    let inputs = usize::from(layer.input_dim);
    let outputs = usize::from(layer.output_dim);
    check_dim("layer input size", inputs, MAX_LAYER_DIM)?;
    check_dim("layer output size", outputs, MAX_LAYER_DIM)?;
    if inputs != fed {
        return Err(ModelError::DimensionMismatch {
            layer: index,
            expected: fed,
            found: inputs,
        });
    }
    if (layer.activation == Activation::Logits) != is_last {
        return Err(ModelError::BadActivation { layer: index });
    }
    if layer.weight_bits != 8 && !(crate::INT4 && layer.weight_bits == 4) {
        return Err(ModelError::WeightBits {
            layer: index,
            bits: layer.weight_bits,
        });
    }
    // Both factors are at most 4096, so none of these products overflow.
    check_len(
        index,
        Field::Weights,
        layer.weights,
        layout::packed_bytes(outputs, inputs, layer.weight_bits),
    )?;
    check_len(index, Field::Bias, layer.bias, outputs.saturating_mul(4))?;
    check_len(
        index,
        Field::Multiplier,
        layer.multiplier,
        outputs.saturating_mul(4),
    )?;
    check_len(index, Field::Shift, layer.shift, outputs)?;
    // int8: -128 is 0x00 in an even (excess-128) row, 0x80 in an odd row;
    // int4: -8 is the nibble 0x8.
    let minus_128 = |(at, &b): (usize, &u8)| b == if at % 2 == 0 { 0x00 } else { 0x80 };
    let minus_8 = |&b: &u8| b & 0x0F == 0x08 || b >> 4 == 0x08;
    let out_of_range = if crate::INT4 && layer.weight_bits == 4 {
        layer.weights.iter().any(minus_8)
    } else {
        layer.weights.iter().enumerate().any(minus_128)
    };
    if out_of_range {
        return Err(ModelError::WeightOutOfRange { layer: index });
    }
    if layer.padding.len() > 3 || layer.padding.iter().any(|&b| b != 0) || !zero_padded(layer) {
        return Err(ModelError::BadPadding { layer: index });
    }
    for (channel, bias) in le_i32s(layer.bias).enumerate() {
        if !(-MAX_ABS_BIAS..=MAX_ABS_BIAS).contains(&bias) {
            return Err(ModelError::BiasOutOfRange {
                layer: index,
                channel,
            });
        }
    }
    for (channel, m) in le_i32s(layer.multiplier).enumerate() {
        if m < 0 {
            return Err(ModelError::NegativeMultiplier {
                layer: index,
                channel,
            });
        }
        if m % 65536 != 0 {
            return Err(ModelError::MultiplierPrecision {
                layer: index,
                channel,
            });
        }
    }
    for (channel, &s) in layer.shift.iter().enumerate() {
        let shift = s as i8;
        if !(-31..=30).contains(&shift) {
            return Err(ModelError::ShiftOutOfRange {
                layer: index,
                channel,
                shift,
            });
        }
    }
    Ok(())
}
