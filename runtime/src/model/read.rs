//! Reading a model: the file (header, CRC-32, postcard body, optional
//! prior section) and bodies built in memory; both end in validation.

use crate::crc32::crc32;
use crate::error::ModelError;
use crate::format::{
    take_canonical, Drawing, Layer, ModelBody, PixelMask, FORMAT_VERSION, FORMAT_VERSION_DRAWING,
    FORMAT_VERSION_NO_PRIOR, FORMAT_VERSION_PRIOR, FORMAT_VERSION_SHARED, HEADER_LEN, MAGIC,
    TRAILER_LEN,
};
#[cfg(doc)]
use crate::format::{Activation, MAX_IMAGE_SIDE, MAX_LATENT_DIM, MAX_LAYERS, MAX_LAYER_DIM};

use super::validate::{validate, validate_drawing};
use super::Model;
use crate::prior::PriorView;

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
        if !(FORMAT_VERSION_NO_PRIOR..=FORMAT_VERSION).contains(&version) {
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
        let (body, rest) = take_canonical::<ModelBody<'a>>(payload).ok_or(ModelError::Malformed)?;
        // Versions 3 to 6 append the optional prior section after the
        // body: a tag byte (0 none, 1 some), then the prior, kept in place.
        let (prior, rest) = match (version >= FORMAT_VERSION_PRIOR, rest.split_first()) {
            (false, _) => (None, rest),
            (true, Some((0, tail))) => (None, tail),
            (true, Some((1, tail))) => {
                let (view, tail) = crate::prior::parse(tail)?;
                (Some(view), tail)
            }
            (true, _) => return Err(ModelError::Malformed),
        };
        // Versions 4 to 6 then have the drawing section.
        let (drawing, rest) = if version >= FORMAT_VERSION_DRAWING {
            let (d, tail) = take_canonical::<Drawing<'a>>(rest).ok_or(ModelError::Malformed)?;
            (Some(d), tail)
        } else {
            (None, rest)
        };
        // Version 6 ends with the pixel mask.
        let (mask, rest) = if version >= FORMAT_VERSION {
            let (m, tail) = take_canonical::<PixelMask<'a>>(rest).ok_or(ModelError::Malformed)?;
            (Some(m), tail)
        } else {
            (None, rest)
        };
        if !rest.is_empty() {
            return Err(ModelError::PayloadTooLong(rest.len()));
        }
        let filter_layers: &[Layer<'a>] = drawing
            .as_ref()
            .and_then(|d| d.filter.as_ref())
            .map_or(&[], |f| &f.layers);
        for (layer, l) in body.layers.iter().chain(filter_layers).enumerate() {
            let offset = (l.weights.as_ptr() as usize).wrapping_sub(bytes.as_ptr() as usize);
            if offset % 4 != 0 {
                return Err(ModelError::MisalignedWeights { layer, offset });
            }
        }
        let parsed = Model {
            body,
            prior,
            drawing,
            mask,
        };
        Self::checked(parsed, version >= FORMAT_VERSION_SHARED)
    }

    /// Rules 5 to 12 of `docs/model-format.md`, in that order (the mask's
    /// rule 12 before the output count of rule 6, which needs it).
    /// `shared` allows prior classes with one shared factor (versions 5, 6).
    /// `parsed` holds the sections as read, not yet validated.
    fn checked(parsed: Model<'a>, shared: bool) -> Result<Self, ModelError> {
        let Model {
            body,
            prior,
            drawing,
            mask,
        } = &parsed;
        validate(body, mask.as_ref())?;
        if let Some(view) = prior {
            crate::prior::validate(view, usize::from(body.latent_dim), shared)?;
        }
        if let Some(d) = drawing {
            validate_drawing(d, body, prior.as_ref().map(PriorView::classes))?;
        }
        Ok(parsed)
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
        Self::from_sections(body, prior, None, None)
    }

    /// [`Model::from_parts`] with a drawing section (version 4): logit gain
    /// and optional latent filter (see [`crate::filter`]), and a pixel mask
    /// (version 6): the last layer then has one output per computed pixel.
    /// The filter's weights should be aligned for the file (see
    /// [`crate::format::Drawing::align_weights`]).
    pub fn from_sections(
        body: ModelBody<'a>,
        prior: Option<&'a [u8]>,
        drawing: Option<Drawing<'a>>,
        mask: Option<PixelMask<'a>>,
    ) -> Result<Self, ModelError> {
        let prior = match prior {
            None => None,
            Some(bytes) => {
                let (view, rest) = crate::prior::parse(bytes)?;
                if !rest.is_empty() {
                    return Err(ModelError::PayloadTooLong(rest.len()));
                }
                Some(view)
            }
        };
        let parsed = Model {
            body,
            prior,
            drawing,
            mask,
        };
        Self::checked(parsed, true)
    }
}
