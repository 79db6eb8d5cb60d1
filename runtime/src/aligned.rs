//! Word alignment for a model embedded in flash.

/// Bytes (or anything) aligned to 4 bytes. A model file embedded with
/// `include_bytes!` is only byte-aligned; wrapped in `Aligned`, its weight
/// arrays start on word boundaries (the format pads them to file offsets
/// that are multiples of 4), which the Cortex-M4 kernel's word loads need.
///
/// ```
/// use runtime::Aligned;
/// // On a device: `&Aligned(*include_bytes!("../models/mcu.postcard"))`
/// static MODEL: &Aligned<[u8]> = &Aligned([0u8; 8]);
/// assert_eq!(MODEL.0.as_ptr() as usize % 4, 0);
/// ```
#[derive(Debug)]
#[repr(C, align(4))]
pub struct Aligned<T: ?Sized>(pub T);
