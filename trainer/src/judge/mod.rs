//! The digit judge: a small convolutional classifier trained with dfdx on
//! the MNIST training set, cached under `runs/judge/`, that scores drawn
//! digits the way a person would: is it the digit that was asked for, is it
//! clearly any digit at all, and are all ten digits drawn.
//!
//! Network (LeNet-like): 5x5 convolution, 16 channels -> ReLU -> 2x2 max
//! pool -> 5x5 convolution, 32 channels -> ReLU -> 2x2 max pool -> dense
//! 512-128 -> ReLU -> dense 128-10. Each convolution is a matrix product
//! over patches (the image's are cut on the host; the second layer's are
//! gathered from the first layer's output on the tape, so gradients flow).
//! Patches are ordered so the four cells of each pooling window are
//! adjacent rows, which makes the pool a reshape and a max.
//!
//! - `net`: the network, its training and its bytes;
//! - `cache`: the judge kept in `runs/judge/` (or the committed one), and
//!   when it is reused;
//! - `scores`: what the judge says of a set of images;
//! - `fidelity`: fidelity and variety against real digits (Fréchet
//!   distance, precision/recall, density/coverage, sharpness, copying);
//! - `gan_train`: a classifier trained on drawn digits, tested on real ones;
//! - `verdict`: judging a model, by drawing digits exactly as a device does.

mod cache;
pub mod fidelity;
pub mod gan_train;
mod net;
mod scores;
mod verdict;

pub use crate::data::CLASSES;
pub use cache::{cached, fingerprint, JudgeCard};
pub use gan_train::{gan_train, GanTrain};
pub use net::{top, Judge, JudgeArch, Reading, EPOCHS, FEATURES};
pub use scores::{score, score_dataset, within_class_distance, Report};
pub use verdict::{judge_model, over_seeds, FidelityReport, Judged};

/// A judged image: grey levels, row-major, 28 x 28.
pub type Image = [u8];
