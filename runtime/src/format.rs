//! The model file's wire format: constants and the serde types of the
//! postcard-encoded body. `docs/model-format.md` is the normative description.
//!
//! ```text
//! offset  size  field
//! 0       4     magic  b"VAEQ"
//! 4       2     format version, u16 little-endian (2; 3 with a prior;
//!               4 with a drawing section; 5 when a prior class's
//!               components share one scale factor; 6 with a pixel mask)
//! 6       4     payload length N, u32 little-endian
//! 10      N     payload: postcard encoding of `ModelBody`; in versions 3
//!               to 6 followed by the postcard encoding of `Option<Prior>`;
//!               in versions 4 to 6 then by the postcard encoding of
//!               `Drawing`; in version 6 then by that of `PixelMask`
//! 10+N    4     CRC-32 (IEEE) of the payload, u32 little-endian
//! ```

use serde::{Deserialize, Serialize};

/// First four bytes of every model file.
pub const MAGIC: [u8; 4] = *b"VAEQ";
/// The newest format version this runtime reads and writes: 6, the layout
/// of version 5 followed by a [`PixelMask`] (the decoder computes only the
/// pixels the mask names). A model without a mask is written as version 5
/// (a shared prior factor), 4 (a drawing section), 3 (a prior) or 2, so
/// older runtimes still read it.
pub const FORMAT_VERSION: u16 = 6;
/// The format version of a model whose prior classes may share one scale
/// factor ([`ClassPrior::scales`] holds a single triangle) and that has no
/// pixel mask: the layout of version 4.
pub const FORMAT_VERSION_SHARED: u16 = 5;
/// The format version of a model with a drawing section and no shared
/// prior factor: a version-3 file followed by a [`Drawing`] section (logit
/// gain, latent filter).
pub const FORMAT_VERSION_DRAWING: u16 = 4;
/// The format version of a model with a prior and no drawing section: a
/// version-2 body followed by an optional latent [`Prior`].
pub const FORMAT_VERSION_PRIOR: u16 = 3;
/// The oldest format version this runtime reads (no prior section).
pub const FORMAT_VERSION_NO_PRIOR: u16 = 2;
/// Size of the fixed header (magic, version, payload length).
pub const HEADER_LEN: usize = 10;
/// Size of the CRC-32 trailer.
pub const TRAILER_LEN: usize = 4;

/// Whether this build decodes int4 layers (feature `int4`, on by default);
/// without it an int4 layer is refused (`ModelError::WeightBits`).
pub const INT4: bool = cfg!(feature = "int4");

/// Fractional bits of the latent vector fed to layer 0: a latent value `z`
/// is the integer `round(z * 2^12)` saturated to i16 (range about ±8).
pub const LATENT_FRAC_BITS: u32 = 12;
/// Fractional bits of the logits the last layer produces: a logit `l` is
/// the integer `round(l * 2^8)` saturated to i16 (range about ±128).
pub const LOGIT_FRAC_BITS: u32 = 8;

/// Largest latent size the runtime accepts.
pub const MAX_LATENT_DIM: usize = 64;
/// Largest number of layers the runtime accepts.
pub const MAX_LAYERS: usize = 8;
/// Largest input or output size of any layer.
pub const MAX_LAYER_DIM: usize = 4096;
/// Largest image side in pixels.
pub const MAX_IMAGE_SIDE: usize = 255;
/// Largest length of the model name in bytes.
pub const MAX_NAME_LEN: usize = 32;
/// Largest magnitude of a bias: with it every accumulator stays inside
/// `(-2^29, 2^29)`, which the kernels' requantization relies on.
pub const MAX_ABS_BIAS: i32 = 1 << 28;
/// Smallest per-channel shift: the requantization scale is
/// `multiplier * 2^(shift - 31)`, so the shift is at most 62 bits right.
pub const MIN_SHIFT: i8 = -31;
/// Largest per-channel shift (a scale below `2^30`).
pub const MAX_SHIFT: i8 = 30;

/// Reads a `T` from the front of `bytes` as postcard encodes it and
/// requires that encoding to be the canonical one (every varint in its
/// shortest form); returns it with the bytes after it, or `None` (the
/// loader's `ModelError::Malformed`).
///
/// Why: postcard reads a length (`usize`) with at most 5 varint bytes on a
/// 32-bit device but 10 on a 64-bit host, and does not check that a varint
/// is minimal. Accepting only the canonical encoding (its length equals what
/// postcard's serializer would write) makes a file valid on a host exactly
/// when it is valid on a device: a longer varint is refused (`Malformed`)
/// on every target.
pub(crate) fn take_canonical<'a, T>(bytes: &'a [u8]) -> Option<(T, &'a [u8])>
where
    T: Deserialize<'a> + Serialize,
{
    let (value, rest) = postcard::take_from_bytes::<T>(bytes).ok()?;
    let used = bytes.len().saturating_sub(rest.len());
    let canonical = postcard::serialize_with_flavor(&value, postcard::ser_flavors::Size::default());
    (canonical.ok() == Some(used)).then_some((value, rest))
}

/// What a layer does with its requantized accumulator.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Activation {
    /// Hidden layer: ReLU, output stored as u8 in `[0, 255]` (zero point 0).
    Relu,
    /// Last layer: Bernoulli logits in Q8, stored as i16 (saturated).
    Logits,
}

