//! Where the digits go: a centred grid of square cells, each one magnified
//! digit, sized to the display.

use embedded_graphics::geometry::{Point, Size};

/// Side of a digit in pixels before magnification.
pub const DIGIT_SIDE: u32 = 28;

/// A grid of `cols` x `rows` digits, each drawn `scale` times larger,
/// starting at `origin`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Layout {
    /// Magnification of each digit.
    pub scale: u32,
    /// Digits per row.
    pub cols: u32,
    /// Rows of digits.
    pub rows: u32,
    /// Top-left corner of the grid (the grid is centred).
    pub origin: Point,
}

impl Layout {
    /// The largest magnification (up to 4) that still fits at least two
    /// digits, with as many digits as fit at that size. A display smaller
    /// than one digit gets a zero-cell layout.
    ///
    /// ```
    /// use embedded_graphics::prelude::*;
    /// use firmware_app::Layout;
    /// // The 128x64 OLED of the emulated board: two digits at scale 2.
    /// let l = Layout::auto(Size::new(128, 64));
    /// assert_eq!((l.scale, l.cols, l.rows, l.origin), (2, 2, 1, Point::new(8, 4)));
    /// // A 320x240 colour screen: a 2x2 grid at scale 4.
    /// let l = Layout::auto(Size::new(320, 240));
    /// assert_eq!((l.scale, l.cols, l.rows), (4, 2, 2));
    /// ```
    pub fn auto(display: Size) -> Self {
        let fits = |s: u32| {
            (
                display.width / (DIGIT_SIDE * s),
                display.height / (DIGIT_SIDE * s),
            )
        };
        let scale = (1..=4).rev().find(|&s| {
            let (c, r) = fits(s);
            c * r >= 2
        });
        Self::with_scale(display, scale.unwrap_or(1))
    }

    /// As many digits as fit at magnification `scale` (at least 1), centred.
    pub fn with_scale(display: Size, scale: u32) -> Self {
        let scale = scale.max(1);
        let side = DIGIT_SIDE * scale;
        let (cols, rows) = (display.width / side, display.height / side);
        let origin = Point::new(
            ((display.width - cols * side) / 2) as i32,
            ((display.height - rows * side) / 2) as i32,
        );
        Layout {
            scale,
            cols,
            rows,
            origin,
        }
    }

    /// Number of digits on screen.
    pub fn cells(&self) -> u32 {
        self.cols * self.rows
    }

    /// Top-left corner of cell `i` (row-major).
    pub fn cell(&self, i: u32) -> Point {
        let side = (DIGIT_SIDE * self.scale) as i32;
        let cols = self.cols.max(1);
        self.origin + Point::new((i % cols) as i32 * side, (i / cols) as i32 * side)
    }
}
