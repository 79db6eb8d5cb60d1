//! Shared helpers for the host integration tests in `tests/tests/`.

pub mod browser;
pub mod qemu;

use runtime::quantize::{FloatDecoder, FloatLayer};
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
    let mut out = Vec::with_capacity(payload.len() + 14);
    out.extend_from_slice(&runtime::format::MAGIC);
    out.extend_from_slice(&version.to_le_bytes());
    out.extend_from_slice(&(payload.len() as u32).to_le_bytes());
    out.extend_from_slice(&payload);
    out.extend_from_slice(&runtime::crc32::crc32(&payload).to_le_bytes());
    out
}

/// A small valid quantized model (latent 4 -> 16 -> 28x28) as owned bytes.
pub fn small_model_bytes(seed: u64) -> Vec<u8> {
    let dec = random_float_decoder(seed, 4, &[16], 28, 28);
    let q = runtime::quantize::quantize(
        &dec,
        &normal_latents(seed + 1, 64, 4),
        runtime::quantize::Calibration::Max,
        "small",
    )
    .expect("random decoder quantizes");
    q.to_bytes().expect("valid model encodes")
}
