//! Typed errors: every way a model file or a decode request can be refused.

use core::fmt;

use crate::format::{MAX_ABS_BIAS, MAX_SHIFT, MIN_SHIFT};

/// Which per-layer array of the model file an error is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Field {
    /// `weights`: int8 values in the blocked layout, padded (see [`crate::layout`]).
    Weights,
    /// `bias`: `output_dim` little-endian i32 values.
    Bias,
    /// `multiplier`: `output_dim` little-endian i32 values.
    Multiplier,
    /// `shift`: `output_dim` i8 values.
    Shift,
}

impl fmt::Display for Field {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Field::Weights => "weights",
            Field::Bias => "bias",
            Field::Multiplier => "multiplier",
            Field::Shift => "shift",
        })
    }
}

/// Which per-class array of a prior section an error is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PriorField {
    /// `component_weights`: one u16 per component.
    ComponentWeights,
    /// `mean_bits`: one u8 per component, 0 to 12.
    MeanBits,
    /// `scale_bits`: one u8 per component, 0 to 15.
    ScaleBits,
    /// `means`: `latent_dim` i8 per component.
    Means,
    /// `scales`: `latent_dim * (latent_dim + 1) / 2` i8 per component.
    Scales,
}

impl fmt::Display for PriorField {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            PriorField::ComponentWeights => "component weights",
            PriorField::MeanBits => "mean bits",
            PriorField::ScaleBits => "scale bits",
            PriorField::Means => "means",
            PriorField::Scales => "scales",
        })
    }
}

/// Why a byte buffer is not a valid model. Returned by [`crate::Model::from_bytes`].
///
/// A `layer` index counts the file's layers in order: the decoder's first
/// (0 to its layer count - 1), then a latent filter's (version 4), so with a
/// 3-layer decoder the filter's first layer is layer 3.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ModelError {
    /// The buffer is empty.
    Empty,
    /// The buffer ends before the header, payload or checksum is complete.
    Truncated {
        /// Bytes the header says the file needs.
        needed: usize,
        /// Bytes actually present.
        found: usize,
    },
    /// The first four bytes are not [`crate::format::MAGIC`].
    BadMagic([u8; 4]),
    /// The format version is not one this runtime reads.
    UnsupportedVersion(u16),
    /// The CRC-32 stored after the payload does not match the payload.
    CrcMismatch {
        /// CRC-32 recorded in the file.
        stored: u32,
        /// CRC-32 computed over the payload.
        computed: u32,
    },
    /// Bytes follow the checksum.
    TrailingBytes(usize),
    /// The payload is not a valid postcard encoding of the model body.
    Malformed,
    /// The payload decodes but leaves bytes unused before the checksum.
    PayloadTooLong(usize),
    /// The model has no layers.
    NoLayers,
    /// A size exceeds what this runtime supports.
    ExceedsCapacity {
        /// What is too large.
        what: &'static str,
        /// The value in the file.
        value: usize,
        /// The largest value supported.
        max: usize,
    },
    /// A dimension is zero.
    ZeroDimension {
        /// Which dimension.
        what: &'static str,
    },
    /// Layer `layer`'s input size does not match the size that feeds it.
    DimensionMismatch {
        /// Index of the layer.
        layer: usize,
        /// Size expected (latent size or previous layer's output size).
        expected: usize,
        /// Input size recorded for the layer.
        found: usize,
    },
    /// The last layer's output count differs from the image's pixel count
    /// (or, in version 6, from the pixel mask's count of computed pixels).
    OutputSizeMismatch {
        /// Logits the last layer produces.
        logits: usize,
        /// `image_width * image_height`.
        pixels: usize,
    },
    /// A per-layer array has the wrong length.
    WrongLength {
        /// Index of the layer.
        layer: usize,
        /// Which array.
        field: Field,
        /// Length in bytes implied by the layer's dimensions.
        expected: usize,
        /// Length in bytes in the file.
        found: usize,
    },
    /// A hidden layer has the output activation, or the last layer does not.
    BadActivation {
        /// Index of the layer.
        layer: usize,
    },
    /// A requantization shift lies outside `[-31, 30]`.
    ShiftOutOfRange {
        /// Index of the layer.
        layer: usize,
        /// Output channel.
        channel: usize,
        /// The shift in the file.
        shift: i8,
    },
    /// A requantization multiplier is negative.
    NegativeMultiplier {
        /// Index of the layer.
        layer: usize,
        /// Output channel.
        channel: usize,
    },
    /// A multiplier is not a multiple of `2^16` (the format keeps 15
    /// significant bits, see `docs/model-format.md`).
    MultiplierPrecision {
        /// Index of the layer.
        layer: usize,
        /// Output channel.
        channel: usize,
    },
    /// A bias lies outside `[-2^28, 2^28]` (accumulators must stay inside `(-2^29, 2^29)`).
    BiasOutOfRange {
        /// Index of the layer.
        layer: usize,
        /// Output channel.
        channel: usize,
    },
    /// A weight is -128 (int8) or -8 (int4): the format is symmetric.
    WeightOutOfRange {
        /// Index of the layer.
        layer: usize,
    },
    /// A layer's `weight_bits` is neither 8 nor 4 (or 4 in a build without
    /// the `int4` feature).
    WeightBits {
        /// Index of the layer.
        layer: usize,
        /// The value found.
        bits: u8,
    },
    /// A layer's alignment padding is longer than 3 bytes or not zero, or a
    /// weight in the padding rows or columns of the blocked layout is not zero.
    BadPadding {
        /// Index of the layer.
        layer: usize,
    },
    /// A layer's weights do not start at a file offset that is a multiple of 4.
    MisalignedWeights {
        /// Index of the layer.
        layer: usize,
        /// Their offset from the start of the file.
        offset: usize,
    },
    /// The prior section has no classes.
    PriorEmpty,
    /// A class label is empty, longer than 16 bytes, or repeats an earlier one.
    PriorLabel {
        /// Index of the class.
        class: usize,
    },
    /// A class has no components or more than the runtime supports.
    PriorComponents {
        /// Index of the class.
        class: usize,
        /// Components found.
        found: usize,
    },
    /// A per-class prior array has the wrong length for the latent size.
    PriorLength {
        /// Index of the class.
        class: usize,
        /// Which array.
        field: PriorField,
        /// Length in bytes implied by the component count and latent size.
        expected: usize,
        /// Length in bytes in the file.
        found: usize,
    },
    /// A component weight is zero, or (`component: None`) every class weight is.
    PriorZeroWeight {
        /// Index of the class (0 when every class weight is zero).
        class: usize,
        /// The component, or `None` for the class weights.
        component: Option<usize>,
    },
    /// A component's mean has more than 12 or its scale more than 15
    /// fractional bits.
    PriorBits {
        /// Index of the class.
        class: usize,
        /// Index of the component.
        component: usize,
        /// [`PriorField::MeanBits`] or [`PriorField::ScaleBits`].
        field: PriorField,
        /// The value found.
        bits: u8,
    },
    /// The drawing section's logit gain is 0 or above
    /// [`crate::format::MAX_LOGIT_GAIN`].
    LogitGain(u16),
    /// The file has a latent filter but no prior to draw the latents it judges.
    FilterWithoutPrior,
    /// The latent filter's last layer does not give one logit per prior class.
    FilterOutputs {
        /// Classes of the prior.
        classes: usize,
        /// Outputs of the filter's last layer.
        found: usize,
    },
    /// The pixel mask (version 6) is not `ceil(width * height / 8)` bytes.
    MaskLength {
        /// Bytes implied by the image size.
        expected: usize,
        /// Bytes in the file.
        found: usize,
    },
    /// The pixel mask sets a bit after the image's last pixel.
    MaskPadding,
}

