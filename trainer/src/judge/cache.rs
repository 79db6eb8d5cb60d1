//! The judge kept on disk: reused when it was made with the same seed,
//! epoch count and training set, else trained and saved atomically.

use anyhow::{bail, Result};
use serde::{Deserialize, Serialize};
use std::path::Path;

use super::{Judge, JudgeArch};
use crate::data::Dataset;
use crate::layers::Dev;
use runtime::host::atomic_file::write_atomic_creating_dirs;

/// How the judge was trained and how well it does (saved beside it).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct JudgeCard {
    /// The network (judges cached before there were two are the LeNet).
    #[serde(default, skip_serializing_if = "is_lenet")]
    pub arch: JudgeArch,
    /// Seed of initialisation and shuffling.
    pub seed: u64,
    /// Epochs over the training set.
    pub epochs: usize,
    /// Top-1 accuracy on the test set.
    pub test_accuracy: f64,
    /// Seconds of training.
    pub training_seconds: f64,
    /// Fingerprint of the training set it learned from (see [`fingerprint`]).
    pub data_fingerprint: String,
}

fn is_lenet(arch: &JudgeArch) -> bool {
    *arch == JudgeArch::LeNet
}

/// FNV-1a over the labels and pixels of a data set, with its size: a cached
/// judge is only reused for the data it was trained on.
pub fn fingerprint(data: &Dataset) -> String {
    let h = data
        .labels
        .iter()
        .chain(&data.pixels)
        .fold(0xcbf2_9ce4_8422_2325u64, |h, &b| {
            (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3)
        });
    format!("{}:{h:016x}", data.len())
}

/// The judge saved in `dir` as `judge.bin` and `judge.json`, if it was made
/// with this seed, epoch count and training set and reads back whole.
fn load_matching(
    dev: &Dev,
    dir: &Path,
    arch: JudgeArch,
    seed: u64,
    epochs: usize,
    fingerprint: &str,
) -> Option<(Judge, JudgeCard)> {
    let card = std::fs::read(dir.join("judge.json")).ok()?;
    let card: JudgeCard = serde_json::from_slice(&card).ok()?;
    if card.arch != arch
        || card.seed != seed
        || card.epochs != epochs
        || card.data_fingerprint != fingerprint
    {
        return None;
    }
    let judge = Judge::from_bytes(dev, &std::fs::read(dir.join("judge.bin")).ok()?).ok()?;
    (judge.arch() == arch).then_some((judge, card))
}

/// The judge cached in `dir` (`judge.bin`, `judge.json`) or, failing that,
/// the one committed in `committed` (`models/`), trained first
/// (and saved atomically) when missing or made with another seed, epoch
/// count or training set. Fails if it scores under its network's
/// [`JudgeArch::min_accuracy`] on a full-size (10,000-image) test set;
/// smaller sets (tests) are not held to that.
#[allow(clippy::too_many_arguments)]
pub fn cached(
    dev: &Dev,
    dir: &Path,
    committed: Option<&Path>,
    train: &Dataset,
    test: &Dataset,
    arch: JudgeArch,
    seed: u64,
    epochs: usize,
) -> Result<(Judge, JudgeCard)> {
    let fp = fingerprint(train);
    // The run's cache first, then the judge committed with the models (the
    // one the published figures were measured with); a cache that is
    // unreadable, damaged or made differently is not used.
    for place in std::iter::once(dir).chain(committed) {
        if let Some(found) = load_matching(dev, place, arch, seed, epochs, &fp) {
            return Ok(found);
        }
    }
    eprintln!(
        "Training the digit judge ({arch:?}, {epochs} epochs, seed {seed}); cached in {}",
        dir.display()
    );
    let started = std::time::Instant::now();
    let judge = Judge::train_arch(dev, arch, train, epochs, seed);
    let card = JudgeCard {
        arch,
        seed,
        epochs,
        test_accuracy: judge.accuracy(dev, test),
        training_seconds: started.elapsed().as_secs_f64(),
        data_fingerprint: fingerprint(train),
    };
    eprintln!("judge test accuracy {:.2}%", 100.0 * card.test_accuracy);
    if card.test_accuracy < arch.min_accuracy() && test.len() >= 10_000 {
        bail!(
            "the judge ({arch:?}) reaches only {:.2}% test accuracy (needs {:.1}%)",
            100.0 * card.test_accuracy,
            100.0 * arch.min_accuracy()
        );
    }
    write_atomic_creating_dirs(&dir.join("judge.bin"), &judge.to_bytes())?;
    write_atomic_creating_dirs(
        &dir.join("judge.json"),
        serde_json::to_string_pretty(&card)?.as_bytes(),
    )?;
    Ok((judge, card))
}
