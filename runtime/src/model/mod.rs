//! The validated model: a [`Model`] borrows every weight array from the
//! bytes it was loaded from, so a model `include_bytes!`-ed into flash is
//! used in place: nothing is copied to RAM. Once a constructor returns `Ok`,
//! every invariant the decoder relies on holds (see the list in
//! `docs/model-format.md`), which is why decoding cannot fail or panic
//! afterwards.
//!
//! - `read`: [`Model::from_bytes`] (header, CRC, postcard body, prior) and
//!   the in-memory constructors;
//! - `validate`: the structural invariants of a body and its layers;
//! - `write`: encoding a model back into a file;
//! - `sample`: drawing a latent for the model (`LatentSampler::draw`),
//!   through its latent filter when it has one.

mod read;
mod sample;
mod validate;
mod write;

pub use write::WriteError;

use crate::format::{
    Drawing, LatentFilter, Layer, ModelBody, PixelMask, FORMAT_VERSION, FORMAT_VERSION_DRAWING,
    FORMAT_VERSION_NO_PRIOR, FORMAT_VERSION_PRIOR, FORMAT_VERSION_SHARED, LOGIT_GAIN_ONE,
};
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
    drawing: Option<Drawing<'a>>,
    mask: Option<PixelMask<'a>>,
}

impl<'a> Model<'a> {
    /// The learned latent prior, if the file has one (version 3).
    pub fn prior(&self) -> Option<&PriorView<'a>> {
        self.prior.as_ref()
    }

    /// The drawing section (version 4), if the file has one.
    pub fn drawing(&self) -> Option<&Drawing<'a>> {
        self.drawing.as_ref()
    }

    /// The gain applied to every Q8 logit before the grey-level table, in
    /// Q8: [`LOGIT_GAIN_ONE`] (1.0) without a drawing section.
    pub fn logit_gain(&self) -> u16 {
        self.drawing
            .as_ref()
            .map_or(LOGIT_GAIN_ONE, |d| d.logit_gain)
    }

    /// The latent filter (version 4), if the file has one.
    pub fn filter(&self) -> Option<&LatentFilter<'a>> {
        self.drawing.as_ref().and_then(|d| d.filter.as_ref())
    }

    /// The pixel mask (version 6), if the decoder computes only some pixels.
    pub fn pixel_mask(&self) -> Option<&PixelMask<'a>> {
        self.mask.as_ref()
    }

    /// The format version this model is written as: 6 with a pixel mask,
    /// else 5 when a prior class's components share one scale factor, else
    /// 4 with a drawing section, else 3 with a prior, else 2.
    pub fn format_version(&self) -> u16 {
        if self.mask.is_some() {
            FORMAT_VERSION
        } else if self.prior.as_ref().is_some_and(PriorView::shares_factor) {
            FORMAT_VERSION_SHARED
        } else if self.drawing.is_some() {
            FORMAT_VERSION_DRAWING
        } else if self.prior.is_some() {
            FORMAT_VERSION_PRIOR
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

    /// Pixels per image (`width * height`, at most 255 * 255), computed or
    /// not (see [`Model::pixel_mask`]).
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
}
