//! Cortex-M0 (thumbv6m) benchmark firmware, run on QEMU's `microbit`: loads
//! the model, decodes digits, and reports SysTick counts and a checksum of
//! the pixels through semihosting, then exits. It has no display: it exists
//! to measure the runtime on the smallest Cortex-M core (speed, code size)
//! and to prove its output equals the host's.
#![no_std]
#![no_main]

#[cfg(not(feature = "size-probe"))]
use core::fmt::Write;
#[cfg(not(feature = "size-probe"))]
use core::sync::atomic::AtomicU32;
use core::sync::atomic::Ordering;

use cortex_m_rt::entry;
#[cfg(not(feature = "size-probe"))]
use cortex_m_rt::{exception, ExceptionFrame};
#[cfg(not(feature = "size-probe"))]
use cortex_m_semihosting::{debug, hio};
use runtime::{Decoder, Digit, LatentSampler, Model};

static MODEL_BYTES: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/model.postcard"));
#[cfg(not(feature = "size-probe"))]
static SYSTICK_WRAPS: AtomicU32 = AtomicU32::new(0);
#[cfg(feature = "size-probe")]
static SINK: core::sync::atomic::AtomicU8 = core::sync::atomic::AtomicU8::new(0);

#[cfg(not(feature = "size-probe"))]
fn println(args: core::fmt::Arguments<'_>) {
    if let Ok(mut out) = hio::hstdout() {
        let _ = out.write_fmt(args);
        let _ = out.write_str("\n");
    }
}

#[cfg(not(feature = "size-probe"))]
fn exit(success: bool) -> ! {
    debug::exit(if success {
        debug::EXIT_SUCCESS
    } else {
        debug::EXIT_FAILURE
    });
    loop {
        cortex_m::asm::wfi();
    }
}

#[cfg(not(feature = "size-probe"))]
fn systick_now() -> u64 {
    loop {
        let wraps = SYSTICK_WRAPS.load(Ordering::SeqCst);
        let val = cortex_m::peripheral::SYST::get_current();
        if wraps == SYSTICK_WRAPS.load(Ordering::SeqCst) {
            return (u64::from(wraps) << 24) + u64::from(0x00FF_FFFF - val);
        }
    }
}

#[cfg(not(feature = "size-probe"))]
/// `count` iterations of `subs`/`bne`: exactly `2 * count` instructions.
#[inline(never)]
fn calibration_loop(count: u32) {
    // SAFETY: a register-only countdown loop; touches no memory.
    unsafe {
        core::arch::asm!("1:", "subs r0, r0, #1", "bne 1b", inout("r0") count => _, options(nomem, nostack));
    }
}

/// The size probe: everything a device needs to draw a digit, nothing else.
#[cfg(feature = "size-probe")]
#[entry]
fn main() -> ! {
    if let Ok(model) = Model::from_bytes(MODEL_BYTES) {
        if let Ok(mut decoder) = Decoder::<256>::new(&model) {
            let z = LatentSampler::new(1).sample(model.latent_dim());
            let mut digit = Digit::new();
            let _ = decoder.decode(&z, &mut digit);
            let sum = digit.pixels().iter().fold(0u8, |a, &p| a.wrapping_add(p));
            // Stored so the work is not optimised away.
            SINK.store(sum, Ordering::SeqCst);
        }
    }
    loop {
        cortex_m::asm::wfi();
    }
}

#[cfg(not(feature = "size-probe"))]
#[entry]
fn main() -> ! {
    let Some(mut core) = cortex_m::Peripherals::take() else {
        exit(false)
    };
    core.SYST
        .set_clock_source(cortex_m::peripheral::syst::SystClkSource::Core);
    core.SYST.set_reload(0x00FF_FFFF);
    core.SYST.clear_current();
    core.SYST.enable_interrupt();
    core.SYST.enable_counter();

    let model = match Model::from_bytes(MODEL_BYTES) {
        Ok(m) => m,
        Err(e) => {
            println(format_args!("MODEL ERROR {e}"));
            exit(false)
        }
    };
    let Ok(mut decoder) = Decoder::<256>::new(&model) else {
        exit(false)
    };
    let mut sampler = LatentSampler::new(1);
    let mut digit = Digit::new();
    // Checksums of the first digits, for comparison with the host.
    for i in 0..4 {
        let z = sampler.sample(model.latent_dim());
        let _ = decoder.decode(&z, &mut digit);
        let sum = digit
            .pixels()
            .iter()
            .enumerate()
            .fold(0u32, |acc, (j, &p)| {
                acc.wrapping_mul(31).wrapping_add(u32::from(p) ^ (j as u32))
            });
        println(format_args!("DIGIT {i} hash={sum}"));
    }
    let digits = 5u32;
    let z = sampler.sample(model.latent_dim());
    let loops = 1_000_000u32;
    let t0 = systick_now();
    calibration_loop(loops);
    let t1 = systick_now();
    for _ in 0..digits {
        let _ = decoder.decode(&z, &mut digit);
    }
    let t2 = systick_now();
    println(format_args!(
        "BENCH digits={digits} calibration_instructions={} calibration_ticks={} decode_ticks={}",
        2 * u64::from(loops),
        t1 - t0,
        t2 - t1
    ));
    exit(true)
}

#[cfg(not(feature = "size-probe"))]
#[exception]
fn SysTick() {
    // thumbv6m has no atomic read-modify-write; this handler is the only writer.
    let n = SYSTICK_WRAPS.load(Ordering::SeqCst);
    SYSTICK_WRAPS.store(n.wrapping_add(1), Ordering::SeqCst);
}

#[cfg(not(feature = "size-probe"))]
#[exception]
unsafe fn HardFault(frame: &ExceptionFrame) -> ! {
    println(format_args!("HARDFAULT at pc={:#010x}", frame.pc()));
    exit(false)
}

#[cfg(feature = "size-probe")]
#[panic_handler]
fn panic(_: &core::panic::PanicInfo) -> ! {
    loop {
        cortex_m::asm::wfi();
    }
}

#[cfg(not(feature = "size-probe"))]
#[panic_handler]
fn panic(info: &core::panic::PanicInfo) -> ! {
    println(format_args!("PANIC {info}"));
    exit(false)
}
