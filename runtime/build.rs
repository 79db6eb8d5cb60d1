//! Picks the dense kernel for the compile target (see `src/kernels/mod.rs`):
//! stable Rust exposes no cfg for the ARM DSP extension or Thumb-2, so the
//! target name decides; RV32 cores (ESP32-C3) run the RV32 kernel, other
//! targets (hosts) the host twin.
//! `VAE_KERNEL=reference` forces the reference kernel.
use std::env;

fn main() {
    println!("cargo::rustc-check-cfg=cfg(vae_kernel, values(\"dsp\", \"thumb2\", \"thumb1\", \"rv32\", \"twin\", \"reference\"))");
    println!("cargo::rerun-if-env-changed=VAE_KERNEL");
    let target = env::var("TARGET").unwrap_or_default();
    let forced = env::var("VAE_KERNEL").ok();
    let kernel = match forced.as_deref() {
        Some("reference") => "reference",
        _ if target.starts_with("thumbv7em") => "dsp",
        _ if target.starts_with("thumbv7m") || target.starts_with("thumbv8m.main") => "thumb2",
        _ if target.starts_with("thumbv6m") || target.starts_with("thumbv8m.base") => "thumb1",
        _ if target.starts_with("riscv32") => "rv32",
        _ => "twin",
    };
    println!("cargo::rustc-cfg=vae_kernel=\"{kernel}\"");
}
