//! A small synthetic model for examples and tests (random weights, not
//! trained): latent 2 -> 8 ReLU -> 28 x 28 logits. Hidden from the docs.

use crate::format::{Activation, Layer, ModelBody};
use crate::layout::{pack_into, packed_len};
use crate::model::Model;
use crate::prng::Rng;

/// Bytes needed for the encoded tiny model.
pub const TINY_MODEL_CAPACITY: usize = 16 * 1024;

const LATENT: usize = 2;
const HIDDEN: usize = 8;
const PIXELS: usize = 28 * 28;

/// Random int8 weights in [-127, 127] as bytes.
fn fill_weights(rng: &mut Rng, out: &mut [u8]) {
    for w in out {
        *w = ((rng.next_u32() % 255) as i32 - 127) as i8 as u8;
    }
}

/// Per-channel biases, multipliers and shifts as little-endian bytes.
fn fill_requant(
    rng: &mut Rng,
    bias: &mut [u8],
    mult: &mut [u8],
    shift: &mut [u8],
    bias_span: u32,
    s: i8,
) {
    for ((b, m), sh) in bias
        .chunks_exact_mut(4)
        .zip(mult.chunks_exact_mut(4))
        .zip(shift.iter_mut())
    {
        let v = (rng.next_u32() % (2 * bias_span + 1)) as i32 - bias_span as i32;
        b.copy_from_slice(&v.to_le_bytes());
        let multiplier = ((1i32 << 30) + (rng.next_u32() >> 2) as i32) & !0xFFFF;
        m.copy_from_slice(&multiplier.to_le_bytes());
        *sh = s as u8;
    }
}

/// Weight `(r, k)` of a row-major byte matrix with `inputs` columns.
fn row_major(w: &[u8], inputs: usize, r: usize, k: usize) -> i8 {
    w.get(r * inputs + k).map_or(0, |&b| b as i8)
}

/// Encodes the tiny model (deterministic) into a fixed-capacity buffer.
pub fn tiny_model_bytes() -> heapless::Vec<u8, TINY_MODEL_CAPACITY> {
    let mut rng = Rng::new(2024);
    let mut w0 = [0u8; LATENT * HIDDEN];
    let mut p0 = [0u8; packed_len(HIDDEN, LATENT)];
    let (mut b0, mut m0, mut s0) = ([0u8; HIDDEN * 4], [0u8; HIDDEN * 4], [0u8; HIDDEN]);
    let mut w1 = [0u8; HIDDEN * PIXELS];
    let mut p1 = [0u8; packed_len(PIXELS, HIDDEN)];
    let (mut b1, mut m1, mut s1) = ([0u8; PIXELS * 4], [0u8; PIXELS * 4], [0u8; PIXELS]);
    fill_weights(&mut rng, &mut w0);
    fill_requant(&mut rng, &mut b0, &mut m0, &mut s0, 200_000, -13);
    fill_weights(&mut rng, &mut w1);
    fill_requant(&mut rng, &mut b1, &mut m1, &mut s1, 30_000, -1);
    pack_into(
        HIDDEN,
        LATENT,
        8,
        |r, k| row_major(&w0, LATENT, r, k),
        &mut p0,
    );
    pack_into(
        PIXELS,
        HIDDEN,
        8,
        |r, k| row_major(&w1, HIDDEN, r, k),
        &mut p1,
    );
    let mut layers = heapless::Vec::new();
    let l0 = Layer {
        activation: Activation::Relu,
        input_dim: LATENT as u16,
        output_dim: HIDDEN as u16,
        weight_bits: 8,
        padding: &[],
        weights: &p0,
        bias: &b0,
        multiplier: &m0,
        shift: &s0,
    };
    let l1 = Layer {
        activation: Activation::Logits,
        input_dim: HIDDEN as u16,
        output_dim: PIXELS as u16,
        weight_bits: 8,
        padding: &[],
        weights: &p1,
        bias: &b1,
        multiplier: &m1,
        shift: &s1,
    };
    let _ = layers.push(l0);
    let _ = layers.push(l1);
    let mut body = ModelBody {
        name: "tiny-random",
        latent_dim: LATENT as u16,
        image_width: 28,
        image_height: 28,
        layers,
    };
    body.align_weights();
    let mut buf = [0u8; TINY_MODEL_CAPACITY];
    let len = Model::from_body(body)
        .ok()
        .and_then(|m| m.write_to(&mut buf).ok())
        .unwrap_or(0);
    heapless::Vec::from_slice(buf.get(..len).unwrap_or(&[])).unwrap_or_default()
}
