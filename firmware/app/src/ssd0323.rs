//! Driver for the Solomon SSD0323 OLED controller (128 x 64 pixels, 16 grey
//! levels) as on the Stellaris LM3S6965 evaluation board, as an
//! embedded-graphics [`DrawTarget`] over any embedded-hal SPI bus plus a
//! data/command pin.
//!
//! Drawing goes to a 4 KiB frame buffer in RAM (two pixels per byte, the
//! left one in the high nibble: the controller's own layout); [`Ssd0323::flush`]
//! sends it in one burst. Chip select is the board's business (on the
//! LM3S6965 board it is tied to the SD card's select line, which must stay high).

use embedded_graphics::pixelcolor::{Gray4, GrayColor};
use embedded_graphics::prelude::*;
use embedded_hal::digital::OutputPin;
use embedded_hal::spi::SpiBus;

/// Display width in pixels.
pub const WIDTH: usize = 128;
/// Display height in pixels.
pub const HEIGHT: usize = 64;
/// Frame buffer size: two pixels per byte.
pub const BUFFER_LEN: usize = WIDTH * HEIGHT / 2;

/// Power-up sequence: display off, addressing and drive settings, display on.
/// Every command is one the SSD0323 defines; horizontal address increment
/// (remap bit 2 clear) is what [`Ssd0323::flush`] relies on.
const INIT: &[u8] = &[
    0xAE, // display off
    0x81, 0x33, // contrast
    0x86, // full current range
    0xA0, 0x41, // remap: column address and COM split, horizontal increment
    0xA1, 0x00, // display start line 0
    0xA2, 0x44, // display offset
    0xA4, // normal display
    0xA8, 0x3F, // multiplex ratio: 64 rows
    0xAD, 0x02, // DC-DC converter off (external supply)
    0xB1, 0x22, // phase length
    0xB2, 0x46, // row period
    0xB3, 0x41, // display clock
    0xBC, 0x10, // pre-charge voltage
    0xBE, 0x1C, // VCOMH
    0xBF, 0x0D, // segment low voltage
    0xAF, // display on
];

/// Errors of the bus or the data/command pin.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Error<S, P> {
    /// The SPI bus failed.
    Spi(S),
    /// The data/command pin failed.
    Pin(P),
}

/// An SSD0323 display with its frame buffer.
pub struct Ssd0323<SPI, DC> {
    spi: SPI,
    dc: DC,
    buffer: [u8; BUFFER_LEN],
}

impl<SPI: SpiBus<u8>, DC: OutputPin> Ssd0323<SPI, DC> {
    /// A driver over `spi` with data/command pin `dc` (high = data).
    pub fn new(spi: SPI, dc: DC) -> Self {
        Ssd0323 {
            spi,
            dc,
            buffer: [0; BUFFER_LEN],
        }
    }

    fn command(&mut self, bytes: &[u8]) -> Result<(), Error<SPI::Error, DC::Error>> {
        self.spi.flush().map_err(Error::Spi)?;
        self.dc.set_low().map_err(Error::Pin)?;
        self.spi.write(bytes).map_err(Error::Spi)?;
        self.spi.flush().map_err(Error::Spi)
    }

    /// Sends the power-up sequence.
    pub fn init(&mut self) -> Result<(), Error<SPI::Error, DC::Error>> {
        self.command(INIT)
    }

    /// Sends the whole frame buffer to the display.
    pub fn flush(&mut self) -> Result<(), Error<SPI::Error, DC::Error>> {
        // Column addresses count bytes (pairs of pixels): 0..=63; rows 0..=63.
        self.command(&[0x15, 0x00, 0x3F, 0x75, 0x00, 0x3F])?;
        self.dc.set_high().map_err(Error::Pin)?;
        self.spi.write(&self.buffer).map_err(Error::Spi)?;
        self.spi.flush().map_err(Error::Spi)
    }

    /// The frame buffer: row-major, two pixels per byte, left in the high nibble.
    pub fn buffer(&self) -> &[u8; BUFFER_LEN] {
        &self.buffer
    }

    /// Gives back the bus and the pin.
    pub fn release(self) -> (SPI, DC) {
        (self.spi, self.dc)
    }
}

/// Grey level (0..=15) of pixel `(x, y)` in a packed frame buffer.
pub fn pixel(buffer: &[u8; BUFFER_LEN], x: usize, y: usize) -> Option<u8> {
    if x >= WIDTH {
        return None;
    }
    let byte = *buffer.get(y * (WIDTH / 2) + x / 2)?;
    Some(if x % 2 == 0 { byte >> 4 } else { byte & 0x0F })
}

impl<SPI, DC> OriginDimensions for Ssd0323<SPI, DC> {
    fn size(&self) -> Size {
        Size::new(WIDTH as u32, HEIGHT as u32)
    }
}

impl<SPI, DC> DrawTarget for Ssd0323<SPI, DC> {
    type Color = Gray4;
    type Error = core::convert::Infallible;

    fn draw_iter<I: IntoIterator<Item = Pixel<Gray4>>>(
        &mut self,
        pixels: I,
    ) -> Result<(), Self::Error> {
        for Pixel(p, color) in pixels {
            let (Ok(x), Ok(y)) = (usize::try_from(p.x), usize::try_from(p.y)) else {
                continue;
            };
            if x >= WIDTH || y >= HEIGHT {
                continue;
            }
            if let Some(byte) = self.buffer.get_mut(y * (WIDTH / 2) + x / 2) {
                let level = color.luma() & 0x0F;
                *byte = if x % 2 == 0 {
                    (*byte & 0x0F) | (level << 4)
                } else {
                    (*byte & 0xF0) | level
                };
            }
        }
        Ok(())
    }

    fn clear(&mut self, color: Gray4) -> Result<(), Self::Error> {
        let level = color.luma() & 0x0F;
        self.buffer.fill((level << 4) | level);
        Ok(())
    }
}
