//! Firmware for the TI Stellaris LM3S6965 evaluation board, which QEMU
//! emulates with its SSD0323 OLED (128 x 64, 16 greys) on the SSI0 port.
//!
//! The board layer only: clocks, pins, the PL022 SSI driver, semihosting
//! I/O. Everything the user sees comes from `firmware_app`.
//!
//! Arguments (semihosting command line, e.g. QEMU's `-append`):
//! `seed=N` (default 1), `frames=N` (exit after N frames; default: forever),
//! `step` (after each frame, wait for a byte on the semihosting console
//! before going on: lets a test capture every frame), `bench=N` (decode N
//! digits, report SysTick counts, exit).
#![no_std]
#![no_main]

mod pl022;
mod semihosting;

use core::sync::atomic::{AtomicU32, Ordering};

use cortex_m::peripheral::syst::SystClkSource;
use cortex_m_rt::{entry, exception, ExceptionFrame};
use embedded_graphics::prelude::*;
use firmware_app::ssd0323::Ssd0323;
use firmware_app::{draw_error, Gallery};
use runtime::{Decoder, Digit, LatentSampler, Model};

/// The model (by default the committed `models/mcu.postcard`; the build
/// takes another from `FIRMWARE_MODEL=path`), linked into flash and used in place.
static MODEL_BYTES: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/model.postcard"));

/// Widest hidden layer the firmware accepts (scratch: 2 x 256 bytes).
const SCRATCH: usize = 256;

/// SysTick wrap-arounds (each one is 2^24 ticks).
static SYSTICK_WRAPS: AtomicU32 = AtomicU32::new(0);

#[derive(Clone, Copy)]
struct Args {
    seed: u64,
    frames: Option<u32>,
    step: bool,
    bench: Option<u32>,
}

fn parse_args(line: &str) -> Args {
    let mut args = Args {
        seed: 1,
        frames: None,
        step: false,
        bench: None,
    };
    for word in line.split_ascii_whitespace() {
        match word.split_once('=') {
            Some(("seed", v)) => args.seed = v.parse().unwrap_or(1),
            Some(("frames", v)) => args.frames = v.parse().ok(),
            Some(("bench", v)) => args.bench = v.parse().ok(),
            None if word == "step" => args.step = true,
            _ => {}
        }
    }
    args
}

/// Ticks since `start_systick`, counting wrap-arounds.
fn systick_now() -> u64 {
    loop {
        let wraps = SYSTICK_WRAPS.load(Ordering::SeqCst);
        let val = cortex_m::peripheral::SYST::get_current();
        if wraps == SYSTICK_WRAPS.load(Ordering::SeqCst) {
            return (u64::from(wraps) << 24) + u64::from(0x00FF_FFFF - val);
        }
    }
}

/// `count` iterations of a two-instruction loop (`subs`, `bne`): a known
/// instruction count to turn SysTick ticks into instructions.
#[inline(never)]
fn calibration_loop(count: u32) {
    // SAFETY: a register-only countdown loop; touches no memory.
    unsafe {
        core::arch::asm!(
            "1:",
            "subs {n}, {n}, #1",
            "bne 1b",
            n = inout(reg) count => _,
            options(nomem, nostack),
        );
    }
}

/// Fills the unused stack (from the end of static RAM up to a margin below
/// the current stack pointer) with a pattern, so that [`stack_used_since_paint`]
/// can find the deepest point the stack reached.
#[inline(never)]
fn paint_stack() {
    extern "C" {
        static mut __sheap: u32;
    }
    let bottom = core::ptr::addr_of_mut!(__sheap) as usize;
    let sp = cortex_m::register::msp::read() as usize;
    let mut p = bottom;
    while p + 32 < sp {
        // SAFETY: between the end of static RAM and 32 bytes below the
        // stack pointer lies only unused stack; nothing else lives there.
        unsafe { core::ptr::write_volatile(p as *mut u32, 0xDEAD_BEEF) };
        p += 4;
    }
}

/// Address of the top of the stack.
fn stack_top() -> usize {
    extern "C" {
        static _stack_start: u32;
    }
    core::ptr::addr_of!(_stack_start) as usize
}

/// Bytes of stack between the top of RAM and the deepest word overwritten
/// since [`paint_stack`].
#[inline(never)]
fn stack_used_since_paint() -> usize {
    extern "C" {
        static mut __sheap: u32;
        static _stack_start: u32;
    }
    let bottom = core::ptr::addr_of_mut!(__sheap) as usize;
    let top = core::ptr::addr_of!(_stack_start) as usize;
    let mut p = bottom;
    // SAFETY: reads of words inside RAM (end of statics up to the stack top).
    while p < top && unsafe { core::ptr::read_volatile(p as *const u32) } == 0xDEAD_BEEF {
        p += 4;
    }
    top - p
}

