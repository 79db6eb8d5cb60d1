//! What only a host uses (feature `std`, never on a device): turning a
//! float decoder and prior into this crate's format, the f64 reference
//! decoder the tests hold the integer decoder to, and atomic file writes
//! for the tools that save models and pictures.
//!
//! - [`quantize`]: post-training quantization of a float decoder;
//! - [`quantize_prior`]: the latent prior in the file's integer form;
//! - [`float_decoder`]: the float decoder, run in f64;
//! - [`atomic_file`]: write a file so that a reader never sees half of it.

pub mod atomic_file;
pub mod float_decoder;
pub mod quantize;
pub mod quantize_prior;
