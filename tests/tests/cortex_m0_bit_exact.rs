//! Same seed, same digits on the smallest core: the Cortex-M0 benchmark
//! firmware (QEMU `microbit`, thumbv6m) decodes the first digits of seed 1
//! and reports a hash of their pixels, which must equal the host's.

use std::time::Duration;

use integration_tests::qemu::{build_board, require_tool, workspace, Qemu};
use runtime::{Decoder, Digit, LatentSampler, Model};

fn hash(pixels: &[u8]) -> u32 {
    pixels.iter().enumerate().fold(0u32, |acc, (j, &p)| {
        acc.wrapping_mul(31).wrapping_add(u32::from(p) ^ (j as u32))
    })
}

#[test]
fn cortex_m0_digits_equal_host_digits() {
    if !require_tool("qemu-system-arm", "the Cortex-M0 bit-exactness test") {
        return;
    }
    let elf = build_board("microbit", "microbit", "thumbv6m-none-eabi", None, "target");
    let bytes = std::fs::read(workspace().join("models/mcu.postcard")).unwrap();
    let model = Model::from_bytes(&bytes).unwrap();
    let mut decoder = Decoder::<256>::new(&model).unwrap();
    let mut sampler = LatentSampler::new(1);
    let mut digit = Digit::new();
    let mut qemu = Qemu::start("microbit", &elf, &[], &[], false);
    for i in 0..4 {
        decoder
            .decode(&sampler.sample(model.latent_dim()), &mut digit)
            .unwrap();
        let line = qemu.wait_for(&format!("DIGIT {i} "), Duration::from_secs(120));
        assert_eq!(
            line,
            format!("DIGIT {i} hash={}", hash(digit.pixels())),
            "digit {i} differs on Cortex-M0"
        );
    }
    qemu.wait_for("BENCH", Duration::from_secs(300));
    assert!(qemu.wait_exit(Duration::from_secs(60)).success());
}
