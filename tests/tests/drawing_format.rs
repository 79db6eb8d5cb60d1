//! Format version 4: the drawing section (logit gain, latent filter).
//! Round trips, the gain and the filter's redraws against what they must
//! equal, earlier versions unchanged, and one test per error a loader must
//! report for a bad drawing section (section 2b and rule 11 of
//! `docs/model-format.md`).

use integration_tests::{normal_latents, random_float_decoder};
use runtime::format::{Drawing, FORMAT_VERSION_DRAWING, HEADER_LEN};
use runtime::host::quantize::{quantize, Calibration, OwnedDrawing, OwnedFilter, QuantizedModel};
use runtime::host::quantize_prior::{FloatClass, FloatComponent, FloatPrior};
use runtime::{Decoder, Digit, LatentSampler, Model, ModelError, Rng};

const D: usize = 4;
const CLASSES: usize = 3;

/// A prior of `CLASSES` classes, one component each, apart from each other.
fn prior() -> FloatPrior {
    let mut rng = Rng::new(5);
    let mut u = move || f64::from(rng.next_u32()) / f64::from(u32::MAX) - 0.5;
    FloatPrior {
        classes: (0..CLASSES)
            .map(|k| FloatClass {
                label: k.to_string(),
                weight: 1.0,
                components: vec![FloatComponent {
                    weight: 1.0,
                    mean: (0..D)
                        .map(|i| if i == k { 1.5 } else { 0.3 * u() })
                        .collect(),
                    scale: (0..D * (D + 1) / 2).map(|_| 0.8 * u()).collect(),
                }],
            })
            .collect(),
    }
}

/// A random filter network `D -> hidden -> outputs`, quantized.
fn filter_net(seed: u64, hidden: usize, outputs: usize) -> QuantizedModel {
    quantize(
        &random_float_decoder(seed, D, &[hidden], outputs, 1),
        &normal_latents(seed + 1, 64, D),
        Calibration::Max,
        "filter",
    )
    .unwrap()
}

/// The decoder (`D -> 16 -> 28 x 28`) with the prior, no drawing section.
fn plain() -> QuantizedModel {
    let mut q = quantize(
        &random_float_decoder(1, D, &[16], 28, 28),
        &normal_latents(2, 64, D),
        Calibration::Max,
        "drawing",
    )
    .unwrap();
    q.prior = prior().quantize(D);
    q
}

/// [`plain`] with gain `gain` and a random 8-unit filter.
fn with_filter(gain: u16, margin: u16, max_draws: u8) -> Vec<u8> {
    let mut q = plain();
    q.drawing = Some(OwnedDrawing {
        logit_gain: gain,
        filter: Some(OwnedFilter::new(
            &filter_net(7, 8, CLASSES),
            margin,
            max_draws,
        )),
    });
    q.to_bytes().unwrap()
}

/// A version-4 file of `model`'s body and prior followed by `drawing`,
/// without validation (to make bad files); `prior: false` writes no prior.
fn encode_v4(model: &Model<'_>, prior: bool, drawing: &Drawing<'_>) -> Vec<u8> {
    let mut payload = postcard::to_allocvec(model.body()).unwrap();
    match model.prior().filter(|_| prior) {
        Some(p) => {
            payload.push(1);
            payload.extend(postcard::to_allocvec(&(p.classes() as u32)).unwrap());
            payload.extend_from_slice(p.encoded_classes());
        }
        None => payload.push(0),
    }
    payload.extend(postcard::to_allocvec(drawing).unwrap());
    let mut out = b"VAEQ".to_vec();
    out.extend_from_slice(&FORMAT_VERSION_DRAWING.to_le_bytes());
    out.extend_from_slice(&(payload.len() as u32).to_le_bytes());
    out.extend_from_slice(&payload);
    out.extend_from_slice(&runtime::crc32::crc32(&payload).to_le_bytes());
    out
}

