//! Format version 3: the optional latent prior section. Round trips, v2
//! files still loading, the integer map `z = m + L eps` against an
//! independent computation, class frequencies of unconditional draws, and
//! one test per error a loader must report for a bad prior.

use integration_tests::{normal_latents, random_float_decoder};
use runtime::format::{
    ClassPrior, ModelBody, Prior, FORMAT_VERSION_NO_PRIOR, FORMAT_VERSION_PRIOR,
};
use runtime::host::quantize_prior::{FloatClass, FloatComponent, FloatPrior};
use runtime::{LatentSampler, Model, ModelError, PriorField, Rng};

const D: usize = 4;

/// A float prior with `classes` classes of `components` components each,
/// means and scales from a seeded generator.
fn float_prior(seed: u64, classes: usize, components: usize) -> FloatPrior {
    let mut rng = Rng::new(seed);
    let mut u = move || f64::from(rng.next_u32()) / f64::from(u32::MAX) - 0.5;
    FloatPrior {
        classes: (0..classes)
            .map(|k| FloatClass {
                label: k.to_string(),
                weight: 1.0 + k as f64,
                components: (0..components)
                    .map(|c| FloatComponent {
                        weight: 1.0 + c as f64,
                        mean: (0..D).map(|_| 4.0 * u()).collect(),
                        scale: (0..D * (D + 1) / 2).map(|_| 2.0 * u()).collect(),
                    })
                    .collect(),
            })
            .collect(),
    }
}

/// A small model (latent 4, 28 x 28) with a prior, as file bytes.
fn model_with_prior(seed: u64, classes: usize, components: usize) -> Vec<u8> {
    sized_model_with_prior(seed, classes, components, &[16], 28)
}

/// A model (latent 4, hidden widths `hidden`, `side` x `side` pixels) with
/// a prior, as file bytes.
fn sized_model_with_prior(
    seed: u64,
    classes: usize,
    components: usize,
    hidden: &[usize],
    side: usize,
) -> Vec<u8> {
    let dec = random_float_decoder(seed, D, hidden, side, side);
    let mut q = runtime::host::quantize::quantize(
        &dec,
        &normal_latents(seed + 1, 64, D),
        runtime::host::quantize::Calibration::Max,
        "prior",
    )
    .unwrap();
    q.prior = float_prior(seed + 2, classes, components).quantize(D);
    assert!(q.prior.is_some());
    q.to_bytes().unwrap()
}

/// A file of `body` followed by `prior` (no validation), version 3.
fn encode_v3(body: &ModelBody<'_>, prior: &Option<Prior<'_>>) -> Vec<u8> {
    let mut payload = postcard::to_allocvec(body).unwrap();
    payload.extend(postcard::to_allocvec(prior).unwrap());
    let mut out = b"VAEQ".to_vec();
    out.extend_from_slice(&FORMAT_VERSION_PRIOR.to_le_bytes());
    out.extend_from_slice(&(payload.len() as u32).to_le_bytes());
    out.extend_from_slice(&payload);
    out.extend_from_slice(&runtime::crc32::crc32(&payload).to_le_bytes());
    out
}

/// The error for `prior` on the model of `bytes`, both from
/// `Model::from_parts` and from an encoded file (they must agree).
fn prior_err(bytes: &[u8], prior: Prior<'_>) -> ModelError {
    let model = Model::from_bytes(bytes).unwrap();
    let body = model.body().clone();
    let encoded = postcard::to_allocvec(&prior).unwrap();
    let direct = Model::from_parts(body.clone(), Some(&encoded)).expect_err("must be rejected");
    let file = encode_v3(&body, &Some(prior));
    // Alignment of weights may differ in a hand-made file; only compare
    // when the file gets past that check.
    if let Err(e) = Model::from_bytes(&file) {
        if !matches!(e, ModelError::MisalignedWeights { .. }) {
            assert_eq!(e, direct, "file and in-memory validation disagree");
        }
    }
    direct
}

#[test]
fn version_3_round_trips_zero_copy() {
    let bytes = model_with_prior(1, 10, 2);
    assert_eq!(
        u16::from_le_bytes([bytes[4], bytes[5]]),
        FORMAT_VERSION_PRIOR
    );
    let model = Model::from_bytes(&bytes).unwrap();
    assert_eq!(model.format_version(), 3);
    assert_eq!(model.to_vec(), bytes);
    let prior = model.prior().unwrap();
    assert_eq!(prior.classes(), 10);
    assert_eq!(prior.label(7), Some("7"));
    assert_eq!(prior.class_of("3"), Some(3));
    assert_eq!(prior.class_of("x"), None);
    let range = bytes.as_ptr_range();
    for c in prior.iter() {
        assert_eq!(c.components(), 2);
        for arr in [
            c.means,
            c.scales,
            c.component_weights,
            c.mean_bits,
            c.scale_bits,
        ] {
            assert!(
                range.contains(&arr.as_ptr()),
                "prior arrays borrow from the file"
            );
        }
    }
}

