//! UF2 files for the Raspberry Pi Pico: the format its boot ROM takes when
//! the board shows up as a USB drive in BOOTSEL mode (copy the file onto
//! the drive; no probe needed).
//!
//! - [`elf_segments`]: the bytes an ELF file puts in memory (its loadable
//!   segments, at their load addresses);
//! - [`write()`]: those bytes as UF2 blocks of 256 bytes;
//! - [`check`]: what makes a UF2 file one the RP2040 boots: block magic
//!   numbers, numbering, family id, every target address inside the flash,
//!   and the second-stage boot loader's CRC in the first 256 bytes.
//!
//! The format (Microsoft's UF2): 512-byte blocks, each
//! `magic0, magic1, flags, target address, payload size, block number,
//! block count, family id` (eight little-endian u32), 476 bytes of data (the
//! payload first), and `magic_end`.

use std::collections::BTreeMap;
use std::fmt;
use std::ops::Range;

/// First magic number of a block ("UF2\n").
pub const MAGIC_START0: u32 = 0x0A32_4655;
/// Second magic number of a block.
pub const MAGIC_START1: u32 = 0x9E5D_5157;
/// Last word of a block.
pub const MAGIC_END: u32 = 0x0AB1_6F30;
/// Flag: the block's eighth word is a family id.
pub const FLAG_FAMILY_ID: u32 = 0x0000_2000;
/// The RP2040's family id.
pub const RP2040_FAMILY: u32 = 0xE48B_FF56;
/// The Pico's flash as the RP2040 maps it (2 MiB at the XIP base).
pub const PICO_FLASH: Range<u32> = 0x1000_0000..0x1020_0000;
/// Payload bytes per block (what the RP2040 boot ROM accepts).
pub const PAYLOAD: usize = 256;
/// Bytes per block.
pub const BLOCK: usize = 512;

/// Why an ELF or UF2 file is not usable.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Uf2Error {
    /// Not a 32-bit little-endian ELF file, or truncated.
    NotElf(&'static str),
    /// The ELF file loads nothing.
    Empty,
    /// A UF2 file whose length is not a whole number of blocks.
    Length(usize),
    /// Block `block`: a wrong magic number (`which`: "start0", "start1", "end").
    Magic {
        /// Block number (position in the file).
        block: usize,
        /// Which magic number.
        which: &'static str,
    },
    /// Block `block` names no family, or another than the expected one.
    Family {
        /// Block number.
        block: usize,
        /// The family id found (0 without the flag).
        found: u32,
    },
    /// Block `block`'s number or the block count does not match its place.
    Numbering {
        /// Block number.
        block: usize,
    },
    /// Block `block`'s payload size is not 256.
    Payload {
        /// Block number.
        block: usize,
        /// The size found.
        size: u32,
    },
    /// Block `block` targets an address outside the flash (or unaligned,
    /// or twice).
    Address {
        /// Block number.
        block: usize,
        /// The target address.
        address: u32,
    },
    /// The first 256 bytes of flash (the second-stage boot loader) are
    /// missing or fail their CRC: the boot ROM would not start the program.
    Boot2,
}

impl fmt::Display for Uf2Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Uf2Error::NotElf(why) => write!(f, "not a 32-bit little-endian ELF file: {why}"),
            Uf2Error::Empty => write!(f, "the ELF file has no loadable bytes"),
            Uf2Error::Length(n) => write!(f, "{n} bytes is not a whole number of 512-byte blocks"),
            Uf2Error::Magic { block, which } => write!(f, "block {block}: bad magic {which}"),
            Uf2Error::Family { block, found } => {
                write!(f, "block {block}: family id {found:#010x}, expected the RP2040's {RP2040_FAMILY:#010x}")
            }
            Uf2Error::Numbering { block } => write!(f, "block {block}: block number or count out of order"),
            Uf2Error::Payload { block, size } => write!(f, "block {block}: payload of {size} bytes, expected 256"),
            Uf2Error::Address { block, address } => write!(
                f,
                "block {block}: target address {address:#010x} is not a new 256-byte page of the flash {:#010x}..{:#010x}",
                PICO_FLASH.start, PICO_FLASH.end
            ),
            Uf2Error::Boot2 => write!(f, "the first 256 bytes of flash are not a second-stage boot loader with a valid CRC"),
        }
    }
}

