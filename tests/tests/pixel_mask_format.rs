//! Format version 6: a pixel mask names the pixels the decoder computes;
//! the others take a constant background logit. A masked model draws its
//! computed pixels bit for bit as the unmasked model does, costs one row of
//! weights less per pixel left out, writes and re-reads byte for byte, and
//! a bad mask is refused with a typed error (section 2c of
//! `docs/model-format.md`).

use integration_tests::{normal_latents, random_float_decoder, wrap_payload};
use runtime::format::{FORMAT_VERSION, HEADER_LEN, TRAILER_LEN};
use runtime::host::quantize::{quantize_bits, Calibration, OwnedDrawing, QuantizedModel};
use runtime::{Decoder, GrayImage, Latent, Model, ModelError};

const D: usize = 4;
/// A 5 x 3 image: 15 pixels, so the mask's second byte has unused bits.
const W: usize = 5;
const H: usize = 3;
const BACKGROUND: i16 = -2_000;

/// A `D -> 6 -> 15` decoder.
fn unmasked() -> QuantizedModel {
    unmasked_bits(8)
}

/// The same with `bits`-bit weights.
fn unmasked_bits(bits: u8) -> QuantizedModel {
    quantize_bits(
        &random_float_decoder(31, D, &[6], W, H),
        &normal_latents(32, 64, D),
        Calibration::Max,
        "masked",
        bits,
    )
    .unwrap()
}

/// Pixels 0, 3, 4, 7, 8, 9 and 14 computed.
fn keep() -> Vec<bool> {
    (0..W * H)
        .map(|p| [0, 3, 4, 7, 8, 9, 14].contains(&p))
        .collect()
}

fn masked() -> QuantizedModel {
    let mut q = unmasked();
    q.keep_pixels(&keep(), BACKGROUND).unwrap();
    q
}

fn logits(model: &Model<'_>, z: &Latent) -> Vec<i16> {
    let mut out = vec![0i16; W * H];
    Decoder::<8>::new(model)
        .unwrap()
        .decode_logits(z, &mut out)
        .unwrap();
    out
}

#[test]
fn computed_pixels_match_the_unmasked_model_and_the_rest_is_background() {
    for bits in [8, 4] {
        let full = unmasked_bits(bits);
        let mut masked = full.clone();
        masked.keep_pixels(&keep(), BACKGROUND).unwrap();
        check_masked(&full.model().unwrap(), &masked.model().unwrap());
    }
}

fn check_masked(full: &Model<'_>, masked: &Model<'_>) {
    assert_eq!(masked.format_version(), FORMAT_VERSION);
    assert_eq!(masked.layers().last().unwrap().output_dim, 7);
    let keep = keep();
    for z in normal_latents(33, 200, D) {
        let z = Latent::from_f32(&z).unwrap();
        let (a, b) = (logits(full, &z), logits(masked, &z));
        for (p, (&kept, (&got, &want))) in keep.iter().zip(b.iter().zip(&a)).enumerate() {
            assert_eq!(got, if kept { want } else { BACKGROUND }, "pixel {p}");
        }
        // Grey levels: the same pixels, the background drawn as a logit is.
        let (mut ga, mut gb) = (GrayImage::<W, H>::new(), GrayImage::<W, H>::new());
        Decoder::<8>::new(full)
            .unwrap()
            .decode(&z, &mut ga)
            .unwrap();
        Decoder::<8>::new(masked)
            .unwrap()
            .decode(&z, &mut gb)
            .unwrap();
        let outside = runtime::sigmoid::grey_of_logit(BACKGROUND);
        for (p, (&kept, (&g, &want))) in keep
            .iter()
            .zip(gb.pixels().iter().zip(ga.pixels()))
            .enumerate()
        {
            assert_eq!(g, if kept { want } else { outside }, "grey pixel {p}");
        }
    }
}

