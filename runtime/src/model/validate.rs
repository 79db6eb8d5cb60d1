//! The structural invariants of a model body, checked once at load so
//! that decoding has no failure path: dimensions and capacities, how the
//! layers chain, array lengths, value ranges and the layout's zero padding.

use crate::error::{Field, ModelError};
use crate::format::{
    le_i32s, Activation, Drawing, Layer, ModelBody, PixelMask, MAX_ABS_BIAS, MAX_FILTER_DRAWS,
    MAX_FILTER_LAYERS, MAX_FILTER_WIDTH, MAX_IMAGE_SIDE, MAX_LATENT_DIM, MAX_LAYERS, MAX_LAYER_DIM,
    MAX_LOGIT_GAIN, MAX_NAME_LEN, MAX_SHIFT, MIN_SHIFT,
};
use crate::layout;

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

/// Checks every invariant of `body` that the decoder relies on, stopping at
/// the first violation with the typed error that names it: the name's
/// length; 1 to `MAX_LAYERS` layers; the latent size and image sides within
/// their capacities; then each layer ([`validate_layer`]) in order, layer 0
/// fed by the latent, each next one by the previous outputs, the last one
/// producing one logit per pixel, or with a `mask` (version 6, checked by
/// [`validate_mask`] after the layers) one per computed pixel.
pub(super) fn validate(
    body: &ModelBody<'_>,
    mask: Option<&PixelMask<'_>>,
) -> Result<(), ModelError> {
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
    let mut pixels = usize::from(body.image_width).saturating_mul(usize::from(body.image_height));
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
    if let Some(mask) = mask {
        validate_mask(mask, pixels)?;
        pixels = mask.count();
    }
    if fed != pixels {
        return Err(ModelError::OutputSizeMismatch {
            logits: fed,
            pixels,
        });
    }
    Ok(())
}

/// Checks a pixel mask (rule 12 of `docs/model-format.md`) for an image of
/// `pixels` pixels: `ceil(pixels / 8)` bytes, no bit set after the last
/// pixel. (That the last layer computes one logit per set bit is checked
/// with the layers.)
fn validate_mask(mask: &PixelMask<'_>, pixels: usize) -> Result<(), ModelError> {
    let expected = PixelMask::len_for(pixels);
    if mask.bits.len() != expected {
        return Err(ModelError::MaskLength {
            expected,
            found: mask.bits.len(),
        });
    }
    let used = pixels % 8;
    let last = mask.bits.last().copied().unwrap_or(0);
    if used != 0 && last >> used != 0 {
        return Err(ModelError::MaskPadding);
    }
    Ok(())
}

/// Checks the drawing section (rule 11 of `docs/model-format.md`): the
/// logit gain in `1..=MAX_LOGIT_GAIN`; a filter only with a prior
/// (`classes`), 1 to `MAX_FILTER_DRAWS` draws, 1 to `MAX_FILTER_LAYERS`
/// layers, each checked as a decoder layer is ([`validate_layer`], numbered
/// after the decoder's layers), fed by the latent, hidden layers at most
/// `MAX_FILTER_WIDTH` wide, the last one giving one logit per class.
pub(super) fn validate_drawing(
    drawing: &Drawing<'_>,
    body: &ModelBody<'_>,
    classes: Option<usize>,
) -> Result<(), ModelError> {
    if !(1..=MAX_LOGIT_GAIN).contains(&drawing.logit_gain) {
        return Err(ModelError::LogitGain(drawing.logit_gain));
    }
    let Some(filter) = &drawing.filter else {
        return Ok(());
    };
    let classes = classes.ok_or(ModelError::FilterWithoutPrior)?;
    check_dim(
        "filter draws",
        usize::from(filter.max_draws),
        usize::from(MAX_FILTER_DRAWS),
    )?;
    let count = filter.layers.len();
    check_dim("filter layer count", count, MAX_FILTER_LAYERS)?;
    let mut fed = usize::from(body.latent_dim);
    for (i, layer) in filter.layers.iter().enumerate() {
        let is_last = i.saturating_add(1) == count;
        validate_layer(body.layers.len().saturating_add(i), layer, fed, is_last)?;
        fed = usize::from(layer.output_dim);
        if !is_last {
            // The filter's hidden values live in fixed stack buffers.
            let padded = layout::padded_inputs(fed);
            if padded > MAX_FILTER_WIDTH {
                return Err(ModelError::ExceedsCapacity {
                    what: "filter layer width (padded to 4)",
                    value: padded,
                    max: MAX_FILTER_WIDTH,
                });
            }
        }
    }
    if fed != classes {
        return Err(ModelError::FilterOutputs {
            classes,
            found: fed,
        });
    }
    Ok(())
}

/// Checks layer `index`, fed `fed` values, last of the model or not: its
/// dimensions, that its input width is `fed`, that only the last layer
/// gives logits, its weight width (8, or 4 with the `int4` feature), the
/// byte length of every array, weights in range (no -128 or -8), zero
/// padding bytes and zero weights outside `output_dim x input_dim`, biases
/// within `MAX_ABS_BIAS`, multipliers non-negative with 15 significant bits
/// (a multiple of 65536), and shifts in `[-31, 30]`.
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
    if layer.weight_bits != 8 && !layer.is_int4() {
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
    let out_of_range = if layer.is_int4() {
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
        if !(MIN_SHIFT..=MAX_SHIFT).contains(&shift) {
            return Err(ModelError::ShiftOutOfRange {
                layer: index,
                channel,
                shift,
            });
        }
    }
    Ok(())
}
