//! Training on a small synthetic set: the loss falls, runs are reproducible
//! and resumable, and the export loads in the runtime and agrees with the
//! float decoder.

mod common;

use trainer::prior::PriorSpec;

use dfdx::prelude::HasShape;
use runtime::{Decoder, Digit, LatentSampler, Model};
use trainer::arch::Arch;
use trainer::data::Dataset;
use trainer::latent_filter::DrawingSpec;
use trainer::layers::Dev;
use trainer::run::{LrSchedule, RunPaths, Start, TrainConfig};
use trainer::train::{self, TrainRequest};
use trainer::vae::Vae;
use trainer::{assess, export, quantize};

fn tiny_arch() -> Arch {
    Arch {
        name: "tiny".into(),
        enc_hidden: vec![64],
        latent: 4,
        dec_hidden: vec![32],
        classes: 0,
    }
}

fn config(epochs: usize) -> TrainConfig {
    TrainConfig {
        epochs,
        batch: 32,
        lr: 3e-3,
        lr_schedule: LrSchedule::Constant,
        kl_warmup: 0,
        seed: 7,
        dataset: "synthetic".into(),
        train_images: 384,
        qat_from: None,
        weight_bits: 8,
    }
}

fn run(
    dir: &std::path::Path,
    epochs: usize,
    resume: bool,
    train_set: &Dataset,
    test_set: &Dataset,
) -> (Vae, trainer::run::RunState) {
    try_run(dir, epochs, resume, train_set, test_set).unwrap()
}

fn try_run(
    dir: &std::path::Path,
    epochs: usize,
    resume: bool,
    train_set: &Dataset,
    test_set: &Dataset,
) -> anyhow::Result<(Vae, trainer::run::RunState)> {
    let dev = Dev::default();
    train::train(
        &dev,
        TrainRequest {
            arch: tiny_arch(),
            config: config(epochs),
            paths: RunPaths {
                dir: dir.to_owned(),
            },
            train: train_set,
            test: test_set,
        },
        if resume { Start::Resume } else { Start::Fresh },
    )
}

fn params(vae: &Vae) -> Vec<Vec<f32>> {
    vae.named_params()
        .iter()
        .flat_map(|(_, w, b)| [w.as_vec(), b.as_vec()])
        .collect()
}

#[test]
fn loss_falls_and_runs_reproduce_and_resume() {
    let (train_set, test_set) = (common::synthetic(384, 1), common::synthetic(64, 2));
    let a = tempfile::tempdir().unwrap();
    let (vae_a, state_a) = run(a.path(), 4, false, &train_set, &test_set);
    let h = &state_a.history;
    assert_eq!(h.len(), 4);
    assert!(
        h[3].train_nelbo < h[0].train_nelbo - 5.0,
        "train loss did not fall: {h:?}"
    );
    assert!(
        h[3].test_nelbo < h[0].test_nelbo,
        "test loss did not fall: {h:?}"
    );
    assert!(
        a.path().join("metrics.csv").exists() && a.path().join("checkpoint.safetensors").exists()
    );
    let csv = std::fs::read_to_string(a.path().join("metrics.csv")).unwrap();
    assert_eq!(csv.lines().count(), 5);

    // Same seed, same curve and parameters.
    let b = tempfile::tempdir().unwrap();
    let (vae_b, state_b) = run(b.path(), 4, false, &train_set, &test_set);
    let curve = |s: &trainer::run::RunState| {
        s.history
            .iter()
            .map(|m| (m.train_nelbo, m.test_nelbo))
            .collect::<Vec<_>>()
    };
    assert_eq!(curve(&state_a), curve(&state_b));
    assert_eq!(params(&vae_a), params(&vae_b));

    // Two epochs, then resume to four: identical to the uninterrupted run.
    let c = tempfile::tempdir().unwrap();
    run(c.path(), 2, false, &train_set, &test_set);
    let refused = try_run(c.path(), 4, false, &train_set, &test_set)
        .map(|_| ())
        .unwrap_err();
    assert!(refused.to_string().contains("--resume"), "{refused}");
    let (vae_c, state_c) = run(c.path(), 4, true, &train_set, &test_set);
    assert_eq!(curve(&state_a), curve(&state_c));
    assert_eq!(params(&vae_a), params(&vae_c));

    // Export: byte-identical model files from the two identical runs.
    let dev = Dev::default();
    let qa = quantize::quantize_decoder(&dev, &vae_a, &train_set, 7, 8)
        .unwrap()
        .model
        .to_bytes()
        .unwrap();
    let qb = quantize::quantize_decoder(&dev, &vae_b, &train_set, 7, 8)
        .unwrap()
        .model
        .to_bytes()
        .unwrap();
    assert_eq!(qa, qb);
}