#[test]
fn a_masked_file_round_trips_and_is_shorter_by_the_rows_left_out() {
    let mut q = masked();
    q.drawing = Some(OwnedDrawing {
        logit_gain: 384,
        filter: None,
    });
    let bytes = q.to_bytes().unwrap();
    let model = Model::from_bytes(&bytes).unwrap();
    assert_eq!(model.format_version(), 6);
    assert_eq!(u16::from_le_bytes([bytes[4], bytes[5]]), 6);
    assert_eq!(model.to_vec(), bytes);
    let mask = model.pixel_mask().unwrap();
    assert_eq!(
        (mask.background, mask.bits),
        (BACKGROUND, &[0x99, 0x43][..])
    );
    // Without drawing and prior the file still has both sections' bytes
    // (prior tag 0, neutral drawing) and reads back the same.
    let bare = masked().to_bytes().unwrap();
    let model = Model::from_bytes(&bare).unwrap();
    assert_eq!(model.logit_gain(), 256);
    assert_eq!(model.to_vec(), bare);
    // 15 -> 7 rows: the last layer's 16 padded rows become 8 (8 rows of 8
    // padded inputs, one byte each) and 8 channels of bias, multiplier and
    // shift go (every length stays below 128: its prefix keeps one byte).
    // Added: the prior tag, the neutral drawing (gain 256 in 2 bytes, no
    // filter) and the mask section (background -2000 in 2 bytes, length,
    // 2 bytes of bits).
    let full = unmasked().to_bytes().unwrap();
    let saved = 8 * 8 + 8 * (4 + 4 + 1);
    let added = 1 + (2 + 1) + (2 + 1 + 2);
    assert_eq!(bare.len() + saved, full.len() + added);
}

/// The payload of the masked model with its last section replaced by `mask`
/// (postcard: zigzag varint background, then length-prefixed bytes).
fn with_mask_section(mask: &[u8]) -> Vec<u8> {
    let bytes = masked().to_bytes().unwrap();
    let payload = &bytes[HEADER_LEN..bytes.len() - TRAILER_LEN];
    // The section is the last 1 + 2 + ... bytes: background -2000 is a
    // 2-byte zigzag varint (3999), then the length 2 and 2 bytes.
    let cut = payload.len() - (2 + 1 + 2);
    assert_eq!(&payload[cut..cut + 2], &[0x9F, 0x1F]);
    let mut p = payload[..cut].to_vec();
    p.extend_from_slice(&[0x9F, 0x1F]);
    p.push(mask.len() as u8);
    p.extend_from_slice(mask);
    wrap_payload(&p, FORMAT_VERSION)
}

#[test]
fn bad_masks_are_refused_with_typed_errors() {
    assert!(Model::from_bytes(&with_mask_section(&[0x99, 0x43])).is_ok());
    assert_eq!(
        Model::from_bytes(&with_mask_section(&[0x99])),
        Err(ModelError::MaskLength {
            expected: 2,
            found: 1
        })
    );
    assert_eq!(
        Model::from_bytes(&with_mask_section(&[0x99, 0x43, 0x00])),
        Err(ModelError::MaskLength {
            expected: 2,
            found: 3
        })
    );
    // Bit 15 is past the 15th pixel.
    assert_eq!(
        Model::from_bytes(&with_mask_section(&[0x99, 0xC3])),
        Err(ModelError::MaskPadding)
    );
    // Eight set bits for a last layer of 7 outputs.
    assert_eq!(
        Model::from_bytes(&with_mask_section(&[0x9B, 0x43])),
        Err(ModelError::OutputSizeMismatch {
            logits: 7,
            pixels: 8
        })
    );
}

#[test]
fn older_versions_and_cut_sections_are_refused() {
    let bytes = masked().to_bytes().unwrap();
    let payload = &bytes[HEADER_LEN..bytes.len() - TRAILER_LEN];
    // Read as version 5 the mask section is left over.
    assert_eq!(
        Model::from_bytes(&wrap_payload(payload, 5)),
        Err(ModelError::PayloadTooLong(5))
    );
    // A version-6 payload without its mask section (or cut inside it).
    for cut in 1..=5 {
        let short = &payload[..payload.len() - cut];
        assert_eq!(
            Model::from_bytes(&wrap_payload(short, FORMAT_VERSION)),
            Err(ModelError::Malformed),
            "cut {cut}"
        );
    }
    // An unmasked model keeps its version (2 here: no prior, no drawing).
    let plain = unmasked().to_bytes().unwrap();
    assert_eq!(Model::from_bytes(&plain).unwrap().format_version(), 2);
}

#[test]
fn keep_pixels_refuses_wrong_sizes_and_a_second_mask() {
    let mut q = unmasked();
    assert!(q.keep_pixels(&[true; 14], 0).is_err());
    assert!(q.keep_pixels(&[false; W * H], 0).is_err());
    q.keep_pixels(&keep(), 0).unwrap();
    assert!(q.keep_pixels(&keep(), 0).is_err());
}