fn bench(model: &Model<'_>, digits: u32) {
    let mut decoder = match Decoder::<SCRATCH>::new(model) {
        Ok(d) => d,
        Err(_) => return,
    };
    let mut sampler = LatentSampler::new(1);
    let latents: [runtime::Latent; 1] = [sampler.sample(model.latent_dim())];
    let mut digit = Digit::new();
    // Stack depth of one decode, measured by stack painting: the difference
    // between the deepest point during a decode and the depth before it.
    paint_stack();
    let sp_at_call = cortex_m::register::msp::read() as usize;
    let _ = decoder.decode(&latents[0], &mut digit);
    let deepest = stack_top() - stack_used_since_paint();
    let decode_stack = sp_at_call.saturating_sub(deepest);
    let loops = 5_000_000u32;
    let t0 = systick_now();
    calibration_loop(loops);
    let t1 = systick_now();
    for _ in 0..digits {
        let _ = decoder.decode(&latents[0], &mut digit);
    }
    let t2 = systick_now();
    semihosting::println(format_args!(
        "BENCH digits={digits} calibration_instructions={} calibration_ticks={} decode_ticks={} checksum={} \
         decode_stack_bytes={decode_stack} decoder_scratch_bytes={} stack_peak_bytes={}",
        2 * u64::from(loops),
        t1 - t0,
        t2 - t1,
        digit.pixels().iter().map(|&p| u32::from(p)).sum::<u32>(),
        core::mem::size_of::<Decoder<'_, SCRATCH>>(),
        stack_used_since_paint()
    ));
}

#[entry]
fn main() -> ! {
    let mut core = cortex_m::Peripherals::take().unwrap_or_else(|| semihosting::exit(false));
    core.SYST.set_clock_source(SystClkSource::Core);
    core.SYST.set_reload(0x00FF_FFFF);
    core.SYST.clear_current();
    core.SYST.enable_interrupt();
    core.SYST.enable_counter();

    let (spi, dc) = pl022::init();
    let mut display = Ssd0323::new(spi, dc);
    let _ = display.init();

    let mut line = [0u8; 256];
    let args = parse_args(semihosting::command_line(&mut line));

    match Model::from_bytes(MODEL_BYTES) {
        Ok(model) => {
            if let Some(n) = args.bench {
                bench(&model, n);
                semihosting::exit(true);
            }
            semihosting::println(format_args!(
                "MODEL OK name={} latent={} weights={} seed={}",
                model.name(),
                model.latent_dim(),
                model.weight_bytes(),
                args.seed
            ));
            run_gallery(&model, &mut display, args)
        }
        Err(error) => {
            let _ = draw_error(&mut display, &error);
            let _ = display.flush();
            semihosting::println(format_args!("MODEL ERROR {error}"));
            // Keep running: the error stays on screen.
            wait_or_exit(args, 0);
            loop {
                cortex_m::asm::wfi();
            }
        }
    }
}

fn run_gallery<SPI, DC>(model: &Model<'_>, display: &mut Ssd0323<SPI, DC>, args: Args) -> !
where
    SPI: embedded_hal::spi::SpiBus<u8>,
    DC: embedded_hal::digital::OutputPin,
{
    let mut gallery = match Gallery::<SCRATCH>::new(model, args.seed, display.size()) {
        Ok(g) => g,
        Err(_) => {
            semihosting::println(format_args!("MODEL ERROR does not fit this firmware"));
            semihosting::exit(false)
        }
    };
    loop {
        let frame = gallery.frames_drawn();
        let _ = gallery.draw_frame(display);
        let _ = display.flush();
        semihosting::println(format_args!("FRAME {frame}"));
        wait_or_exit(args, frame);
    }
}

/// After frame `frame`: wait for the host (`step`) or let a moment pass,
/// then exit if it was the last frame asked for.
fn wait_or_exit(args: Args, frame: u32) {
    if args.step {
        semihosting::read_byte();
    } else if args.frames.is_none_or(|n| frame + 1 < n) {
        let until = systick_now() + 20_000_000;
        while systick_now() < until {}
    }
    if args.frames.is_some_and(|n| frame + 1 >= n) {
        semihosting::exit(true);
    }
}

#[exception]
fn SysTick() {
    SYSTICK_WRAPS.fetch_add(1, Ordering::SeqCst);
}

#[exception]
unsafe fn HardFault(frame: &ExceptionFrame) -> ! {
    semihosting::println(format_args!("HARDFAULT at pc={:#010x}", frame.pc()));
    semihosting::exit(false)
}

#[panic_handler]
fn panic(info: &core::panic::PanicInfo) -> ! {
    semihosting::println(format_args!("PANIC {info}"));
    semihosting::exit(false)
}
