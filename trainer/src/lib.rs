//! The trainer library: data, model, training, evaluation and export.
//! The `trainer` binary is a command-line front end to it (`cli`, one
//! module per command); the tests use it directly.
//!
//! Floors, lowest first (a module imports only from floors below it;
//! `scripts/floors.py trainer/src` prints them and fails on a circle):
//! `data`, `layers`, `rng`, `folders`, `draw` (digits as a device draws
//! them) · `arch`, `sparse`, `fused` · `vae`, `run` (a run's record) ·
//! `objective`, `adam`, `prior`, `qat`, `images` · `eval`, `checkpoint`,
//! `judge`, `pictures` · `train`, `quantize`, `latent_filter` · `assess` (everything
//! measured about an exported model) · `card`, `table` (the quality
//! table), `quality` · `export` · `cli`.

pub mod adam;
pub mod arch;
pub mod assess;
pub mod card;
pub mod checkpoint;
pub mod cli;
pub mod data;
pub mod draw;
pub mod eval;
pub mod export;
pub mod folders;
pub mod fused;
pub mod images;
pub mod judge;
pub mod latent_filter;
pub mod layers;
pub mod objective;
pub mod pictures;
pub mod pixel_mask;
pub mod prior;
pub mod qat;
pub mod quality;
pub mod quantize;
pub mod rng;
pub mod run;
pub mod sparse;
pub mod table;
pub mod train;
pub mod vae;
