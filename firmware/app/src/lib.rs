//! Board-independent application logic of the firmware, shared with the
//! desktop simulator so both draw the very same pixels:
//!
//! - [`display`]: the display kinds (size, name, colour type);
//! - [`layout`]: where digits go on a display of any size;
//! - [`gallery`]: the screen program: frames of fresh digits, latent
//!   interpolations, and the error screen for a model that fails validation;
//! - [`ssd0323`]: an embedded-graphics driver for the SSD0323 16-grey OLED
//!   controller (the one on the LM3S6965 evaluation board), over any
//!   embedded-hal SPI bus.
//!
//! A board is a thin layer around this crate: clocks, pins, the display
//! driver, `memory.x`, a runner.
#![no_std]
#![warn(missing_docs)]
#![forbid(unsafe_code)]

pub mod display;
pub mod gallery;
pub mod layout;
pub mod ssd0323;

pub use display::{ColorJob, DisplayKind, ScreenColor};
pub use gallery::{draw_error, step_class, wait_for_frame_or_click, Gallery, SCRATCH};
pub use layout::Layout;
