//! What every board firmware shares, so that a board is only its clocks,
//! pins, display driver, `memory.x` and runner:
//!
//! - [`MODEL_BYTES`]: the model, linked into flash and used in place (by
//!   default the committed `models/mcu.postcard`; a build takes another from
//!   `FIRMWARE_MODEL=path`);
//! - [`SCRATCH`]: the widest hidden layer a board accepts;
//! - `clock` (Cortex-M): a 64-bit SysTick tick count;
//! - `semihosting` (feature `semihosting`): console, command line, exit code;
//! - [`load_model`]: load and validate the model, or show why not and
//!   [`stay`];
//! - [`run_one_button`]: the whole program of a board with a display and
//!   one button (Black Pill, Pico, ESP32-C3), once its pins are set up.
#![no_std]

#[cfg(target_arch = "arm")]
pub mod clock;
#[cfg(all(feature = "semihosting", target_arch = "arm"))]
pub mod semihosting;

use embedded_graphics::prelude::{DrawTarget, OriginDimensions};
use firmware_app::{draw_error, wait_for_frame_or_click, Gallery};
use runtime::{Aligned, FromGrey, Model, ModelError};

/// The model, linked into flash and used in place.
pub static MODEL_BYTES: &Aligned<[u8]> =
    &Aligned(*include_bytes!(concat!(env!("OUT_DIR"), "/model.postcard")));

/// Widest hidden layer the boards accept (decoder scratch: 2 x 256 i16),
/// the same as the simulator's and the web page's.
pub use firmware_app::SCRATCH;

/// Loads and validates [`MODEL_BYTES`]. On failure, hands the error to
/// `show` (draw it, print it) and then stays, so the error remains on screen.
pub fn load_model(show: impl FnOnce(&ModelError)) -> Model<'static> {
    match Model::from_bytes(&MODEL_BYTES.0) {
        Ok(model) => model,
        Err(error) => {
            show(&error);
            stay()
        }
    }
}

/// Stays here for good, with what is on screen: sleeping until an
/// interrupt on Cortex-M (`wfi`), spinning elsewhere.
pub fn stay() -> ! {
    loop {
        #[cfg(target_arch = "arm")]
        cortex_m::asm::wfi();
        #[cfg(not(target_arch = "arm"))]
        core::hint::spin_loop();
    }
}

/// Seed of a board's first frame; every frame continues the same sequence.
pub const SEED: u64 = 1;
/// Milliseconds between two frames on a board that is left alone.
pub const FRAME_MS: u32 = 3000;

/// What a board with a display and one button does, for good: loads the
/// model (or shows why not and stays), then draws a frame of digits every
/// [`FRAME_MS`], and on a click of the button asks for the next digit
/// ("any", 0 ... 9) at once. `show` sends the frame to the panel (a
/// buffered driver's flush), `pressed` reads the button, `delay_ms` sleeps.
// Inlined into the board's `main`, as when each board wrote this loop itself:
// kept apart, the Black Pill's clock set-up stopped being inlined (+2.3 KB).
#[inline(always)]
pub fn run_one_button<D>(
    display: &mut D,
    mut show: impl FnMut(&mut D),
    mut pressed: impl FnMut() -> bool,
    mut delay_ms: impl FnMut(u32),
) -> !
where
    D: DrawTarget + OriginDimensions,
    D::Color: FromGrey,
{
    let model = load_model(|error| {
        let _ = draw_error(display, error);
        show(display);
    });
    let Ok(mut gallery) = Gallery::<SCRATCH>::new(&model, SEED, display.size()) else {
        stay()
    };
    loop {
        let _ = gallery.draw_frame(display);
        show(display);
        wait_for_frame_or_click(&mut gallery, FRAME_MS, &mut pressed, &mut delay_ms);
    }
}
