//! Firmware for the Raspberry Pi Pico (RP2040: Cortex-M0+ at 125 MHz,
//! 2 MiB flash, 264 KiB RAM) with a 128 x 64 SSD1306 OLED on I2C0.
//!
//! Wiring: OLED VCC to 3V3(OUT) (pin 36), GND to GND (pin 38), SDA to GP4
//! (pin 6), SCL to GP5 (pin 7); a push button from GP15 (pin 20) to GND
//! (pin 18). The internal pull-ups are enabled; most SSD1306 breakout
//! boards have their own. The button cycles the digit asked for ("any
//! digit", then 0 to 9, shown at the top left) and draws new digits at
//! once; otherwise a new frame of the same digit appears every 3 seconds.
//!
//! The board layer only: clocks, pins, I2C, the `ssd1306` driver; the
//! program is `board_common::run_one_button`. What is
//! drawn comes from `firmware_app`, the same code as the other boards, the
//! simulator (`--display ssd1306`) and the web page; on this monochrome
//! display the digits are dithered.
#![no_std]
#![no_main]

use board_common::stay;
use embedded_hal::delay::DelayNs;
use embedded_hal::digital::InputPin;
use panic_halt as _;
use rp2040_hal::{
    self as hal,
    clocks::init_clocks_and_plls,
    fugit::RateExtU32,
    gpio::{FunctionI2C, Pins, PullUp},
    pac, Clock, Sio, Timer, Watchdog, I2C,
};
use ssd1306::{prelude::*, I2CDisplayInterface, Ssd1306};

/// The second-stage boot loader for the Pico's W25Q080 flash: the boot ROM
/// runs these 256 bytes (placed first in flash by memory.x), and they set
/// up execution in place from the flash.
#[link_section = ".boot2"]
#[used]
static BOOT2: [u8; 256] = rp2040_boot2::BOOT_LOADER_W25Q080;

/// The Pico's crystal.
const XOSC_HZ: u32 = 12_000_000;

#[hal::entry]
fn main() -> ! {
    let Some(mut pac) = pac::Peripherals::take() else {
        stay()
    };
    let mut watchdog = Watchdog::new(pac.WATCHDOG);
    let Ok(clocks) = init_clocks_and_plls(
        XOSC_HZ,
        pac.XOSC,
        pac.CLOCKS,
        pac.PLL_SYS,
        pac.PLL_USB,
        &mut pac.RESETS,
        &mut watchdog,
    ) else {
        stay()
    };
    let mut timer = Timer::new(pac.TIMER, &mut pac.RESETS, &clocks);
    let sio = Sio::new(pac.SIO);
    let pins = Pins::new(
        pac.IO_BANK0,
        pac.PADS_BANK0,
        sio.gpio_bank0,
        &mut pac.RESETS,
    );
    let sda = pins.gpio4.reconfigure::<FunctionI2C, PullUp>();
    let scl = pins.gpio5.reconfigure::<FunctionI2C, PullUp>();
    let mut button = pins.gpio15.into_pull_up_input();
    let i2c = I2C::i2c0(
        pac.I2C0,
        sda,
        scl,
        400.kHz(),
        &mut pac.RESETS,
        clocks.system_clock.freq(),
    );

    let interface = I2CDisplayInterface::new(i2c);
    let mut display = Ssd1306::new(interface, DisplaySize128x64, DisplayRotation::Rotate0)
        .into_buffered_graphics_mode();
    // Without a working display there is nothing to show; keep trying.
    while display.init().is_err() {
        timer.delay_ms(500);
    }

    // The button is active low; a failed read counts as not pressed.
    board_common::run_one_button(
        &mut display,
        |d| {
            let _ = d.flush();
        },
        move || button.is_low().unwrap_or(false),
        |ms| timer.delay_ms(ms),
    )
}
