//! Adam (Kingma and Ba), as PyTorch and dfdx implement it, over the model's
//! parameter tensors. Kept here (rather than dfdx's `Adam`) because the
//! model's layers are sized at run time; its state is saved in checkpoints so
//! that `--resume` continues exactly where a run stopped.

use dfdx::prelude::*;
use rayon::prelude::*;

use crate::layers::{Dense, Dev};
use crate::vae::Vae;

/// Adam hyper-parameters and state.
#[derive(Debug, Clone)]
pub struct Adam {
    /// Learning rate.
    pub lr: f32,
    /// First-moment decay.
    pub beta1: f32,
    /// Second-moment decay.
    pub beta2: f32,
    /// Denominator guard.
    pub eps: f32,
    /// Steps taken.
    pub t: u64,
    /// First moments, one vector per parameter tensor (weights, then biases, per layer).
    pub m: Vec<Vec<f32>>,
    /// Second moments, same layout.
    pub v: Vec<Vec<f32>>,
    /// Scratch for the parameter values, same layout: reused every step, so
    /// the update allocates nothing (fresh megabyte buffers each step cost
    /// page faults).
    scratch: Vec<Vec<f32>>,
}

impl Adam {
    /// Fresh state for `vae` with PyTorch's defaults besides `lr`.
    pub fn new(vae: &Vae, lr: f32) -> Self {
        let sizes: Vec<usize> = vae
            .named_params()
            .iter()
            .flat_map(|(_, w, b)| [w.shape().0 * w.shape().1, b.shape().0])
            .collect();
        Self::with_sizes(&sizes, lr)
    }

    /// Fresh state for any list of dense layers (in the order
    /// [`Adam::step_layers`] will be given them).
    pub fn for_layers(layers: &[&Dense], lr: f32) -> Self {
        let sizes: Vec<usize> = layers
            .iter()
            .flat_map(|d| [d.w.shape().0 * d.w.shape().1, d.b.shape().0])
            .collect();
        Self::with_sizes(&sizes, lr)
    }

    fn with_sizes(sizes: &[usize], lr: f32) -> Self {
        Adam {
            lr,
            beta1: 0.9,
            beta2: 0.999,
            eps: 1e-8,
            t: 0,
            m: sizes.iter().map(|&n| vec![0.0; n]).collect(),
            v: sizes.iter().map(|&n| vec![0.0; n]).collect(),
            scratch: sizes.iter().map(|&n| vec![0.0; n]).collect(),
        }
    }

    /// One update of every parameter of `vae` from `grads`.
    pub fn step(&mut self, vae: &mut Vae, grads: &mut Gradients<f32, Dev>) {
        self.step_layers(vae.layers_mut(), grads);
    }

    /// One update of every layer in `layers` from `grads`. The gradients are
    /// read in place and the parameters go through reused scratch buffers.
    pub fn step_layers(&mut self, layers: Vec<&mut Dense>, grads: &mut Gradients<f32, Dev>) {
        self.t += 1;
        let bias1 = 1.0 - self.beta1.powi(self.t.min(i32::MAX as u64) as i32);
        let bias2 = 1.0 - self.beta2.powi(self.t.min(i32::MAX as u64) as i32);
        let (lr, b1, b2, eps) = (self.lr, self.beta1, self.beta2, self.eps);
        let mut slot = 0;
        for layer in layers {
            for param in 0..2 {
                let (m, v, values) = (
                    &mut self.m[slot],
                    &mut self.v[slot],
                    &mut self.scratch[slot],
                );
                let g = if param == 0 {
                    layer.w.copy_into(values);
                    grads.get_or_alloc_mut(&layer.w)
                } else {
                    layer.b.copy_into(values);
                    grads.get_or_alloc_mut(&layer.b)
                }
                .expect("the CPU allocates gradients");
                // Element by element, so splitting over the cores changes
                // nothing but the time.
                values
                    .par_chunks_mut(CHUNK)
                    .zip(g.par_chunks(CHUNK))
                    .zip(m.par_chunks_mut(CHUNK))
                    .zip(v.par_chunks_mut(CHUNK))
                    .for_each(|(((values, g), m), v)| {
                        for (((p, g), m), v) in values
                            .iter_mut()
                            .zip(g.iter())
                            .zip(m.iter_mut())
                            .zip(v.iter_mut())
                        {
                            *m = flush(b1 * *m + (1.0 - b1) * g);
                            *v = flush(b2 * *v + (1.0 - b2) * g * g);
                            let m_hat = *m / bias1;
                            let v_hat = *v / bias2;
                            *p -= lr * m_hat / (v_hat.sqrt() + eps);
                        }
                    });
                if param == 0 {
                    layer.w.copy_from(values);
                } else {
                    layer.b.copy_from(values);
                }
                slot += 1;
            }
        }
    }
}

/// Parameters per parallel task.
const CHUNK: usize = 1 << 14;

/// `x`, or 0 if it is subnormal. The moments of a parameter whose gradient
/// is zero (weights of the always-black border pixels, of dead ReLU units)
/// decay by `beta` every step into the subnormal range, where each x86
/// multiply costs a microcode assist: the update slowed down epoch after
/// epoch (classic: 3.9 s, 4.8 s, 5.5 s). Flushing them to zero, as FTZ would,
/// leaves every parameter bit-identical (their update was far below one ulp)
/// and works the same on every host.
#[inline]
fn flush(x: f32) -> f32 {
    if x.is_subnormal() {
        0.0
    } else {
        x
    }
}
