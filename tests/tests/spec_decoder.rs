//! An independent reader and decoder written from `docs/model-format.md`
//! alone (its own CRC, its own postcard varint parsing, wide-integer
//! arithmetic, the sigmoid computed in f64), checked bit for bit against the
//! runtime. If this test fails, either the runtime or the spec is wrong.

use integration_tests::small_model_bytes;
use runtime::{Decoder, Digit, LatentSampler, Model};

fn crc32_bitwise(bytes: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &b in bytes {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 != 0 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Reader<'a> {
    fn varint(&mut self) -> u64 {
        let mut value = 0u64;
        for shift in (0..).step_by(7) {
            let b = self.bytes[self.at];
            self.at += 1;
            value |= u64::from(b & 0x7F) << shift;
            if b & 0x80 == 0 {
                break;
            }
        }
        value
    }
    fn bytes(&mut self) -> &'a [u8] {
        let n = self.varint() as usize;
        let out = &self.bytes[self.at..self.at + n];
        self.at += n;
        out
    }
}

struct SpecLayer<'a> {
    logits: bool,
    inputs: usize,
    outputs: usize,
    bits: u8,
    weights: &'a [u8],
    bias: &'a [u8],
    multiplier: &'a [u8],
    shift: &'a [u8],
}

fn parse(file: &[u8]) -> (usize, Vec<SpecLayer<'_>>) {
    assert_eq!(&file[..4], b"VAEQ");
    assert_eq!(u16::from_le_bytes([file[4], file[5]]), 2);
    let n = u32::from_le_bytes(file[6..10].try_into().unwrap()) as usize;
    let payload = &file[10..10 + n];
    assert_eq!(
        crc32_bitwise(payload),
        u32::from_le_bytes(file[10 + n..14 + n].try_into().unwrap())
    );
    let mut r = Reader {
        bytes: payload,
        at: 0,
    };
    let _name = r.bytes();
    let latent = r.varint() as usize;
    let (_w, _h) = (r.varint(), r.varint());
    let count = r.varint();
    let layers = (0..count)
        .map(|_| {
            let logits = r.varint() == 1;
            let inputs = r.varint() as usize;
            let outputs = r.varint() as usize;
            let bits = r.bytes[r.at]; // u8: one raw byte
            r.at += 1;
            assert!(bits == 8 || bits == 4);
            let padding = r.bytes();
            assert!(padding.len() <= 3 && padding.iter().all(|&b| b == 0));
            // "weights start at a file offset that is a multiple of 4":
            // header (10) + payload position + the weights' length prefix.
            let mut probe = Reader {
                bytes: r.bytes,
                at: r.at,
            };
            let len = probe.varint() as usize;
            assert_eq!((10 + probe.at) % 4, 0, "weights aligned");
            let (rows, cols) = (outputs.div_ceil(8) * 8, inputs.div_ceil(4) * 4);
            assert_eq!(len, rows * cols * usize::from(bits) / 8);
            SpecLayer {
                logits,
                inputs,
                outputs,
                bits,
                weights: r.bytes(),
                bias: r.bytes(),
                multiplier: r.bytes(),
                shift: r.bytes(),
            }
        })
        .collect();
    assert_eq!(r.at, payload.len());
    (latent, layers)
}

fn i32_at(bytes: &[u8], i: usize) -> i128 {
    i128::from(i32::from_le_bytes(
        bytes[4 * i..4 * i + 4].try_into().unwrap(),
    ))
}

/// round(acc * M / 2^(31 - shift)), halves up, via floor((2x + d) / 2d).
fn scale(acc: i128, m: i128, shift: i8) -> i128 {
    let d = 1i128 << (31 - i32::from(shift));
    (2 * acc * m + d).div_euclid(2 * d)
}

fn grey(logit: i128) -> u8 {
    let k = ((logit.unsigned_abs() + 4) >> 3).min(255) as f64;
    let g = (255.0 / (1.0 + (-k / 32.0).exp())).round() as u8;
    if logit < 0 {
        255 - g
    } else {
        g
    }
}

