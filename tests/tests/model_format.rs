//! The model file format: round trips, zero-copy loading, and one test per
//! error class a loader must report.

use integration_tests::{encode_unchecked, prior_count_offset, small_model_bytes, widen_varint};
use runtime::crc32::crc32;
use runtime::format::{
    Activation, Layer, ModelBody, FORMAT_VERSION, FORMAT_VERSION_NO_PRIOR, HEADER_LEN,
    MAX_LATENT_DIM, MAX_LAYERS,
};
use runtime::{Field, Model, ModelError};

fn body_of(bytes: &[u8]) -> ModelBody<'_> {
    Model::from_bytes(bytes).unwrap().body().clone()
}

/// Re-encodes `bytes` after `edit` changes the decoded body (no validation).
fn edited<'a>(bytes: &'a [u8], edit: impl FnOnce(&mut ModelBody<'a>)) -> Vec<u8> {
    let mut body = body_of(bytes);
    edit(&mut body);
    body.align_weights();
    encode_unchecked(&body, FORMAT_VERSION_NO_PRIOR)
}

/// A file around `payload`: valid header and CRC, whatever the payload holds.
fn wrap_payload(payload: &[u8]) -> Vec<u8> {
    let mut file = Vec::new();
    file.extend_from_slice(b"VAEQ");
    file.extend_from_slice(&FORMAT_VERSION_NO_PRIOR.to_le_bytes());
    file.extend_from_slice(&(payload.len() as u32).to_le_bytes());
    file.extend_from_slice(payload);
    file.extend_from_slice(&crc32(payload).to_le_bytes());
    file
}

fn load_err(bytes: &[u8]) -> ModelError {
    Model::from_bytes(bytes).expect_err("model must be rejected")
}

#[test]
fn round_trip_is_byte_identical() {
    let bytes = small_model_bytes(1);
    let model = Model::from_bytes(&bytes).unwrap();
    assert_eq!(model.to_vec(), bytes);
    assert_eq!(model.encoded_len().unwrap(), bytes.len());
    assert_eq!(
        encode_unchecked(model.body(), FORMAT_VERSION_NO_PRIOR),
        bytes
    );
    let again = Model::from_bytes(&bytes).unwrap();
    assert_eq!(model, again);
    assert_eq!(model.name(), "small");
    assert_eq!(
        (
            model.latent_dim(),
            model.image_width(),
            model.image_height()
        ),
        (4, 28, 28)
    );
    assert_eq!(model.weight_bytes(), 4 * 16 + 16 * 784);
    assert_eq!(model.macs(), model.weight_bytes());
    assert_eq!(model.max_hidden_width(), 16);
}

#[test]
fn write_to_reports_small_buffers() {
    let bytes = small_model_bytes(2);
    let model = Model::from_bytes(&bytes).unwrap();
    for len in [0, 5, HEADER_LEN, bytes.len() - 4, bytes.len() - 1] {
        let mut buf = vec![0u8; len];
        assert!(model.write_to(&mut buf).is_err(), "buffer of {len} bytes");
    }
    let mut buf = vec![0u8; bytes.len() + 10];
    assert_eq!(model.write_to(&mut buf).unwrap(), bytes.len());
    assert_eq!(&buf[..bytes.len()], &bytes[..]);
}

#[test]
fn loading_borrows_from_the_buffer() {
    let bytes = small_model_bytes(3);
    let range = bytes.as_ptr_range();
    let model = Model::from_bytes(&bytes).unwrap();
    for layer in model.layers() {
        for array in [layer.weights, layer.bias, layer.multiplier, layer.shift] {
            let r = array.as_ptr_range();
            assert!(
                range.start <= r.start && r.end <= range.end,
                "array was copied"
            );
        }
    }
    assert!(range.contains(&model.name().as_ptr()));
}

