//! Stack high-water mark by painting: fill the unused stack with a pattern
//! at boot, later find the deepest word that was overwritten.

const PATTERN: u32 = 0xDEAD_BEEF;

extern "C" {
    static mut __sheap: u32;
    static _stack_start: u32;
}

fn bottom() -> usize {
    core::ptr::addr_of_mut!(__sheap) as usize
}

/// Address of the top of the stack.
pub fn top() -> usize {
    core::ptr::addr_of!(_stack_start) as usize
}

/// Paints from the end of static RAM up to 32 bytes below the stack pointer.
#[inline(never)]
pub fn paint() {
    let sp = crate::platform::stack_pointer();
    let mut p = bottom();
    while p + 32 < sp {
        // SAFETY: between the end of static RAM and just below the stack
        // pointer lies only unused stack.
        unsafe { core::ptr::write_volatile(p as *mut u32, PATTERN) };
        p += 4;
    }
}

/// The deepest address the stack has reached since [`paint`].
#[inline(never)]
pub fn deepest() -> usize {
    let mut p = bottom();
    // SAFETY: reads of RAM words between the end of statics and the stack top.
    while p < top() && unsafe { core::ptr::read_volatile(p as *const u32) } == PATTERN {
        p += 4;
    }
    p
}

/// Re-paints below the current stack pointer (to measure one call).
#[inline(never)]
pub fn repaint_below_sp() {
    paint();
}

/// Bytes of static RAM (.data, .bss, .uninit).
pub fn static_bytes() -> usize {
    extern "C" {
        static __sdata: u32;
    }
    bottom() - core::ptr::addr_of!(__sdata) as usize
}