/// Weight (row r, input k) as the spec's blocked layout stores it: blocks of
/// 8 rows; per input pair 16 bytes; per row pair a word
/// `[w(2p,2j)+128, w(2p+1,2j), w(2p,2j+1)+128, w(2p+1,2j+1)]`.
fn spec_weight(l: &SpecLayer<'_>, r: usize, k: usize) -> i128 {
    let cols = l.inputs.div_ceil(4) * 4;
    let at = (r / 8) * 8 * cols + (k / 2) * 16 + ((r % 8) / 2) * 4 + (k % 2) * 2 + (r % 2);
    if l.bits == 4 {
        // Nibble `at`: low nibble of byte at/2 for even `at`, else high.
        let b = l.weights[at / 2];
        let n = if at % 2 == 0 { b & 0x0F } else { b >> 4 };
        return if n >= 8 {
            i128::from(n) - 16
        } else {
            i128::from(n)
        };
    }
    let b = l.weights[at];
    if r % 2 == 0 {
        i128::from(b) - 128
    } else {
        i128::from(b as i8)
    }
}

fn spec_decode(layers: &[SpecLayer<'_>], latent_q12: &[i16]) -> Vec<u8> {
    let mut x: Vec<i128> = latent_q12.iter().map(|&v| i128::from(v)).collect();
    for l in layers {
        let mut y = Vec::new();
        for c in 0..l.outputs {
            let acc = i32_at(l.bias, c)
                + (0..l.inputs)
                    .map(|k| spec_weight(l, c, k) * x[k])
                    .sum::<i128>();
            let v = scale(acc, i32_at(l.multiplier, c), l.shift[c] as i8);
            y.push(if l.logits {
                v.clamp(-32768, 32767)
            } else {
                v.clamp(0, 255)
            });
        }
        x = y;
    }
    x.into_iter().map(grey).collect()
}

#[test]
fn spec_reader_matches_runtime_bit_for_bit() {
    for seed in [1u64, 2, 3] {
        let file = small_model_bytes(seed);
        let (latent, layers) = parse(&file);
        let model = Model::from_bytes(&file).unwrap();
        assert_eq!(latent, model.latent_dim());
        let mut decoder = Decoder::<16>::new(&model).unwrap();
        let mut sampler = LatentSampler::new(seed);
        let mut digit = Digit::new();
        for _ in 0..20 {
            let z = sampler.sample(latent);
            decoder.decode(&z, &mut digit).unwrap();
            assert_eq!(digit.pixels(), &spec_decode(&layers, z.as_q12())[..]);
            assert_varied(digit.pixels());
        }
    }
}

/// Guards against a vacuous comparison (e.g. every pixel saturated).
fn assert_varied(pixels: &[u8]) {
    let mut levels = pixels.to_vec();
    levels.sort_unstable();
    levels.dedup();
    assert!(levels.len() >= 16, "only {} grey levels", levels.len());
}

#[test]
fn spec_reader_matches_on_the_tiny_model() {
    let file = runtime::testing::tiny_model_bytes();
    let (latent, layers) = parse(&file);
    let model = Model::from_bytes(&file).unwrap();
    let mut decoder = Decoder::<8>::new(&model).unwrap();
    let mut sampler = LatentSampler::new(99);
    let mut digit = Digit::new();
    for _ in 0..20 {
        let z = sampler.sample(latent);
        decoder.decode(&z, &mut digit).unwrap();
        assert_eq!(digit.pixels(), &spec_decode(&layers, z.as_q12())[..]);
        assert_varied(digit.pixels());
    }
}

#[test]
fn spec_reader_matches_on_int4_models() {
    for seed in [4u64, 5] {
        // latent 5 -> 13 -> 784: odd sizes, padded rows and inputs.
        let dec = integration_tests::random_float_decoder(seed, 5, &[13], 28, 28);
        let q = runtime::quantize::quantize_bits(
            &dec,
            &integration_tests::normal_latents(seed + 1, 64, 5),
            runtime::quantize::Calibration::Max,
            "int4",
            4,
        )
        .unwrap();
        let file = q.to_bytes().unwrap();
        let (latent, layers) = parse(&file);
        assert!(layers.iter().all(|l| l.bits == 4));
        let model = Model::from_bytes(&file).unwrap();
        let mut decoder = Decoder::<16>::new(&model).unwrap();
        let mut sampler = LatentSampler::new(seed);
        let mut digit = Digit::new();
        for _ in 0..20 {
            let z = sampler.sample(latent);
            decoder.decode(&z, &mut digit).unwrap();
            assert_eq!(digit.pixels(), &spec_decode(&layers, z.as_q12())[..]);
        }
    }
}
