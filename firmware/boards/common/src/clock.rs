//! A 64-bit tick count from SysTick (24 bits) and its wrap-arounds. The
//! board starts it with [`start`] and forwards its `SysTick` exception to
//! [`on_wrap`] (exception handlers belong to the binary).

use core::sync::atomic::{AtomicU32, Ordering};

use cortex_m::peripheral::syst::SystClkSource;
use cortex_m::peripheral::SYST;

/// SysTick wrap-arounds (each one is 2^24 ticks).
static WRAPS: AtomicU32 = AtomicU32::new(0);

/// Runs SysTick from the core clock over its full 24-bit range, with its
/// interrupt on.
pub fn start(syst: &mut SYST) {
    syst.set_clock_source(SystClkSource::Core);
    syst.set_reload(0x00FF_FFFF);
    syst.clear_current();
    syst.enable_interrupt();
    syst.enable_counter();
}

/// Counts one wrap-around: call from the board's `SysTick` exception.
pub fn on_wrap() {
    // ARMv6-M has no atomic read-modify-write; the handler is the only writer.
    let n = WRAPS.load(Ordering::SeqCst);
    WRAPS.store(n.wrapping_add(1), Ordering::SeqCst);
}

/// Ticks since [`start`], counting wrap-arounds.
pub fn now() -> u64 {
    loop {
        let wraps = WRAPS.load(Ordering::SeqCst);
        let val = SYST::get_current();
        if wraps == WRAPS.load(Ordering::SeqCst) {
            return (u64::from(wraps) << 24) + u64::from(0x00FF_FFFF - val);
        }
    }
}
