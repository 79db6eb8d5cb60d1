//! Benchmark firmware for the emulated Cortex-M0 (QEMU `microbit`), M3
//! (`lm3s6965evb`), M4 (`mps2-an386`) and RISC-V RV32IMC (`riscv-virt`:
//! QEMU's riscv32 `virt` machine), one board feature per build.
//!
//! It times, in executed instructions (exact under QEMU's `-icount`, see
//! `docs/benchmarks.md`), each layer of the model, the reference 128x784
//! layer with pseudo-random weights, and a whole digit; reports code size
//! and RAM (static and, by stack painting, the stack high-water mark); and
//! prints a hash of every result so a host test can prove that the device
//! computes exactly what the host computes. Output goes through semihosting
//! on Cortex-M and the UART on RISC-V (`arm.rs`, `riscv_virt.rs`: start-up,
//! console, exit, clock; the rest is the same code).
#![no_std]
#![no_main]

#[cfg(target_arch = "arm")]
mod arm;
#[cfg(not(feature = "size-probe"))]
mod bench;
#[cfg(target_arch = "riscv32")]
mod riscv_virt;
#[cfg(not(feature = "size-probe"))]
mod stack;

#[cfg(target_arch = "arm")]
use arm as platform;
#[cfg(target_arch = "riscv32")]
use riscv_virt as platform;

use board_common::MODEL_BYTES;
use runtime::Model;
#[cfg(feature = "size-probe")]
use runtime::{Decoder, Digit, LatentSampler};

/// The size probe: everything a device needs to draw a digit, nothing else.
#[cfg(feature = "size-probe")]
fn main() -> ! {
    static SINK: core::sync::atomic::AtomicU8 = core::sync::atomic::AtomicU8::new(0);
    if let Ok(model) = Model::from_bytes(&MODEL_BYTES.0) {
        if let Ok(mut decoder) = Decoder::<128>::new(&model) {
            // A requested digit: the class prior's map (N(0, I) for a
            // model without a prior).
            let z = LatentSampler::new(1).draw(&model, Some(7));
            let mut digit = Digit::new();
            let _ = decoder.decode(&z, &mut digit);
            let sum = digit.pixels().iter().fold(0u8, |a, &p| a.wrapping_add(p));
            // Stored so the work is not optimised away.
            SINK.store(sum, core::sync::atomic::Ordering::Relaxed);
        }
    }
    platform::idle()
}

#[cfg(feature = "size-probe")]
#[panic_handler]
fn panic(_: &core::panic::PanicInfo) -> ! {
    platform::idle()
}

#[cfg(not(feature = "size-probe"))]
fn main() -> ! {
    stack::paint();
    match Model::from_bytes(&MODEL_BYTES.0) {
        Ok(model) => bench::run(&model),
        Err(e) => platform::println(format_args!("MODEL ERROR {e}")),
    }
    platform::exit(true)
}

#[cfg(not(feature = "size-probe"))]
#[panic_handler]
fn panic(info: &core::panic::PanicInfo) -> ! {
    platform::println(format_args!("PANIC {info}"));
    platform::exit(false)
}
