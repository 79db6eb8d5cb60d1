//! Judging a model: digits drawn exactly as a device draws them (the
//! runtime's sampler and integer decoder), scored beside the real test set.

use anyhow::{Context, Result};
use serde::{Deserialize, Serialize};

use super::fidelity::{frechet, measure, nearest_train, Fidelity, NEAREST_QUERIES};
use super::{score_dataset, scores::score_images, Judge, JudgeCard, Report};
use super::{Image, CLASSES, FEATURES};
use crate::data::Dataset;
use crate::layers::Dev;

/// The judge's verdict on a model, with the real test set beside it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Judged {
    /// The judge used.
    pub judge: JudgeCard,
    /// Seed of the draws (`LatentSampler::new(seed)`, as a device).
    pub seed: u64,
    /// Digits drawn per requested class (and unconditionally, in all).
    pub draws_per_class: usize,
    /// Digits drawn on request, class by class (`None` without a prior).
    pub requested: Option<Report>,
    /// Digits drawn unconditionally (the prior's mixture, or N(0, I)).
    pub unconditional: Report,
    /// The real test images, for comparison.
    pub test_set: Report,
    /// Fidelity and variety against the real test digits, with real
    /// training digits measured the same way beside them (judges cached
    /// before these figures existed have none).
    #[serde(default)]
    pub fidelity: Option<FidelityReport>,
    /// GAN-train accuracy (only when asked for: it trains two classifiers).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gan_train: Option<super::GanTrain>,
}

/// Fidelity and variety of the drawn digits, and of real ones, against the
/// real test digits (see [`super::fidelity`]).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct FidelityReport {
    /// The unconditional draws.
    pub unconditional: Fidelity,
    /// The first 10,000 training digits (the floor a model can reach);
    /// their `nearest_train` is the test digits' (training digits are in
    /// the training set).
    pub real: Fidelity,
    /// Per requested class, the Fréchet distance of its draws to the test
    /// digits of that class (empty without a prior).
    pub requested_frechet_per_class: Vec<f64>,
    /// The same for the training digits of each class.
    pub real_frechet_per_class: Vec<f64>,
}

fn mean(v: &[f64]) -> f64 {
    v.iter().sum::<f64>() / v.len().max(1) as f64
}

impl FidelityReport {
    /// Mean over classes of the requested draws' Fréchet distance.
    pub fn requested_frechet(&self) -> f64 {
        mean(&self.requested_frechet_per_class)
    }
    /// Mean over classes of the real digits' Fréchet distance.
    pub fn real_frechet(&self) -> f64 {
        mean(&self.real_frechet_per_class)
    }
}

/// The first `n` images of `d`.
fn image_list(d: &Dataset, n: usize) -> Vec<&Image> {
    (0..d.len().min(n)).map(|i| d.image(i)).collect()
}

/// Features of `images` whose class is `k`.
fn of_class(features: &[f32], classes: &[usize], k: usize) -> Vec<f32> {
    features
        .chunks_exact(FEATURES)
        .zip(classes)
        .filter(|(_, &c)| c == k)
        .flat_map(|(f, _)| f.iter().copied())
        .collect()
}

/// Per class, the Fréchet distance between `a`'s and `b`'s digits of it.
fn frechet_per_class(a: &[f32], a_classes: &[usize], b: &[f32], b_classes: &[usize]) -> Vec<f64> {
    (0..CLASSES)
        .map(|k| {
            frechet(
                &of_class(a, a_classes, k),
                &of_class(b, b_classes, k),
                FEATURES,
            )
        })
        .collect()
}

/// Measures drawn digits (`unconditional`, and `requested` with the class
/// each was asked for) and the first 10,000 training digits against the
/// test digits.
fn fidelity(
    judge: &Judge,
    dev: &Dev,
    unconditional: &[&Image],
    requested: Option<(&[&Image], &[usize])>,
    train: &Dataset,
    test: &Dataset,
) -> FidelityReport {
    let classes = |d: &Dataset, n: usize| -> Vec<usize> {
        d.labels.iter().take(n).map(|&l| usize::from(l)).collect()
    };
    let test_images = image_list(test, usize::MAX);
    let test_features = judge.features(dev, &test_images);
    let test_classes = classes(test, usize::MAX);
    let real_images = image_list(train, 10_000);
    let real_features = judge.features(dev, &real_images);
    let mut real = measure(
        dev,
        &real_images,
        &real_features,
        &test_features,
        FEATURES,
        train,
    );
    let queries = &test_images[..test_images.len().min(NEAREST_QUERIES)];
    real.nearest_train = nearest_train(dev, queries, train);
    let drawn_features = judge.features(dev, unconditional);
    let drawn = measure(
        dev,
        unconditional,
        &drawn_features,
        &test_features,
        FEATURES,
        train,
    );
    let (requested_frechet_per_class, real_frechet_per_class) = match requested {
        Some((images, asked)) => (
            frechet_per_class(
                &judge.features(dev, images),
                asked,
                &test_features,
                &test_classes,
            ),
            frechet_per_class(
                &real_features,
                &classes(train, 10_000),
                &test_features,
                &test_classes,
            ),
        ),
        None => (Vec::new(), Vec::new()),
    };
    FidelityReport {
        unconditional: drawn,
        real,
        requested_frechet_per_class,
        real_frechet_per_class,
    }
}

