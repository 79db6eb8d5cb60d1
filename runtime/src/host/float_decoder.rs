//! The float decoder (`std` feature): the trained network in f32 weights,
//! run in f64. It is what [`crate::host::quantize`] quantizes, and the reference
//! the integer decoder's quantization error is measured against.

use std::vec::Vec;

/// One float dense layer: `y = W x + b`, `W` row-major (`output_dim` rows of
/// `input_dim` values).
#[derive(Debug, Clone, PartialEq)]
pub struct FloatLayer {
    /// Number of inputs.
    pub input_dim: usize,
    /// Number of outputs.
    pub output_dim: usize,
    /// `output_dim * input_dim` weights, row-major.
    pub weights: Vec<f32>,
    /// `output_dim` biases.
    pub bias: Vec<f32>,
}

/// A float decoder: ReLU after every layer but the last, which gives logits.
#[derive(Debug, Clone, PartialEq)]
pub struct FloatDecoder {
    /// Latent size.
    pub latent_dim: usize,
    /// Image width.
    pub image_width: usize,
    /// Image height.
    pub image_height: usize,
    /// The layers in order.
    pub layers: Vec<FloatLayer>,
}

impl FloatDecoder {
    /// Every layer's output in f64 (ReLU applied to hidden layers); the last
    /// entry holds the logits.
    pub fn forward_all(&self, z: &[f64]) -> Vec<Vec<f64>> {
        let mut outs: Vec<Vec<f64>> = Vec::with_capacity(self.layers.len());
        let last = self.layers.len().saturating_sub(1);
        for (i, l) in self.layers.iter().enumerate() {
            let x: &[f64] = outs.last().map_or(z, |v| v.as_slice());
            let mut y: Vec<f64> = l
                .weights
                .chunks_exact(l.input_dim.max(1))
                .zip(&l.bias)
                .map(|(row, &b)| {
                    row.iter()
                        .zip(x)
                        .map(|(&w, &v)| f64::from(w) * v)
                        .sum::<f64>()
                        + f64::from(b)
                })
                .collect();
            if i != last {
                y.iter_mut().for_each(|v| *v = v.max(0.0));
            }
            outs.push(y);
        }
        outs
    }

    /// The logits for latent `z`, in f64.
    pub fn forward(&self, z: &[f64]) -> Vec<f64> {
        self.forward_all(z).pop().unwrap_or_default()
    }
}