impl std::error::Error for Uf2Error {}

fn u16_at(b: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_le_bytes(b.get(at..at + 2)?.try_into().ok()?))
}

fn u32_at(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_le_bytes(b.get(at..at + 4)?.try_into().ok()?))
}

/// The bytes an ELF file loads, by load address (`p_paddr`: where the
/// bytes are stored, so initialised data lands in flash beside the code).
pub fn elf_segments(elf: &[u8]) -> Result<Vec<(u32, Vec<u8>)>, Uf2Error> {
    if elf.get(..4) != Some(b"\x7fELF") {
        return Err(Uf2Error::NotElf("no ELF magic"));
    }
    if elf.get(4..6) != Some(&[1, 1]) {
        return Err(Uf2Error::NotElf("not 32-bit little-endian"));
    }
    let truncated = Uf2Error::NotElf("truncated");
    let phoff = u32_at(elf, 28).ok_or(truncated.clone())? as usize;
    let phentsize = usize::from(u16_at(elf, 42).ok_or(truncated.clone())?);
    let phnum = usize::from(u16_at(elf, 44).ok_or(truncated.clone())?);
    let mut segments = Vec::new();
    for i in 0..phnum {
        let h = phoff + i * phentsize;
        let field = |k: usize| u32_at(elf, h + 4 * k).ok_or(truncated.clone());
        const PT_LOAD: u32 = 1;
        let (kind, offset, paddr, filesz) = (field(0)?, field(1)?, field(3)?, field(4)?);
        if kind != PT_LOAD || filesz == 0 {
            continue;
        }
        let bytes = elf
            .get(offset as usize..offset as usize + filesz as usize)
            .ok_or(truncated.clone())?;
        segments.push((paddr, bytes.to_vec()));
    }
    if segments.is_empty() {
        return Err(Uf2Error::Empty);
    }
    Ok(segments)
}

/// `segments` as UF2 blocks for `family`: one block per 256-byte page that
/// any segment touches, in address order, gaps filled with zeros.
pub fn write(segments: &[(u32, Vec<u8>)], family: u32) -> Vec<u8> {
    let mut pages: BTreeMap<u32, [u8; PAYLOAD]> = BTreeMap::new();
    for (start, bytes) in segments {
        for (i, &b) in bytes.iter().enumerate() {
            let addr = start.wrapping_add(i as u32);
            let page = pages
                .entry(addr & !(PAYLOAD as u32 - 1))
                .or_insert([0; PAYLOAD]);
            page[(addr as usize) % PAYLOAD] = b;
        }
    }
    let count = pages.len() as u32;
    let mut out = Vec::with_capacity(pages.len() * BLOCK);
    for (n, (addr, data)) in pages.iter().enumerate() {
        let header = [
            MAGIC_START0,
            MAGIC_START1,
            FLAG_FAMILY_ID,
            *addr,
            PAYLOAD as u32,
            n as u32,
            count,
            family,
        ];
        for word in header {
            out.extend_from_slice(&word.to_le_bytes());
        }
        out.extend_from_slice(data);
        out.resize(out.len() + 476 - PAYLOAD, 0);
        out.extend_from_slice(&MAGIC_END.to_le_bytes());
    }
    out
}

/// What [`check`] found in a good file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Summary {
    /// Blocks in the file.
    pub blocks: usize,
    /// Lowest and one past the highest flash address written.
    pub span: Range<u32>,
}

