//! Helpers for the simulator tests.
#![allow(dead_code)]

use std::path::{Path, PathBuf};

/// Decodes a PNG to `(width, height, rgb)`.
pub fn decode_png(bytes: &[u8]) -> (usize, usize, Vec<u8>) {
    let mut reader = png::Decoder::new(std::io::Cursor::new(bytes))
        .read_info()
        .expect("PNG header");
    let mut buf = vec![0; reader.output_buffer_size()];
    let info = reader.next_frame(&mut buf).expect("PNG data");
    buf.truncate(info.buffer_size());
    let rgb = match info.color_type {
        png::ColorType::Rgb => buf,
        png::ColorType::Rgba => buf.chunks(4).flat_map(|p| [p[0], p[1], p[2]]).collect(),
        other => panic!("unexpected PNG colour type {other:?}"),
    };
    (info.width as usize, info.height as usize, rgb)
}

/// The committed model.
pub fn model_path() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../models/mcu.postcard")
}

/// Whether an outside tool is present; under `CI=true` a missing tool fails.
#[allow(unused_imports)] // not every test file needs it
pub use integration_tests::qemu::require_tool;
