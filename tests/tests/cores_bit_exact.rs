//! Same inputs, same outputs, on every core: the benchmark firmware runs on
//! the emulated Cortex-M0 (QEMU `microbit`, Thumb-1 assembly kernel),
//! Cortex-M3 (`lm3s6965evb`, Thumb-2 kernel), Cortex-M4 (`mps2-an386`,
//! DSP kernel) and an RV32IMC core (riscv32 `virt`, the RV32 kernel, as on
//! the ESP32-C3). On the device it compares the selected kernel with the
//! reference kernel over random layers of odd and even sizes (no output may
//! differ), loads the same model file with one varint written in 1 to 10
//! bytes (a 32-bit device and a 64-bit host must accept and refuse alike),
//! and it prints a hash of every layer's requantized outputs for
//! the committed model and the 128x784 reference layer, and of a whole
//! digit. Each hash must equal the host's reference computation.

use std::time::Duration;

use integration_tests::qemu::{build_bench, require_tool, workspace, Qemu};
use runtime::format::{Activation, Layer};
use runtime::kernels::reference;
use runtime::{Decoder, Digit, LatentSampler, Model};

fn hash(values: impl Iterator<Item = u32>) -> u32 {
    values.fold(0x811C_9DC5u32, |h, v| (h ^ v).wrapping_mul(0x0100_0193))
}

fn xorshift(state: &mut u32) -> u32 {
    *state ^= *state << 13;
    *state ^= *state >> 17;
    *state ^= *state << 5;
    *state
}

/// The reference layer, generated exactly as the firmware's build script does.
fn reference_layer_arrays() -> [Vec<u8>; 4] {
    let mut state = 0x1234_5678u32;
    let row_major: Vec<i8> = (0..128 * 784)
        .map(|_| ((xorshift(&mut state) % 255) as i32 - 127) as i8)
        .collect();
    let weights = runtime::layout::pack(784, 128, 8, &row_major);
    let (mut bias, mut mult, mut shift) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..784 {
        bias.extend_from_slice(&((xorshift(&mut state) % 20001) as i32 - 10000).to_le_bytes());
        mult.extend_from_slice(
            &(((1i32 << 30) + (xorshift(&mut state) >> 2) as i32) & !0xFFFF).to_le_bytes(),
        );
        shift.push((-8i8) as u8);
    }
    [weights, bias, mult, shift]
}

fn pattern(n: usize) -> Vec<i16> {
    (0..n)
        .map(|i| i16::from((i.wrapping_mul(37).wrapping_add(11)) as u8))
        .collect()
}

fn layer_hash(layer: &Layer<'_>, latent: Option<&[i16]>) -> u32 {
    let mut out = vec![0i32; usize::from(layer.output_dim)];
    match latent {
        Some(z) => reference::dense(layer, z, &mut out, |v| v),
        None => reference::dense(
            layer,
            &pattern(usize::from(layer.input_dim)),
            &mut out,
            |v| v,
        ),
    }
    hash(out.iter().map(|&v| v as u32))
}

