//! A display in memory, shown as RGBA bytes laid out as a browser's
//! `ImageData` wants them, and the screen program drawn into it.

use core::convert::Infallible;

use embedded_graphics::pixelcolor::{Gray8, Rgb888};
use embedded_graphics::prelude::*;
use firmware_app::{ColorJob, DisplayKind, Gallery, ScreenColor, SCRATCH};
use runtime::{DecodeError, Model};

/// A display in memory that stores the grey level the screen program
/// asks for at each pixel; [`GreyCanvas::to_rgba`] then shows it as a
/// display kind would.
///
/// Why this is exact: the screen program gets every colour from
/// [`from_grey(grey, point)`](runtime::FromGrey::from_grey). Digits pass
/// the point they are drawn at, so converting where the pixel lands is the
/// same call. The background and the labels pass grey 0 and 255 at
/// `Point::zero()`, and every kind shows 0 as black and 255 as white
/// wherever they land (dithering leaves 0 off and 255 on). So the page compiles the screen
/// program once, for one colour type, instead of once per display kind:
/// 21.6 KB (a quarter of the code) less WebAssembly. The browser test
/// checks every kind against the simulator, which draws in each kind's own
/// colour type.
pub struct GreyCanvas {
    size: Size,
    grey: Vec<u8>,
}

impl GreyCanvas {
    /// A black canvas of `size`.
    pub fn new(size: Size) -> Self {
        let pixels = size.width as usize * size.height as usize;
        GreyCanvas {
            size,
            grey: vec![0; pixels],
        }
    }

    /// The pixels as display `kind` shows them, converted to RGB as the
    /// simulator's PNGs and window do (`Into<Rgb888>`): row by row, 4 bytes
    /// (R, G, B, A = 255) each, as a browser's `ImageData` holds them.
    pub fn to_rgba(&self, kind: DisplayKind) -> Vec<u8> {
        kind.with_color(ToRgba(self))
    }
}

/// [`GreyCanvas::to_rgba`] for a kind's colour type.
struct ToRgba<'c>(&'c GreyCanvas);

impl ColorJob for ToRgba<'_> {
    type Output = Vec<u8>;

    fn run<C: ScreenColor>(self, _: DisplayKind) -> Vec<u8> {
        let canvas = self.0;
        let points = canvas.size.width.max(1) as usize;
        let mut rgba = Vec::with_capacity(4 * canvas.grey.len());
        for (i, &grey) in canvas.grey.iter().enumerate() {
            let at = Point::new((i % points) as i32, (i / points) as i32);
            let rgb: Rgb888 = C::from_grey(grey, at).into();
            rgba.extend_from_slice(&[rgb.r(), rgb.g(), rgb.b(), 255]);
        }
        rgba
    }
}

impl OriginDimensions for GreyCanvas {
    fn size(&self) -> Size {
        self.size
    }
}

impl DrawTarget for GreyCanvas {
    type Color = Gray8;
    type Error = Infallible;

    fn draw_iter<I>(&mut self, pixels: I) -> Result<(), Infallible>
    where
        I: IntoIterator<Item = Pixel<Gray8>>,
    {
        let (w, h) = (self.size.width as i32, self.size.height as i32);
        for Pixel(p, grey) in pixels {
            // Pixels off the display are dropped, as on a real one.
            if p.x < 0 || p.y < 0 || p.x >= w || p.y >= h {
                continue;
            }
            if let Some(px) = self.grey.get_mut(p.y as usize * w as usize + p.x as usize) {
                *px = grey.luma();
            }
        }
        Ok(())
    }
}

/// What the page shows: a display kind, a seed, the digit asked for, and
/// how many times "new digits" was pressed since.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Screen {
    /// The display drawn on.
    pub kind: DisplayKind,
    /// Seed of the gallery's digit sequence (the firmware's `seed=`).
    pub seed: u64,
    /// The prior class asked for (`None`: any digit).
    pub class: Option<usize>,
    /// Frame number: the screen shows frame `frame` of the gallery, the
    /// picture the firmware shows after `frame` presses of "new digits".
    pub frame: u32,
}

impl Screen {
    /// The screen's pixels as RGBA: the same picture as the simulator's
    /// `--png --display KIND --seed SEED --digit D --frame F`.
    pub fn render(&self, model: &Model<'_>) -> Result<Vec<u8>, DecodeError> {
        let size = self.kind.size();
        let mut canvas = GreyCanvas::new(size);
        let mut gallery = Gallery::<SCRATCH>::new(model, self.seed, size)?;
        gallery.set_class(self.class);
        // The frames before are not drawn, only their latents are drawn
        // from the sampler, so any frame costs one frame's decoding.
        gallery.skip_frames(self.frame);
        let Ok(()) = gallery.draw_frame(&mut canvas);
        Ok(canvas.to_rgba(self.kind))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pixels_land_where_drawn_and_off_screen_ones_are_dropped() {
        let mut canvas = GreyCanvas::new(Size::new(3, 2));
        let pixels = [
            Pixel(Point::new(2, 1), Gray8::WHITE),
            Pixel(Point::new(3, 0), Gray8::WHITE),
            Pixel(Point::new(-1, 0), Gray8::WHITE),
            Pixel(Point::new(0, 2), Gray8::WHITE),
        ];
        let Ok(()) = canvas.draw_iter(pixels);
        let rgba = canvas.to_rgba(DisplayKind::Oled);
        assert_eq!(rgba.len(), 3 * 2 * 4);
        let lit: Vec<usize> = (0..6).filter(|i| rgba[4 * i] != 0).collect();
        assert_eq!(lit, [5], "only (2, 1) is lit");
        assert_eq!(&rgba[20..24], &[255, 255, 255, 255]);
        assert!(rgba.chunks(4).all(|p| p[3] == 255), "opaque");
    }

    #[test]
    fn each_kind_shows_a_grey_in_its_own_colours() {
        let mut canvas = GreyCanvas::new(Size::new(4, 1));
        let greys = [0, 100, 200, 255].map(Gray8::new);
        let Ok(()) = canvas.fill_contiguous(&canvas.bounding_box(), greys);
        let red = |kind| -> Vec<u8> { canvas.to_rgba(kind).chunks(4).map(|p| p[0]).collect() };
        // 16 greys: 100 -> level 6 of 15 -> 102.
        assert_eq!(red(DisplayKind::Oled), [0, 102, 204, 255]);
        // Dithered at (1, 0), threshold 16 * 8 + 8 = 136: 100 is off; at
        // (2, 0), threshold 40: 200 is on.
        assert_eq!(red(DisplayKind::Ssd1306), [0, 0, 255, 255]);
        // RGB565: 100 -> red level 12 of 31 -> 99; 200 -> 24 -> 197.
        assert_eq!(red(DisplayKind::Color), [0, 99, 197, 255]);
    }
}
