//! Drawing grey images on any embedded-graphics [`DrawTarget`], scaled by an
//! integer factor, in the display's own colour type.

use core::marker::PhantomData;

use embedded_graphics::draw_target::DrawTarget;
use embedded_graphics::geometry::{Dimensions, Point, Size};
use embedded_graphics::pixelcolor::{BinaryColor, Gray2, Gray4, Gray8, PixelColor, Rgb565, Rgb888};
use embedded_graphics::primitives::Rectangle;
use embedded_graphics::Drawable;

use crate::image::GrayImage;

/// 4x4 Bayer matrix for ordered dithering (values 0..16).
const BAYER4: [[u8; 4]; 4] = [[0, 8, 2, 10], [12, 4, 14, 6], [3, 11, 1, 9], [15, 7, 13, 5]];

/// A colour that an 8-bit grey level can be shown in. The screen position is
/// passed so that two-level displays can dither.
pub trait FromGrey: PixelColor {
    /// The colour for `grey` (0 = black, 255 = white) at screen point `at`.
    fn from_grey(grey: u8, at: Point) -> Self;
}

impl FromGrey for Gray8 {
    fn from_grey(grey: u8, _: Point) -> Self {
        Gray8::new(grey)
    }
}

/// Scales 0..=255 to 0..=max with rounding.
fn rescale(grey: u8, max: u16) -> u8 {
    ((u16::from(grey) * max + 127) / 255) as u8
}

impl FromGrey for Gray4 {
    fn from_grey(grey: u8, _: Point) -> Self {
        Gray4::new(rescale(grey, 15))
    }
}

impl FromGrey for Gray2 {
    fn from_grey(grey: u8, _: Point) -> Self {
        Gray2::new(rescale(grey, 3))
    }
}

impl FromGrey for Rgb565 {
    fn from_grey(grey: u8, _: Point) -> Self {
        Rgb565::new(rescale(grey, 31), rescale(grey, 63), rescale(grey, 31))
    }
}

impl FromGrey for Rgb888 {
    fn from_grey(grey: u8, _: Point) -> Self {
        Rgb888::new(grey, grey, grey)
    }
}

/// Ordered dithering: a pixel is on when `grey >= 16 * bayer[y % 4][x % 4] + 8`,
/// so 0 is always off, 255 always on, and strokes keep their shape.
impl FromGrey for BinaryColor {
    fn from_grey(grey: u8, at: Point) -> Self {
        let row = BAYER4.get((at.y & 3) as usize).copied().unwrap_or([0; 4]);
        let level = row.get((at.x & 3) as usize).copied().unwrap_or(0);
        let threshold = u16::from(level) * 16 + 8;
        BinaryColor::from(u16::from(grey) >= threshold)
    }
}

/// A [`GrayImage`] placed on screen at `top_left`, each pixel drawn as a
/// `scale` x `scale` block in colour `C` (inferred from the display).
///
/// ```
/// use embedded_graphics::{mock_display::MockDisplay, pixelcolor::BinaryColor, prelude::*};
/// use runtime::GrayImage;
///
/// let mut image = GrayImage::<2, 1>::new();
/// image.pixels_mut().copy_from_slice(&[255, 0]);
/// let mut display = MockDisplay::<BinaryColor>::new();
/// image.view(Point::new(0, 0), 2).draw(&mut display)?; // MockDisplay never fails
/// display.assert_pattern(&["##..", "##.."]);
/// # Ok::<(), core::convert::Infallible>(())
/// ```
#[derive(Debug)]
pub struct ImageView<'a, C, const W: usize, const H: usize> {
    image: &'a GrayImage<W, H>,
    top_left: Point,
    scale: u32,
    color: PhantomData<C>,
}

impl<const W: usize, const H: usize> GrayImage<W, H> {
    /// A drawable view of this image at `top_left`, magnified `scale` times.
    pub fn view<C: FromGrey>(&self, top_left: Point, scale: u32) -> ImageView<'_, C, W, H> {
        ImageView {
            image: self,
            top_left,
            scale,
            color: PhantomData,
        }
    }
}

impl<C, const W: usize, const H: usize> Dimensions for ImageView<'_, C, W, H> {
    fn bounding_box(&self) -> Rectangle {
        let side = |n: usize| {
            u32::try_from(n)
                .unwrap_or(u32::MAX)
                .saturating_mul(self.scale)
        };
        Rectangle::new(self.top_left, Size::new(side(W), side(H)))
    }
}

impl<C: FromGrey, const W: usize, const H: usize> Drawable for ImageView<'_, C, W, H> {
    type Color = C;
    type Output = ();

    fn draw<D: DrawTarget<Color = C>>(&self, target: &mut D) -> Result<(), D::Error> {
        let scale = usize::try_from(self.scale).unwrap_or(0);
        let origin = self.top_left;
        let colors = self
            .image
            .rows()
            .iter()
            .flat_map(move |row| core::iter::repeat_n(row, scale))
            .zip(origin.y..)
            .flat_map(move |(row, y)| {
                row.iter()
                    .flat_map(move |&grey| core::iter::repeat_n(grey, scale))
                    .zip(origin.x..)
                    .map(move |(grey, x)| C::from_grey(grey, Point::new(x, y)))
            });
        target.fill_contiguous(&self.bounding_box(), colors)
    }
}
