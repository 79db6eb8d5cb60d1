//! Dense-layer kernels.
//!
//! [`reference`](mod@reference) is the plain, obviously-correct kernel: the oracle that any
//! faster kernel must match bit for bit. The decoder calls [`dense`], which is
//! the kernel selected for the compile target (today: the reference kernel
//! everywhere).

pub mod reference;

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
