//! The screen program: every frame fills the layout with fresh digits
//! sampled from the model, or steps through a latent interpolation.

use core::fmt::Write;

use embedded_graphics::mono_font::{
    ascii::{FONT_10X20, FONT_6X10},
    MonoTextStyle,
};
use embedded_graphics::prelude::*;
use embedded_graphics::text::{Baseline, Text};
use runtime::{DecodeError, Decoder, Digit, FromGrey, Latent, LatentSampler, Model, ModelError};

use crate::layout::Layout;

/// Widest hidden layer the screen program is built for on the boards, in
/// the simulator and on the web page: the decoder's scratch is 2 x 256 i16.
pub const SCRATCH: usize = 256;

/// Draws frames of generated digits. `W` is the decoder's scratch capacity
/// (the widest hidden layer it accepts).
///
/// Frame `n` of a gallery seeded with `s` is the same on every board and in
/// the simulator: cells are filled in row-major order, each with the next
/// latent from `LatentSampler::new(s)`.
///
/// ```
/// use embedded_graphics::{mock_display::MockDisplay, pixelcolor::Gray4, prelude::*};
/// # let bytes = runtime::testing::tiny_model_bytes();
/// let model = runtime::Model::from_bytes(&bytes).unwrap();
/// let mut display = MockDisplay::<Gray4>::new(); // 64 x 64
/// display.set_allow_overdraw(true); // a frame clears, then draws
/// let mut gallery = firmware_app::Gallery::<8>::new(&model, 42, display.size()).unwrap();
/// gallery.draw_frame(&mut display).unwrap();
/// ```
pub struct Gallery<'m, const W: usize> {
    decoder: Decoder<'m, W>,
    sampler: LatentSampler,
    layout: Layout,
    digit: Digit,
    frame: u32,
    class: Option<usize>,
}

impl<'m, const W: usize> Gallery<'m, W> {
    /// A gallery for `model` on a display of `size`, seeded with `seed`.
    pub fn new(model: &'m Model<'m>, seed: u64, size: Size) -> Result<Self, DecodeError> {
        Self::with_layout(model, seed, Layout::auto(size))
    }

    /// A gallery with an explicit layout.
    pub fn with_layout(
        model: &'m Model<'m>,
        seed: u64,
        layout: Layout,
    ) -> Result<Self, DecodeError> {
        let decoder = Decoder::new(model)?;
        let expected = Digit::WIDTH * Digit::HEIGHT;
        if model.pixel_count() != expected {
            return Err(DecodeError::ImageSize {
                expected: model.pixel_count(),
                found: expected,
            });
        }
        Ok(Gallery {
            decoder,
            sampler: LatentSampler::new(seed),
            layout,
            digit: Digit::new(),
            frame: 0,
            class: None,
        })
    }

    /// The layout in use.
    pub fn layout(&self) -> Layout {
        self.layout
    }

    /// Frames drawn so far.
    pub fn frames_drawn(&self) -> u32 {
        self.frame
    }

    /// Asks for digits of prior class `class` (`None`: any digit, drawn
    /// from the prior's mixture). Ignored (stays `None`) for a model
    /// without a class prior or a class it does not have.
    pub fn set_class(&mut self, class: Option<usize>) {
        let classes = self.classes();
        self.class = class.filter(|&k| k < classes);
    }

    /// The class being asked for, if any.
    pub fn class(&self) -> Option<usize> {
        self.class
    }

    /// Number of classes the model's prior has (0 without a prior).
    pub fn classes(&self) -> usize {
        self.decoder.model().prior().map_or(0, |p| p.classes())
    }

    /// Draws the next latent from the sampler: from the model's prior for
    /// the requested class, or unconditionally (see `LatentSampler::draw`).
    pub fn next_latent(&mut self) -> Latent {
        self.sampler.draw(self.decoder.model(), self.class)
    }

    /// Decodes `latent` and draws it in cell `cell`.
    pub fn draw_latent<D, C>(
        &mut self,
        display: &mut D,
        latent: &Latent,
        cell: u32,
    ) -> Result<(), D::Error>
    where
        D: DrawTarget<Color = C>,
        C: FromGrey,
    {
        // Sizes were checked in `with_layout`; a failure here cannot happen,
        // and would leave the cell as it was rather than stop the device.
        if self.decoder.decode(latent, &mut self.digit).is_ok() {
            self.digit
                .view(self.layout.cell(cell), self.layout.scale)
                .draw(display)?;
        }
        Ok(())
    }

    /// Clears the display and fills every cell with a fresh digit. When a
    /// class is asked for, its label is written in white text at the top
    /// left, in the margin beside the digits: 10x20 where the margin has
    /// room for it, else 6x10.
    pub fn draw_frame<D, C>(&mut self, display: &mut D) -> Result<(), D::Error>
    where
        D: DrawTarget<Color = C>,
        C: FromGrey,
    {
        display.clear(C::from_grey(0, Point::zero()))?;
        let label = self
            .class
            .and_then(|k| self.decoder.model().prior().and_then(|p| p.label(k)));
        if let Some(label) = label {
            let font = if self.layout.origin.x >= 12 {
                &FONT_10X20
            } else {
                &FONT_6X10
            };
            let style = MonoTextStyle::new(font, C::from_grey(255, Point::zero()));
            let at = Point::new(1, self.layout.origin.y);
            Text::with_baseline(label, at, style, Baseline::Top).draw(display)?;
        }
        for cell in 0..self.layout.cells() {
            let z = self.next_latent();
            self.draw_latent(display, &z, cell)?;
        }
        self.frame += 1;
        Ok(())
    }

