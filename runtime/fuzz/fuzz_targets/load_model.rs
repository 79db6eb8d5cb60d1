//! Fuzzes the model loader and, for accepted models, the decoder.
//!
//! Inputs are used six times: as a raw file, and as a payload wrapped in
//! a valid header and CRC of version 2, of version 3 (body + optional
//! prior), of version 4 (then the drawing section: gain, latent filter), of
//! version 5 (the same layout; a prior class may share one factor) and of
//! version 6 (then the pixel mask), so the fuzzer also explores the postcard
//! body, the prior, drawing and mask sections and the validator instead of
//! stopping at the checksum. Accepted models draw latents unconditionally
//! and for every class (the prior's integer map and the filter's redraws,
//! whose count must stay within `max_draws`), then decode them (with the
//! gain; a masked model spreads its computed pixels and fills the rest).
#![no_main]

use libfuzzer_sys::fuzz_target;
use runtime::{Decoder, Digit, LatentSampler, Model};

fn exercise(bytes: &[u8]) {
    let Ok(model) = Model::from_bytes(bytes) else { return };
    let Ok(mut decoder) = Decoder::<4096>::new(&model) else { return };
    let mut sampler = LatentSampler::new(1);
    let most = model.filter().map_or(1, |f| f.max_draws);
    let (z, draws) = sampler.draw_counted(&model, None);
    assert!((1..=most).contains(&draws), "{draws} draws, at most {most}");
    let mut digit = Digit::new();
    // A valid model may draw another image size than the 28 x 28 `Digit`:
    // then `decode` refuses the buffer, which is no fault.
    let fits = model.pixel_count() == Digit::WIDTH * Digit::HEIGHT;
    if fits {
        decoder.decode(&z, &mut digit).expect("validated model decodes");
    }
    // Every class is drawn (the prior's integer map); two are decoded, to
    // keep executions fast.
    let classes = model.prior().map_or(0, |p| p.classes());
    for k in 0..classes {
        let (zk, draws) = sampler.draw_counted(&model, Some(k));
        assert!((1..=most).contains(&draws), "{draws} draws, at most {most}");
        if fits && k < 2 {
            decoder.decode(&zk, &mut digit).expect("validated model decodes");
        }
    }
    let mut logits = vec![0i16; model.pixel_count()];
    decoder.decode_logits(&z, &mut logits).expect("validated model decodes");
}

fn wrapped(data: &[u8], version: u16) -> Vec<u8> {
    let mut file = Vec::with_capacity(data.len() + 14);
    file.extend_from_slice(b"VAEQ");
    file.extend_from_slice(&version.to_le_bytes());
    file.extend_from_slice(&(data.len() as u32).to_le_bytes());
    file.extend_from_slice(data);
    file.extend_from_slice(&runtime::crc32::crc32(data).to_le_bytes());
    file
}

fuzz_target!(|data: &[u8]| {
    exercise(data);
    exercise(&wrapped(data, runtime::format::FORMAT_VERSION_NO_PRIOR));
    exercise(&wrapped(data, runtime::format::FORMAT_VERSION_PRIOR));
    exercise(&wrapped(data, runtime::format::FORMAT_VERSION_DRAWING));
    exercise(&wrapped(data, runtime::format::FORMAT_VERSION_SHARED));
    exercise(&wrapped(data, runtime::format::FORMAT_VERSION));
});
