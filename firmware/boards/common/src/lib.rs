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
//!   [`stay`].
#![no_std]

#[cfg(target_arch = "arm")]
pub mod clock;
#[cfg(all(feature = "semihosting", target_arch = "arm"))]
pub mod semihosting;

use runtime::{Aligned, Model, ModelError};

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
