//! Firmware for ESP32-C3 boards (RISC-V RV32IMC at 160 MHz, 4 MiB flash,
//! 400 KiB RAM; e.g. ESP32-C3-DevKitM-1, "SuperMini") with a 128 x 64
//! SSD1306 OLED on I2C.
//!
//! Wiring: OLED VCC to 3V3, GND to GND, SDA to GPIO5, SCL to GPIO6. The
//! board's BOOT button (GPIO9) cycles the digit asked for ("any digit",
//! then 0 to 9, shown at the top left) and draws new digits at once;
//! otherwise a new frame of the same digit appears every 3 seconds. (Hold
//! BOOT only after the firmware has started: held at reset it selects the
//! ROM's download mode.)
//!
//! The board layer only: clocks, pins, I2C, the `ssd1306` driver; the
//! program is `board_common::run_one_button`. What is
//! drawn comes from `firmware_app`, the same code as the other boards, the
//! simulator (`--display ssd1306`) and the web page; the runtime's portable
//! kernel runs here, bit-exact with every other target.
#![no_std]
#![no_main]

use board_common::stay;
use esp_hal::clock::CpuClock;
use esp_hal::delay::Delay;
use esp_hal::gpio::{Input, InputConfig, Pull};
use esp_hal::i2c::master::{Config as I2cConfig, I2c};
use esp_hal::time::Rate;
use ssd1306::{prelude::*, I2CDisplayInterface, Ssd1306};

esp_bootloader_esp_idf::esp_app_desc!();

#[panic_handler]
fn panic(_: &core::panic::PanicInfo) -> ! {
    stay()
}

#[esp_hal::main]
fn main() -> ! {
    let peripherals = esp_hal::init(esp_hal::Config::default().with_cpu_clock(CpuClock::max()));
    let delay = Delay::new();
    let boot = Input::new(
        peripherals.GPIO9,
        InputConfig::default().with_pull(Pull::Up),
    );
    let Ok(i2c) = I2c::new(
        peripherals.I2C0,
        I2cConfig::default().with_frequency(Rate::from_khz(400)),
    ) else {
        stay()
    };
    let i2c = i2c.with_sda(peripherals.GPIO5).with_scl(peripherals.GPIO6);

    let interface = I2CDisplayInterface::new(i2c);
    let mut display = Ssd1306::new(interface, DisplaySize128x64, DisplayRotation::Rotate0)
        .into_buffered_graphics_mode();
    // Without a working display there is nothing to show; keep trying.
    while display.init().is_err() {
        delay.delay_millis(500);
    }

    // The button is active low.
    board_common::run_one_button(
        &mut display,
        |d| {
            let _ = d.flush();
        },
        || boot.is_low(),
        |ms| delay.delay_millis(ms),
    )
}
