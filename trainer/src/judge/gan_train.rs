//! GAN-train (Shmelkov et al. 2018): a fresh classifier of the judge's
//! architecture trained only on drawn digits, labelled with the digit that
//! was asked for, then tested on the real test digits, beside the same
//! classifier trained on the real training digits. Drawn digits that are
//! legible but all alike, or varied but illegible, teach a worse classifier.

use anyhow::{ensure, Context, Result};
use serde::{Deserialize, Serialize};

use super::{Judge, CLASSES};
use crate::data::{Dataset, PIXELS};
use crate::layers::Dev;

/// Drawn digits per class (as many as MNIST has training digits).
pub const PER_CLASS: usize = 6_000;

/// Test accuracy of a classifier trained on drawn digits and of the same
/// trained on real ones.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq)]
pub struct GanTrain {
    /// Epochs each classifier trained (the judge's recipe otherwise).
    pub epochs: usize,
    /// Digits each trained on.
    pub images: usize,
    /// Test accuracy of the classifier trained on drawn digits.
    pub drawn: f64,
    /// Test accuracy of the classifier trained on real training digits.
    pub real: f64,
}

impl GanTrain {
    /// The figure as a printed line.
    pub fn line(&self) -> String {
        format!(
            "GAN-train ({} digits, {} epochs): trained on drawn digits {:.2}% | on real ones {:.2}% test accuracy\n",
            self.images,
            self.epochs,
            100.0 * self.drawn,
            100.0 * self.real
        )
    }
}

/// Draws [`PER_CLASS`] digits of every class of `model`'s prior (as the
/// judge's requested draws, seed `seed`), trains a classifier on them and
/// another on `train`'s first as many real digits, `epochs` each, and tests
/// both on `test`.
pub fn gan_train(
    dev: &Dev,
    model: &runtime::Model<'_>,
    train: &Dataset,
    test: &Dataset,
    seed: u64,
    epochs: usize,
) -> Result<GanTrain> {
    let classes = super::verdict::prior_digit_labels(model)
        .context("GAN-train needs a model whose prior draws each digit on request")?;
    ensure!(
        classes.len() == CLASSES,
        "GAN-train needs the ten digit classes"
    );
    let labels: Vec<u8> = classes
        .iter()
        .flat_map(|&l| std::iter::repeat_n(l as u8, PER_CLASS))
        .collect();
    let digits = crate::draw::digit_rows(model, seed, PER_CLASS)?;
    let drawn = Dataset {
        pixels: digits.concat(),
        labels,
    };
    ensure!(drawn.pixels.len() == drawn.len() * PIXELS, "28 x 28 digits");
    let real = train.take(drawn.len());
    eprintln!(
        "GAN-train: training a classifier on {} drawn digits...",
        drawn.len()
    );
    let on_drawn = Judge::train(dev, &drawn, epochs, seed);
    eprintln!("GAN-train: the same on {} real digits...", real.len());
    let on_real = Judge::train(dev, &real, epochs, seed);
    Ok(GanTrain {
        epochs,
        images: drawn.len(),
        drawn: on_drawn.accuracy(dev, test),
        real: on_real.accuracy(dev, test),
    })
}
