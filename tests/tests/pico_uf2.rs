//! The Raspberry Pi Pico firmware as its users flash it: the UF2 file that
//! `cargo run --release` writes in `firmware/boards/pico` is one the RP2040
//! boot ROM takes and boots (magic numbers, numbering, family id, every
//! block inside the Pico's 2 MiB flash, the second-stage boot loader's CRC),
//! and it holds exactly the bytes the ELF loads. No board is attached here,
//! so this is as far as a check without one goes.

use integration_tests::qemu;
use uf2::{check, elf_segments, write, PICO_FLASH, RP2040_FAMILY};

#[test]
fn the_pico_firmware_becomes_a_uf2_file_the_rp2040_boots() {
    let elf_path = qemu::build_board("pico", "pico", "thumbv6m-none-eabi", None, "target");
    let elf = std::fs::read(&elf_path).expect("the Pico ELF");
    let segments = elf_segments(&elf).expect("loadable segments");
    let file = write(&segments, RP2040_FAMILY);
    let summary = check(&file, PICO_FLASH).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        summary.span.start, PICO_FLASH.start,
        "the boot loader is first"
    );

    // Every byte the ELF loads is in the UF2 file at its address.
    let page_of = |addr: u32| {
        let n = file
            .chunks_exact(uf2::BLOCK)
            .position(|b| u32::from_le_bytes(b[12..16].try_into().unwrap()) == addr & !0xFF)
            .unwrap_or_else(|| panic!("no block for {addr:#x}"));
        &file[n * uf2::BLOCK + 32..n * uf2::BLOCK + 32 + uf2::PAYLOAD]
    };
    for (start, bytes) in &segments {
        for (i, &b) in bytes.iter().enumerate() {
            let addr = start + i as u32;
            assert_eq!(page_of(addr)[(addr & 0xFF) as usize], b, "{addr:#x}");
        }
    }
    // The vector table follows the boot loader: initial stack pointer in
    // RAM, reset handler in flash (Thumb bit set).
    let vectors = page_of(0x1000_0100);
    let sp = u32::from_le_bytes(vectors[0..4].try_into().unwrap());
    let reset = u32::from_le_bytes(vectors[4..8].try_into().unwrap());
    assert!((0x2000_0000..=0x2004_2000).contains(&sp), "stack {sp:#x}");
    assert!(
        PICO_FLASH.contains(&reset) && reset & 1 == 1,
        "reset {reset:#x}"
    );
    // The default model fits with room: at most 128 KB of flash.
    let used = summary.span.end - summary.span.start;
    assert!(used <= 128 * 1024, "{used} bytes of flash");
    println!("pico.uf2: {} blocks, {used} bytes of flash", summary.blocks);
}