/// Where the drawing section of `model` starts in its file.
fn drawing_at(model: &Model<'_>, prior: bool) -> usize {
    let prior_len = match model.prior().filter(|_| prior) {
        Some(p) => {
            1 + postcard::to_allocvec(&(p.classes() as u32)).unwrap().len()
                + p.encoded_classes().len()
        }
        None => 1,
    };
    HEADER_LEN + model.body().encoded_len() + prior_len
}

fn load_err(bytes: &[u8]) -> ModelError {
    Model::from_bytes(bytes).expect_err("the file should be refused")
}

#[test]
fn version_4_round_trips_and_older_versions_stay() {
    let bytes = with_filter(512, 300, 8);
    let model = Model::from_bytes(&bytes).unwrap();
    assert_eq!(model.format_version(), 4);
    assert_eq!(model.logit_gain(), 512);
    let f = model.filter().unwrap();
    assert_eq!((f.margin, f.max_draws, f.layers.len()), (300, 8, 2));
    assert_eq!(model.to_vec(), bytes);
    // Without a drawing section the same model is a version-3 file, and a
    // version-4 file with gain 256 and no filter draws exactly as it does.
    let plain_bytes = plain().to_bytes().unwrap();
    let v3 = Model::from_bytes(&plain_bytes).unwrap();
    assert_eq!(v3.format_version(), 3);
    let mut q = plain();
    q.drawing = Some(OwnedDrawing {
        logit_gain: 256,
        filter: None,
    });
    let v4_bytes = q.to_bytes().unwrap();
    let v4 = Model::from_bytes(&v4_bytes).unwrap();
    assert_eq!(v4.format_version(), 4);
    let (mut a, mut b) = (Digit::new(), Digit::new());
    let mut da = Decoder::<16>::new(&v3).unwrap();
    let mut db = Decoder::<16>::new(&v4).unwrap();
    for seed in 0..20 {
        let za = LatentSampler::new(seed).draw(&v3, Some(1));
        let zb = LatentSampler::new(seed).draw(&v4, Some(1));
        assert_eq!(za, zb);
        da.decode(&za, &mut a).unwrap();
        db.decode(&zb, &mut b).unwrap();
        assert_eq!(a.pixels(), b.pixels());
    }
}

#[test]
fn the_gain_multiplies_the_logits_before_the_grey_table() {
    let bytes = with_filter(640, 0, 1);
    let model = Model::from_bytes(&bytes).unwrap();
    let mut decoder = Decoder::<16>::new(&model).unwrap();
    let mut digit = Digit::new();
    let mut logits = vec![0i16; 784];
    let mut darker_or_lighter = 0;
    for seed in 0..10 {
        let z = LatentSampler::new(seed).draw(&model, None);
        decoder.decode(&z, &mut digit).unwrap();
        decoder.decode_logits(&z, &mut logits).unwrap();
        for (&l, &p) in logits.iter().zip(digit.pixels()) {
            let gained = ((i32::from(l) * 640 + 128) >> 8).clamp(-32768, 32767) as i16;
            assert_eq!(p, runtime::sigmoid::grey_of_logit(gained));
            darker_or_lighter += usize::from(p != runtime::sigmoid::grey_of_logit(l));
        }
    }
    assert!(
        darker_or_lighter > 1000,
        "the gain changed {darker_or_lighter} pixels"
    );
}

