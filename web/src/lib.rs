//! # The firmware's screen in a browser
//!
//! The same `no_std` runtime and screen program (`firmware_app::Gallery`)
//! that the boards and the simulator run, compiled to WebAssembly
//! (`wasm32-unknown-unknown`) and drawing into a canvas, so anyone can see
//! the digits without a toolchain or a board. Frame `F` of seed `S` asking
//! for digit `D` on display `K` is the same picture, pixel for pixel, as
//! `simulator --png --display K --seed S --digit D --frame F` and as the
//! board's screen.
//!
//! - [`canvas`]: a display in memory, shown as RGBA pixels of a display
//!   kind, and [`Screen`]: what is shown, rendered by the screen program;
//! - [`page`]: the page's requests in plain Rust (model, display name,
//!   seed, digit label), every failure a typed [`PageError`];
//! - [`viewer`]: the JavaScript interface (`wasm-bindgen`) over [`page`].
//!
//! `scripts/web.sh` builds the static site (HTML, this crate's `.wasm`, the
//! generated JS glue) and serves it on localhost.
#![deny(unsafe_code)]
#![warn(missing_docs)]

pub mod canvas;
pub mod page;
pub mod viewer;

/// The page makes a few allocations per frame (the canvas, its RGBA copy,
/// short strings) on one thread; a free list is enough, in an eighth of
/// std's allocator's code.
#[cfg(target_arch = "wasm32")]
#[global_allocator]
static ALLOCATOR: lol_alloc::LockedAllocator<lol_alloc::FreeListAllocator> =
    lol_alloc::LockedAllocator::new(lol_alloc::FreeListAllocator::new());

pub use canvas::{GreyCanvas, Screen};
pub use page::{Page, PageError, BUILTIN_MODEL};