/// Checks that `uf2` is a file the RP2040 boot ROM takes and boots: whole
/// blocks, magic numbers, numbering, payload size, the RP2040 family id,
/// every target a distinct, aligned 256-byte page inside `flash`, and a
/// second-stage boot loader with a valid CRC at the start of the flash.
pub fn check(uf2: &[u8], flash: Range<u32>) -> Result<Summary, Uf2Error> {
    if uf2.is_empty() || uf2.len() % BLOCK != 0 {
        return Err(Uf2Error::Length(uf2.len()));
    }
    let count = uf2.len() / BLOCK;
    let mut seen = std::collections::BTreeSet::new();
    let mut boot2 = None;
    for (n, block) in uf2.chunks_exact(BLOCK).enumerate() {
        let word = |k: usize| u32_at(block, 4 * k).unwrap_or(0);
        for (k, which, magic) in [
            (0, "start0", MAGIC_START0),
            (1, "start1", MAGIC_START1),
            (127, "end", MAGIC_END),
        ] {
            if word(k) != magic {
                return Err(Uf2Error::Magic { block: n, which });
            }
        }
        let family = if word(2) & FLAG_FAMILY_ID != 0 {
            word(7)
        } else {
            0
        };
        if family != RP2040_FAMILY {
            return Err(Uf2Error::Family {
                block: n,
                found: family,
            });
        }
        if word(5) as usize != n || word(6) as usize != count {
            return Err(Uf2Error::Numbering { block: n });
        }
        if word(4) as usize != PAYLOAD {
            return Err(Uf2Error::Payload {
                block: n,
                size: word(4),
            });
        }
        let address = word(3);
        let inside = flash.contains(&address)
            && address - flash.start <= flash.end - flash.start - PAYLOAD as u32;
        if !inside || address % PAYLOAD as u32 != 0 || !seen.insert(address) {
            return Err(Uf2Error::Address { block: n, address });
        }
        if address == flash.start {
            boot2 = block.get(32..32 + PAYLOAD);
        }
    }
    if !boot2.is_some_and(boot2_crc_ok) {
        return Err(Uf2Error::Boot2);
    }
    let first = seen.first().copied().unwrap_or(flash.start);
    let last = seen.last().copied().unwrap_or(flash.start) + PAYLOAD as u32;
    Ok(Summary {
        blocks: count,
        span: first..last,
    })
}

/// Whether a 256-byte second-stage boot loader ends in the CRC the RP2040
/// boot ROM checks: CRC-32 (polynomial 0x04C11DB7, initial value all ones,
/// bits most significant first, no final inversion) of the first 252
/// bytes, stored little-endian in the last 4.
pub fn boot2_crc_ok(boot2: &[u8]) -> bool {
    let (Some(code), Some(stored)) = (boot2.get(..252), u32_at(boot2, 252)) else {
        return false;
    };
    boot_rom_crc(code) == stored
}