    /// Moves on `frames` frames without drawing them: the next
    /// [`Gallery::draw_frame`] draws what it would have drawn after
    /// `frames` more calls. Cheap (latents only, no decoding), so a viewer
    /// can jump to frame 1,000 of a seed without drawing the 999 before.
    pub fn skip_frames(&mut self, frames: u32) {
        for _ in 0..frames {
            for _ in 0..self.layout.cells() {
                self.next_latent();
            }
            self.frame += 1;
        }
    }

    /// Draws step `step` of `steps` of the interpolation from `a` to `b` in
    /// cell 0, and the two end points in the last cells when there is room.
    pub fn draw_interpolation<D, C>(
        &mut self,
        display: &mut D,
        a: &Latent,
        b: &Latent,
        step: u32,
        steps: u32,
    ) -> Result<(), D::Error>
    where
        D: DrawTarget<Color = C>,
        C: FromGrey,
    {
        display.clear(C::from_grey(0, Point::zero()))?;
        let z = Latent::lerp(a, b, step, steps);
        self.draw_latent(display, &z, 0)?;
        let cells = self.layout.cells();
        if cells >= 3 {
            self.draw_latent(display, a, cells - 2)?;
            self.draw_latent(display, b, cells - 1)?;
        }
        self.frame += 1;
        Ok(())
    }
}

/// The class after moving `step` places (+1 next, -1 previous, 0 stay)
/// through the cycle "any digit", class 0, 1, ..., `classes - 1`, wrapping
/// around. A model without classes stays at "any".
///
/// ```
/// use firmware_app::step_class;
/// assert_eq!(step_class(None, 10, 1), Some(0));
/// assert_eq!(step_class(Some(9), 10, 1), None);
/// assert_eq!(step_class(None, 10, -1), Some(9));
/// assert_eq!(step_class(Some(4), 10, 0), Some(4));
/// assert_eq!(step_class(None, 0, 1), None);
/// ```
pub fn step_class(class: Option<usize>, classes: usize, step: i32) -> Option<usize> {
    // Position in the cycle: 0 is "any", k + 1 is class k.
    let n = classes as i64 + 1;
    let at = class.map_or(0, |k| k as i64 + 1);
    let next = (at + i64::from(step)).rem_euclid(n);
    if next == 0 {
        None
    } else {
        usize::try_from(next - 1).ok()
    }
}

/// What a one-button board (Black Pill, Pico, ESP32-C3) does between two
/// frames: waits `frame_ms` milliseconds, polling the button every 10 ms;
/// a click (pressed, then released) moves the gallery to the next digit
/// ("any", 0 ... 9, see [`step_class`]) and ends the wait at once, so the
/// next frame shows it. `pressed` reads the button, `delay_ms` sleeps.
///
/// ```
/// # let bytes = runtime::testing::tiny_model_bytes();
/// # let model = runtime::Model::from_bytes(&bytes).unwrap();
/// # let size = embedded_graphics::prelude::Size::new(64, 64);
/// let mut gallery = firmware_app::Gallery::<8>::new(&model, 1, size).unwrap();
/// // No click: the whole frame time passes, the digit stays.
/// let mut slept = 0;
/// firmware_app::wait_for_frame_or_click(&mut gallery, 3000, || false, |ms| slept += ms);
/// assert_eq!((slept, gallery.class()), (3000, None));
/// ```
pub fn wait_for_frame_or_click<const W: usize>(
    gallery: &mut Gallery<'_, W>,
    frame_ms: u32,
    mut pressed: impl FnMut() -> bool,
    mut delay_ms: impl FnMut(u32),
) {
    for _ in 0..frame_ms / 10 {
        if pressed() {
            // Acted on when released, so one click is one step.
            while pressed() {
                delay_ms(10);
            }
            let next = step_class(gallery.class(), gallery.classes(), 1);
            gallery.set_class(next);
            return;
        }
        delay_ms(10);
    }
}

/// Shows why the model was refused: a title and the error, wrapped to the
/// display width, in white 6x10 text on black. Never panics.
pub fn draw_error<D, C>(display: &mut D, error: &ModelError) -> Result<(), D::Error>
where
    D: DrawTarget<Color = C>,
    C: FromGrey,
{
    display.clear(C::from_grey(0, Point::zero()))?;
    let style = MonoTextStyle::new(&FONT_6X10, C::from_grey(255, Point::zero()));
    let mut message: heapless::String<192> = heapless::String::new();
    let _ = write!(message, "{error}"); // truncated if longer: still readable
    let cols = (display.bounding_box().size.width / 6).max(1) as usize;
    Text::with_baseline("MODEL ERROR", Point::new(0, 0), style, Baseline::Top).draw(display)?;
    let mut y = 12;
    let mut line: heapless::String<64> = heapless::String::new();
    for word in message.split(' ') {
        if !line.is_empty() && line.len() + 1 + word.len() > cols {
            Text::with_baseline(&line, Point::new(0, y), style, Baseline::Top).draw(display)?;
            y += 10;
            line.clear();
        }
        if !line.is_empty() {
            let _ = line.push(' ');
        }
        let _ = line.push_str(word.get(..cols.min(word.len())).unwrap_or(word));
    }
    if !line.is_empty() {
        Text::with_baseline(&line, Point::new(0, y), style, Baseline::Top).draw(display)?;
    }
    Ok(())
}
