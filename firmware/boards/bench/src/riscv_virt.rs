//! The RISC-V side of the benchmark, for QEMU's `virt` machine with an
//! RV32IMC core (`qemu-system-riscv32 -machine virt -cpu rv32 -bios none`):
//! a few lines of start-up (stack, trap vector), console on the 16550 UART,
//! exit through the SiFive test device, and the `minstret` counter as the
//! clock (exact instruction counts under `-icount`). No runtime crate: QEMU
//! loads the ELF straight into RAM, so there is nothing to copy.

use core::fmt::Write;

#[cfg(not(feature = "size-probe"))]
pub const CORE: &str = "rv32imc";

/// QEMU virt's 16550 UART: a byte written to its transmit register is
/// printed at once (no set-up needed under QEMU).
const UART: usize = 0x1000_0000;
/// QEMU virt's SiFive test device: 0x5555 ends QEMU with status 0,
/// `code << 16 | 0x3333` with status `code`.
const TEST_DEVICE: usize = 0x0010_0000;

core::arch::global_asm!(
    ".section .text.start, \"ax\"",
    ".global _start",
    "_start:",
    "la sp, _stack_start",
    "la t0, 2f",
    "csrw mtvec, t0",
    "call {main}",
    "1: j 1b",
    // Trap vectors are 4-byte aligned (mtvec's low bits are its mode).
    ".balign 4",
    "2: j {trap}",
    main = sym start,
    trap = sym trap_entry,
);

extern "C" fn start() -> ! {
    crate::main()
}

/// Any trap (illegal instruction, access fault, ...) ends the run with its
/// cause.
extern "C" fn trap_entry() -> ! {
    let (cause, pc): (usize, usize);
    // SAFETY: reading two machine CSRs.
    unsafe {
        core::arch::asm!("csrr {0}, mcause", "csrr {1}, mepc", out(reg) cause, out(reg) pc);
    }
    println(format_args!("TRAP mcause={cause:#x} at pc={pc:#010x}"));
    exit(false)
}

struct Uart;

impl Write for Uart {
    fn write_str(&mut self, s: &str) -> core::fmt::Result {
        for &b in s.as_bytes() {
            // SAFETY: the UART's transmit register, a device register.
            unsafe { core::ptr::write_volatile(UART as *mut u8, b) };
        }
        Ok(())
    }
}

/// Prints one line on the UART.
pub fn println(args: core::fmt::Arguments<'_>) {
    let _ = Uart.write_fmt(args);
    let _ = Uart.write_str("\n");
}

/// Ends QEMU: status 0 on success, 1 otherwise.
pub fn exit(success: bool) -> ! {
    let code: u32 = if success { 0x5555 } else { (1 << 16) | 0x3333 };
    // SAFETY: the test device's register; the write ends the machine.
    unsafe { core::ptr::write_volatile(TEST_DEVICE as *mut u32, code) };
    loop {
        core::hint::spin_loop();
    }
}

#[cfg(not(feature = "size-probe"))]
/// Instructions retired (`minstret`, 64 bits read as two halves).
pub fn now() -> u64 {
    loop {
        let (hi, lo, hi2): (u32, u32, u32);
        // SAFETY: reads of the machine counters.
        unsafe {
            core::arch::asm!(
                "csrr {0}, minstreth", "csrr {1}, minstret", "csrr {2}, minstreth",
                out(reg) hi, out(reg) lo, out(reg) hi2, options(nomem, nostack)
            );
        }
        if hi == hi2 {
            return (u64::from(hi) << 32) | u64::from(lo);
        }
    }
}

#[cfg(not(feature = "size-probe"))]
/// The counter runs from reset.
pub fn start_clock() {}

#[cfg(not(feature = "size-probe"))]
/// `count` iterations of two instructions (`addi`, `bnez`).
#[inline(never)]
pub fn calibration_loop(count: u32) {
    // SAFETY: a register-only countdown loop; touches no memory.
    unsafe {
        core::arch::asm!("1:", "addi {0}, {0}, -1", "bnez {0}, 1b", inout(reg) count => _, options(nomem, nostack));
    }
}

#[cfg(not(feature = "size-probe"))]
/// The stack pointer.
pub fn stack_pointer() -> usize {
    let sp: usize;
    // SAFETY: reads a register.
    unsafe { core::arch::asm!("mv {0}, sp", out(reg) sp, options(nomem, nostack)) };
    sp
}

#[cfg(feature = "size-probe")]
/// Sleeps for good (the size probe's end).
pub fn idle() -> ! {
    loop {
        core::hint::spin_loop();
    }
}
