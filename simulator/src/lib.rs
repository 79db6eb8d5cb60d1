//! The desktop simulator: the firmware's screen program
//! ([`firmware_app::Gallery`]) drawn unchanged on an
//! `embedded-graphics-simulator` display, shown in a window or saved as PNG.

pub mod screen;
pub mod window;

pub use screen::{DisplayKind, Frame};
