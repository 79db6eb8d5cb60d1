//! The LM3S6965's SSI0 port (an ARM PL022) as an embedded-hal SPI bus, and
//! the OLED's data/command pin (GPIO C7). Register-level: the board has no
//! maintained HAL crate.

use core::convert::Infallible;
use core::ptr::{read_volatile, write_volatile};

use embedded_hal::digital::{ErrorType as PinErrorType, OutputPin};
use embedded_hal::spi::{ErrorType, SpiBus};

const SYSCTL_RCGC1: usize = 0x400F_E104;
const SYSCTL_RCGC2: usize = 0x400F_E108;
const GPIO_A: usize = 0x4000_4000;
const GPIO_C: usize = 0x4000_6000;
const GPIO_D: usize = 0x4000_7000;
const GPIO_DIR: usize = 0x400;
const GPIO_AFSEL: usize = 0x420;
const GPIO_DEN: usize = 0x51C;
const SSI0: usize = 0x4000_8000;
const SSI_CR0: usize = 0x000;
const SSI_CR1: usize = 0x004;
const SSI_DR: usize = 0x008;
const SSI_SR: usize = 0x00C;
const SSI_CPSR: usize = 0x010;
const SR_TNF: u32 = 1 << 1;
const SR_RNE: u32 = 1 << 2;
const SR_BSY: u32 = 1 << 4;

fn write(addr: usize, value: u32) {
    // SAFETY: `addr` is one of the LM3S6965's memory-mapped registers above.
    unsafe { write_volatile(addr as *mut u32, value) }
}

fn read(addr: usize) -> u32 {
    // SAFETY: as in `write`.
    unsafe { read_volatile(addr as *const u32) }
}

fn set_bits(addr: usize, bits: u32) {
    write(addr, read(addr) | bits);
}

/// GPIODATA with an address mask: only the pins in `mask` are written.
fn gpio_write(port: usize, mask: u8, value: u8) {
    write(port + (usize::from(mask) << 2), u32::from(value));
}

/// Enables the clocks, routes PA2-PA5 to SSI0, makes PC7 (OLED D/C) and
/// PD0 (SD card select, which must stay high) outputs, and sets up SSI0 as
/// an 8-bit SPI master in mode 3.
pub fn init() -> (Ssi0, DcPin) {
    set_bits(SYSCTL_RCGC1, 1 << 4); // SSI0
    set_bits(SYSCTL_RCGC2, (1 << 0) | (1 << 2) | (1 << 3)); // GPIO A, C, D
    set_bits(GPIO_A + GPIO_AFSEL, 0b0011_1100);
    set_bits(GPIO_A + GPIO_DEN, 0b0011_1100);
    set_bits(GPIO_C + GPIO_DIR, 1 << 7);
    set_bits(GPIO_C + GPIO_DEN, 1 << 7);
    gpio_write(GPIO_D, 1, 1);
    set_bits(GPIO_D + GPIO_DIR, 1);
    set_bits(GPIO_D + GPIO_DEN, 1);
    gpio_write(GPIO_D, 1, 1);
    write(SSI0 + SSI_CR1, 0);
    write(SSI0 + SSI_CPSR, 2);
    // SCR 0, SPH 1, SPO 1, Freescale SPI, 8-bit frames.
    write(SSI0 + SSI_CR0, (1 << 7) | (1 << 6) | 0x7);
    write(SSI0 + SSI_CR1, 1 << 1); // enable, master
    (Ssi0, DcPin)
}

/// The SSI0 port.
pub struct Ssi0;

impl ErrorType for Ssi0 {
    type Error = Infallible;
}

impl Ssi0 {
    /// Sends one byte and takes the byte clocked in, so the receive FIFO
    /// never fills (a full RX FIFO stalls the PL022).
    fn transfer_byte(&mut self, byte: u8) -> u8 {
        while read(SSI0 + SSI_SR) & SR_TNF == 0 {}
        write(SSI0 + SSI_DR, u32::from(byte));
        while read(SSI0 + SSI_SR) & SR_RNE == 0 {}
        read(SSI0 + SSI_DR) as u8
    }
}

impl SpiBus<u8> for Ssi0 {
    fn read(&mut self, words: &mut [u8]) -> Result<(), Infallible> {
        for w in words {
            *w = self.transfer_byte(0xFF);
        }
        Ok(())
    }

    fn write(&mut self, words: &[u8]) -> Result<(), Infallible> {
        for &w in words {
            self.transfer_byte(w);
        }
        Ok(())
    }

    fn transfer(&mut self, read: &mut [u8], write: &[u8]) -> Result<(), Infallible> {
        let n = read.len().max(write.len());
        for i in 0..n {
            let r = self.transfer_byte(write.get(i).copied().unwrap_or(0xFF));
            if let Some(slot) = read.get_mut(i) {
                *slot = r;
            }
        }
        Ok(())
    }

    fn transfer_in_place(&mut self, words: &mut [u8]) -> Result<(), Infallible> {
        for w in words {
            *w = self.transfer_byte(*w);
        }
        Ok(())
    }

    fn flush(&mut self) -> Result<(), Infallible> {
        while read(SSI0 + SSI_SR) & SR_BSY != 0 {}
        Ok(())
    }
}

/// GPIO C7: the OLED's data (high) / command (low) line.
pub struct DcPin;

impl PinErrorType for DcPin {
    type Error = Infallible;
}

impl OutputPin for DcPin {
    fn set_low(&mut self) -> Result<(), Infallible> {
        gpio_write(GPIO_C, 1 << 7, 0);
        Ok(())
    }

    fn set_high(&mut self) -> Result<(), Infallible> {
        gpio_write(GPIO_C, 1 << 7, 1 << 7);
        Ok(())
    }
}
