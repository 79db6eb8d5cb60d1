//! Fuzzes the model loader and, for accepted models, the decoder.
//!
//! Inputs are used twice: as a raw file, and as a payload wrapped in a valid
//! header and CRC, so the fuzzer also explores the postcard body and the
//! validator instead of stopping at the checksum.
#![no_main]

use libfuzzer_sys::fuzz_target;
use runtime::{Decoder, Digit, LatentSampler, Model};

fn exercise(bytes: &[u8]) {
    let Ok(model) = Model::from_bytes(bytes) else { return };
    let Ok(mut decoder) = Decoder::<4096>::new(&model) else { return };
    let z = LatentSampler::new(1).sample(model.latent_dim());
    let mut digit = Digit::new();
    let _ = decoder.decode(&z, &mut digit);
    let mut logits = [0i16; 255 * 255];
    if let Some(out) = logits.get_mut(..model.pixel_count()) {
        decoder.decode_logits(&z, out).expect("validated model decodes");
    }
}

fuzz_target!(|data: &[u8]| {
    exercise(data);
    let mut file = Vec::with_capacity(data.len() + 14);
    file.extend_from_slice(b"VAEQ");
    file.extend_from_slice(&runtime::format::FORMAT_VERSION.to_le_bytes());
    file.extend_from_slice(&(data.len() as u32).to_le_bytes());
    file.extend_from_slice(data);
    file.extend_from_slice(&runtime::crc32(data).to_le_bytes());
    exercise(&file);
});