/// The default prior's temperature on one full-covariance Gaussian per class.
const ONE_GAUSSIAN: PriorSpec = PriorSpec {
    components: 1,
    covariance: trainer::prior::Covariance::Full,
    temperature: PriorSpec::DEFAULT.temperature,
};

#[test]
fn export_loads_in_runtime_and_tracks_float_decoder() {
    let (train_set, test_set) = (common::synthetic(384, 3), common::synthetic(64, 4));
    let dir = tempfile::tempdir().unwrap();
    let (vae, state) = run(dir.path(), 3, false, &train_set, &test_set);
    let dev = Dev::default();
    let models = tempfile::tempdir().unwrap();
    let spec = assess::Spec {
        bits: 8,
        // One full Gaussian per class: its moments are checked below.
        prior: Some(ONE_GAUSSIAN),
        drawing: Some(DrawingSpec {
            gain: 2.0,
            filter: None,
        }),
        mask: None,
        iw_samples: 4,
        judge: None,
    };
    let (_, files) = export::export(
        &dev,
        &vae,
        &state,
        &train_set,
        &test_set,
        &spec,
        models.path(),
        &[],
    )
    .unwrap();
    let bytes = std::fs::read(&files.model).unwrap();
    let model = Model::from_bytes(&bytes).expect("exported model loads in the runtime");
    // The prior: per label, a Gaussian at the mean of that label's encoder
    // means, its variances the encoder means' times temperature^2, kept to
    // the i8 grid's precision.
    // The gain (no filter without a judge): a version-4 file at gain 2.
    assert_eq!((model.format_version(), model.logit_gain()), (4, 512));
    assert!(model.filter().is_none());
    let prior = model.prior().expect("export writes the prior");
    assert_eq!(prior.classes(), 10);
    let means = trainer::prior::encoder_means(&vae, &train_set);
    for k in 0..10usize {
        let rows: Vec<usize> = (0..train_set.len())
            .filter(|&i| usize::from(train_set.labels[i]) == k)
            .collect();
        let class = prior
            .class(prior.class_of(&k.to_string()).unwrap())
            .unwrap();
        assert_eq!(usize::from(class.weight) > 0, !rows.is_empty());
        let a = class.mean_bits[0];
        let b = class.scale_bits[0];
        for dim in 0..4 {
            let avg: f64 = rows
                .iter()
                .map(|&r| f64::from(means[r * 4 + dim]))
                .sum::<f64>()
                / rows.len() as f64;
            let stored = f64::from(class.means[dim] as i8) / f64::from(1u32 << a);
            assert!(
                (stored - avg).abs() <= 0.51 / f64::from(1u32 << a) + 1e-6,
                "class {k} dim {dim}: {stored} vs {avg}"
            );
            let var: f64 = rows
                .iter()
                .map(|&r| (f64::from(means[r * 4 + dim]) - avg).powi(2))
                .sum::<f64>()
                / rows.len() as f64
                + 1e-4;
            // Row `dim` of L: entries dim(dim+1)/2 ..= dim(dim+1)/2 + dim.
            let start = dim * (dim + 1) / 2;
            let l_var: f64 = (0..=dim)
                .map(|j| (f64::from(class.scales[start + j] as i8) / f64::from(1u32 << b)).powi(2))
                .sum();
            let t2 = ONE_GAUSSIAN.temperature.powi(2);
            assert!(
                (l_var - t2 * var).abs() <= 0.05 * t2 * var + 4.0 / f64::from(1u32 << b),
                "class {k} dim {dim}: variance {l_var} vs {}",
                t2 * var
            );
        }
    }
    assert_eq!(
        (
            model.latent_dim(),
            model.pixel_count(),
            model.max_hidden_width()
        ),
        (4, 784, 32)
    );
    let card: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&files.card).unwrap()).unwrap();
    for key in [
        "test_nelbo_float",
        "test_nelbo_quantized",
        "decoder_weight_bytes",
    ] {
        assert!(card[key].is_number(), "model card lacks {key}");
    }
    assert_eq!(
        card["decoder_weight_bytes"].as_u64(),
        Some(4 * 32 + 32 * 784)
    );
    let (f, q) = (
        card["test_nelbo_float"].as_f64().unwrap(),
        card["test_nelbo_quantized"].as_f64().unwrap(),
    );
    assert!((q - f).abs() < 2.0, "quantization costs {} nats", q - f);
    assert!(files.grid.exists());

    // Stated tolerance: on prior samples the integer decoder's grey levels
    // are within 1.0 on average and 8 at worst of 255 * sigmoid(gain * float
    // logits), with the file's drawing gain.
    let mut decoder = Decoder::<64>::new(&model).unwrap();
    let mut sampler = LatentSampler::new(11);
    let mut digit = Digit::new();
    let (mut sum, mut worst, mut count) = (0.0f64, 0.0f64, 0usize);
    for _ in 0..50 {
        let z = sampler.sample(4);
        decoder.decode(&z, &mut digit).unwrap();
        let zf: Vec<f32> = z.to_f32().collect();
        let logits = vae.logits(&dev, &zf, &[]);
        for (&g, &l) in digit.pixels().iter().zip(&logits) {
            let gain = f64::from(model.logit_gain()) / 256.0;
            let e = (f64::from(g) - 255.0 / (1.0 + (-gain * f64::from(l)).exp())).abs();
            sum += e;
            worst = worst.max(e);
            count += 1;
        }
    }
    let mean = sum / count as f64;
    println!("float vs integer decoder: mean {mean:.3}, max {worst:.2} grey levels");
    assert!(mean <= 1.0, "mean error {mean}");
    assert!(worst <= 8.0, "max error {worst}");
}

