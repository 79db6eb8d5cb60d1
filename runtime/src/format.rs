//! The model file's wire format: constants and the serde types of the
//! postcard-encoded body. `docs/model-format.md` is the normative description.
//!
//! ```text
//! offset  size  field
//! 0       4     magic  b"VAEQ"
//! 4       2     format version, u16 little-endian (this runtime: 1)
//! 6       4     payload length N, u32 little-endian
//! 10      N     payload: postcard encoding of `ModelBody`
//! 10+N    4     CRC-32 (IEEE) of the payload, u32 little-endian
//! ```

use serde::{Deserialize, Serialize};

/// First four bytes of every model file.
pub const MAGIC: [u8; 4] = *b"VAEQ";
/// The format version this runtime reads and writes.
pub const FORMAT_VERSION: u16 = 1;
/// Size of the fixed header (magic, version, payload length).
pub const HEADER_LEN: usize = 10;
/// Size of the CRC-32 trailer.
pub const TRAILER_LEN: usize = 4;

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
/// Largest magnitude of a bias (keeps the i32 accumulator from overflowing).
pub const MAX_ABS_BIAS: i32 = 1 << 30;

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
    /// `output_dim * input_dim` int8 weights in `[-127, 127]`, row-major: the
    /// `input_dim` weights of output channel 0 first.
    #[serde(borrow)]
    pub weights: &'a [u8],
    /// `output_dim` i32 biases, little-endian, in accumulator units.
    pub bias: &'a [u8],
    /// `output_dim` i32 requantization multipliers (Q31), little-endian.
    pub multiplier: &'a [u8],
    /// `output_dim` i8 requantization shifts in `[-31, 30]`.
    pub shift: &'a [u8],
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
