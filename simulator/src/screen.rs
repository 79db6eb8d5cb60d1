//! Simulated displays and headless rendering.

use std::path::Path;

use anyhow::{Context, Result};
use embedded_graphics::pixelcolor::{BinaryColor, Gray4, Rgb565, Rgb888};
use embedded_graphics::prelude::*;
use embedded_graphics_simulator::{OutputSettings, OutputSettingsBuilder, SimulatorDisplay};
use firmware_app::Gallery;
use runtime::{FromGrey, Model};

/// Widest hidden layer the simulator accepts (as the firmware).
pub const SCRATCH: usize = 256;

/// The displays the simulator can show.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum DisplayKind {
    /// 128x64, 16 greys: the SSD0323 OLED of the emulated LM3S6965 board.
    Oled,
    /// 128x64 monochrome SSD1306 OLED (the Black Pill board): dithered.
    Ssd1306,
    /// 320x240 RGB565 colour screen (ILI9341 class).
    Color,
}

impl DisplayKind {
    /// Size in pixels.
    pub fn size(self) -> Size {
        match self {
            DisplayKind::Oled | DisplayKind::Ssd1306 => Size::new(128, 64),
            DisplayKind::Color => Size::new(320, 240),
        }
    }

    /// Magnification used for the window.
    pub fn window_scale(self) -> u32 {
        match self {
            DisplayKind::Oled | DisplayKind::Ssd1306 => 4,
            DisplayKind::Color => 2,
        }
    }
}

/// Output settings: `scale` screen pixels per display pixel, no gaps.
pub fn output_settings(scale: u32) -> OutputSettings {
    OutputSettingsBuilder::new()
        .scale(scale.max(1))
        .pixel_spacing(0)
        .build()
}

/// A simulated display in one of the supported colour types.
pub enum Frame {
    /// 16 greys.
    Gray4(SimulatorDisplay<Gray4>),
    /// Monochrome.
    Binary(SimulatorDisplay<BinaryColor>),
    /// Colour.
    Rgb565(SimulatorDisplay<Rgb565>),
}

impl Frame {
    /// A blank display of `kind`.
    pub fn new(kind: DisplayKind) -> Frame {
        match kind {
            DisplayKind::Oled => Frame::Gray4(SimulatorDisplay::new(kind.size())),
            DisplayKind::Ssd1306 => Frame::Binary(SimulatorDisplay::new(kind.size())),
            DisplayKind::Color => Frame::Rgb565(SimulatorDisplay::new(kind.size())),
        }
    }

    /// Runs `f` on the display whatever its colour type.
    pub fn draw_with(&mut self, f: &mut dyn FnMut(&mut dyn FrameTarget)) {
        match self {
            Frame::Gray4(d) => f(d),
            Frame::Binary(d) => f(d),
            Frame::Rgb565(d) => f(d),
        }
    }

    /// The display as RGB pixels at `scale`.
    pub fn png_bytes(&self, scale: u32) -> Result<Vec<u8>> {
        let settings = output_settings(scale);
        let image = match self {
            Frame::Gray4(d) => d.to_rgb_output_image(&settings),
            Frame::Binary(d) => d.to_rgb_output_image(&settings),
            Frame::Rgb565(d) => d.to_rgb_output_image(&settings),
        };
        let tmp = tempfile::Builder::new().suffix(".png").tempfile()?;
        image.save_png(tmp.path()).context("encoding PNG")?;
        Ok(std::fs::read(tmp.path())?)
    }

    /// The colour of display pixel `p` as RGB.
    pub fn rgb(&self, p: Point) -> Rgb888 {
        match self {
            Frame::Gray4(d) => d.get_pixel(p).into(),
            Frame::Binary(d) => d.get_pixel(p).into(),
            Frame::Rgb565(d) => d.get_pixel(p).into(),
        }
    }
}

/// What the screen program needs from a display, for any colour type.
pub trait FrameTarget {
    /// Draws the gallery's next frame.
    fn gallery_frame(&mut self, gallery: &mut Gallery<'_, SCRATCH>);
    /// Draws an interpolation step.
    fn interpolation(
        &mut self,
        gallery: &mut Gallery<'_, SCRATCH>,
        a: &runtime::Latent,
        b: &runtime::Latent,
        step: u32,
        steps: u32,
    );
    /// Draws the error screen.
    fn error(&mut self, error: &runtime::ModelError);
}

impl<C> FrameTarget for SimulatorDisplay<C>
where
    C: FromGrey + Into<Rgb888> + From<Rgb888>,
{
    fn gallery_frame(&mut self, gallery: &mut Gallery<'_, SCRATCH>) {
        // Drawing on a simulator display cannot fail.
        let _ = gallery.draw_frame(self);
    }

    fn interpolation(
        &mut self,
        gallery: &mut Gallery<'_, SCRATCH>,
        a: &runtime::Latent,
        b: &runtime::Latent,
        step: u32,
        steps: u32,
    ) {
        let _ = gallery.draw_interpolation(self, a, b, step, steps);
    }

    fn error(&mut self, error: &runtime::ModelError) {
        let _ = firmware_app::draw_error(self, error);
    }
}

/// Reads and validates a model file, naming the file in any error.
pub fn load_model_bytes(path: &Path) -> Result<Vec<u8>> {
    let bytes =
        std::fs::read(path).with_context(|| format!("cannot read model {}", path.display()))?;
    Model::from_bytes(&bytes)
        .with_context(|| format!("{} is not a valid model", path.display()))?;
    Ok(bytes)
}

/// Renders frame `frame` (0-based: frames 0..=frame are drawn in order, as
/// the firmware does) of the gallery seeded with `seed`.
pub fn render(model: &Model<'_>, kind: DisplayKind, seed: u64, frame: u32) -> Result<Frame> {
    render_class(model, kind, seed, frame, None)
}

/// The prior class of `model` labelled `label`, with an error naming the
/// labels there are.
pub fn class_of(model: &Model<'_>, label: &str) -> Result<usize> {
    let prior = model.prior().with_context(|| {
        format!("--digit {label}: the model has no class prior (format version 2), so it cannot draw a requested digit")
    })?;
    prior.class_of(label).with_context(|| {
        let labels: Vec<&str> = (0..prior.classes())
            .filter_map(|k| prior.label(k))
            .collect();
        format!(
            "--digit {label}: the model's classes are {}",
            labels.join(", ")
        )
    })
}

/// As [`render`], with the gallery asking for prior class `class`.
pub fn render_class(
    model: &Model<'_>,
    kind: DisplayKind,
    seed: u64,
    frame: u32,
    class: Option<usize>,
) -> Result<Frame> {
    let mut gallery = Gallery::<SCRATCH>::new(model, seed, kind.size())
        .map_err(|e| anyhow::anyhow!("the model does not fit the simulator: {e}"))?;
    gallery.set_class(class);
    let mut display = Frame::new(kind);
    for _ in 0..=frame {
        display.draw_with(&mut |d| d.gallery_frame(&mut gallery));
    }
    Ok(display)
}

/// Writes `bytes` to `path` atomically (temporary file, then rename).
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let mut tmp = tempfile::Builder::new()
        .prefix(".tmp-")
        .tempfile_in(dir)
        .with_context(|| format!("cannot write in {}", dir.display()))?;
    std::io::Write::write_all(&mut tmp, bytes)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        tmp.as_file()
            .set_permissions(std::fs::Permissions::from_mode(0o644))?;
    }
    tmp.persist(path)
        .map_err(|e| e.error)
        .with_context(|| format!("cannot write {}", path.display()))?;
    Ok(())
}
