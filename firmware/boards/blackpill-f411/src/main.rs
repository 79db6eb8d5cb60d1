//! Firmware for the WeAct STM32F411 "Black Pill" (Cortex-M4F, 512 KiB
//! flash, 128 KiB RAM) with a 128 x 64 SSD1306 OLED on I2C1.
//!
//! Wiring: OLED VCC to 3V3, GND to GND, SCL to PB6, SDA to PB7 (most
//! SSD1306 breakout boards have their own pull-ups; the internal ones are
//! enabled too). The on-board KEY button (PA0) cycles the digit asked for
//! ("any digit", then 0 to 9, shown at the top left) and draws new digits at
//! once; otherwise a new frame of the same digit appears every 3 seconds.
//!
//! The board layer only: clocks, pins, I2C, the `ssd1306` driver; the
//! program is `board_common::run_one_button`. What is
//! drawn comes from `firmware_app`, the same code as the emulated board and
//! the simulator; on this monochrome display the digits are dithered.
#![no_std]
#![no_main]

use cortex_m_rt::entry;
use panic_halt as _;
use ssd1306::{prelude::*, I2CDisplayInterface, Ssd1306};
use stm32f4xx_hal::{pac, prelude::*, rcc::Config};

#[entry]
fn main() -> ! {
    let (Some(dp), Some(cp)) = (pac::Peripherals::take(), cortex_m::Peripherals::take()) else {
        loop {
            cortex_m::asm::wfi();
        }
    };
    // 25 MHz crystal on the Black Pill; run the core at 96 MHz.
    let mut rcc = dp.RCC.freeze(Config::hse(25.MHz()).sysclk(96.MHz()));
    let mut delay = cp.SYST.delay(&rcc.clocks);

    let gpioa = dp.GPIOA.split(&mut rcc);
    let key = gpioa.pa0.into_pull_up_input();
    let gpiob = dp.GPIOB.split(&mut rcc);
    let scl = gpiob.pb6.internal_pull_up(true);
    let sda = gpiob.pb7.internal_pull_up(true);
    let i2c = dp.I2C1.i2c((scl, sda), 400.kHz(), &mut rcc);

    let interface = I2CDisplayInterface::new(i2c);
    let mut display = Ssd1306::new(interface, DisplaySize128x64, DisplayRotation::Rotate0)
        .into_buffered_graphics_mode();
    // Without a working display there is nothing to show; keep trying.
    while display.init().is_err() {
        delay.delay_ms(500);
    }

    // The button is active low.
    board_common::run_one_button(
        &mut display,
        |d| {
            let _ = d.flush();
        },
        || key.is_low(),
        |ms| delay.delay_ms(ms),
    )
}
