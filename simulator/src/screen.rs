//! Simulated displays and headless rendering.

use std::path::Path;

use anyhow::{Context, Result};
use embedded_graphics::pixelcolor::Rgb888;
use embedded_graphics::prelude::*;
use embedded_graphics_simulator::{OutputSettings, OutputSettingsBuilder, SimulatorDisplay};
use firmware_app::{ColorJob, Gallery};
use runtime::Model;

/// Widest hidden layer the simulator accepts (as the firmware).
pub use firmware_app::SCRATCH;

pub use firmware_app::DisplayKind;

/// Magnification of display `kind` in the window.
pub fn window_scale(kind: DisplayKind) -> u32 {
    match kind {
        DisplayKind::Oled | DisplayKind::Ssd1306 => 4,
        DisplayKind::Color => 2,
    }
}

/// `--display NAME`: a display kind by its name.
pub fn parse_display(name: &str) -> Result<DisplayKind, String> {
    DisplayKind::from_name(name).ok_or_else(|| {
        let names: Vec<&str> = DisplayKind::ALL.iter().map(|k| k.name()).collect();
        format!(
            "no display kind `{name}`: expected one of {}",
            names.join(", ")
        )
    })
}

/// Output settings: `scale` screen pixels per display pixel, no gaps.
pub fn output_settings(scale: u32) -> OutputSettings {
    OutputSettingsBuilder::new()
        .scale(scale.max(1))
        .pixel_spacing(0)
        .build()
}

/// A colour a simulated display can have: the firmware app draws it, the
/// window shows it and PNGs store it as RGB.
pub use firmware_app::ScreenColor as SimColor;

/// Work done on a simulated display of any colour type; [`run_on`] chooses
/// the type.
pub trait OnDisplay {
    /// What the work returns.
    type Output;
    /// Does the work on `display`, a blank display of kind `kind`.
    fn run<C: SimColor>(self, display: SimulatorDisplay<C>, kind: DisplayKind) -> Self::Output;
}

/// Runs `work` on a blank simulator display of kind `kind` (its colour type
/// chosen by [`DisplayKind::with_color`]).
pub fn run_on<W: OnDisplay>(kind: DisplayKind, work: W) -> W::Output {
    kind.with_color(Blank(work))
}

/// [`OnDisplay`] work as a [`ColorJob`]: makes the blank display first.
struct Blank<W>(W);

impl<W: OnDisplay> ColorJob for Blank<W> {
    type Output = W::Output;

    fn run<C: SimColor>(self, kind: DisplayKind) -> W::Output {
        // Black, as a frame clears to.
        let black = C::from_grey(0, Point::zero());
        self.0.run(
            SimulatorDisplay::with_default_color(kind.size(), black),
            kind,
        )
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
        format!(
            "--digit {label}: the model has no class prior, so it cannot draw a requested digit"
        )
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
    run_on(
        kind,
        Render {
            model,
            seed,
            frame,
            class,
        },
    )
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
