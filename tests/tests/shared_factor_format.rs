//! Format version 5: the components of a prior class may share one scale
//! factor (a tied covariance), stored once. The shared file draws exactly
//! what the same prior with the factor repeated per component draws, earlier
//! versions refuse a shared factor with a typed error, and the fuzzer's
//! version-5 seed stays in step (section 2a of `docs/model-format.md`).

use integration_tests::{normal_latents, random_float_decoder, wrap_payload};
use runtime::format::{
    ClassPrior, ModelBody, Prior, FORMAT_VERSION_DRAWING, FORMAT_VERSION_PRIOR,
    FORMAT_VERSION_SHARED, HEADER_LEN, LOGIT_GAIN_ONE,
};
use runtime::host::quantize::{quantize, Calibration, OwnedDrawing, OwnedFilter, QuantizedModel};
use runtime::host::quantize_prior::{FloatClass, FloatComponent, FloatPrior};
use runtime::{LatentSampler, Model, ModelError, PriorField, Rng};

const D: usize = 4;
const TRI: usize = D * (D + 1) / 2;
const CLASSES: usize = 3;
const COMPONENTS: usize = 3;

/// `CLASSES` classes of `COMPONENTS` components; within a class every
/// component has the same factor (tied) and its own mean.
fn tied_prior(seed: u64) -> FloatPrior {
    let mut rng = Rng::new(seed);
    let mut u = move || f64::from(rng.next_u32()) / f64::from(u32::MAX) - 0.5;
    FloatPrior {
        classes: (0..CLASSES)
            .map(|k| {
                let scale: Vec<f64> = (0..TRI).map(|_| 0.8 * u()).collect();
                FloatClass {
                    label: k.to_string(),
                    weight: 1.0 + k as f64,
                    components: (0..COMPONENTS)
                        .map(|c| FloatComponent {
                            weight: 1.0 + c as f64,
                            mean: (0..D).map(|_| 3.0 * u()).collect(),
                            scale: scale.clone(),
                        })
                        .collect(),
                }
            })
            .collect(),
    }
}

/// A 4 x 4 decoder (`D -> 6 -> 16`) with the tied prior.
fn tied_model(drawing: Option<OwnedDrawing>) -> QuantizedModel {
    let mut q = quantize(
        &random_float_decoder(21, D, &[6], 4, 4),
        &normal_latents(22, 64, D),
        Calibration::Max,
        "tied",
    )
    .unwrap();
    q.prior = tied_prior(23).quantize(D);
    q.drawing = drawing;
    q
}

/// A drawing section with gain 1.5 and a `D -> 8 -> CLASSES` filter.
fn drawing() -> OwnedDrawing {
    let net = quantize(
        &random_float_decoder(24, D, &[8], CLASSES, 1),
        &normal_latents(25, 64, D),
        Calibration::Max,
        "filter",
    )
    .unwrap();
    OwnedDrawing {
        logit_gain: 384,
        filter: Some(OwnedFilter::new(&net, 100, 4)),
    }
}

/// The same prior with each class's one factor repeated per component.
fn repeated<'a>(prior: &Prior<'a>, store: &'a mut Vec<Vec<u8>>) -> Prior<'a> {
    *store = prior
        .classes
        .iter()
        .map(|c| c.scales.repeat(c.scale_bits.len()))
        .collect();
    let mut out = prior.clone();
    for (c, scales) in out.classes.iter_mut().zip(store.iter()) {
        c.scales = scales;
    }
    out
}

/// A file of `body`, `prior` and optionally `drawing` (its filter weights
/// aligned for the file) under `version`; not validated.
fn encode(
    version: u16,
    body: &ModelBody<'_>,
    prior: &Prior<'_>,
    drawing: Option<&runtime::format::Drawing<'_>>,
) -> Vec<u8> {
    let mut payload = postcard::to_allocvec(body).unwrap();
    payload.extend(postcard::to_allocvec(&Some(prior)).unwrap());
    if let Some(d) = drawing {
        // The filter's weights stay aligned whatever the prior's length.
        let mut d = d.clone();
        d.align_weights(HEADER_LEN + payload.len());
        payload.extend(postcard::to_allocvec(&d).unwrap());
    }
    wrap_payload(&payload, version)
}

/// The prior section of a loaded model, decoded back into the format type.
fn prior_of<'a>(model: &Model<'a>) -> Prior<'a> {
    let view = model.prior().unwrap();
    Prior {
        classes: view.iter().collect(),
    }
}

#[test]
fn a_tied_prior_is_stored_once_and_draws_as_if_repeated() {
    let q = tied_model(Some(drawing()));
    let bytes = q.to_bytes().unwrap();
    let shared = Model::from_bytes(&bytes).unwrap();
    assert_eq!(shared.format_version(), FORMAT_VERSION_SHARED);
    let prior = prior_of(&shared);
    for c in &prior.classes {
        assert_eq!(
            c.scales.len(),
            TRI,
            "one triangle for {} components",
            COMPONENTS
        );
        assert!(c.shares_factor());
    }
    // The same prior, factor repeated: a version-4 file, (n - 1) triangles
    // per class longer, that must draw the same latents.
    let mut store = Vec::new();
    let long = repeated(&prior, &mut store);
    let drawing = shared.drawing().unwrap().clone();
    let v4 = encode(FORMAT_VERSION_DRAWING, shared.body(), &long, Some(&drawing));
    assert_eq!(v4.len(), bytes.len() + CLASSES * (COMPONENTS - 1) * TRI);
    let repeated = Model::from_bytes(&v4).unwrap();
    assert_eq!(repeated.format_version(), FORMAT_VERSION_DRAWING);
    assert!(!repeated.prior().unwrap().shares_factor());
    let (mut a, mut b) = (LatentSampler::new(9), LatentSampler::new(9));
    let mut differ = 0;
    let mut last = None;
    for i in 0..600 {
        let class = (i % 4 < CLASSES).then_some(i % 4);
        let za = a.draw_counted(&shared, class);
        assert_eq!(za, b.draw_counted(&repeated, class), "draw {i}");
        differ += usize::from(last.is_some_and(|l| l != za.0));
        last = Some(za.0);
    }
    assert!(differ > 500, "the draws vary ({differ} changes)");
}

