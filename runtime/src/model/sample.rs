//! Drawing a latent for a model: from its class prior when it has one,
//! else from N(0, I). It needs the model, its prior and the sampler, so it
//! lives here, above all three (the latent module knows no model).

use crate::latent::{Latent, LatentSampler};

use super::Model;

impl LatentSampler {
    /// Draws a latent the way `model` says: from its learned [`crate::Prior`]
    /// when it has one (class `class`, or with `None` a class picked by
    /// class weight), otherwise from N(0, I) as [`LatentSampler::sample`]
    /// (then `class` is ignored). A class the prior does not have draws
    /// unconditionally. The order of the random draws is given in
    /// [`crate::prior`]; every target draws the same latent.
    ///
    /// ```
    /// # let bytes = runtime::testing::tiny_model_bytes();
    /// let model = runtime::Model::from_bytes(&bytes)?;
    /// let mut sampler = runtime::LatentSampler::new(7);
    /// let z = sampler.draw(&model, Some(3));
    /// assert_eq!(z.len(), model.latent_dim());
    /// # Ok::<(), runtime::ModelError>(())
    /// ```
    pub fn draw(&mut self, model: &Model<'_>, class: Option<usize>) -> Latent {
        let dim = model.latent_dim();
        match model.prior() {
            None => self.sample(dim),
            Some(prior) => match class.filter(|&k| k < prior.classes()) {
                Some(k) => prior.sample_class(self.rng(), k, dim).unwrap_or_default(),
                None => prior.sample(self.rng(), dim).1,
            },
        }
    }
}
