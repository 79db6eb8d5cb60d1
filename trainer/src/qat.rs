//! Quantization-aware training's weight grid: the decoder's weights rounded
//! as the export will round them, for the forward and backward passes.

use dfdx::prelude::*;
use runtime::host::quantize::quantize_row;

use crate::vae::Vae;

/// Replaces every decoder weight by its value on the export's grid (the
/// runtime's [`quantize_row`]: symmetric per output channel, `level * s`
/// with `s = max|row| / L`, `L` = 127 for 8 bits, 7 for 4) and returns the
/// float weights it replaced. Quantization-aware training runs forward and
/// backward through these, then restores the float weights for the update.
pub fn fake_quantize_decoder(vae: &mut Vae, bits: u8) -> Vec<Vec<f32>> {
    vae.dec
        .iter_mut()
        .map(|layer| {
            let float = layer.w.as_vec();
            let inputs = layer.w.shape().1.max(1);
            let mut on_grid = Vec::with_capacity(float.len());
            for row in float.chunks(inputs) {
                let (scale, levels) = quantize_row(row, bits);
                on_grid.extend(levels.iter().map(|&l| (f64::from(l) * scale) as f32));
            }
            layer.w.copy_from(&on_grid);
            float
        })
        .collect()
}
