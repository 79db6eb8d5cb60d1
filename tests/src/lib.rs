//! Shared helpers for the host integration tests in `tests/tests/`.

pub mod browser;
pub mod qemu;

use runtime::host::quantize::{FloatDecoder, FloatLayer};
use runtime::Rng;

/// A uniform f32 in [-1, 1) from `rng`.
pub fn uniform(rng: &mut Rng) -> f32 {
    (rng.next_u32() >> 8) as f32 / (1u32 << 23) as f32 - 1.0
}

/// A standard-normal f32 from `rng` (via the runtime's own sampler).
pub fn normal(rng: &mut Rng) -> f32 {
    f32::from(runtime::normal::next_normal_q12(rng)) / 4096.0
}

/// A random float decoder `latent -> hidden... -> width*height` with
/// He-style weights, so activations have realistic ranges.
pub fn random_float_decoder(
    seed: u64,
    latent: usize,
    hidden: &[usize],
    width: usize,
    height: usize,
) -> FloatDecoder {
    let mut rng = Rng::new(seed);
    let mut dims = vec![latent];
    dims.extend_from_slice(hidden);
    dims.push(width * height);
    let layers = dims
        .windows(2)
        .map(|d| {
            let (i, o) = (d[0], d[1]);
            let std = (2.0 / i as f32).sqrt();
            FloatLayer {
                input_dim: i,
                output_dim: o,
                weights: (0..i * o).map(|_| normal(&mut rng) * std).collect(),
                bias: (0..o).map(|_| 0.1 * uniform(&mut rng)).collect(),
            }
        })
        .collect();
    FloatDecoder {
        latent_dim: latent,
        image_width: width,
        image_height: height,
        layers,
    }
}

/// `n` standard-normal latents of size `dim`.
pub fn normal_latents(seed: u64, n: usize, dim: usize) -> Vec<Vec<f32>> {
    let mut rng = Rng::new(seed);
    (0..n)
        .map(|_| (0..dim).map(|_| normal(&mut rng)).collect())
        .collect()
}

/// Encodes a model body as a file without validating it (to make bad files):
/// header with `version`, postcard payload, CRC-32 trailer.
pub fn encode_unchecked(body: &runtime::format::ModelBody<'_>, version: u16) -> Vec<u8> {
    let payload = postcard::to_allocvec(body).expect("postcard encodes any body");
    wrap_payload(&payload, version)
}

/// A file of `payload` without validating it: header with `version`, the
/// payload, CRC-32 trailer.
pub fn wrap_payload(payload: &[u8], version: u16) -> Vec<u8> {
    let mut out = Vec::with_capacity(payload.len() + 14);
    out.extend_from_slice(&runtime::format::MAGIC);
    out.extend_from_slice(&version.to_le_bytes());
    out.extend_from_slice(&(payload.len() as u32).to_le_bytes());
    out.extend_from_slice(payload);
    out.extend_from_slice(&runtime::crc32::crc32(payload).to_le_bytes());
    out
}

/// A small valid quantized model (latent 4 -> 16 -> 28x28) as owned bytes.
pub fn small_model_bytes(seed: u64) -> Vec<u8> {
    let dec = random_float_decoder(seed, 4, &[16], 28, 28);
    let q = runtime::host::quantize::quantize(
        &dec,
        &normal_latents(seed + 1, 64, 4),
        runtime::host::quantize::Calibration::Max,
        "small",
    )
    .expect("random decoder quantizes");
    q.to_bytes().expect("valid model encodes")
}

/// `file` (a valid model file) with the varint at payload offset `at`
/// re-encoded in `width` bytes (`width` at least its shortest form: the
/// extra groups are `0x80` continuation bytes before a final `0x00`), header
/// length and CRC fixed: the same values in a non-canonical encoding.
pub fn widen_varint(file: &[u8], at: usize, width: usize) -> Vec<u8> {
    let payload = &file[runtime::format::HEADER_LEN..file.len() - 4];
    let (mut value, mut len) = (0u64, 0);
    while payload[at + len] & 0x80 != 0 {
        value |= u64::from(payload[at + len] & 0x7F) << (7 * len);
        len += 1;
    }
    value |= u64::from(payload[at + len]) << (7 * len);
    len += 1;
    let mut varint: Vec<u8> = (0..width)
        .map(|i| ((value >> (7 * i).min(63)) & 0x7F) as u8 | 0x80)
        .collect();
    *varint.last_mut().expect("width >= 1") &= 0x7F;
    assert!(
        width >= len
            && varint
                .iter()
                .all(|&b| b != 0x80 || value >> (7 * (width - 1)) == 0),
        "width {width} is shorter than the value's shortest form"
    );
    let mut new_payload = payload[..at].to_vec();
    new_payload.extend_from_slice(&varint);
    new_payload.extend_from_slice(&payload[at + len..]);
    let mut out = file[..6].to_vec();
    out.extend_from_slice(&(new_payload.len() as u32).to_le_bytes());
    out.extend_from_slice(&new_payload);
    out.extend_from_slice(&runtime::crc32::crc32(&new_payload).to_le_bytes());
    out
}

/// Payload offset of the prior section's class count in a version-3 model
/// file with a prior (after the body and the `Some` tag).
pub fn prior_count_offset(file: &[u8]) -> usize {
    let payload = &file[runtime::format::HEADER_LEN..file.len() - 4];
    let (_, rest) =
        postcard::take_from_bytes::<runtime::format::ModelBody<'_>>(payload).expect("a valid body");
    assert_eq!(rest.first(), Some(&1), "the file has a prior");
    payload.len() - rest.len() + 1
}

/// The loader's agreement cases: the `micro` fuzz seed (a 543-byte version-3
/// model with a prior) with its name's length, then its prior's class
/// count, written in 1 to 10 bytes; each with its label (`name/3`: the
/// name's length in 3 bytes). Only width 1 is canonical. The benchmark
/// firmware loads the same files on every core (`cores_bit_exact`).
pub fn varint_cases() -> Vec<(String, Vec<u8>)> {
    let seed = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../runtime/fuzz/seeds/micro.model"
    );
    let micro = std::fs::read(seed).expect("the micro fuzz seed");
    let places = [("name", 0), ("classes", prior_count_offset(&micro))];
    places
        .into_iter()
        .flat_map(|(what, at)| {
            let micro = &micro;
            (1..=10).map(move |w| (format!("{what}/{w}"), widen_varint(micro, at, w)))
        })
        .collect()
}
