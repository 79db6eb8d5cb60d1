//! # runtime: an integer VAE decoder for microcontrollers
//!
//! `#![no_std]`, no heap, no floating point on the decode path, and no
//! `unsafe` outside the hand-written Cortex-M kernels in `kernels::asm`
//! (and, on x86-64 hosts, the call into an AVX2 build in `kernels::x86`)
//! (each with a safe twin that host tests prove bit-identical).
//! It loads a quantized decoder straight from flash ([`Model::from_bytes`]
//! borrows, never copies), samples latents from N(0, I) with a seeded PRNG
//! ([`LatentSampler`]), runs the integer network ([`Decoder`]) and draws the
//! digit on any embedded-graphics display ([`GrayImage::view`]).
//! Every target, from a Cortex-M0 to x86_64, produces the same pixels for the
//! same seed and model.
//!
//! ```
//! use embedded_graphics::{mock_display::MockDisplay, pixelcolor::Gray8, prelude::*};
//! use runtime::prelude::*;
//!
//! # let model_bytes = runtime::testing::tiny_model_bytes();
//! // On a device: `static MODEL: &[u8] = include_bytes!("../models/mcu.postcard");`
//! let model = Model::from_bytes(&model_bytes)?;        // validated, zero-copy
//! let mut decoder = Decoder::<64>::new(&model)?;       // 2 x 64 i16 of scratch
//! let mut sampler = LatentSampler::new(42);            // seeded: reproducible
//! let z = sampler.sample(model.latent_dim());
//! let mut digit = Digit::new();
//! decoder.decode(&z, &mut digit)?;
//! let mut display = MockDisplay::<Gray8>::new();
//! digit.view(Point::zero(), 2).draw(&mut display)?;    // 56 x 56 pixels
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! The file format is specified in `docs/model-format.md`.
//!
//! Feature `std` (host only) adds [`host`]: post-training quantization of
//! a float decoder and prior into this format, the f64 reference decoder,
//! and atomic file writes. Devices never build it.
#![no_std]
#![deny(unsafe_code)]
#![warn(missing_docs)]
#![cfg_attr(
    not(test),
    deny(
        clippy::indexing_slicing,
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::panic,
        clippy::unreachable,
        clippy::todo
    )
)]

#[cfg(any(test, feature = "std"))]
extern crate std;

mod aligned;
pub mod crc32;
mod decoder;
mod draw;
mod error;
pub mod filter;
pub mod format;
mod image;
pub mod kernels;
mod latent;
pub mod layout;

mod model;
pub mod normal;
pub mod prior;
mod prng;
pub mod requant;
pub mod sigmoid;

#[cfg(feature = "std")]
pub mod host;

#[doc(hidden)]
pub mod testing;

/// What an application uses: load a model, draw latents, decode, draw the
/// digit. `use runtime::prelude::*;`
pub mod prelude {
    pub use crate::{
        Aligned, DecodeError, Decoder, Digit, FromGrey, GrayImage, ImageView, Latent,
        LatentSampler, Model, ModelError, PriorView,
    };
}

pub use aligned::Aligned;
pub use decoder::Decoder;
pub use draw::{FromGrey, ImageView};
pub use error::{DecodeError, Field, ModelError, PriorField};
pub use format::{ClassPrior, Drawing, LatentFilter, PixelMask, Prior};
pub use image::{Digit, GrayImage};
pub use latent::{Latent, LatentSampler};
pub use model::{Model, WriteError};
pub use prior::PriorView;
pub use prng::Rng;