#[test]
fn earlier_versions_refuse_a_shared_factor() {
    let bytes = tied_model(Some(drawing())).to_bytes().unwrap();
    let model = Model::from_bytes(&bytes).unwrap();
    let prior = prior_of(&model);
    let drawing = model.drawing().unwrap().clone();
    let expected = ModelError::PriorLength {
        class: 0,
        field: PriorField::Scales,
        expected: COMPONENTS * TRI,
        found: TRI,
    };
    let v4 = encode(FORMAT_VERSION_DRAWING, model.body(), &prior, Some(&drawing));
    assert_eq!(Model::from_bytes(&v4).unwrap_err(), expected);
    let v3 = encode(FORMAT_VERSION_PRIOR, model.body(), &prior, None);
    assert_eq!(Model::from_bytes(&v3).unwrap_err(), expected);
    // Version 5 takes one triangle or one per component, nothing between.
    let doubled = prior.classes[1].scales.repeat(2);
    let mut two = prior.clone();
    two.classes[1].scales = &doubled;
    let v5 = encode(FORMAT_VERSION_SHARED, model.body(), &two, Some(&drawing));
    assert_eq!(
        Model::from_bytes(&v5).unwrap_err(),
        ModelError::PriorLength {
            class: 1,
            field: PriorField::Scales,
            expected: COMPONENTS * TRI,
            found: 2 * TRI,
        }
    );
    // A one-component class with one triangle is the same in every version.
    let mut one: Prior<'_> = prior.clone();
    let single = ClassPrior {
        component_weights: &prior.classes[0].component_weights[..2],
        mean_bits: &prior.classes[0].mean_bits[..1],
        scale_bits: &prior.classes[0].scale_bits[..1],
        means: &prior.classes[0].means[..D],
        ..prior.classes[0]
    };
    assert!(!single.shares_factor());
    one.classes = [single; CLASSES]
        .into_iter()
        .enumerate()
        .map(|(k, mut c)| {
            c.label = ["0", "1", "2"][k];
            c
        })
        .collect();
    let v4 = encode(FORMAT_VERSION_DRAWING, model.body(), &one, Some(&drawing));
    assert_eq!(
        Model::from_bytes(&v4).unwrap().format_version(),
        FORMAT_VERSION_DRAWING
    );
}

#[test]
fn a_shared_factor_without_a_drawing_section_writes_a_neutral_one() {
    let q = tied_model(None);
    let bytes = q.to_bytes().unwrap();
    assert_eq!(
        u16::from_le_bytes([bytes[4], bytes[5]]),
        FORMAT_VERSION_SHARED
    );
    let model = Model::from_bytes(&bytes).unwrap();
    let d = model.drawing().expect("a version-5 file has the section");
    assert_eq!((d.logit_gain, d.filter.is_none()), (LOGIT_GAIN_ONE, true));
    assert_eq!(model.to_vec(), bytes, "written again byte for byte");
    // It draws as the in-memory model without a section does.
    let plain = q.model().unwrap();
    assert!(plain.drawing().is_none());
    let (mut a, mut b) = (LatentSampler::new(3), LatentSampler::new(3));
    for class in [None, Some(0), Some(2)] {
        assert_eq!(a.draw(&model, class), b.draw(&plain, class));
    }
    assert_eq!(model.logit_gain(), plain.logit_gain());
}

/// The fuzzer's version-5 and 6 seeds (`runtime/fuzz/seeds/tied.*`,
/// `masked.*`): the 4 x 4 model with its tied prior, gain and filter, and
/// the same with a pixel mask keeping 10 of its 16 pixels, under 1,024 bytes
/// so that `-max_len=1024` runs reach them. `UPDATE_SEEDS=1` rewrites them.
#[test]
fn fuzz_seeds_hold_version_5_and_6_models() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../runtime/fuzz/seeds");
    let mut masked = tied_model(Some(drawing()));
    let keep: Vec<bool> = (0..16).map(|p| p % 3 != 1).collect();
    masked.keep_pixels(&keep, -1_500).unwrap();
    for (name, q, version) in [
        ("tied", tied_model(Some(drawing())), FORMAT_VERSION_SHARED),
        ("masked", masked, FORMAT_VERSION_SHARED + 1),
    ] {
        let bytes = q.to_bytes().unwrap();
        let payload = &bytes[HEADER_LEN..bytes.len() - 4];
        let (model_file, payload_file) = (
            dir.join(format!("{name}.model")),
            dir.join(format!("{name}.payload")),
        );
        if std::env::var("UPDATE_SEEDS").is_ok_and(|v| v == "1") {
            std::fs::write(&model_file, &bytes).unwrap();
            std::fs::write(&payload_file, payload).unwrap();
        }
        assert_eq!(std::fs::read(model_file).unwrap(), bytes, "{name}");
        assert_eq!(std::fs::read(payload_file).unwrap(), payload, "{name}");
        let model = Model::from_bytes(&bytes).unwrap();
        assert_eq!(model.format_version(), version, "{name}");
        assert!(
            bytes.len() < 1024,
            "the {name} seed is {} bytes",
            bytes.len()
        );
    }
}
