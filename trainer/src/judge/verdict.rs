//! Judging a model: digits drawn exactly as a device draws them (the
//! runtime's sampler and integer decoder), scored beside the real test set.

use anyhow::{Context, Result};
use serde::{Deserialize, Serialize};

use super::{score_dataset, scores::score_images, Judge, JudgeCard, Report};
use super::{Image, CLASSES};
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
}

/// Draws digits exactly as a device does (the runtime's sampler and integer
/// decoder) and judges them: `per_class` per class on request (when the
/// model has a prior) and `10 * per_class` unconditionally.
pub fn judge_model(
    judge: &Judge,
    card: &JudgeCard,
    dev: &Dev,
    model: &runtime::Model<'_>,
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
            let images: Vec<&Image> = digits.iter().map(Vec::as_slice).collect();
            Some(score_images(judge, dev, &images, Some(&asked)))
        }
        None => None,
    };
    let digits = crate::draw::device_samples(model, seed, CLASSES * per_class, None)?;
    let images: Vec<&Image> = digits.iter().map(Vec::as_slice).collect();
    Ok(Judged {
        judge: card.clone(),
        seed,
        draws_per_class: per_class,
        requested,
        unconditional: score_images(judge, dev, &images, None),
        test_set: score_dataset(judge, dev, test),
    })
}

impl Judged {
    /// The figures as printed lines.
    pub fn lines(&self) -> String {
        let mut s = format!(
            "judge: test accuracy {:.2}% ({} epochs, seed {})\n",
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
        s
    }
}