impl fmt::Display for ModelError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            ModelError::Empty => write!(f, "model file is empty"),
            ModelError::Truncated { needed, found } => {
                write!(
                    f,
                    "model file is truncated: needs {needed} bytes, has {found}"
                )
            }
            ModelError::BadMagic(m) => write!(f, "not a model file: magic bytes are {m:02x?}"),
            ModelError::UnsupportedVersion(v) => write!(
                f,
                "model format version {v} is not supported (this runtime reads versions {} to {})",
                crate::format::FORMAT_VERSION_NO_PRIOR,
                crate::format::FORMAT_VERSION
            ),
            ModelError::CrcMismatch { stored, computed } => write!(
                f,
                "model file is corrupt: CRC-32 is {computed:#010x}, file says {stored:#010x}"
            ),
            ModelError::TrailingBytes(n) => write!(f, "{n} unexpected bytes after the checksum"),
            ModelError::Malformed => write!(f, "model payload is not a valid postcard model body"),
            ModelError::PayloadTooLong(n) => {
                write!(f, "{n} unused bytes at the end of the payload")
            }
            ModelError::NoLayers => write!(f, "model has no layers"),
            ModelError::ExceedsCapacity { what, value, max } => {
                write!(f, "{what} is {value}, this runtime supports at most {max}")
            }
            ModelError::ZeroDimension { what } => write!(f, "{what} is zero"),
            ModelError::DimensionMismatch {
                layer,
                expected,
                found,
            } => write!(
                f,
                "layer {layer} takes {found} inputs but is fed {expected} values"
            ),
            ModelError::OutputSizeMismatch { logits, pixels } => write!(
                f,
                "last layer produces {logits} logits but the image has {pixels} pixels"
            ),
            ModelError::WrongLength {
                layer,
                field,
                expected,
                found,
            } => write!(
                f,
                "layer {layer}: {field} has {found} bytes, its dimensions need {expected}"
            ),
            ModelError::BadActivation { layer } => write!(
                f,
                "layer {layer}: only the last layer may (and must) produce logits"
            ),
            ModelError::ShiftOutOfRange {
                layer,
                channel,
                shift,
            } => write!(
                f,
                "layer {layer} channel {channel}: shift {shift} outside [{MIN_SHIFT}, {MAX_SHIFT}]"
            ),
            ModelError::NegativeMultiplier { layer, channel } => {
                write!(f, "layer {layer} channel {channel}: negative multiplier")
            }
            ModelError::MultiplierPrecision { layer, channel } => write!(
                f,
                "layer {layer} channel {channel}: multiplier is not a multiple of 2^16"
            ),
            ModelError::BiasOutOfRange { layer, channel } => {
                const BIAS_BITS: u32 = MAX_ABS_BIAS.trailing_zeros();
                write!(
                    f,
                    "layer {layer} channel {channel}: bias outside [-2^{BIAS_BITS}, 2^{BIAS_BITS}]"
                )
            }
            ModelError::WeightOutOfRange { layer } => {
                write!(
                    f,
                    "layer {layer}: weight -128 or -8 (int8 weights lie in [-127, 127], int4 in [-7, 7])"
                )
            }
            ModelError::WeightBits { layer, bits } => write!(
                f,
                "layer {layer}: {bits} bits per weight (supported: 8 and 4)"
            ),
            ModelError::BadPadding { layer } => write!(
                f,
                "layer {layer}: padding is not zero (alignment bytes or padded weights)"
            ),
            ModelError::MisalignedWeights { layer, offset } => write!(
                f,
                "layer {layer}: weights start at file offset {offset}, not a multiple of 4"
            ),
            ModelError::PriorEmpty => write!(f, "prior section has no classes"),
            ModelError::PriorLabel { class } => write!(
                f,
                "prior class {class}: label is empty, longer than 16 bytes or repeated"
            ),
            ModelError::PriorComponents { class, found } => write!(
                f,
                "prior class {class}: {found} components (supported: 1 to {})",
                crate::format::MAX_COMPONENTS
            ),
            ModelError::PriorLength {
                class,
                field,
                expected,
                found,
            } => write!(
                f,
                "prior class {class}: {field} has {found} bytes, needs {expected}"
            ),
            ModelError::PriorZeroWeight {
                class,
                component: Some(c),
            } => write!(f, "prior class {class} component {c}: weight is zero"),
            ModelError::PriorZeroWeight {
                component: None, ..
            } => write!(f, "prior: every class weight is zero"),
            ModelError::PriorBits {
                class,
                component,
                field,
                bits,
            } => write!(
                f,
                "prior class {class} component {component}: {bits} {field} (means take at most 12, scales 15)"
            ),
            ModelError::LogitGain(g) => write!(
                f,
                "drawing: logit gain {g} outside 1..={} (Q8, 256 = 1.0)",
                crate::format::MAX_LOGIT_GAIN
            ),
            ModelError::FilterWithoutPrior => {
                write!(f, "latent filter without a prior to draw latents from")
            }
            ModelError::FilterOutputs { classes, found } => write!(
                f,
                "latent filter gives {found} class logits, the prior has {classes} classes"
            ),
            ModelError::MaskLength { expected, found } => write!(
                f,
                "pixel mask has {found} bytes, the image needs {expected}"
            ),
            ModelError::MaskPadding => {
                write!(f, "pixel mask sets a bit after the image's last pixel")
            }
        }
    }
}

impl core::error::Error for ModelError {}

/// Why a decode request was refused. Only mismatches between the caller's
/// buffers and the model are possible; a validated model itself never fails.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DecodeError {
    /// The latent vector's length differs from the model's latent size.
    LatentSize {
        /// The model's latent size.
        expected: usize,
        /// The length given.
        found: usize,
    },
    /// The output buffer's pixel count differs from the model's image size.
    ImageSize {
        /// The model's pixel count.
        expected: usize,
        /// The buffer's pixel count.
        found: usize,
    },
    /// A hidden layer is wider than the decoder's scratch capacity.
    ScratchTooSmall {
        /// Width the model needs.
        needed: usize,
        /// Capacity of the decoder type.
        capacity: usize,
    },
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            DecodeError::LatentSize { expected, found } => {
                write!(f, "latent has {found} values, the model takes {expected}")
            }
            DecodeError::ImageSize { expected, found } => {
                write!(
                    f,
                    "output buffer has {found} pixels, the model draws {expected}"
                )
            }
            DecodeError::ScratchTooSmall { needed, capacity } => write!(
                f,
                "model has a hidden layer of width {needed}, decoder capacity is {capacity}"
            ),
        }
    }
}

impl core::error::Error for DecodeError {}
