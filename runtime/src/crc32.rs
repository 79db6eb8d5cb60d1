//! CRC-32 (IEEE 802.3, the one in zip, PNG and Ethernet) over a byte slice.
//!
//! Parameters: polynomial `0x04C11DB7` used bit-reflected (`0xEDB88320`),
//! initial value `0xFFFF_FFFF`, input and output reflected, final XOR
//! `0xFFFF_FFFF`. Check value: `crc32(b"123456789") == 0xCBF4_3926`.
//!
//! A 16-entry (nibble) table keeps flash use at 64 bytes while being about
//! four times faster than the bitwise loop; the model is checked once at boot.

/// CRC-32 of the reflected polynomial for every 4-bit value.
#[allow(clippy::indexing_slicing)] // const evaluation: an out-of-range index fails the build
const NIBBLE_TABLE: [u32; 16] = {
    let mut table = [0u32; 16];
    let mut i = 0;
    while i < 16 {
        let mut crc = i as u32;
        let mut bit = 0;
        while bit < 4 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
            bit += 1;
        }
        table[i] = crc;
        i += 1;
    }
    table
};

/// Looks up the table entry for the low nibble of `crc`.
#[inline]
fn step(crc: u32) -> u32 {
    // `crc & 0xF` is always a valid index into a 16-entry table.
    let entry = NIBBLE_TABLE.get((crc & 0xF) as usize).copied().unwrap_or(0);
    (crc >> 4) ^ entry
}

/// Computes the CRC-32 (IEEE) of `bytes`.
///
/// ```
/// assert_eq!(runtime::crc32::crc32(b"123456789"), 0xCBF4_3926);
/// ```
pub fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = 0xFFFF_FFFFu32;
    for &byte in bytes {
        crc ^= u32::from(byte);
        crc = step(step(crc));
    }
    !crc
}

#[cfg(test)]
mod tests {
    use super::crc32;

    /// Bitwise textbook implementation, the oracle for the nibble table.
    fn crc32_bitwise(bytes: &[u8]) -> u32 {
        let mut crc = 0xFFFF_FFFFu32;
        for &b in bytes {
            crc ^= u32::from(b);
            for _ in 0..8 {
                crc = if crc & 1 == 1 {
                    (crc >> 1) ^ 0xEDB8_8320
                } else {
                    crc >> 1
                };
            }
        }
        !crc
    }

    #[test]
    fn check_value() {
        assert_eq!(crc32(b"123456789"), 0xCBF4_3926);
        assert_eq!(crc32(b""), 0);
    }

    #[test]
    fn matches_bitwise_on_all_byte_values() {
        let data: [u8; 256] = core::array::from_fn(|i| i as u8);
        for end in 0..=data.len() {
            assert_eq!(crc32(&data[..end]), crc32_bitwise(&data[..end]));
        }
    }
}
