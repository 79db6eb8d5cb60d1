//! The Cortex-M side of the benchmark: cortex-m-rt's start-up, console and
//! exit through semihosting, SysTick as the clock, and the calibration loop.

#[cfg(not(feature = "size-probe"))]
pub use board_common::clock::now;
#[cfg(not(feature = "size-probe"))]
pub use board_common::semihosting::{exit, println};

#[cfg(all(feature = "microbit", not(feature = "size-probe")))]
pub const CORE: &str = "cortex-m0";
#[cfg(all(feature = "lm3s6965evb", not(feature = "size-probe")))]
pub const CORE: &str = "cortex-m3";
#[cfg(all(feature = "mps2-an386", not(feature = "size-probe")))]
pub const CORE: &str = "cortex-m4";

#[cortex_m_rt::entry]
fn entry() -> ! {
    crate::main()
}

#[cfg(not(feature = "size-probe"))]
/// Starts the clock: SysTick over its full range, counting wrap-arounds.
pub fn start_clock() {
    if let Some(mut core) = cortex_m::Peripherals::take() {
        board_common::clock::start(&mut core.SYST);
    }
}

#[cfg(not(feature = "size-probe"))]
#[cortex_m_rt::exception]
fn SysTick() {
    board_common::clock::on_wrap();
}

#[cfg(not(feature = "size-probe"))]
#[cortex_m_rt::exception]
unsafe fn HardFault(frame: &cortex_m_rt::ExceptionFrame) -> ! {
    println(format_args!("HARDFAULT at pc={:#010x}", frame.pc()));
    exit(false)
}

#[cfg(not(feature = "size-probe"))]
/// `count` iterations of two instructions (`subs`, `bne`).
#[inline(never)]
pub fn calibration_loop(count: u32) {
    // SAFETY: a register-only countdown loop; touches no memory.
    unsafe {
        core::arch::asm!("1:", "subs r0, r0, #1", "bne 1b", inout("r0") count => _, options(nomem, nostack));
    }
}

#[cfg(not(feature = "size-probe"))]
/// The stack pointer.
pub fn stack_pointer() -> usize {
    cortex_m::register::msp::read() as usize
}

#[cfg(feature = "size-probe")]
/// Sleeps for good (the size probe's end).
pub fn idle() -> ! {
    loop {
        cortex_m::asm::wfi();
    }
}