#[test]
fn fake_quantization_puts_decoder_weights_on_the_int8_grid() {
    let dev = Dev::default();
    let mut vae = Vae::new(
        &dev,
        &tiny_arch(),
        &mut <rand_chacha::ChaCha8Rng as rand::SeedableRng>::seed_from_u64(3),
    );
    let before: Vec<Vec<f32>> = vae.dec.iter().map(|d| d.w.as_vec()).collect();
    let saved = trainer::qat::fake_quantize_decoder(&mut vae, 8);
    assert_eq!(saved, before, "returns the float weights it replaced");
    for (layer, float) in vae.dec.iter().zip(&before) {
        let q = layer.w.as_vec();
        let inputs = layer.w.shape().1;
        for (row, frow) in q.chunks(inputs).zip(float.chunks(inputs)) {
            let s = frow.iter().fold(0.0f32, |m, w| m.max(w.abs())) / 127.0;
            for (&w, &f) in row.iter().zip(frow) {
                let k = w / s;
                assert!((k - k.round()).abs() < 1e-3, "on the grid: {w} / {s}");
                assert!((w - f).abs() <= s / 2.0 + 1e-6, "nearest grid point");
            }
            // Exactly the export's grid: the runtime quantizer's levels
            // times its scale.
            let (scale, levels) = runtime::host::quantize::quantize_row(frow, 8);
            let export: Vec<f32> = levels
                .iter()
                .map(|&l| (f64::from(l) * scale) as f32)
                .collect();
            assert_eq!(row, &export[..]);
        }
    }
}

#[test]
fn quantization_aware_fine_tuning_trains_and_is_reproducible() {
    let (train_set, test_set) = (common::synthetic(384, 5), common::synthetic(64, 6));
    let dev = Dev::default();
    let go = |dir: &std::path::Path, qat: Option<usize>| {
        let mut config = config(2);
        config.qat_from = qat;
        train::train(
            &dev,
            TrainRequest {
                arch: tiny_arch(),
                config,
                paths: RunPaths {
                    dir: dir.to_owned(),
                },
                train: &train_set,
                test: &test_set,
            },
            Start::Fresh,
        )
        .unwrap()
    };
    let tmp = tempfile::tempdir().unwrap();
    let (a, sa) = go(&tmp.path().join("qat-a"), Some(1));
    let (b, _) = go(&tmp.path().join("qat-b"), Some(1));
    let (c, _) = go(&tmp.path().join("float"), None);
    assert_eq!(params(&a), params(&b), "same seed, same QAT run");
    assert_ne!(params(&a), params(&c), "QAT epochs change the training");
    assert!(sa.history.iter().all(|m| m.test_nelbo.is_finite()));
    assert_eq!(sa.config.qat_from, Some(1));
}

