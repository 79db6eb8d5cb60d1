//! Judging a model: digits drawn exactly as a device draws them (the
//! runtime's sampler and integer decoder), scored beside the real test set.

use anyhow::{Context, Result};
use serde::{Deserialize, Serialize};

use super::fidelity::{frechet, measure, Fidelity, Reference};
use super::{scores::score_images, Judge, JudgeCard, Reading, Report};
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
    /// training digits measured the same way beside them.
    pub fidelity: FidelityReport,
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

/// Drawn digits as images.
fn as_images(digits: &[Vec<u8>]) -> Vec<&Image> {
    digits.iter().map(Vec::as_slice).collect()
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

/// A set of images with what the judge read from them (one pass).
struct Read<'a> {
    images: Vec<&'a Image>,
    reading: Reading,
}

impl<'a> Read<'a> {
    fn new(judge: &Judge, dev: &Dev, images: Vec<&'a Image>) -> Self {
        let reading = judge.read(dev, &images);
        Read { images, reading }
    }

    /// The judge's figures of the set (`requested`: each image's class).
    fn report(&self, requested: Option<&[usize]>) -> Report {
        score_images(&self.images, &self.reading.probabilities, requested)
    }
}

/// The labels of the first `n` digits of `d`, as classes.
fn labels(d: &Dataset, n: usize) -> Vec<usize> {
    d.labels.iter().take(n).map(|&l| usize::from(l)).collect()
}

/// The digit each class of `model`'s prior stands for, in class order.
pub(super) fn prior_digit_labels(model: &runtime::Model<'_>) -> Result<Vec<usize>> {
    let prior = model
        .prior()
        .context("the model has no class prior, so no digit can be requested")?;
    (0..prior.classes())
        .map(|k| {
            prior
                .label(k)
                .and_then(|l| l.parse::<usize>().ok())
                .filter(|&l| l < CLASSES)
                .with_context(|| format!("prior class {k} is not a digit label"))
        })
        .collect()
}

/// Measures the unconditional draws, the requested ones (with the digit
/// each was asked for) and `real` (the first training digits) against the
/// test digits `test` (read as `test_read`).
fn fidelity(
    dev: &Dev,
    unconditional: &Read<'_>,
    requested: Option<(&Read<'_>, &[usize])>,
    real: &Read<'_>,
    test_read: &Read<'_>,
    test: &Dataset,
    train: &Dataset,
) -> FidelityReport {
    let test_features = &test_read.reading.features;
    let reference = Reference::new(dev, test_features.clone(), FEATURES);
    let measured = |set: &Read<'_>, queries: &[&Image]| {
        let features = &set.reading.features;
        measure(dev, &set.images, features, &reference, queries, train)
    };
    // Training digits are in the training set: the copying figure beside
    // the drawn digits' is the test digits'.
    let real_fidelity = measured(real, &test_read.images);
    let drawn = measured(unconditional, &unconditional.images);
    let test_classes = labels(test, usize::MAX);
    let (requested_frechet_per_class, real_frechet_per_class) = match requested {
        Some((set, asked)) => (
            frechet_per_class(&set.reading.features, asked, test_features, &test_classes),
            frechet_per_class(
                &real.reading.features,
                &labels(train, real.images.len()),
                test_features,
                &test_classes,
            ),
        ),
        None => (Vec::new(), Vec::new()),
    };
    FidelityReport {
        unconditional: drawn,
        real: real_fidelity,
        requested_frechet_per_class,
        real_frechet_per_class,
    }
}

/// Draws digits exactly as a device does (the runtime's sampler and integer
/// decoder) and judges them: `per_class` per class on request (when the
/// model has a prior) and `10 * per_class` unconditionally, beside the test
/// digits and the first 10,000 training digits.
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
    // On request: `per_class` of each class, drawn as `sample --digit` and
    // the digit grid draw them, each with the digit it was asked to be.
    let requested = match model.prior() {
        Some(_) => {
            let asked: Vec<usize> = prior_digit_labels(model)?
                .into_iter()
                .flat_map(|l| std::iter::repeat_n(l, per_class))
                .collect();
            Some((crate::draw::digit_rows(model, seed, per_class)?, asked))
        }
        None => None,
    };
    let drawn = crate::draw::device_samples(model, seed, CLASSES * per_class, None)?;
    let unconditional = Read::new(judge, dev, as_images(&drawn));
    let requested = requested
        .as_ref()
        .map(|(d, asked)| (Read::new(judge, dev, as_images(d)), asked.as_slice()));
    let test_read = Read::new(judge, dev, image_list(test, usize::MAX));
    let real = Read::new(judge, dev, image_list(train, 10_000));
    let fidelity = fidelity(
        dev,
        &unconditional,
        requested.as_ref().map(|(r, asked)| (r, *asked)),
        &real,
        &test_read,
        test,
        train,
    );
    Ok(Judged {
        judge: card.clone(),
        seed,
        draws_per_class: per_class,
        requested: requested.as_ref().map(|(r, asked)| r.report(Some(asked))),
        unconditional: unconditional.report(None),
        test_set: test_read.report(Some(&labels(test, usize::MAX))),
        fidelity,
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
        s += &self.fidelity.lines();
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

/// The mean, lowest and highest of `values` as `mean (lowest-highest)`,
/// each through `fmt`; `-` when there are none.
fn spread(values: &[f64], fmt: impl Fn(f64) -> String) -> String {
    if values.is_empty() {
        return "-".into();
    }
    let lo = values.iter().copied().fold(f64::INFINITY, f64::min);
    let hi = values.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    format!("{} ({}-{})", fmt(mean(values)), fmt(lo), fmt(hi))
}

/// Summary lines of several seeds' figures (`judge --seeds N`): the mean
/// and range of the requested share, its lowest class, precision, recall,
/// the Fréchet distance as a multiple of real, and GAN-train where measured.
pub fn over_seeds(all: &[Judged]) -> String {
    let pct = |v: f64| format!("{:.2}%", 100.0 * v);
    let of = |f: fn(&Judged) -> Option<f64>| -> Vec<f64> { all.iter().filter_map(f).collect() };
    let requested = of(|j| j.requested.as_ref().map(|r| r.requested_drawn));
    let lowest = of(|j| {
        j.requested
            .as_ref()
            .and_then(|r| r.requested_drawn_per_class.iter().copied().reduce(f64::min))
    });
    let precision = of(|j| Some(j.fidelity.unconditional.precision));
    let recall = of(|j| Some(j.fidelity.unconditional.recall));
    let frechet = of(|j| Some(j.fidelity.unconditional.frechet / j.fidelity.real.frechet));
    let gan = of(|j| j.gan_train.as_ref().map(|g| g.drawn));
    format!(
        "over {} seeds, mean (lowest-highest):\n  requested drawn {}, lowest class {}\n  precision (k = 3) {}; recall (k = 3) {}; Fréchet distance {} x real\n  GAN-train {}\n",
        all.len(),
        spread(&requested, pct),
        spread(&lowest, pct),
        spread(&precision, |v| format!("{v:.3}")),
        spread(&recall, |v| format!("{v:.3}")),
        spread(&frechet, |v| format!("{v:.1}")),
        spread(&gan, pct),
    )
}

#[cfg(test)]
mod tests {
    use super::spread;

    #[test]
    fn spread_is_mean_lowest_highest() {
        let f = |v: f64| format!("{v:.2}");
        assert_eq!(spread(&[0.5, 1.0, 3.0], f), "1.50 (0.50-3.00)");
        assert_eq!(spread(&[2.0], f), "2.00 (2.00-2.00)");
        assert_eq!(spread(&[], f), "-");
    }
}