/// The filter's rule, recomputed from its class logits: a kept latent's
/// class leads by the margin, every redrawn one did not, and a filter
/// drawing once takes the very latents a file without one takes.
#[test]
fn the_filter_keeps_what_leads_by_the_margin_and_redraws_the_rest() {
    let margin = 200;
    let bytes = with_filter(256, margin, 64);
    let model = Model::from_bytes(&bytes).unwrap();
    let filter = model.filter().unwrap();
    let leads = |z: &runtime::Latent, k: usize| {
        let mut l = [0i16; 16];
        let n = runtime::filter::class_logits(filter, z.as_q12(), &mut l);
        assert_eq!(n, CLASSES);
        (0..n).all(|j| j == k || i32::from(l[k]) - i32::from(l[j]) >= i32::from(margin))
    };
    let (mut redrawn, mut total) = (0, 0);
    for k in 0..CLASSES {
        for seed in 0..200u64 {
            let (z, n) = LatentSampler::new(seed).draw_counted(&model, Some(k));
            total += 1;
            // Replay: the same generator without the filter, draw by draw.
            let plain_bytes = plain().to_bytes().unwrap();
            let plain = Model::from_bytes(&plain_bytes).unwrap();
            let mut replay = LatentSampler::new(seed);
            for i in 1..=n {
                let zi = replay.draw(&plain, Some(k));
                if i < n {
                    assert!(!leads(&zi, k), "a kept latent was redrawn");
                } else {
                    assert_eq!(zi, z);
                }
            }
            assert!(n == 64 || leads(&z, k));
            redrawn += usize::from(n > 1);
        }
    }
    assert!(
        redrawn > 0 && redrawn < total,
        "{redrawn} of {total} redrawn"
    );
    // A margin no logits reach: every digit takes the most draws.
    let never = with_filter(256, u16::MAX, 5);
    let never = Model::from_bytes(&never).unwrap();
    for seed in 0..20 {
        assert_eq!(LatentSampler::new(seed).draw_counted(&never, None).1, 5);
    }
}

#[test]
fn bad_gain_and_draw_counts_are_refused_by_name() {
    let bytes = with_filter(512, 300, 8);
    let model = Model::from_bytes(&bytes).unwrap();
    let at = drawing_at(&model, true);
    let good = model.drawing().unwrap().clone();
    let encode = |d: &Drawing<'_>| encode_v4(&model, true, d);
    // The gain without a filter (so no weights move when its varint shrinks).
    for gain in [0u16, 4097, u16::MAX] {
        let d = Drawing {
            logit_gain: gain,
            filter: None,
        };
        assert_eq!(load_err(&encode(&d)), ModelError::LogitGain(gain));
    }
    let mut d = good.clone();
    d.logit_gain = 4096;
    d.align_weights(at);
    assert!(Model::from_bytes(&encode(&d)).is_ok());
    for (draws, err) in [
        (
            0u8,
            ModelError::ZeroDimension {
                what: "filter draws",
            },
        ),
        (
            65,
            ModelError::ExceedsCapacity {
                what: "filter draws",
                value: 65,
                max: 64,
            },
        ),
    ] {
        let mut d = good.clone();
        d.filter.as_mut().unwrap().max_draws = draws;
        assert_eq!(load_err(&encode(&d)), err);
    }
}