#[test]
fn int4_export_loads_in_runtime_and_is_named_apart() {
    let (train_set, test_set) = (common::synthetic(384, 8), common::synthetic(64, 9));
    let dir = tempfile::tempdir().unwrap();
    let (vae, mut state) = run(dir.path(), 2, false, &train_set, &test_set);
    state.config.weight_bits = 4;
    let dev = Dev::default();
    let models = tempfile::tempdir().unwrap();
    let spec = assess::Spec {
        bits: 4,
        prior: None,
        drawing: None,
        mask: None,
        iw_samples: 1,
        judge: None,
    };
    let (_, files) = export::export(
        &dev,
        &vae,
        &state,
        &train_set,
        &test_set,
        &spec,
        models.path(),
        &[],
    )
    .unwrap();
    assert!(
        files.model.ends_with("tiny-int4.postcard"),
        "{}",
        files.model.display()
    );
    let bytes = std::fs::read(&files.model).unwrap();
    let model = Model::from_bytes(&bytes).expect("int4 model loads in the runtime");
    assert!(model.layers().iter().all(|l| l.weight_bits == 4));
    // Half the int8 bytes: (32 x 4 + 784 x 32) / 2.
    assert_eq!(model.weight_bytes(), (32 * 4 + 784 * 32) / 2);
    let card: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&files.card).unwrap()).unwrap();
    let (f, q) = (
        card["test_nelbo_float"].as_f64().unwrap(),
        card["test_nelbo_quantized"].as_f64().unwrap(),
    );
    assert!(
        q.is_finite() && (q - f).abs() < 25.0,
        "int4 costs {} nats",
        q - f
    );
    let mut decoder = Decoder::<64>::new(&model).unwrap();
    let mut digit = Digit::new();
    decoder
        .decode(&LatentSampler::new(1).sample(4), &mut digit)
        .unwrap();
}

/// A conditional VAE (`classes > 0`) trains, and its export needs no new
/// format: the decoder takes `latent + 10` inputs and the prior supplies
/// the label, so every draw of class `k` ends in the exact one-hot code of
/// `k`, and the integer decoder follows the float decoder given that label.
#[test]
fn conditional_model_exports_its_label_through_the_prior() {
    let (train_set, test_set) = (common::synthetic(384, 5), common::synthetic(64, 6));
    let arch = Arch {
        name: "tiny-cond".into(),
        classes: 10,
        ..tiny_arch()
    };
    let dev = Dev::default();
    let dir = tempfile::tempdir().unwrap();
    let (vae, state) = train::train(
        &dev,
        TrainRequest {
            arch: arch.clone(),
            config: config(2),
            paths: RunPaths {
                dir: dir.path().to_owned(),
            },
            train: &train_set,
            test: &test_set,
        },
        Start::Fresh,
    )
    .unwrap();
    assert_eq!(vae.enc[0].shape(), (784 + 10, 64));
    assert_eq!(vae.dec[0].shape(), (4 + 10, 32));
    assert!(state.history.iter().all(|m| m.test_nelbo.is_finite()));

    let err = quantize::quantized_file(&dev, &vae, &state, &train_set, None, None).unwrap_err();
    assert!(err.to_string().contains("conditional"), "{err}");

    let bytes = quantize::quantized_file(
        &dev,
        &vae,
        &state,
        &train_set,
        Some(&PriorSpec::DEFAULT),
        None,
    )
    .unwrap();
    let model = Model::from_bytes(&bytes).unwrap();
    assert_eq!(model.latent_dim(), 14);
    let prior = model.prior().unwrap();
    let mut decoder = Decoder::<64>::new(&model).unwrap();
    let mut digit = Digit::new();
    let mut sampler = LatentSampler::new(3);
    let (mut sum, mut count) = (0.0f64, 0usize);
    for label in 0..10usize {
        let k = prior.class_of(&label.to_string()).unwrap();
        for _ in 0..5 {
            let z = sampler.draw(&model, Some(k));
            let q = z.as_q12();
            let code: Vec<i16> = (0..10).map(|c| if c == label { 4096 } else { 0 }).collect();
            assert_eq!(&q[4..], &code[..], "class {label}");
            decoder.decode(&z, &mut digit).unwrap();
            let zf: Vec<f32> = z.to_f32().take(4).collect();
            let logits = vae.logits(&dev, &zf, &[label as u8]);
            for (&g, &l) in digit.pixels().iter().zip(&logits) {
                sum += (f64::from(g) - 255.0 / (1.0 + (-f64::from(l)).exp())).abs();
                count += 1;
            }
        }
    }
    assert!(
        sum / count as f64 <= 1.0,
        "mean error {}",
        sum / count as f64
    );
    // Unconditional draws carry the code of some class too.
    for _ in 0..20 {
        let z = sampler.draw(&model, None);
        let tail = &z.as_q12()[4..];
        assert_eq!(tail.iter().filter(|&&v| v == 4096).count(), 1);
        assert_eq!(tail.iter().filter(|&&v| v == 0).count(), 9);
    }
    // The label changes the drawing: the same latent, two labels.
    let z = vec![0.3f32, -0.2, 0.1, 0.5];
    assert_ne!(vae.logits(&dev, &z, &[1]), vae.logits(&dev, &z, &[7]));
}
