//! The display kinds the product draws on, board-independent: their size,
//! their name, and their colour type. The simulator, the web page and the
//! tests that compare them all take a kind from here, so a kind means the
//! same pixels everywhere.

use embedded_graphics::geometry::Size;
use embedded_graphics::pixelcolor::{BinaryColor, Gray4, PixelColor, Rgb565, Rgb888};
use runtime::FromGrey;

/// A kind of display.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DisplayKind {
    /// 128x64, 16 greys: the SSD0323 OLED of the emulated LM3S6965 board.
    Oled,
    /// 128x64 monochrome SSD1306 OLED (Black Pill, Pico, ESP32-C3 boards):
    /// dithered.
    Ssd1306,
    /// 320x240 RGB565 colour screen (ILI9341 class).
    Color,
}

/// A colour a display kind is drawn in: the screen program draws it
/// ([`FromGrey`]) and it converts to and from RGB (what a PNG, a window or a
/// browser canvas holds).
pub trait ScreenColor: PixelColor + FromGrey + Into<Rgb888> + From<Rgb888> {}

impl<C: PixelColor + FromGrey + Into<Rgb888> + From<Rgb888>> ScreenColor for C {}

/// Work generic over a display's colour type; [`DisplayKind::with_color`]
/// chooses the type.
pub trait ColorJob {
    /// What the work returns.
    type Output;
    /// Does the work for a display of kind `kind`, whose colour type is `C`.
    fn run<C: ScreenColor>(self, kind: DisplayKind) -> Self::Output;
}

impl DisplayKind {
    /// Every kind, in the order the user interfaces list them.
    pub const ALL: [DisplayKind; 3] = [DisplayKind::Oled, DisplayKind::Ssd1306, DisplayKind::Color];

    /// Size in pixels.
    pub fn size(self) -> Size {
        match self {
            DisplayKind::Oled | DisplayKind::Ssd1306 => Size::new(128, 64),
            DisplayKind::Color => Size::new(320, 240),
        }
    }

    /// The name a user types (`--display oled`, `?display=oled`).
    ///
    /// ```
    /// use firmware_app::DisplayKind;
    /// for kind in DisplayKind::ALL {
    ///     assert_eq!(DisplayKind::from_name(kind.name()), Some(kind));
    /// }
    /// assert_eq!(DisplayKind::from_name("crt"), None);
    /// ```
    pub fn name(self) -> &'static str {
        match self {
            DisplayKind::Oled => "oled",
            DisplayKind::Ssd1306 => "ssd1306",
            DisplayKind::Color => "color",
        }
    }

    /// The kind named `name` (see [`DisplayKind::name`]).
    pub fn from_name(name: &str) -> Option<DisplayKind> {
        Self::ALL.into_iter().find(|k| k.name() == name)
    }

    /// Runs `job` with this kind's colour type: Gray4 for the OLED,
    /// BinaryColor for the SSD1306, Rgb565 for the colour screen. The one
    /// place where a kind becomes a colour type.
    pub fn with_color<J: ColorJob>(self, job: J) -> J::Output {
        match self {
            DisplayKind::Oled => job.run::<Gray4>(self),
            DisplayKind::Ssd1306 => job.run::<BinaryColor>(self),
            DisplayKind::Color => job.run::<Rgb565>(self),
        }
    }
}