/// Draws digits exactly as a device does (the runtime's sampler and integer
/// decoder) and judges them: `per_class` per class on request (when the
/// model has a prior) and `10 * per_class` unconditionally.
#[allow(clippy::too_many_arguments)]
pub fn judge_model(
    judge: &Judge,
    card: &JudgeCard,
    dev: &Dev,
    model: &runtime::Model<'_>,
    train: &Dataset,
    test: &Dataset,
    seed: u64,
    per_class: usize,
) -> Result<Judged> {
    let requested = match model.prior() {
        Some(prior) => {
            // The digit each class stands for, then `per_class` of each,
            // drawn as `sample --digit` and the digit grid draw them.
            let labels = (0..prior.classes())
                .map(|k| {
                    prior
                        .label(k)
                        .and_then(|l| l.parse::<usize>().ok())
                        .filter(|&l| l < CLASSES)
                        .with_context(|| format!("prior class {k} is not a digit label"))
                })
                .collect::<Result<Vec<usize>>>()?;
            let digits = crate::draw::digit_rows(model, seed, per_class)?;
            let asked: Vec<usize> = labels
                .iter()
                .flat_map(|&l| std::iter::repeat_n(l, per_class))
                .collect();
            Some((digits, asked))
        }
        None => None,
    };
    let requested_images: Option<(Vec<&Image>, &[usize])> = requested
        .as_ref()
        .map(|(d, asked)| (d.iter().map(Vec::as_slice).collect(), asked.as_slice()));
    let digits = crate::draw::device_samples(model, seed, CLASSES * per_class, None)?;
    let images: Vec<&Image> = digits.iter().map(Vec::as_slice).collect();
    let fidelity = fidelity(
        judge,
        dev,
        &images,
        requested_images.as_ref().map(|(i, a)| (i.as_slice(), *a)),
        train,
        test,
    );
    let requested = requested_images
        .as_ref()
        .map(|(i, asked)| score_images(judge, dev, i, Some(asked)));
    Ok(Judged {
        judge: card.clone(),
        seed,
        draws_per_class: per_class,
        requested,
        unconditional: score_images(judge, dev, &images, None),
        test_set: score_dataset(judge, dev, test),
        fidelity: Some(fidelity),
        gan_train: None,
    })
}

impl Judged {
    /// The figures as printed lines.
    pub fn lines(&self) -> String {
        let mut s = format!(
            "judge ({:?}): test accuracy {:.2}% ({} epochs, seed {})\n",
            self.judge.arch,
            100.0 * self.judge.test_accuracy,
            self.judge.epochs,
            self.judge.seed
        );
        if let Some(r) = &self.requested {
            s += &format!(
                "requested ({} per class): {}\n",
                self.draws_per_class,
                r.line()
            );
        }
        s += &format!(
            "unconditional ({}): {}\n",
            self.unconditional.images,
            self.unconditional.line()
        );
        s += &format!(
            "real test set ({}): {}\n",
            self.test_set.images,
            self.test_set.line()
        );
        if let Some(f) = &self.fidelity {
            s += &f.lines();
        }
        if let Some(g) = &self.gan_train {
            s += &g.line();
        }
        s
    }
}

impl FidelityReport {
    /// The figures as printed lines: drawn | real training digits, each
    /// against the real test digits.
    pub fn lines(&self) -> String {
        let (d, r) = (&self.unconditional, &self.real);
        let mut s = format!(
            "fidelity and variety against the {} real test digits, drawn ({}) | real training digits ({}):\n",
            "10,000", d.images, r.images
        );
        s += &format!(
            "  Fréchet distance (judge features) {:.2} | {:.2} ({:.1} x)\n",
            d.frechet,
            r.frechet,
            d.frechet / r.frechet.max(f64::MIN_POSITIVE)
        );
        if !self.requested_frechet_per_class.is_empty() {
            s += &format!(
                "  requested digits, Fréchet distance per class (mean) {:.2} | {:.2} ({:.1} x)\n",
                self.requested_frechet(),
                self.real_frechet(),
                self.requested_frechet() / self.real_frechet().max(f64::MIN_POSITIVE)
            );
        }
        s += &format!(
            "  precision (k = 3) {:.3} | {:.3}; recall (k = 3) {:.3} | {:.3}\n",
            d.precision, r.precision, d.recall, r.recall
        );
        s += &format!(
            "  density (k = 5) {:.3} | {:.3}; coverage (k = 5) {:.3} | {:.3}\n",
            d.density, r.density, d.coverage, r.coverage
        );
        s += &format!(
            "  mid-grey pixels (0.2 < p < 0.8) {:.1}% | {:.1}%\n",
            100.0 * d.mid_grey,
            100.0 * r.mid_grey
        );
        s += &format!(
            "  distance to the nearest training image (first {}) {:.3} | {:.3} (test digits)\n",
            d.images.min(super::fidelity::NEAREST_QUERIES),
            d.nearest_train,
            r.nearest_train
        );
        s
    }
}
