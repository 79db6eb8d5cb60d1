//! Host benchmark of one decode (x86_64): `cargo bench -p runtime`.
//! Uses the committed model; the device figures come from scripts/bench.sh.

use criterion::{black_box, criterion_group, criterion_main, Criterion};
use runtime::{Decoder, Digit, LatentSampler, Model};

fn decode(c: &mut Criterion) {
    let bytes = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../models/mcu.postcard"
    ))
    .expect("committed model");
    let model = Model::from_bytes(&bytes).expect("valid model");
    let mut decoder = Decoder::<256>::new(&model).expect("fits");
    let z = LatentSampler::new(1).sample(model.latent_dim());
    let mut digit = Digit::new();
    let name = format!("decode one digit ({}, {} MACs)", model.name(), model.macs());
    c.bench_function(&name, |b| {
        b.iter(|| decoder.decode(black_box(&z), &mut digit).expect("decodes"))
    });
    let name = format!(
        "load and validate the model ({} bytes, CRC-32)",
        bytes.len()
    );
    c.bench_function(&name, |b| {
        b.iter(|| Model::from_bytes(black_box(&bytes)).expect("valid"))
    });
    let mut sampler = LatentSampler::new(2);
    let dim = model.latent_dim();
    c.bench_function(&format!("sample a {dim}-dim latent"), |b| {
        b.iter(|| sampler.sample(black_box(dim)))
    });
}

criterion_group!(benches, decode);
criterion_main!(benches);
