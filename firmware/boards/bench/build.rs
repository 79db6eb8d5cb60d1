//! Selects the board's memory map (the model is embedded by
//! `board-common`) and generates the
//! reference 128x784 layer with pseudo-random int8 weights (packed in the
//! model format's layout) (the layer size
//! CMSIS-NN figures are quoted for), identical for every build.
use std::{env, fs, path::PathBuf};

/// `OUT_DIR`, where generated inputs for the firmware go.
fn out_dir() -> PathBuf {
    PathBuf::from(env::var_os("OUT_DIR").expect("cargo sets OUT_DIR"))
}

/// Puts the memory map `path` where cortex-m-rt's `link.x` finds `memory.x`.
fn use_memory_map(path: &str) {
    let out = out_dir();
    if let Err(e) = fs::copy(path, out.join("memory.x")) {
        panic!("cannot read the memory map {path}: {e}");
    }
    println!("cargo:rustc-link-search={}", out.display());
    println!("cargo:rerun-if-changed={path}");
}

/// The same xorshift32 the host test uses to rebuild this layer.
fn xorshift(state: &mut u32) -> u32 {
    *state ^= *state << 13;
    *state ^= *state >> 17;
    *state ^= *state << 5;
    *state
}

fn main() {
    let out = out_dir();
    let boards = ["microbit", "lm3s6965evb", "mps2-an386", "riscv-virt"];
    let chosen: Vec<&str> = boards
        .iter()
        .copied()
        .filter(|b| {
            env::var_os(format!(
                "CARGO_FEATURE_{}",
                b.to_uppercase().replace('-', "_")
            ))
            .is_some()
        })
        .collect();
    let [board] = chosen[..] else {
        panic!("enable exactly one board feature: {boards:?} (e.g. --features lm3s6965evb)");
    };
    use_memory_map(&format!("memory/{board}.x"));

    let (inputs, outputs) = (128usize, 784usize);
    let mut state = 0x1234_5678u32;
    let row_major: Vec<i8> = (0..inputs * outputs)
        .map(|_| ((xorshift(&mut state) % 255) as i32 - 127) as i8)
        .collect();
    let weights = runtime::layout::pack(outputs, inputs, 8, &row_major);
    let mut bias = Vec::new();
    let mut multiplier = Vec::new();
    let mut shift = Vec::new();
    for _ in 0..outputs {
        bias.extend_from_slice(&((xorshift(&mut state) % 20001) as i32 - 10000).to_le_bytes());
        multiplier.extend_from_slice(
            &(((1i32 << 30) + (xorshift(&mut state) >> 2) as i32) & !0xFFFF).to_le_bytes(),
        );
        shift.push((-8i8) as u8);
    }
    fs::write(out.join("ref_weights.bin"), weights).expect("write");
    fs::write(out.join("ref_bias.bin"), bias).expect("write");
    fs::write(out.join("ref_multiplier.bin"), multiplier).expect("write");
    fs::write(out.join("ref_shift.bin"), shift).expect("write");
    fs::write(out.join("varint_cases.bin"), varint_cases()).expect("write");
}

/// The loader's agreement cases ([`integration_tests::varint_cases`]: a
/// small model with one varint written in 1 to 10 bytes), each as a u32
/// little-endian length, the file, and zeros to a multiple of 4 bytes (so
/// every file starts word-aligned, as a model in flash does).
fn varint_cases() -> Vec<u8> {
    let mut out = Vec::new();
    for (_, file) in integration_tests::varint_cases() {
        out.extend_from_slice(&(file.len() as u32).to_le_bytes());
        out.extend_from_slice(&file);
        out.resize(out.len().div_ceil(4) * 4, 0);
    }
    println!("cargo:rerun-if-changed=../../../runtime/fuzz/seeds/micro.model");
    out
}