fn expected_hashes(model: &Model<'_>) -> Vec<String> {
    let latent = LatentSampler::new(1).sample(model.latent_dim());
    // What the host's loader says of each agreement case (bench.rs
    // `loader_agreement`): a device must say the same.
    let mut lines: Vec<String> = integration_tests::varint_cases()
        .into_iter()
        .map(|(case, file)| {
            let said = match Model::from_bytes(&file) {
                Ok(_) => "ok".to_string(),
                Err(e) => e.to_string(),
            };
            format!("LOAD varint {case} {said}")
        })
        .collect();
    for (i, layer) in model.layers().iter().enumerate() {
        let z = (i == 0).then(|| latent.as_q12());
        lines.push(format!(
            "HASH {}.{i}:{}x{} {}",
            model.name(),
            layer.input_dim,
            layer.output_dim,
            layer_hash(layer, z)
        ));
    }
    let [w, b, m, s] = reference_layer_arrays();
    let reference = Layer {
        activation: Activation::Relu,
        input_dim: 128,
        output_dim: 784,
        weight_bits: 8,
        weights: &w,
        bias: &b,
        multiplier: &m,
        shift: &s,
        padding: &[],
    };
    lines.push(format!("HASH 128x784 {}", layer_hash(&reference, None)));
    let mut decoder = Decoder::<128>::new(model).unwrap();
    let mut digit = Digit::new();
    decoder.decode(&latent, &mut digit).unwrap();
    lines.push(format!(
        "HASH digit {}",
        hash(digit.pixels().iter().map(|&p| u32::from(p)))
    ));
    // Draws from the prior: each class, then unconditional (bench.rs `draws`).
    let classes = model.prior().map_or(0, |p| p.classes());
    let mut sampler = LatentSampler::new(3);
    let mut values = Vec::new();
    for k in 0..classes {
        values.extend(sampler.draw(model, Some(k)).as_q12().to_vec());
    }
    for _ in 0..10 {
        values.extend(sampler.draw(model, None).as_q12().to_vec());
    }
    lines.push(format!(
        "HASH draws {}",
        hash(values.iter().map(|&v| v as u16 as u32))
    ));
    let z = sampler.draw(model, Some(7 % classes.max(1)));
    decoder.decode(&z, &mut digit).unwrap();
    lines.push(format!(
        "HASH digit_class {}",
        hash(digit.pixels().iter().map(|&p| u32::from(p)))
    ));
    // Whole digits with the latent filter's redraws (bench.rs `digits_with_draws`).
    let classes = classes.max(1);
    let mut sampler = LatentSampler::new(11);
    let mut digests = [0u32; 2];
    for i in 0..10 * classes {
        let (z, d) = sampler.draw_counted(model, Some(i % classes));
        decoder.decode(&z, &mut digit).unwrap();
        let h = hash(digit.pixels().iter().map(|&p| u32::from(p)));
        digests = [
            digests[0].rotate_left(5) ^ h,
            digests[1].wrapping_add(u32::from(d)),
        ];
    }
    lines.push(format!("HASH digits_drawn {}", hash(digests.into_iter())));
    lines
}

#[test]
fn every_core_computes_what_the_host_computes() {
    let why = "the per-core bit-exactness test";
    if !(require_tool("qemu-system-arm", why) && require_tool("qemu-system-riscv32", why)) {
        return;
    }
    let bytes = std::fs::read(workspace().join("models/mcu.postcard")).unwrap();
    let model = Model::from_bytes(&bytes).unwrap();
    let expected = expected_hashes(&model);
    for (feature, target, machine, kernel) in [
        ("microbit", "thumbv6m-none-eabi", "microbit", "thumb1"),
        ("lm3s6965evb", "thumbv7m-none-eabi", "lm3s6965evb", "thumb2"),
        ("mps2-an386", "thumbv7em-none-eabihf", "mps2-an386", "dsp"),
        ("riscv-virt", "riscv32imc-unknown-none-elf", "virt", "rv32"),
    ] {
        let elf = build_bench(feature, target, &format!("target/{feature}"));
        let mut qemu = if machine == "virt" {
            Qemu::start_riscv_virt(&elf, &[])
        } else {
            Qemu::start(machine, &elf, &[], &[], false)
        };
        // The first line the benchmark prints is the on-device kernel check.
        let check = qemu.wait_for("core=", Duration::from_secs(300));
        assert!(
            check.contains(" kernel_check layers=60 ") && check.ends_with(" mismatches=0"),
            "{machine}: the selected kernel differs from the reference on the device: {check}"
        );
        assert!(
            check.contains(&format!("kernel={kernel} ")),
            "{machine}: {check}"
        );
        for line in &expected {
            let prefix = line.rsplit_once(' ').unwrap().0;
            let got = qemu.wait_for(&format!("{prefix} "), Duration::from_secs(300));
            assert_eq!(&got, line, "{machine}: result differs from the host");
        }
        assert!(
            qemu.wait_exit(Duration::from_secs(120)).success(),
            "{machine} did not exit cleanly"
        );
        assert!(
            qemu.transcript
                .iter()
                .any(|l| l.contains(" digit instructions=")),
            "{machine}: no benchmark line"
        );
    }
}
