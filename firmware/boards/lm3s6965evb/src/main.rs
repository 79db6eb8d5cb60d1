//! Firmware for the TI Stellaris LM3S6965 evaluation board, which QEMU
//! emulates with its SSD0323 OLED (128 x 64, 16 greys) on the SSI0 port.
//!
//! The board layer only: clocks, pins, the PL022 SSI driver, semihosting
//! I/O. Everything the user sees comes from `firmware_app`.
//!
//! Arguments (semihosting command line, e.g. QEMU's `-append`):
//! `seed=N` (default 1), `frames=N` (exit after N frames; default: forever),
//! `step` (after each frame, wait for a byte on the semihosting console
//! before going on: lets a test capture every frame), `keys` (after each
//! frame, wait for a button: Up/Down choose the digit, "any" then 0 to 9,
//! Select draws new ones; with `frames=N`, after the last frame wait for a
//! byte on the semihosting console, then exit). Speed is measured by the separate benchmark
//! firmware (`firmware/boards/bench`).
#![no_std]
#![no_main]

mod buttons;
mod pl022;

use board_common::{clock, semihosting, SCRATCH};
use cortex_m_rt::{entry, exception, ExceptionFrame};
use embedded_graphics::prelude::*;
use firmware_app::ssd0323::Ssd0323;
use firmware_app::{draw_error, Gallery};
use runtime::Model;

#[derive(Clone, Copy)]
struct Args {
    seed: u64,
    frames: Option<u32>,
    step: bool,
    keys: bool,
}

fn parse_args(line: &str) -> Args {
    let mut args = Args {
        seed: 1,
        frames: None,
        step: false,
        keys: false,
    };
    for word in line.split_ascii_whitespace() {
        match word.split_once('=') {
            Some(("seed", v)) => args.seed = v.parse().unwrap_or(1),
            Some(("frames", v)) => args.frames = v.parse().ok(),
            None if word == "step" => args.step = true,
            None if word == "keys" => args.keys = true,
            _ => {}
        }
    }
    args
}

#[entry]
fn main() -> ! {
    let mut core = cortex_m::Peripherals::take().unwrap_or_else(|| semihosting::exit(false));
    clock::start(&mut core.SYST);

    let (spi, dc) = pl022::init();
    let mut display = Ssd0323::new(spi, dc);
    let _ = display.init();

    let mut line = [0u8; 256];
    let args = parse_args(semihosting::command_line(&mut line));

    let model = board_common::load_model(|error| {
        let _ = draw_error(&mut display, error);
        let _ = display.flush();
        semihosting::println(format_args!("MODEL ERROR {error}"));
        wait_or_exit(args, 0);
    });
    semihosting::println(format_args!(
        "MODEL OK name={} latent={} weights={} seed={}",
        model.name(),
        model.latent_dim(),
        model.weight_bytes(),
        args.seed
    ));
    run_gallery(&model, &mut display, args)
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
    let mut buttons = buttons::Buttons::init();
    loop {
        let frame = gallery.frames_drawn();
        let _ = gallery.draw_frame(display);
        let _ = display.flush();
        match gallery.class() {
            Some(k) => semihosting::println(format_args!("FRAME {frame} class={k}")),
            None => semihosting::println(format_args!("FRAME {frame} class=any")),
        }
        if args.keys {
            if args.frames.is_some_and(|n| frame + 1 >= n) {
                // The last frame stays up until the host has seen it.
                semihosting::read_byte();
                semihosting::exit(true);
            }
            let classes = gallery.classes();
            let next = loop {
                if let Some(b) = buttons.poll() {
                    break b;
                }
            };
            gallery.set_class(firmware_app::step_class(
                gallery.class(),
                classes,
                next_step(next),
            ));
        } else {
            wait_or_exit(args, frame);
        }
    }
}

/// How a button moves through the digits.
fn next_step(button: buttons::Button) -> i32 {
    match button {
        buttons::Button::Up => 1,
        buttons::Button::Down => -1,
        buttons::Button::Select => 0,
    }
}

/// After frame `frame`: wait for the host (`step`) or let a moment pass,
/// then exit if it was the last frame asked for.
fn wait_or_exit(args: Args, frame: u32) {
    if args.step {
        semihosting::read_byte();
    } else if args.frames.is_none_or(|n| frame + 1 < n) {
        let until = clock::now() + 20_000_000;
        while clock::now() < until {}
    }
    if args.frames.is_some_and(|n| frame + 1 >= n) {
        semihosting::exit(true);
    }
}

#[exception]
fn SysTick() {
    clock::on_wrap();
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
