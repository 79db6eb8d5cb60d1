//! Synthetic datasets made in the tests (nothing is downloaded).

#![allow(dead_code)]

use std::io::Write;
use std::path::Path;

use rand::{Rng, SeedableRng};
use trainer::data::{idx, Dataset, PIXELS};

/// Digit-like images: one or two thick random strokes on black.
pub fn synthetic(n: usize, seed: u64) -> Dataset {
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    let mut pixels = vec![0u8; n * PIXELS];
    let mut labels = Vec::with_capacity(n);
    for img in pixels.chunks_mut(PIXELS) {
        for _ in 0..rng.gen_range(1..=2) {
            let (x0, y0) = (rng.gen_range(4.0..24.0f32), rng.gen_range(4.0..24.0f32));
            let (x1, y1) = (rng.gen_range(4.0..24.0f32), rng.gen_range(4.0..24.0f32));
            for s in 0..=40 {
                let t = s as f32 / 40.0;
                let (cx, cy) = (x0 + t * (x1 - x0), y0 + t * (y1 - y0));
                for y in 0..28 {
                    for x in 0..28 {
                        let d = ((x as f32 - cx).powi(2) + (y as f32 - cy).powi(2)).sqrt();
                        let v = (255.0 * (1.5 - d).clamp(0.0, 1.0)) as u8;
                        let p = &mut img[y * 28 + x];
                        *p = (*p).max(v);
                    }
                }
            }
        }
        labels.push(rng.gen_range(0..10));
    }
    Dataset { pixels, labels }
}

/// Writes `data` as the four IDX files (gzipped) into `dir`.
pub fn write_idx_dir(dir: &Path, train: &Dataset, test: &Dataset) {
    std::fs::create_dir_all(dir).unwrap();
    for (prefix, d) in [("train", train), ("t10k", test)] {
        let gz = |name: String, bytes: Vec<u8>| {
            let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
            enc.write_all(&bytes).unwrap();
            std::fs::write(dir.join(format!("{name}.gz")), enc.finish().unwrap()).unwrap();
        };
        gz(
            format!("{prefix}-images-idx3-ubyte"),
            idx::encode_images(d.len(), 28, 28, &d.pixels),
        );
        gz(
            format!("{prefix}-labels-idx1-ubyte"),
            idx::encode_labels(&d.labels),
        );
    }
}
