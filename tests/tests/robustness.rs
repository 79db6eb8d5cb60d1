//! Property tests: no byte string, and no mutation of a valid model, makes
//! the loader or (after a successful load) the decoder panic.

use integration_tests::small_model_bytes;
use proptest::prelude::*;
use runtime::{Decoder, Digit, LatentSampler, Model};
use std::sync::OnceLock;

fn valid() -> &'static [u8] {
    static BYTES: OnceLock<Vec<u8>> = OnceLock::new();
    BYTES.get_or_init(|| small_model_bytes(77))
}

/// Loads, and if the model is accepted, decodes a few latents.
fn exercise(bytes: &[u8]) {
    if let Ok(model) = Model::from_bytes(bytes) {
        let mut decoder = match Decoder::<4096>::new(&model) {
            Ok(d) => d,
            Err(_) => return,
        };
        let mut sampler = LatentSampler::new(1);
        let mut digit = Digit::new();
        let mut logits = vec![0i16; model.pixel_count()];
        for _ in 0..2 {
            let z = sampler.sample(model.latent_dim());
            let _ = decoder.decode(&z, &mut digit);
            decoder.decode_logits(&z, &mut logits).unwrap();
        }
    }
}

/// Rewrites the CRC so that a mutation reaches the parser and validator.
fn fix_crc(bytes: &mut [u8]) {
    if bytes.len() >= 14 {
        let n = bytes.len();
        let crc = runtime::crc32::crc32(&bytes[10..n - 4]);
        bytes[n - 4..].copy_from_slice(&crc.to_le_bytes());
    }
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 2000,
        failure_persistence: Some(Box::new(proptest::test_runner::FileFailurePersistence::Off)),
        ..ProptestConfig::default()
    })]

    #[test]
    fn random_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        exercise(&bytes);
    }

    #[test]
    fn random_bytes_behind_a_valid_header_never_panic(mut tail in proptest::collection::vec(any::<u8>(), 4..512)) {
        let mut bytes = b"VAEQ\x01\x00".to_vec();
        bytes.extend_from_slice(&((tail.len() - 4) as u32).to_le_bytes());
        bytes.append(&mut tail);
        fix_crc(&mut bytes);
        exercise(&bytes);
    }

    #[test]
    fn mutations_of_a_valid_model_never_panic(
        edits in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..8),
        recrc in any::<bool>(),
    ) {
        let mut bytes = valid().to_vec();
        for (at, value) in edits {
            let i = at.index(bytes.len());
            bytes[i] = value;
        }
        if recrc { fix_crc(&mut bytes); }
        exercise(&bytes);
    }

    #[test]
    fn mutations_of_the_payload_head_never_panic(
        edits in proptest::collection::vec((0usize..40, any::<u8>()), 1..4),
    ) {
        // The first payload bytes hold name, sizes and the first layer's
        // dimensions: the fields most likely to pass decoding yet be wrong.
        let mut bytes = valid().to_vec();
        for (at, value) in edits {
            bytes[10 + at] = value;
        }
        fix_crc(&mut bytes);
        exercise(&bytes);
    }

    #[test]
    fn truncation_and_extension_are_rejected(cut in 0usize..20_000, extra in 1usize..16) {
        let bytes = valid();
        let cut = cut % bytes.len();
        prop_assert!(Model::from_bytes(&bytes[..cut]).is_err());
        let mut longer = bytes.to_vec();
        longer.extend(std::iter::repeat_n(0u8, extra));
        prop_assert!(Model::from_bytes(&longer).is_err());
    }
}
