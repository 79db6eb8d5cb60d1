//! The digit judge: its figures (requested digit drawn, confidence,
//! histogram, inception score) on hand-made probabilities, and the
//! classifier itself learning a toy task, saved and reloaded exactly.

use trainer::data::{Dataset, PIXELS};
use trainer::judge::{score, Judge, JudgeArch, CLASSES};
use trainer::layers::Dev;

/// A probability vector with `p` on class `k` and the rest spread evenly.
fn peaked(k: usize, p: f32) -> [f32; CLASSES] {
    let mut a = [(1.0 - p) / (CLASSES - 1) as f32; CLASSES];
    a[k] = p;
    a
}

#[test]
fn figures_on_known_probabilities() {
    // Ten confident, perfectly balanced classes: inception score 10 at
    // p = 1, a little less at 0.95; every requested digit drawn.
    let probs: Vec<_> = (0..100).map(|i| peaked(i % 10, 1.0)).collect();
    let asked: Vec<usize> = (0..100).map(|i| i % 10).collect();
    let r = score(&probs, Some(&asked));
    assert!(
        (r.inception_score - 10.0).abs() < 1e-6,
        "{}",
        r.inception_score
    );
    assert_eq!(r.requested_drawn, 1.0);
    assert_eq!(r.requested_drawn_per_class.len(), 10);
    assert_eq!(r.confident, 1.0);
    assert!(r.histogram.iter().all(|&h| (h - 0.1).abs() < 1e-12));
    // Every digit a 3: no diversity, inception score 1; asked-for 0-9 but
    // only the 3s count as drawn.
    let threes: Vec<_> = (0..100).map(|_| peaked(3, 0.99)).collect();
    let r = score(&threes, Some(&asked));
    assert!((r.inception_score - 1.0).abs() < 1e-6);
    assert!((r.requested_drawn - 0.1).abs() < 1e-12);
    assert_eq!(r.requested_drawn_per_class[3], 1.0);
    assert_eq!(r.requested_drawn_per_class[4], 0.0);
    assert!((r.histogram[3] - 1.0).abs() < 1e-12);
    // Unsure digits: top class at 0.5 is not "confident".
    let unsure: Vec<_> = (0..10).map(|i| peaked(i, 0.5)).collect();
    let r = score(&unsure, None);
    assert_eq!(r.confident, 0.0);
    assert!(r.requested_drawn_per_class.is_empty());
    assert!(r.inception_score > 1.0 && r.inception_score < 10.0);
    // Its line claims no requested share (there was no request); a
    // requested set's line does.
    assert!(r.line().starts_with("confident 0.00%"), "{}", r.line());
    assert!(score(&threes, Some(&asked))
        .line()
        .starts_with("requested drawn 10.00% (per class 0.0 0.0 0.0 100.0"));
}

/// Ten classes a classifier can tell apart even after the judge's shifts
/// of up to 2 pixels: class k is a bright 5x5 square in cell k of a 4 x 3
/// grid (7 to 8 pixels apart), on faint noise.
fn bars(n: usize, seed: u64) -> Dataset {
    let mut rng = runtime::Rng::new(seed);
    let mut pixels = vec![0u8; n * PIXELS];
    let mut labels = Vec::new();
    for img in pixels.chunks_mut(PIXELS) {
        let k = (rng.next_u32() % 10) as usize;
        for p in img.iter_mut() {
            *p = (rng.next_u32() % 40) as u8;
        }
        let (x0, y0) = (1 + 7 * (k % 4), 2 + 8 * (k / 4));
        for y in y0..y0 + 5 {
            for x in x0..x0 + 5 {
                img[y * 28 + x] = 255;
            }
        }
        labels.push(k as u8);
    }
    Dataset { pixels, labels }
}

