//! Drawing a latent for a model: from its class prior when it has one,
//! else from N(0, I), kept or redrawn by its latent filter when it has one.
//! It needs the model, its prior, its filter and the sampler, so it lives
//! here, above all of them (the latent module knows no model).

use crate::latent::{Latent, LatentSampler};

use super::Model;

impl LatentSampler {
    /// Draws a latent the way `model` says: from its learned [`crate::Prior`]
    /// when it has one (class `class`, or with `None` a class picked by
    /// class weight), otherwise from N(0, I) as [`LatentSampler::sample`]
    /// (then `class` is ignored). A class the prior does not have draws
    /// unconditionally. With a latent filter (format version 4) the class
    /// is fixed first, then latents of that class are drawn until the
    /// filter keeps one or `max_draws` were drawn (the last is kept). The
    /// order of the random draws is given in [`crate::prior`]; every target
    /// draws the same latent.
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
        self.draw_counted(model, class).0
    }

    /// [`LatentSampler::draw`], also returning how many latents were drawn
    /// (1 without a filter; 1 to `max_draws` with one): what a benchmark
    /// needs for the mean and worst-case cost of a digit.
    pub fn draw_counted(&mut self, model: &Model<'_>, class: Option<usize>) -> (Latent, u8) {
        let dim = model.latent_dim();
        let Some(prior) = model.prior() else {
            return (self.sample(dim), 1);
        };
        let k = match class.filter(|&k| k < prior.classes()) {
            Some(k) => k,
            None => prior.pick_class(self.rng()),
        };
        let Some(filter) = model.filter() else {
            return (
                prior.sample_class(self.rng(), k, dim).unwrap_or_default(),
                1,
            );
        };
        let mut draws = 0u8;
        loop {
            let z = prior.sample_class(self.rng(), k, dim).unwrap_or_default();
            draws = draws.saturating_add(1);
            if draws >= filter.max_draws || crate::filter::accepts(filter, z.as_q12(), k) {
                return (z, draws);
            }
        }
    }
}