/// One fully connected layer, as stored. Every array borrows from the file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Layer<'a> {
    /// What follows the requantization.
    pub activation: Activation,
    /// Number of inputs (columns of the weight matrix).
    pub input_dim: u16,
    /// Number of outputs (rows of the weight matrix, output channels).
    pub output_dim: u16,
    /// Bits per weight: 8 (int8 in `[-127, 127]`) or 4 (int4 in `[-7, 7]`,
    /// two per byte).
    pub weight_bits: u8,
    /// 0 to 3 zero bytes, so that `weights` starts at a file offset that is
    /// a multiple of 4 (see [`ModelBody::align_weights`]): word loads of the
    /// optimized kernels need it.
    #[serde(borrow)]
    pub padding: &'a [u8],
    /// The weights in the blocked layout of [`crate::layout`]:
    /// `padded_outputs * padded_inputs * weight_bits / 8` bytes.
    pub weights: &'a [u8],
    /// `output_dim` i32 biases, little-endian, in accumulator units.
    pub bias: &'a [u8],
    /// `output_dim` i32 requantization multipliers (Q31), little-endian.
    pub multiplier: &'a [u8],
    /// `output_dim` i8 requantization shifts in `[-31, 30]`.
    pub shift: &'a [u8],
}

/// Whether weights of `bits` bits are int4 as this build decodes them:
/// 4 bits with the `int4` feature on. Without it, 4-bit layers are refused
/// at load ([`crate::ModelError::WeightBits`]) and never reach a kernel.
#[inline(always)]
pub const fn is_int4(bits: u8) -> bool {
    INT4 && bits == 4
}

impl Layer<'_> {
    /// Whether the layer's weights are int4 (see [`is_int4`]).
    #[inline(always)]
    pub const fn is_int4(&self) -> bool {
        is_int4(self.weight_bits)
    }
}

/// A little-endian i32 from 4 bytes (0 if not exactly 4): how biases and
/// multipliers are stored.
#[inline(always)]
pub(crate) fn le_i32(bytes: &[u8]) -> i32 {
    <[u8; 4]>::try_from(bytes).map_or(0, i32::from_le_bytes)
}

/// Decodes an array of little-endian i32 values.
pub(crate) fn le_i32s(bytes: &[u8]) -> impl Iterator<Item = i32> + '_ {
    bytes.chunks_exact(4).map(le_i32)
}

/// Bytes of postcard's LEB128 varint for a length.
pub fn varint_len(n: usize) -> usize {
    let bits = usize::BITS - n.leading_zeros();
    bits.div_ceil(7).max(1) as usize
}

/// The postcard-encoded payload of a model file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ModelBody<'a> {
    /// Free-form model name (UTF-8, at most [`MAX_NAME_LEN`] bytes).
    pub name: &'a str,
    /// Size of the latent vector.
    pub latent_dim: u16,
    /// Image width in pixels.
    pub image_width: u16,
    /// Image height in pixels.
    pub image_height: u16,
    /// The layers, applied in order.
    #[serde(borrow)]
    pub layers: heapless::Vec<Layer<'a>, MAX_LAYERS>,
}

/// Largest number of classes in a prior.
pub const MAX_CLASSES: usize = 16;
/// Largest number of mixture components of one class.
pub const MAX_COMPONENTS: usize = 8;
/// Largest length of a class label in bytes.
pub const MAX_LABEL_LEN: usize = 16;

/// The latent prior of a version-3 file: per class a mixture of Gaussians
/// `N(m, L L^T)` in the latent space, drawn as `z = m + L eps` with
/// `eps ~ N(0, I)` (see `crate::prior` and `docs/model-format.md`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Prior<'a> {
    /// The classes, in label order (for MNIST `"0"` to `"9"`).
    #[serde(borrow)]
    pub classes: heapless::Vec<ClassPrior<'a>, MAX_CLASSES>,
}