#[test]
fn version_2_files_load_and_draw_from_the_standard_normal() {
    let bytes = integration_tests::small_model_bytes(3);
    assert_eq!(
        u16::from_le_bytes([bytes[4], bytes[5]]),
        FORMAT_VERSION_NO_PRIOR
    );
    let model = Model::from_bytes(&bytes).unwrap();
    assert!(model.prior().is_none());
    for class in [None, Some(0), Some(9)] {
        let mut a = LatentSampler::new(5);
        let mut b = LatentSampler::new(5);
        for _ in 0..10 {
            assert_eq!(a.draw(&model, class), b.sample(D));
        }
    }
}

/// The class draw, recomputed from the spec with i64 arithmetic.
fn expected_class_draw(c: &ClassPrior<'_>, seed: u64) -> Vec<i16> {
    let i8s = |b: &[u8]| -> Vec<i64> { b.iter().map(|&x| i64::from(x as i8)).collect() };
    let mut rng = Rng::new(seed);
    let weights: Vec<u64> = c
        .component_weights
        .chunks_exact(2)
        .map(|x| u64::from(u16::from_le_bytes([x[0], x[1]])))
        .collect();
    let r = (u64::from(rng.next_u32()) * weights.iter().sum::<u64>()) >> 32;
    let mut acc = 0;
    let comp = weights.iter().position(|w| {
        acc += w;
        r < acc
    });
    let comp = comp.unwrap();
    let eps: Vec<i64> = (0..D)
        .map(|_| i64::from(runtime::normal::next_normal_q12(&mut rng)))
        .collect();
    let means = i8s(c.means);
    let scales = i8s(c.scales);
    let a = u32::from(c.mean_bits[comp]);
    let b = u32::from(c.scale_bits[comp]);
    let tri = D * (D + 1) / 2;
    let mut out = Vec::new();
    for i in 0..D {
        let row = comp * tri + i * (i + 1) / 2;
        let sum: i64 = (0..=i).map(|j| scales[row + j] * eps[j]).sum();
        let half = if b == 0 { 0 } else { 1i64 << (b - 1) };
        let z = means[comp * D + i] * (1 << (12 - a)) + ((sum + half) >> b);
        out.push(z.clamp(-32768, 32767) as i16);
    }
    out
}

#[test]
fn class_draws_follow_the_spec() {
    let bytes = model_with_prior(2, 10, 3);
    let model = Model::from_bytes(&bytes).unwrap();
    let prior = model.prior().unwrap();
    for k in 0..10 {
        for seed in 0..50u64 {
            let got = LatentSampler::new(seed).draw(&model, Some(k));
            assert_eq!(
                got.as_q12(),
                expected_class_draw(&prior.class(k).unwrap(), seed).as_slice()
            );
        }
    }
}

#[test]
fn unconditional_draws_pick_classes_by_weight() {
    let bytes = model_with_prior(4, 4, 1);
    let model = Model::from_bytes(&bytes).unwrap();
    let prior = model.prior().unwrap();
    let mut rng = Rng::new(11);
    let mut counts = [0usize; 4];
    let n = 40_000;
    for _ in 0..n {
        counts[prior.sample(&mut rng, D).0] += 1;
    }
    // Weights 1:2:3:4 (as integers 16384:32768:49151:65535).
    let total: f64 = prior.iter().map(|c| f64::from(c.weight)).sum();
    for (k, &c) in counts.iter().enumerate() {
        let p = f64::from(prior.class(k).unwrap().weight) / total;
        let sd = (p * (1.0 - p) / n as f64).sqrt();
        assert!(
            (c as f64 / n as f64 - p).abs() < 5.0 * sd,
            "class {k}: {c} of {n}, p {p}"
        );
    }
}

#[test]
fn every_prefix_of_a_version_3_file_is_refused_without_panic() {
    let bytes = model_with_prior(5, 3, 2);
    for cut in 0..bytes.len() {
        assert!(Model::from_bytes(&bytes[..cut]).is_err());
    }
}

/// `good` changed by `edit`, checked against the model of `bytes`.
fn edited(bytes: &[u8], good: &Prior<'static>, edit: &dyn Fn(&mut Prior<'static>)) -> ModelError {
    let mut p = good.clone();
    edit(&mut p);
    prior_err(bytes, p)
}