/// The CRC-32 the RP2040 boot ROM computes (CRC-32/MPEG-2: polynomial
/// 0x04C11DB7, initial value all ones, most significant bit first, no
/// final inversion).
pub fn boot_rom_crc(bytes: &[u8]) -> u32 {
    let mut crc = 0xFFFF_FFFFu32;
    for &byte in bytes {
        crc ^= u32::from(byte) << 24;
        for _ in 0..8 {
            crc = if crc & 0x8000_0000 != 0 {
                (crc << 1) ^ 0x04C1_1DB7
            } else {
                crc << 1
            };
        }
    }
    crc
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A minimal ELF32 file with the given loadable segments.
    fn elf(segments: &[(u32, &[u8])]) -> Vec<u8> {
        let mut out = vec![0u8; 52];
        out[..6].copy_from_slice(b"\x7fELF\x01\x01");
        let phoff = 52u32;
        out[28..32].copy_from_slice(&phoff.to_le_bytes());
        out[42..44].copy_from_slice(&32u16.to_le_bytes());
        out[44..46].copy_from_slice(&(segments.len() as u16).to_le_bytes());
        let mut data_at = 52 + 32 * segments.len() as u32;
        let mut data = Vec::new();
        for (addr, bytes) in segments {
            for w in [
                1,
                data_at,
                *addr,
                *addr,
                bytes.len() as u32,
                bytes.len() as u32,
                5,
                4,
            ] {
                out.extend_from_slice(&w.to_le_bytes());
            }
            data.extend_from_slice(bytes);
            data_at += bytes.len() as u32;
        }
        out.extend_from_slice(&data);
        out
    }

    /// A boot loader page with a valid CRC.
    fn boot2() -> Vec<u8> {
        let mut page: Vec<u8> = (0..252).map(|i| (i * 7) as u8).collect();
        let crc = boot_rom_crc(&page);
        page.extend_from_slice(&crc.to_le_bytes());
        page
    }

    #[test]
    fn the_boot_roms_crc_matches_a_known_value() {
        // CRC-32/MPEG-2's check value: the CRC of "123456789".
        assert_eq!(boot_rom_crc(b"123456789"), 0x0376_E6E7);
        assert!(boot2_crc_ok(&boot2()));
        let mut bad = boot2();
        bad[10] ^= 1;
        assert!(!boot2_crc_ok(&bad));
    }

    #[test]
    fn an_elf_becomes_pages_that_check() {
        let code: Vec<u8> = (0..300).map(|i| i as u8).collect();
        let data = [9u8; 10];
        let file = elf(&[
            (0x1000_0000, &boot2()),
            (0x1000_0100, &code),
            (0x1000_0300, &data),
        ]);
        let segments = elf_segments(&file).unwrap();
        assert_eq!(segments.len(), 3);
        let uf2 = write(&segments, RP2040_FAMILY);
        assert_eq!(uf2.len(), 4 * BLOCK, "pages 0x000, 0x100, 0x200, 0x300");
        let summary = check(&uf2, PICO_FLASH).unwrap();
        assert_eq!(
            summary,
            Summary {
                blocks: 4,
                span: 0x1000_0000..0x1000_0400
            }
        );
        // Page 0x200 holds code[256..300] then zeros.
        let block2 = &uf2[2 * BLOCK + 32..2 * BLOCK + 32 + PAYLOAD];
        assert_eq!(&block2[..44], &code[256..]);
        assert!(block2[44..].iter().all(|&b| b == 0));
    }

    #[test]
    fn every_broken_rule_is_named() {
        let file = elf(&[(0x1000_0000, &boot2()), (0x1000_0100, &[1, 2, 3])]);
        let good = write(&elf_segments(&file).unwrap(), RP2040_FAMILY);
        let broken = |at: usize, value: u32| {
            let mut b = good.clone();
            b[at..at + 4].copy_from_slice(&value.to_le_bytes());
            check(&b, PICO_FLASH).unwrap_err()
        };
        assert_eq!(
            broken(0, 0),
            Uf2Error::Magic {
                block: 0,
                which: "start0"
            }
        );
        assert_eq!(
            broken(BLOCK + 508, 0),
            Uf2Error::Magic {
                block: 1,
                which: "end"
            }
        );
        assert_eq!(
            broken(BLOCK + 28, 0x1234),
            Uf2Error::Family {
                block: 1,
                found: 0x1234
            }
        );
        assert_eq!(broken(8, 0), Uf2Error::Family { block: 0, found: 0 });
        assert_eq!(broken(BLOCK + 20, 5), Uf2Error::Numbering { block: 1 });
        assert_eq!(
            broken(16, 476),
            Uf2Error::Payload {
                block: 0,
                size: 476
            }
        );
        assert_eq!(
            broken(BLOCK + 12, 0x2000_0000),
            Uf2Error::Address {
                block: 1,
                address: 0x2000_0000
            }
        );
        assert_eq!(
            broken(BLOCK + 12, 0x1020_0000),
            Uf2Error::Address {
                block: 1,
                address: 0x1020_0000
            }
        );
        assert_eq!(
            broken(BLOCK + 12, 0x1000_0000),
            Uf2Error::Address {
                block: 1,
                address: 0x1000_0000
            }
        );
        assert_eq!(broken(40, 0xdead), Uf2Error::Boot2);
        assert_eq!(check(&good[..700], PICO_FLASH), Err(Uf2Error::Length(700)));
        assert!(matches!(
            elf_segments(b"not an elf"),
            Err(Uf2Error::NotElf(_))
        ));
        assert_eq!(elf_segments(&elf(&[])), Err(Uf2Error::Empty));
        for e in [broken(0, 0), Uf2Error::Boot2, Uf2Error::Length(3)] {
            assert!(!e.to_string().is_empty());
        }
    }
}