/// One class of a [`Prior`]: its label, how often unconditional draws pick
/// it, and its mixture components. Every array borrows from the file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClassPrior<'a> {
    /// The class label, UTF-8, 1 to [`MAX_LABEL_LEN`] bytes, unique.
    pub label: &'a str,
    /// Relative weight of the class in unconditional draws (its frequency
    /// in the training set); 0 means only drawn on request.
    pub weight: u16,
    /// Per component a u16 little-endian relative weight, at least 1.
    pub component_weights: &'a [u8],
    /// Per component the fractional bits `a` (0 to 12) of its means.
    pub mean_bits: &'a [u8],
    /// Per component the fractional bits `b` (0 to 15) of its scale
    /// entries; its length is the number of components.
    pub scale_bits: &'a [u8],
    /// Per component `latent_dim` i8 means, `m_i = mean / 2^a`.
    pub means: &'a [u8],
    /// Per component the lower triangle of `L`, row by row
    /// (`latent_dim * (latent_dim + 1) / 2` i8 values, `L_ij = entry / 2^b`);
    /// from version 5 also a single triangle that every component of the
    /// class uses with its own `b` (a shared, "tied" factor).
    pub scales: &'a [u8],
}

/// The logit gain that draws the decoder's logits as they are (Q8: 1.0).
pub const LOGIT_GAIN_ONE: u16 = 256;
/// Largest logit gain (Q8: 16.0).
pub const MAX_LOGIT_GAIN: u16 = 4096;
/// Largest number of layers of a latent filter.
pub const MAX_FILTER_LAYERS: usize = 4;
/// Largest width of a latent filter's hidden layers: the filter runs in two
/// stack buffers of this many i16.
pub const MAX_FILTER_WIDTH: usize = 64;
/// Largest number of latents a filter may draw for one digit.
pub const MAX_FILTER_DRAWS: u8 = 64;

/// The drawing section of a version-4 file: how the device turns the
/// decoder's logits into grey levels, and which latents it keeps.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Drawing<'a> {
    /// Gain applied to every Q8 logit before the grey-level table, in Q8
    /// ([`LOGIT_GAIN_ONE`] = 1.0; 1 to [`MAX_LOGIT_GAIN`]): a gain above 1
    /// draws sharper strokes than the Bernoulli means. Scoring (the ELBO)
    /// uses the logits without it.
    pub logit_gain: u16,
    /// The latent filter, if any (it needs a prior).
    #[serde(borrow)]
    pub filter: Option<LatentFilter<'a>>,
}

/// A latent classifier that decides whether a latent drawn for a class is
/// kept: a small dense network in the decoder's layer format (latent in,
/// one Q8 logit per prior class out). A latent drawn for class `k` is kept
/// when logit `k` exceeds every other class's logit by at least `margin`;
/// otherwise another latent is drawn, up to `max_draws` in all (the last
/// one is kept whatever the filter says).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LatentFilter<'a> {
    /// Required lead of the drawn class's logit over every other, in Q8.
    pub margin: u16,
    /// Latents drawn at most per digit, 1 to [`MAX_FILTER_DRAWS`].
    pub max_draws: u8,
    /// The layers, applied in order: hidden ones `Relu` (at most
    /// [`MAX_FILTER_WIDTH`] wide), the last `Logits` with one output per
    /// class; at most [`MAX_FILTER_LAYERS`] (checked at load). The list has
    /// the body's capacity so that both share one decoder of the encoding
    /// (code size on a device).
    #[serde(borrow)]
    pub layers: heapless::Vec<Layer<'a>, MAX_LAYERS>,
}

/// The pixel mask of a version-6 file: which pixels the decoder's last layer
/// computes. The last layer has one output per set bit, in row-major pixel
/// order; every other pixel takes the constant logit `background`. Pixels
/// that real digits never reach (MNIST's corners and edges) then cost no
/// weights and no multiply-accumulates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct PixelMask<'a> {
    /// The Q8 logit of every pixel outside the mask (what scoring uses;
    /// drawn through the logit gain and the grey-level table as any logit).
    pub background: i16,
    /// `ceil(width * height / 8)` bytes: pixel `p` (row-major) is computed
    /// when bit `p % 8` (least significant first) of byte `p / 8` is set;
    /// the bits after the last pixel are zero.
    pub bits: &'a [u8],
}

impl PixelMask<'_> {
    /// Whether pixel `p` is computed (false past the mask's end).
    #[inline]
    pub fn contains(&self, p: usize) -> bool {
        self.bits
            .get(p / 8)
            .is_some_and(|&b| (b >> (p % 8)) & 1 == 1)
    }

    /// Number of computed pixels (set bits).
    pub fn count(&self) -> usize {
        self.bits.iter().map(|b| b.count_ones() as usize).sum()
    }

    /// Bytes of the mask for an image of `pixels` pixels.
    pub const fn len_for(pixels: usize) -> usize {
        pixels.div_ceil(8)
    }
}