#[test]
fn bad_priors_get_typed_errors() {
    let bytes: &'static [u8] = Box::leak(model_with_prior(6, 3, 2).into_boxed_slice());
    let model = Model::from_bytes(bytes).unwrap();
    let good = Prior {
        classes: model.prior().unwrap().iter().collect(),
    };
    let with = |edit: &dyn Fn(&mut Prior<'static>)| edited(bytes, &good, edit);
    assert_eq!(with(&|p| p.classes.clear()), ModelError::PriorEmpty);
    assert_eq!(
        with(&|p| p.classes[1].label = ""),
        ModelError::PriorLabel { class: 1 }
    );
    assert_eq!(
        with(&|p| p.classes[2].label = "0"),
        ModelError::PriorLabel { class: 2 }
    );
    assert_eq!(
        with(&|p| p.classes[0].label = "seventeen-bytes!!"),
        ModelError::PriorLabel { class: 0 }
    );
    assert_eq!(
        with(&|p| p.classes[1].scale_bits = &[]),
        ModelError::PriorComponents { class: 1, found: 0 }
    );
    let nine: &'static [u8] = &[0u8; 9];
    assert_eq!(
        with(&|p| p.classes[1].scale_bits = nine),
        ModelError::PriorComponents { class: 1, found: 9 }
    );
    let short = good.classes[0].means.split_at(1).1;
    assert_eq!(
        with(&|p| p.classes[0].means = short),
        ModelError::PriorLength {
            class: 0,
            field: PriorField::Means,
            expected: 2 * D,
            found: 2 * D - 1
        }
    );
    let one: &'static [u8] = &[3u8];
    assert!(matches!(
        with(&|p| p.classes[1].mean_bits = one),
        ModelError::PriorLength {
            class: 1,
            field: PriorField::MeanBits,
            ..
        }
    ));
    let short = good.classes[2].scales.split_at(1).1;
    assert!(matches!(
        with(&|p| p.classes[2].scales = short),
        ModelError::PriorLength {
            class: 2,
            field: PriorField::Scales,
            ..
        }
    ));
    let three: &'static [u8] = &[1u8, 0, 1, 0, 1, 0];
    assert!(matches!(
        with(&|p| p.classes[2].component_weights = three),
        ModelError::PriorLength {
            class: 2,
            field: PriorField::ComponentWeights,
            ..
        }
    ));
    let zero_second: &'static [u8] = &[1u8, 0, 0, 0];
    assert_eq!(
        with(&|p| p.classes[1].component_weights = zero_second),
        ModelError::PriorZeroWeight {
            class: 1,
            component: Some(1)
        }
    );
    assert_eq!(
        with(&|p| p.classes.iter_mut().for_each(|c| c.weight = 0)),
        ModelError::PriorZeroWeight {
            class: 0,
            component: None
        }
    );
    let bits: &'static [u8] = &[3u8, 16];
    assert_eq!(
        with(&|p| p.classes[0].scale_bits = bits),
        ModelError::PriorBits {
            class: 0,
            component: 1,
            field: PriorField::ScaleBits,
            bits: 16
        }
    );
    let bits: &'static [u8] = &[13u8, 2];
    assert_eq!(
        with(&|p| p.classes[2].mean_bits = bits),
        ModelError::PriorBits {
            class: 2,
            component: 0,
            field: PriorField::MeanBits,
            bits: 13
        }
    );
    // Every error has a message naming the problem.
    for e in [
        ModelError::PriorEmpty,
        ModelError::PriorBits {
            class: 1,
            component: 0,
            field: PriorField::MeanBits,
            bits: 13,
        },
    ] {
        assert!(e.to_string().contains("prior"));
    }
}

/// The fuzzer's seeds include version-3 files with a prior (whole, and
/// their payload alone, as the fuzz target wraps inputs in a header): one
/// 28 x 28 model, and a micro model (4 x 4 pixels, 2 layers, about 550
/// bytes) that decodes in a microsecond, so that a run with a small
/// `-max_len` explores the format at full speed.
/// Regenerate with `UPDATE_SEEDS=1 cargo test -p integration-tests --test prior_format`.
#[test]
fn fuzz_seeds_hold_version_3_models() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../runtime/fuzz/seeds");
    for (name, bytes) in [
        ("prior", model_with_prior(12, 3, 2)),
        ("micro", sized_model_with_prior(13, 3, 2, &[6], 4)),
    ] {
        let payload = &bytes[10..bytes.len() - 4];
        if std::env::var("UPDATE_SEEDS").is_ok_and(|v| v == "1") {
            std::fs::write(dir.join(format!("{name}.model")), &bytes).unwrap();
            std::fs::write(dir.join(format!("{name}.payload")), payload).unwrap();
        }
        assert_eq!(
            std::fs::read(dir.join(format!("{name}.model"))).unwrap(),
            bytes
        );
        assert_eq!(
            std::fs::read(dir.join(format!("{name}.payload"))).unwrap(),
            payload
        );
        let model = Model::from_bytes(&bytes).unwrap();
        assert!(model.prior().is_some(), "{name}");
        if name == "micro" {
            assert!(bytes.len() < 1024, "micro seed is {} bytes", bytes.len());
            assert_eq!(model.pixel_count(), 16);
        }
    }
}
