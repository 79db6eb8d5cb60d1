//! Writing a model back into the file format (header, postcard body,
//! prior section, CRC-32 trailer), byte for byte as it was read.

use serde::Serialize;

use crate::crc32::crc32;
use crate::format::{
    varint_len, Drawing, Layer, ModelBody, FORMAT_VERSION_PRIOR, FORMAT_VERSION_SHARED, HEADER_LEN,
    LOGIT_GAIN_ONE, MAGIC, TRAILER_LEN,
};

use super::Model;

/// The drawing section a version-5 or 6 file without one is written with
/// (its layout always has the section): gain 1, no filter, which draws as
/// no section does.
static NEUTRAL_DRAWING: Drawing<'static> = Drawing {
    logit_gain: LOGIT_GAIN_ONE,
    filter: None,
};

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

impl Model<'_> {
    /// The drawing section as written: the model's, or for a version-5 or
    /// 6 model without one the neutral section.
    fn written_drawing(&self) -> Option<&Drawing<'_>> {
        match &self.drawing {
            Some(d) => Some(d),
            None if self.format_version() >= FORMAT_VERSION_SHARED => Some(&NEUTRAL_DRAWING),
            None => None,
        }
    }

    /// Whether the file has the prior section (versions 3 and later; its
    /// tag byte is there even without a prior).
    fn writes_prior_section(&self) -> bool {
        self.format_version() >= FORMAT_VERSION_PRIOR
    }

    /// Length of the encoded file in bytes.
    pub fn encoded_len(&self) -> Result<usize, WriteError> {
        let mut payload = postcard::experimental::serialized_size(&self.body)
            .map_err(|_| WriteError::BufferTooSmall)?;
        if self.writes_prior_section() {
            payload = payload.saturating_add(prior_section_len(self.prior.as_ref()));
        }
        if let Some(d) = self.written_drawing() {
            payload = payload.saturating_add(
                postcard::experimental::serialized_size(d)
                    .map_err(|_| WriteError::BufferTooSmall)?,
            );
        }
        if let Some(m) = &self.mask {
            payload = payload.saturating_add(
                postcard::experimental::serialized_size(m)
                    .map_err(|_| WriteError::BufferTooSmall)?,
            );
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
        if self.writes_prior_section() {
            let tail = rest
                .get_mut(payload_len..)
                .ok_or(WriteError::BufferTooSmall)?;
            let (tag, tail) = tail.split_first_mut().ok_or(WriteError::BufferTooSmall)?;
            *tag = 0;
            payload_len = payload_len.saturating_add(1);
            if let Some(p) = &self.prior {
                // Tag 1 (some), the class count, then the classes as stored.
                *tag = 1;
                let n = postcard::to_slice(&p.classes(), tail)
                    .map_err(|_| WriteError::BufferTooSmall)?
                    .len();
                let classes = p.encoded_classes();
                tail.get_mut(n..n.saturating_add(classes.len()))
                    .ok_or(WriteError::BufferTooSmall)?
                    .copy_from_slice(classes);
                payload_len = payload_len.saturating_add(n).saturating_add(classes.len());
            }
        }
        if let Some(d) = self.written_drawing() {
            payload_len = payload_len.saturating_add(append(d, rest, payload_len)?);
        }
        if let Some(m) = &self.mask {
            payload_len = payload_len.saturating_add(append(m, rest, payload_len)?);
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

/// Encodes `value` into `buf` from `at` on; returns its length.
fn append<T: Serialize>(value: &T, buf: &mut [u8], at: usize) -> Result<usize, WriteError> {
    let tail = buf.get_mut(at..).ok_or(WriteError::BufferTooSmall)?;
    postcard::to_slice(value, tail)
        .map(|written| written.len())
        .map_err(|_| WriteError::BufferTooSmall)
}

/// Bytes of the prior section (versions 3 to 6): its tag, and with a
/// prior the class count and the classes.
pub(crate) fn prior_section_len(prior: Option<&crate::PriorView<'_>>) -> usize {
    prior.map_or(1, |p| {
        1usize
            .saturating_add(varint_len(p.classes()))
            .saturating_add(p.encoded_classes().len())
    })
}

/// Zero bytes that [`ModelBody::align_weights`] borrows padding from.
static ZEROS: [u8; 3] = [0; 3];

/// Sets the `padding` of `layers`, encoded from file offset `pos` on (at
/// their count's varint), so that each layer's weights start at a multiple
/// of 4; returns the offset after them. The padding's own length prefix is
/// always one byte, so each layer's padding only depends on what precedes it.
fn align_layers(pos: usize, layers: &mut [Layer<'_>]) -> usize {
    let mut pos = pos.saturating_add(varint_len(layers.len()));
    for layer in layers.iter_mut() {
        pos = pos
            .saturating_add(encoded_size(&(
                layer.activation,
                layer.input_dim,
                layer.output_dim,
                layer.weight_bits,
            )))
            .saturating_add(1);
        let weights_at = pos.saturating_add(varint_len(layer.weights.len()));
        let pad = (4 - weights_at % 4) % 4;
        layer.padding = ZEROS.get(..pad).unwrap_or(&[]);
        pos = pos.saturating_add(pad).saturating_add(encoded_size(&(
            layer.weights,
            layer.bias,
            layer.multiplier,
            layer.shift,
        )));
    }
    pos
}

impl Drawing<'_> {
    /// Sets the latent filter's layer padding so that its weights start at
    /// file offsets that are multiples of 4, for a drawing section that
    /// starts at file offset `at` (after the header, body and prior section).
    pub fn align_weights(&mut self, at: usize) {
        let head = encoded_size(&self.logit_gain).saturating_add(1);
        if let Some(f) = &mut self.filter {
            let pos = at
                .saturating_add(head)
                .saturating_add(encoded_size(&(f.margin, f.max_draws)));
            align_layers(pos, &mut f.layers);
        }
    }
}

impl<'a> ModelBody<'a> {
    /// Sets every layer's `padding` so that its weights start at a file
    /// offset that is a multiple of 4 when this body is encoded.
    ///
    /// The offsets follow from postcard's encoding (see
    /// `docs/model-format.md`): the padding's own length prefix is always one
    /// byte, so each layer's padding only depends on what precedes it.
    pub fn align_weights(&mut self) {
        let head = (
            self.name,
            self.latent_dim,
            self.image_width,
            self.image_height,
        );
        let pos = HEADER_LEN.saturating_add(encoded_size(&head));
        align_layers(pos, &mut self.layers);
    }

    /// Bytes of this body's postcard encoding.
    pub fn encoded_len(&self) -> usize {
        encoded_size(self)
    }
}

/// Bytes postcard needs for `value` (0 if it cannot be encoded).
fn encoded_size<T: Serialize + ?Sized>(value: &T) -> usize {
    postcard::experimental::serialized_size(value).unwrap_or(0)
}
