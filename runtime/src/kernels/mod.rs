//! Dense-layer kernels.
//!
//! [`reference`](mod@reference) is the plain, obviously-correct kernel: the oracle that any
//! faster kernel must match bit for bit. The decoder calls [`dense`], the
//! kernel selected for the compile target: [`blocked`] (four output channels
//! per pass, safe Rust) on Thumb-2 cores, the reference kernel elsewhere.

pub mod blocked;
pub mod reference;

/// Cores with Thumb-2 (Cortex-M3/M4/M7: `mla`, `ldrsb` with offsets) get
/// the four-channel kernel: a third fewer instructions per digit on the M3.
/// (Stable Rust exposes no `thumb2` feature cfg; among ARM targets, having
/// 32-bit atomics is what separates ARMv7-M from ARMv6-M.)
#[cfg(all(target_arch = "arm", target_has_atomic = "32"))]
pub use blocked::dense;
/// Elsewhere (the host; the Cortex-M0, where code size matters most) the
/// reference kernel runs. Host tests prove the two bit-identical.
#[cfg(not(all(target_arch = "arm", target_has_atomic = "32")))]
pub use reference::dense;

/// An element of a layer's input vector: u8 activations of a hidden layer,
/// or the i16 Q12 latent fed to layer 0.
pub trait Input: Copy {
    /// The value as a 32-bit accumulator operand.
    fn widen(self) -> i32;
}

impl Input for u8 {
    #[inline]
    fn widen(self) -> i32 {
        i32::from(self)
    }
}

impl Input for i16 {
    #[inline]
    fn widen(self) -> i32 {
        i32::from(self)
    }
}