#[test]
fn judge_learns_saves_and_reloads_exactly() {
    let dev = Dev::default();
    let (train, test) = (bars(1000, 1), bars(200, 2));
    let judge = Judge::train(&dev, &train, 3, 7);
    let acc = judge.accuracy(&dev, &test);
    assert!(acc > 0.9, "accuracy {acc} on a separable toy task");
    let bytes = judge.to_bytes();
    let back = Judge::from_bytes(&dev, &bytes).unwrap();
    let images: Vec<&[u8]> = (0..20).map(|i| test.image(i)).collect();
    assert_eq!(
        judge.probabilities(&dev, &images),
        back.probabilities(&dev, &images)
    );
    // Same seed, same judge.
    let again = Judge::train(&dev, &train, 3, 7);
    assert_eq!(again.to_bytes(), bytes);
    // Damaged files are errors, not panics.
    assert!(Judge::from_bytes(&dev, &bytes[..bytes.len() - 1]).is_err());
    assert!(Judge::from_bytes(&dev, b"not a judge").is_err());
    let mut longer = bytes.clone();
    longer.push(0);
    assert!(Judge::from_bytes(&dev, &longer).is_err());
}

#[test]
fn second_judge_learns_and_is_read_back_as_its_own_network() {
    let dev = Dev::default();
    let (train, test) = (bars(1000, 1), bars(200, 2));
    let mlp = Judge::train_arch(&dev, JudgeArch::Mlp, &train, 3, 2);
    assert_eq!(mlp.arch(), JudgeArch::Mlp);
    let acc = mlp.accuracy(&dev, &test);
    assert!(acc > 0.9, "accuracy {acc} on a separable toy task");
    let bytes = mlp.to_bytes();
    let back = Judge::from_bytes(&dev, &bytes).unwrap();
    assert_eq!(back.arch(), JudgeArch::Mlp);
    let images: Vec<&[u8]> = (0..20).map(|i| test.image(i)).collect();
    assert_eq!(mlp.features(&dev, &images), back.features(&dev, &images));
    assert_eq!(
        mlp.features(&dev, &images).len(),
        20 * trainer::judge::FEATURES
    );
    assert_ne!(bytes, Judge::train(&dev, &train, 3, 2).to_bytes());
}

#[test]
fn cached_judge_is_reused_only_for_the_same_data() {
    let dev = Dev::default();
    let (train, test) = (bars(300, 3), bars(100, 4));
    let root = tempfile::tempdir().unwrap();
    let (run, committed) = (root.path().join("run"), root.path().join("committed"));
    // First call: nothing cached, so it trains and saves into `run`.
    let (judge, card) =
        trainer::judge::cached(&dev, &run, None, &train, &test, JudgeArch::LeNet, 5, 1).unwrap();
    assert!(run.join("judge.bin").exists() && run.join("judge.json").exists());
    assert_eq!(card.data_fingerprint, trainer::judge::fingerprint(&train));
    // A committed copy is used as it is, without training into the run dir.
    std::fs::rename(&run, &committed).unwrap();
    let (again, _) = trainer::judge::cached(
        &dev,
        &run,
        Some(&committed),
        &train,
        &test,
        JudgeArch::LeNet,
        5,
        1,
    )
    .unwrap();
    assert_eq!(again.to_bytes(), judge.to_bytes());
    assert!(!run.join("judge.bin").exists(), "no retraining");
    // Other data, or a damaged file: trained anew.
    let other = bars(300, 9);
    trainer::judge::cached(
        &dev,
        &run,
        Some(&committed),
        &other,
        &test,
        JudgeArch::LeNet,
        5,
        1,
    )
    .unwrap();
    assert!(run.join("judge.bin").exists(), "retrained for other data");
    std::fs::write(run.join("judge.bin"), b"damaged").unwrap();
    let (fixed, _) =
        trainer::judge::cached(&dev, &run, None, &other, &test, JudgeArch::LeNet, 5, 1).unwrap();
    assert_eq!(
        std::fs::read(run.join("judge.bin")).unwrap(),
        fixed.to_bytes()
    );
}
