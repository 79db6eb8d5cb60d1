//! Pictures: digit grids as PNG and the loss curve (plotters).

use std::path::Path;

use anyhow::{Context, Result};
use plotters::prelude::*;

use crate::data::SIDE;
use crate::run::EpochMetrics;
use runtime::host::atomic_file::write_atomic_creating_dirs;

/// Encodes an 8-bit greyscale image as PNG.
pub fn png_gray(width: usize, height: usize, pixels: &[u8]) -> Result<Vec<u8>> {
    let mut out = Vec::new();
    {
        let mut enc = png::Encoder::new(&mut out, width as u32, height as u32);
        enc.set_color(png::ColorType::Grayscale);
        enc.set_depth(png::BitDepth::Eight);
        let mut writer = enc.write_header()?;
        writer.write_image_data(pixels)?;
    }
    Ok(out)
}

/// Lays out 28x28 digits in a grid of `cols` columns, each magnified
/// `scale` times, with a 2-pixel dark-grey border, and encodes it as PNG.
pub fn digit_grid_png(digits: &[Vec<u8>], cols: usize, scale: usize) -> Result<Vec<u8>> {
    let cols = cols.max(1);
    let rows = digits.len().div_ceil(cols).max(1);
    let cell = SIDE * scale + 2;
    let (w, h) = (cols * cell + 2, rows * cell + 2);
    let mut pixels = vec![48u8; w * h];
    for (n, digit) in digits.iter().enumerate() {
        let (ox, oy) = ((n % cols) * cell + 2, (n / cols) * cell + 2);
        for y in 0..SIDE * scale {
            for x in 0..SIDE * scale {
                pixels[(oy + y) * w + ox + x] = digit[(y / scale) * SIDE + x / scale];
            }
        }
    }
    png_gray(w, h, &pixels)
}

/// Writes a digit grid to `path` atomically.
pub fn save_grid(path: &Path, digits: &[Vec<u8>], cols: usize, scale: usize) -> Result<()> {
    Ok(write_atomic_creating_dirs(
        path,
        &digit_grid_png(digits, cols, scale)?,
    )?)
}

/// Plots train and test negative ELBO per epoch to a PNG at `path`.
pub fn save_loss_curve(path: &Path, title: &str, history: &[EpochMetrics]) -> Result<()> {
    static FONT: std::sync::Once = std::sync::Once::new();
    FONT.call_once(|| {
        // Embedded DejaVu Sans: no system fonts needed.
        let _ = plotters::style::register_font(
            "sans-serif",
            FontStyle::Normal,
            dejavu::sans::regular(),
        );
    });
    let (w, h) = (800u32, 500u32);
    let mut buf = vec![0u8; (w * h * 3) as usize];
    {
        let root = BitMapBackend::with_buffer(&mut buf, (w, h)).into_drawing_area();
        root.fill(&WHITE)?;
        let values = history.iter().flat_map(|m| [m.train_nelbo, m.test_nelbo]);
        let lo = values.clone().fold(f64::INFINITY, f64::min);
        let hi = values.fold(f64::NEG_INFINITY, f64::max);
        let (lo, hi) = if lo.is_finite() {
            (lo - 1.0, hi + 1.0)
        } else {
            (0.0, 1.0)
        };
        let epochs = history.len().max(1) as f64;
        let mut chart = ChartBuilder::on(&root)
            .caption(title, ("sans-serif", 22))
            .margin(12)
            .x_label_area_size(40)
            .y_label_area_size(60)
            .build_cartesian_2d(0.5f64..epochs + 0.5, lo..hi)?;
        chart
            .configure_mesh()
            .x_desc("epoch")
            .y_desc("negative ELBO (nats/image)")
            .draw()?;
        let series =
            |f: fn(&EpochMetrics) -> f64| history.iter().map(move |m| (m.epoch as f64, f(m)));
        chart
            .draw_series(LineSeries::new(
                series(|m| m.train_nelbo),
                BLUE.stroke_width(2),
            ))?
            .label("train")
            .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], BLUE));
        chart
            .draw_series(LineSeries::new(
                series(|m| m.test_nelbo),
                RED.stroke_width(2),
            ))?
            .label("test")
            .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], RED));
        chart
            .configure_series_labels()
            .border_style(BLACK)
            .background_style(WHITE)
            .draw()?;
        root.present()?;
    }
    let mut out = Vec::new();
    {
        let mut enc = png::Encoder::new(&mut out, w, h);
        enc.set_color(png::ColorType::Rgb);
        enc.set_depth(png::BitDepth::Eight);
        enc.write_header()?
            .write_image_data(&buf)
            .context("encoding the loss curve")?;
    }
    Ok(write_atomic_creating_dirs(path, &out)?)
}
