//! Host I/O through ARM semihosting (QEMU, or a debug probe): console
//! output, the command line, a blocking console read, and the exit code.
//! For the boards that run under QEMU (feature `semihosting`).

use core::fmt::Write;

use cortex_m_semihosting::{debug, hio, nr};

/// Writes a line to the host's console.
pub fn println(args: core::fmt::Arguments<'_>) {
    if let Ok(mut out) = hio::hstdout() {
        let _ = out.write_fmt(args);
        let _ = out.write_str("\n");
    }
}

/// The program's command line (empty if the host gives none).
pub fn command_line(buf: &mut [u8]) -> &str {
    let mut block = [buf.as_mut_ptr() as usize, buf.len()];
    // SAFETY: GET_CMDLINE takes a pointer to the two-word block, writes at
    // most `block[1]` bytes into `buf` and the length used into `block[1]`;
    // both outlive the call.
    let status =
        unsafe { cortex_m_semihosting::syscall1(nr::GET_CMDLINE, block.as_mut_ptr() as usize) };
    if status != 0 {
        return "";
    }
    let len = block[1].min(buf.len());
    core::str::from_utf8(buf.get(..len).unwrap_or(&[])).unwrap_or("")
}

/// Blocks until the host's console delivers a byte.
pub fn read_byte() -> u8 {
    // SAFETY: SYS_READC takes no argument block.
    unsafe { syscall1(nr::READC) as u8 }
}

unsafe fn syscall1(n: usize) -> usize {
    // SAFETY: forwarded from the caller.
    unsafe { cortex_m_semihosting::syscall1(n, 0) }
}

/// Ends the program with success or failure (QEMU exits with 0 or 1).
pub fn exit(success: bool) -> ! {
    debug::exit(if success {
        debug::EXIT_SUCCESS
    } else {
        debug::EXIT_FAILURE
    });
    loop {
        cortex_m::asm::wfi();
    }
}
