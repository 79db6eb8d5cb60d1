//! Fixed-size 8-bit grey images: capacity in the type, no heap.

/// A `W` x `H` image of 8-bit grey levels (0 = black, 255 = white), row-major.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GrayImage<const W: usize, const H: usize> {
    rows: [[u8; W]; H],
}

/// An MNIST-sized 28 x 28 digit.
pub type Digit = GrayImage<28, 28>;

impl<const W: usize, const H: usize> Default for GrayImage<W, H> {
    fn default() -> Self {
        Self::new()
    }
}

impl<const W: usize, const H: usize> GrayImage<W, H> {
    /// Width in pixels.
    pub const WIDTH: usize = W;
    /// Height in pixels.
    pub const HEIGHT: usize = H;

    /// An all-black image.
    pub const fn new() -> Self {
        GrayImage { rows: [[0; W]; H] }
    }

    /// The rows, top first.
    pub fn rows(&self) -> &[[u8; W]; H] {
        &self.rows
    }

    /// All pixels, row-major.
    pub fn pixels(&self) -> &[u8] {
        self.rows.as_flattened()
    }

    /// All pixels, row-major, mutable.
    pub fn pixels_mut(&mut self) -> &mut [u8] {
        self.rows.as_flattened_mut()
    }

    /// The grey level at column `x`, row `y`, if inside the image.
    pub fn get(&self, x: usize, y: usize) -> Option<u8> {
        self.rows.get(y).and_then(|row| row.get(x)).copied()
    }
}
