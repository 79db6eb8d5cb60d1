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

/// A colour a simulated display can have: the firmware app draws it
/// ([`FromGrey`]), the window shows it and PNGs store it as RGB.
pub trait SimColor: PixelColor + FromGrey + Into<Rgb888> + From<Rgb888> {}

impl<C: PixelColor + FromGrey + Into<Rgb888> + From<Rgb888>> SimColor for C {}

/// Work done on a simulated display of any colour type; [`DisplayKind::run`]
/// chooses the type.
pub trait OnDisplay {
    /// What the work returns.
    type Output;
    /// Does the work on `display`, a blank display of kind `kind`.
    fn run<C: SimColor>(self, display: SimulatorDisplay<C>, kind: DisplayKind) -> Self::Output;
}

impl DisplayKind {
    /// Runs `work` on a blank display of this kind: the one place where the
    /// display kind becomes a colour type.
    pub fn run<W: OnDisplay>(self, work: W) -> W::Output {
        match self {
            DisplayKind::Oled => work.run(SimulatorDisplay::<Gray4>::new(self.size()), self),
            DisplayKind::Ssd1306 => {
                work.run(SimulatorDisplay::<BinaryColor>::new(self.size()), self)
            }
            DisplayKind::Color => work.run(SimulatorDisplay::<Rgb565>::new(self.size()), self),
        }
    }
}

/// A screen as RGB: what a PNG or a screenshot holds.
pub struct Frame {
    rgb: SimulatorDisplay<Rgb888>,
}

impl Frame {
    /// The RGB picture of `display` (each pixel through `Into<Rgb888>`, as
    /// the simulator's own output does).
    pub fn of<C: SimColor>(display: &SimulatorDisplay<C>) -> Frame {
        let mut rgb = SimulatorDisplay::<Rgb888>::new(display.size());
        // Drawing on a simulator display cannot fail.
        let _ = rgb.draw_iter(
            display
                .bounding_box()
                .points()
                .map(|p| Pixel(p, display.get_pixel(p).into())),
        );
        Frame { rgb }
    }

    /// The picture as a PNG file, `scale` screen pixels per display pixel.
    pub fn png_bytes(&self, scale: u32) -> Result<Vec<u8>> {
        let image = self.rgb.to_rgb_output_image(&output_settings(scale));
        let tmp = tempfile::Builder::new().suffix(".png").tempfile()?;
        image.save_png(tmp.path()).context("encoding PNG")?;
        Ok(std::fs::read(tmp.path())?)
    }

    /// The colour of display pixel `p`.
    pub fn rgb(&self, p: Point) -> Rgb888 {
        self.rgb.get_pixel(p)
    }
}

/// Reads a model file, naming the file in any error (validate it with
/// [`load_model`]).
pub fn read_model_file(path: &Path) -> Result<Vec<u8>> {
    std::fs::read(path).with_context(|| format!("cannot read model {}", path.display()))
}

/// Validates the model in `bytes`, read from `path` (named in the error).
pub fn load_model<'a>(bytes: &'a [u8], path: &Path) -> Result<Model<'a>> {
    Model::from_bytes(bytes).with_context(|| format!("{} is not a valid model", path.display()))
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
    kind.run(Render {
        model,
        seed,
        frame,
        class,
    })
}

/// The gallery of `model` for a display of `size`, asking for `class`.
pub fn gallery<'m>(
    model: &'m Model<'m>,
    seed: u64,
    size: Size,
    class: Option<usize>,
) -> Result<Gallery<'m, SCRATCH>> {
    let mut gallery = Gallery::<SCRATCH>::new(model, seed, size)
        .map_err(|e| anyhow::anyhow!("the model does not fit the simulator: {e}"))?;
    gallery.set_class(class);
    Ok(gallery)
}

/// [`render_class`] on a display of any colour type.
struct Render<'m> {
    model: &'m Model<'m>,
    seed: u64,
    frame: u32,
    class: Option<usize>,
}

impl OnDisplay for Render<'_> {
    type Output = Result<Frame>;

    fn run<C: SimColor>(
        self,
        mut display: SimulatorDisplay<C>,
        kind: DisplayKind,
    ) -> Result<Frame> {
        let mut gallery = gallery(self.model, self.seed, kind.size(), self.class)?;
        for _ in 0..=self.frame {
            // Drawing on a simulator display cannot fail.
            let _ = gallery.draw_frame(&mut display);
        }
        Ok(Frame::of(&display))
    }
}