#[test]
fn empty_and_truncated() {
    let bytes = small_model_bytes(4);
    assert_eq!(load_err(&[]), ModelError::Empty);
    for cut in [
        1,
        3,
        4,
        6,
        9,
        HEADER_LEN,
        HEADER_LEN + 1,
        bytes.len() / 2,
        bytes.len() - 4,
        bytes.len() - 1,
    ] {
        match load_err(&bytes[..cut]) {
            ModelError::Truncated { found, .. } => assert_eq!(found, cut),
            other => panic!("cut at {cut}: {other:?}"),
        }
    }
}

#[test]
fn bad_magic_and_version() {
    let mut bytes = small_model_bytes(5);
    // Version 1 (row-major weights) and any future version are refused.
    for version in [1u16, FORMAT_VERSION + 1] {
        bytes[4..6].copy_from_slice(&version.to_le_bytes());
        assert_eq!(load_err(&bytes), ModelError::UnsupportedVersion(version));
    }
    bytes[0] = b'X';
    assert_eq!(load_err(&bytes), ModelError::BadMagic(*b"XAEQ"));
    assert_eq!(load_err(b"GIF89a"), ModelError::BadMagic(*b"GIF8"));
}

#[test]
fn crc_mismatch_on_any_flipped_payload_bit() {
    let bytes = small_model_bytes(6);
    for pos in [HEADER_LEN, HEADER_LEN + 7, bytes.len() / 2, bytes.len() - 5] {
        let mut bad = bytes.clone();
        bad[pos] ^= 0x10;
        assert!(
            matches!(load_err(&bad), ModelError::CrcMismatch { .. }),
            "byte {pos}"
        );
    }
    let mut bad = bytes.clone();
    let n = bad.len();
    bad[n - 1] ^= 1; // the stored CRC itself
    assert!(matches!(load_err(&bad), ModelError::CrcMismatch { .. }));
}

#[test]
fn trailing_bytes_and_malformed_payload() {
    let mut bytes = small_model_bytes(7);
    bytes.extend_from_slice(&[0, 0]);
    assert_eq!(load_err(&bytes), ModelError::TrailingBytes(2));

    // A payload with a correct CRC that is not a model body.
    let payload = [0xFFu8; 12];
    let file = wrap_payload(&payload);
    assert_eq!(load_err(&file), ModelError::Malformed);

    // A valid body followed by junk inside the payload.
    let good = small_model_bytes(7);
    let body = body_of(&good);
    let mut payload = postcard::to_allocvec(&body).unwrap();
    payload.push(0);
    let file = wrap_payload(&payload);
    assert_eq!(load_err(&file), ModelError::PayloadTooLong(1));
}

