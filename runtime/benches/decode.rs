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
    c.bench_function("decode one digit (mcu, 102,912 MACs)", |b| {
        b.iter(|| decoder.decode(black_box(&z), &mut digit).expect("decodes"))
    });
    c.bench_function("load and validate the model (111 KB, CRC-32)", |b| {
        b.iter(|| Model::from_bytes(black_box(&bytes)).expect("valid"))
    });
    let mut sampler = LatentSampler::new(2);
    c.bench_function("sample a 20-dim latent", |b| {
        b.iter(|| sampler.sample(black_box(20)))
    });
}

criterion_group!(benches, decode);
criterion_main!(benches);
