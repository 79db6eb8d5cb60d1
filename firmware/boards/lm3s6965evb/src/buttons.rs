//! The evaluation board's navigation buttons: Up (PE0), Down (PE1) and
//! Select (PF1), active low. Register-level, like `pl022`.
//!
//! A button counts as pressed when it is *released* (its pin goes from low
//! to high). That is what a click is on the real board, whose pins idle high
//! through the pull-ups enabled here; and QEMU's `lm3s6965evb`, whose GPIO
//! inputs read low until the emulated gamepad first drives them, reports
//! its first key press (the pin stays low) and then the release (high).

use core::ptr::{read_volatile, write_volatile};

const SYSCTL_RCGC2: usize = 0x400F_E108;
const GPIO_E: usize = 0x4002_4000;
const GPIO_F: usize = 0x4002_5000;
const GPIO_PUR: usize = 0x510;
const GPIO_DEN: usize = 0x51C;
const UP: u8 = 1 << 0; // PE0
const DOWN: u8 = 1 << 1; // PE1
const SELECT: u8 = 1 << 1; // PF1

fn write(addr: usize, value: u32) {
    // SAFETY: `addr` is one of the LM3S6965's memory-mapped GPIO or system
    // control registers above.
    unsafe { write_volatile(addr as *mut u32, value) }
}

fn read(addr: usize) -> u32 {
    // SAFETY: as in `write`.
    unsafe { read_volatile(addr as *const u32) }
}

/// GPIODATA through an address mask: only the pins in `mask` read.
fn gpio_read(port: usize, mask: u8) -> u8 {
    read(port + (usize::from(mask) << 2)) as u8
}

/// A button click.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Button {
    /// Up: the next digit.
    Up,
    /// Down: the previous digit.
    Down,
    /// Select: new digits.
    Select,
}

/// The three buttons, with the pin levels last seen.
pub struct Buttons {
    last: [bool; 3],
}

impl Buttons {
    /// Enables GPIO E and F, with pull-ups and digital inputs on the pins.
    pub fn init() -> Self {
        write(SYSCTL_RCGC2, read(SYSCTL_RCGC2) | (1 << 4) | (1 << 5));
        write(
            GPIO_E + GPIO_PUR,
            read(GPIO_E + GPIO_PUR) | u32::from(UP | DOWN),
        );
        write(
            GPIO_E + GPIO_DEN,
            read(GPIO_E + GPIO_DEN) | u32::from(UP | DOWN),
        );
        write(
            GPIO_F + GPIO_PUR,
            read(GPIO_F + GPIO_PUR) | u32::from(SELECT),
        );
        write(
            GPIO_F + GPIO_DEN,
            read(GPIO_F + GPIO_DEN) | u32::from(SELECT),
        );
        let mut b = Buttons { last: [false; 3] };
        b.last = b.levels();
        b
    }

    /// Pin levels (true: high, released) of Up, Down, Select.
    fn levels(&self) -> [bool; 3] {
        let e = gpio_read(GPIO_E, UP | DOWN);
        let f = gpio_read(GPIO_F, SELECT);
        [e & UP != 0, e & DOWN != 0, f & SELECT != 0]
    }

    /// The button released since the last call, if any (Up first).
    pub fn poll(&mut self) -> Option<Button> {
        let now = self.levels();
        let released = [Button::Up, Button::Down, Button::Select]
            .into_iter()
            .zip(self.last.iter().zip(now.iter()))
            .find(|(_, (&was, &is))| !was && is)
            .map(|(b, _)| b);
        self.last = now;
        released
    }
}