#[test]
fn bad_filters_are_refused_by_name() {
    let bytes = with_filter(512, 300, 8);
    let model = Model::from_bytes(&bytes).unwrap();
    let good = model.drawing().unwrap().clone();
    let decoder_layers = model.layers().len();
    // A filter needs a prior.
    let mut d = good.clone();
    d.align_weights(drawing_at(&model, false));
    assert_eq!(
        load_err(&encode_v4(&model, false, &d)),
        ModelError::FilterWithoutPrior
    );
    // One logit per class: a filter with 4 outputs for 3 classes.
    let other = filter_net(9, 8, CLASSES + 1);
    let other = other.model().unwrap();
    let with_net = |net: &Model<'_>| {
        let mut d = good.clone();
        d.filter.as_mut().unwrap().layers = net.layers().iter().copied().collect();
        d.align_weights(drawing_at(&model, true));
        encode_v4(&model, true, &d)
    };
    assert_eq!(
        load_err(&with_net(&other)),
        ModelError::FilterOutputs {
            classes: CLASSES,
            found: CLASSES + 1
        }
    );
    // Hidden layers live in 64-value buffers: 65 units (68 padded) is too wide.
    let wide = filter_net(10, 65, CLASSES);
    let wide = wide.model().unwrap();
    assert_eq!(
        load_err(&with_net(&wide)),
        ModelError::ExceedsCapacity {
            what: "filter layer width (padded to 4)",
            value: 68,
            max: 64
        }
    );
    // Filter layers are checked as decoder layers, numbered after them.
    let mut d = good.clone();
    d.filter.as_mut().unwrap().layers[1].activation = runtime::format::Activation::Relu;
    assert_eq!(
        load_err(&encode_v4(&model, true, &d)),
        ModelError::BadActivation {
            layer: decoder_layers + 1
        }
    );
    let mut d = good.clone();
    let first = &mut d.filter.as_mut().unwrap().layers[0];
    first.padding = &[0, 0, 0, 0][..(first.padding.len() + 1) % 4];
    match load_err(&encode_v4(&model, true, &d)) {
        ModelError::MisalignedWeights { layer, .. } => assert_eq!(layer, decoder_layers),
        e => panic!("expected MisalignedWeights, got {e}"),
    }
    // A version-4 header over a version-3 payload: the section is missing.
    let mut v3 = plain().to_bytes().unwrap();
    v3[4..6].copy_from_slice(&FORMAT_VERSION_DRAWING.to_le_bytes());
    assert_eq!(load_err(&v3), ModelError::Malformed);
    // Bytes after the drawing section.
    let mut extra = bytes.clone();
    let n = u32::from_le_bytes(extra[6..10].try_into().unwrap()) as usize;
    extra.truncate(10 + n);
    extra.push(0);
    let crc = runtime::crc32::crc32(&extra[10..]);
    extra[6..10].copy_from_slice(&((n + 1) as u32).to_le_bytes());
    extra.extend_from_slice(&crc.to_le_bytes());
    assert_eq!(load_err(&extra), ModelError::PayloadTooLong(1));
}

/// Every error names the problem in words.
#[test]
fn drawing_errors_read_well() {
    assert!(ModelError::LogitGain(0)
        .to_string()
        .contains("logit gain 0"));
    assert!(ModelError::FilterWithoutPrior
        .to_string()
        .contains("without a prior"));
    assert!(ModelError::FilterOutputs {
        classes: 10,
        found: 9
    }
    .to_string()
    .contains("9 class logits, the prior has 10 classes"));
}

/// The fuzzer's version-4 seed (`runtime/fuzz/seeds/drawing.*`): a 4 x 4
/// model with a prior of 3 classes, gain and a filter, under 1,024 bytes so
/// that `-max_len=1024` runs reach it. `UPDATE_SEEDS=1` rewrites it.
#[test]
fn fuzz_seeds_hold_a_version_4_model() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../runtime/fuzz/seeds");
    let mut q = quantize(
        &random_float_decoder(14, D, &[6], 4, 4),
        &normal_latents(15, 64, D),
        Calibration::Max,
        "micro4",
    )
    .unwrap();
    q.prior = prior().quantize(D);
    q.drawing = Some(OwnedDrawing {
        logit_gain: 384,
        filter: Some(OwnedFilter::new(&filter_net(16, 8, CLASSES), 100, 4)),
    });
    let bytes = q.to_bytes().unwrap();
    let payload = &bytes[10..bytes.len() - 4];
    if std::env::var("UPDATE_SEEDS").is_ok_and(|v| v == "1") {
        std::fs::write(dir.join("drawing.model"), &bytes).unwrap();
        std::fs::write(dir.join("drawing.payload"), payload).unwrap();
    }
    assert_eq!(std::fs::read(dir.join("drawing.model")).unwrap(), bytes);
    assert_eq!(std::fs::read(dir.join("drawing.payload")).unwrap(), payload);
    let model = Model::from_bytes(&bytes).unwrap();
    assert_eq!(model.format_version(), 4);
    assert!(bytes.len() < 1024, "the seed is {} bytes", bytes.len());
}