#[test]
fn structural_errors() {
    let good = small_model_bytes(8);
    let err = |edit: &dyn Fn(&mut ModelBody<'_>)| load_err(&edited(&good, |b| edit(b)));

    assert_eq!(err(&|b| b.layers.clear()), ModelError::NoLayers);
    assert_eq!(
        err(&|b| b.latent_dim = 0),
        ModelError::ZeroDimension {
            what: "latent size"
        }
    );
    assert_eq!(
        err(&|b| b.image_height = 0),
        ModelError::ZeroDimension {
            what: "image height"
        }
    );
    assert!(matches!(
        err(&|b| b.latent_dim = (MAX_LATENT_DIM + 1) as u16),
        ModelError::ExceedsCapacity {
            what: "latent size",
            ..
        }
    ));
    assert!(matches!(
        err(&|b| b.image_width = 300),
        ModelError::ExceedsCapacity {
            what: "image width",
            ..
        }
    ));
    assert!(matches!(
        err(&|b| b.name = "a name that is far longer than thirty-two bytes"),
        ModelError::ExceedsCapacity {
            what: "model name length",
            ..
        }
    ));
    // latent 4 feeding a layer that takes 4, but the header says 5.
    assert_eq!(
        err(&|b| b.latent_dim = 5),
        ModelError::DimensionMismatch {
            layer: 0,
            expected: 5,
            found: 4
        }
    );
    // Image size disagrees with the last layer.
    assert_eq!(
        err(&|b| b.image_width = 27),
        ModelError::OutputSizeMismatch {
            logits: 784,
            pixels: 756
        }
    );
    // Activation order.
    assert_eq!(
        err(&|b| b.layers[0].activation = Activation::Logits),
        ModelError::BadActivation { layer: 0 }
    );
    assert_eq!(
        err(&|b| b.layers[1].activation = Activation::Relu),
        ModelError::BadActivation { layer: 1 }
    );
}

#[test]
fn too_many_layers() {
    let good = small_model_bytes(9);
    let body = body_of(&good);
    // Square 4 -> 4 ReLU layers, then the original last layer fed by 4 values.
    let w = runtime::layout::pack(4, 4, 8, &[1i8; 16]);
    let bias = [0u8; 16];
    let mult = (1i32 << 30).to_le_bytes().repeat(4);
    let shift = [0u8; 4];
    let square = Layer {
        activation: Activation::Relu,
        input_dim: 4,
        output_dim: 4,
        weight_bits: 8,
        padding: &[],
        weights: &w,
        bias: &bias,
        multiplier: &mult,
        shift: &shift,
    };
    let mut last = body.layers[1];
    last.input_dim = 4;
    let w_last = runtime::layout::pack(784, 4, 8, &[1i8; 4 * 784]);
    last.weights = &w_last;
    let mut ok = body.clone();
    ok.layers.clear();
    for _ in 0..MAX_LAYERS - 1 {
        ok.layers.push(square).unwrap();
    }
    ok.layers.push(last).unwrap();
    ok.align_weights();
    assert!(Model::from_bytes(&encode_unchecked(&ok, FORMAT_VERSION_NO_PRIOR)).is_ok());
    // A 9-layer body cannot even be built as a heapless::Vec<_, 8>: encode the
    // sequence length by hand (postcard: varint count then elements).
    let mut payload = postcard::to_allocvec(&ok).unwrap();
    let count_at = 1 + ok.name.len() + 3; // name (len + bytes), three 1-byte varints
    assert_eq!(payload[count_at], MAX_LAYERS as u8);
    payload[count_at] = (MAX_LAYERS + 1) as u8;
    let square_bytes = postcard::to_allocvec(&square).unwrap();
    let pos = count_at + 1;
    payload.splice(pos..pos, square_bytes);
    let file = wrap_payload(&payload);
    // heapless refuses the 9th element while decoding: reported as malformed.
    assert_eq!(load_err(&file), ModelError::Malformed);
}

#[test]
fn wrong_array_lengths() {
    let good = small_model_bytes(10);
    let body = body_of(&good);
    let short_w = &body.layers[1].weights[1..];
    let short_b = &body.layers[1].bias[4..];
    let short_m = &body.layers[1].multiplier[..8];
    let short_s = &body.layers[1].shift[1..];
    for field in [Field::Weights, Field::Bias, Field::Multiplier, Field::Shift] {
        let bad = edited(&good, |b| {
            let l = &mut b.layers[1];
            match field {
                Field::Weights => l.weights = short_w,
                Field::Bias => l.bias = short_b,
                Field::Multiplier => l.multiplier = short_m,
                Field::Shift => l.shift = short_s,
            }
        });
        match load_err(&bad) {
            ModelError::WrongLength {
                layer: 1, field: f, ..
            } => assert_eq!(f, field),
            other => panic!("{field}: {other:?}"),
        }
    }
    let oversize = edited(&good, |b| b.layers[0].output_dim = 5000);
    assert!(matches!(
        load_err(&oversize),
        ModelError::ExceedsCapacity {
            what: "layer output size",
            ..
        }
    ));
}

#[test]
fn out_of_range_values() {
    let good = small_model_bytes(11);
    let body = body_of(&good);

    // -128 is 0x80 in an odd row (two's complement), 0x00 in an even row (excess-128).
    for (at, byte) in [(3usize, 0x80u8), (2, 0x00)] {
        let mut w = body.layers[0].weights.to_vec();
        w[at] = byte;
        assert_eq!(
            load_err(&edited(&good, |b| b.layers[0].weights = &w)),
            ModelError::WeightOutOfRange { layer: 0 }
        );
    }

    let mut bias = body.layers[1].bias.to_vec();
    bias[8..12].copy_from_slice(&((1i32 << 30) + 1).to_le_bytes());
    assert_eq!(
        load_err(&edited(&good, |b| b.layers[1].bias = &bias)),
        ModelError::BiasOutOfRange {
            layer: 1,
            channel: 2
        }
    );

    let mut mult = body.layers[1].multiplier.to_vec();
    mult[4..8].copy_from_slice(&(-5i32).to_le_bytes());
    assert_eq!(
        load_err(&edited(&good, |b| b.layers[1].multiplier = &mult)),
        ModelError::NegativeMultiplier {
            layer: 1,
            channel: 1
        }
    );

    // Multipliers keep 15 significant bits: a multiple of 2^16.
    let mut fine = body.layers[1].multiplier.to_vec();
    fine[8..12].copy_from_slice(&((1i32 << 30) + 1).to_le_bytes());
    assert_eq!(
        load_err(&edited(&good, |b| b.layers[1].multiplier = &fine)),
        ModelError::MultiplierPrecision {
            layer: 1,
            channel: 2
        }
    );

    for bad_shift in [31i8, -32, i8::MIN, i8::MAX] {
        let mut shift = body.layers[0].shift.to_vec();
        shift[5] = bad_shift as u8;
        assert_eq!(
            load_err(&edited(&good, |b| b.layers[0].shift = &shift)),
            ModelError::ShiftOutOfRange {
                layer: 0,
                channel: 5,
                shift: bad_shift
            }
        );
    }
}

#[test]
fn every_error_has_a_message() {
    let good = small_model_bytes(12);
    let errors = [
        load_err(&[]),
        load_err(&good[..20]),
        load_err(b"XXXXXXXXXXXXXX"),
    ];
    for e in errors {
        let text = e.to_string();
        assert!(text.len() > 10, "{e:?} -> {text:?}");
    }
}

#[test]
fn padding_and_alignment() {
    // latent 5 -> 13 -> 784: inputs pad to 8, rows to 16.
    let dec = integration_tests::random_float_decoder(3, 5, &[13], 28, 28);
    let q = runtime::host::quantize::quantize(
        &dec,
        &integration_tests::normal_latents(4, 64, 5),
        runtime::host::quantize::Calibration::Max,
        "padded",
    )
    .unwrap();
    let good = q.to_bytes().unwrap();
    let model = Model::from_bytes(&good).unwrap();
    assert_eq!(model.layers()[0].weights.len(), 16 * 8);
    assert_eq!(model.layers()[1].weights.len(), 784 * 16);
    for l in model.layers() {
        let offset = l.weights.as_ptr() as usize - good.as_ptr() as usize;
        assert_eq!(offset % 4, 0, "weights aligned in the file");
        assert!(l.padding.len() <= 3);
    }
    let body = body_of(&good);

    // A nonzero weight in a padding row (row 13 of layer 0) or column (input 5).
    let kp = runtime::layout::padded_inputs(5);
    for (row, input) in [(13usize, 0usize), (0, 5)] {
        let mut w = body.layers[0].weights.to_vec();
        let at = runtime::layout::offset(kp, row, input);
        w[at] = runtime::layout::encode(row, 1);
        assert_eq!(
            load_err(&edited(&good, |b| b.layers[0].weights = &w)),
            ModelError::BadPadding { layer: 0 },
            "({row}, {input})"
        );
    }

    // Alignment bytes that are not zero, or one too many (misaligning the weights).
    let mut nonzero = body.clone();
    nonzero.align_weights();
    let pad_len = nonzero.layers[1].padding.len();
    static ONES: [u8; 3] = [1; 3];
    nonzero.layers[1].padding = &ONES[..pad_len.max(1)];
    let err = load_err(&encode_unchecked(&nonzero, FORMAT_VERSION_NO_PRIOR));
    assert!(
        matches!(
            err,
            ModelError::BadPadding { layer: 1 } | ModelError::MisalignedWeights { layer: 1, .. }
        ),
        "{err:?}"
    );
    let mut shifted = body.clone();
    shifted.align_weights();
    static ZEROS: [u8; 3] = [0; 3];
    shifted.layers[0].padding = &ZEROS[..(shifted.layers[0].padding.len() + 1) % 4];
    match load_err(&encode_unchecked(&shifted, FORMAT_VERSION_NO_PRIOR)) {
        ModelError::MisalignedWeights { layer: 0, offset } => assert_ne!(offset % 4, 0),
        other => panic!("{other:?}"),
    }
    assert!(format!(
        "{}",
        ModelError::MisalignedWeights {
            layer: 0,
            offset: 6
        }
    )
    .contains("offset 6"));
}

#[test]
fn int4_layers_validate() {
    let dec = integration_tests::random_float_decoder(6, 4, &[16], 28, 28);
    let q = runtime::host::quantize::quantize_bits(
        &dec,
        &integration_tests::normal_latents(7, 64, 4),
        runtime::host::quantize::Calibration::Max,
        "int4",
        4,
    )
    .unwrap();
    let good = q.to_bytes().unwrap();
    let model = Model::from_bytes(&good).unwrap();
    assert_eq!(model.weight_bytes(), (16 * 4 + 784 * 16) / 2);
    assert_eq!(model.to_vec(), good, "int4 files round-trip byte for byte");
    let body = body_of(&good);

    // -8 is out of range in either nibble.
    for nib in [0x08u8, 0x80] {
        let mut w = body.layers[1].weights.to_vec();
        w[5] = (w[5] & !(if nib == 0x08 { 0x0F } else { 0xF0 })) | nib;
        assert_eq!(
            load_err(&edited(&good, |b| b.layers[1].weights = &w)),
            ModelError::WeightOutOfRange { layer: 1 }
        );
    }
    // Only 8 and 4 bits per weight.
    assert_eq!(
        load_err(&edited(&good, |b| b.layers[0].weight_bits = 2)),
        ModelError::WeightBits { layer: 0, bits: 2 }
    );
    // An int4 array read as int8 has the wrong length.
    assert!(matches!(
        load_err(&edited(&good, |b| b.layers[1].weight_bits = 8)),
        ModelError::WrongLength {
            layer: 1,
            field: Field::Weights,
            ..
        }
    ));
}

/// Postcard reads a length with at most 5 varint bytes on a 32-bit device
/// but 10 on a 64-bit host, and does not check that a varint is minimal:
/// the runtime accepts only the canonical encoding, so every longer form
/// is `Malformed` on every target (the same file, the same answer).
#[test]
fn only_shortest_varints_are_valid_on_every_target() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../models/mcu.postcard");
    let model = std::fs::read(path).unwrap();
    let count_at = prior_count_offset(&model);
    for at in [0, count_at] {
        assert_eq!(
            widen_varint(&model, at, 1),
            model,
            "width 1 is the file as written"
        );
        for width in 2..=10 {
            let file = widen_varint(&model, at, width);
            assert_eq!(file.len(), model.len() + width - 1);
            assert_eq!(
                load_err(&file),
                ModelError::Malformed,
                "a {width}-byte varint at payload offset {at}"
            );
        }
    }
    // A layer count and an array length (the first layer's padding) too.
    let small = small_model_bytes(5);
    let name_len = usize::from(small[HEADER_LEN]);
    // name, latent_dim, image_width, image_height (28 each: one byte).
    let layers_at = 1 + name_len + 3;
    for at in [layers_at, layers_at + 1 + 1 + 1 + 1 + 1] {
        for width in 2..=6 {
            assert_eq!(
                load_err(&widen_varint(&small, at, width)),
                ModelError::Malformed
            );
        }
    }
}
