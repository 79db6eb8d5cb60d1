//! Benchmark firmware for the emulated Cortex-M0 (QEMU `microbit`), M3
//! (`lm3s6965evb`) and M4 (`mps2-an386`), one board feature per build.
//!
//! It times, in executed instructions (exact under QEMU's `-icount`, see
//! `docs/benchmarks.md`), each layer of the model, the reference 128x784
//! layer with pseudo-random weights, and a whole digit; reports code size
//! and RAM (static and, by stack painting, the stack high-water mark); and
//! prints a hash of every result so a host test can prove that the device
//! computes exactly what the host computes. Output goes through semihosting.
#![no_std]
#![no_main]

#[cfg(not(feature = "size-probe"))]
mod bench;
#[cfg(not(feature = "size-probe"))]
mod stack;

#[cfg(not(feature = "size-probe"))]
use board_common::semihosting;
use board_common::MODEL_BYTES;
use cortex_m_rt::entry;
use runtime::Model;
#[cfg(feature = "size-probe")]
use runtime::{Decoder, Digit, LatentSampler};

/// The size probe: everything a device needs to draw a digit, nothing else.
#[cfg(feature = "size-probe")]
#[entry]
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
    loop {
        cortex_m::asm::wfi();
    }
}

#[cfg(feature = "size-probe")]
#[panic_handler]
fn panic(_: &core::panic::PanicInfo) -> ! {
    loop {
        cortex_m::asm::wfi();
    }
}

#[cfg(not(feature = "size-probe"))]
#[entry]
fn main() -> ! {
    stack::paint();
    match Model::from_bytes(&MODEL_BYTES.0) {
        Ok(model) => bench::run(&model),
        Err(e) => semihosting::println(format_args!("MODEL ERROR {e}")),
    }
    semihosting::exit(true)
}

#[cfg(not(feature = "size-probe"))]
#[cortex_m_rt::exception]
unsafe fn HardFault(frame: &cortex_m_rt::ExceptionFrame) -> ! {
    semihosting::println(format_args!("HARDFAULT at pc={:#010x}", frame.pc()));
    semihosting::exit(false)
}

#[cfg(not(feature = "size-probe"))]
#[panic_handler]
fn panic(info: &core::panic::PanicInfo) -> ! {
    semihosting::println(format_args!("PANIC {info}"));
    semihosting::exit(false)
}
