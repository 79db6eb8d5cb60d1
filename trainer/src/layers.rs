//! The ground floor of the networks: the dfdx device, the tensor types, and
//! the dense layer every network here is made of (the VAE, the sparse first
//! layer, the digit judge). It depends on nothing else in the crate.

use dfdx::prelude::*;
use rand::Rng;

/// The dfdx device (CPU).
pub type Dev = Cpu;
/// A batch of row vectors.
pub type Mat<T = NoneTape> = Tensor<(usize, usize), f32, Dev, T>;
/// A vector (biases).
pub type Vector = Tensor<(usize,), f32, Dev>;

/// Where a conditional network's label goes in the `classes` values
/// appended to each input row (its one-hot block): the label's own place,
/// or nowhere for a label outside `0..classes`. The dense inputs
/// ([`push_one_hot`]) and the sparse first layer both ask here.
pub fn label_slot(label: u8, classes: usize) -> Option<usize> {
    let slot = usize::from(label);
    (slot < classes).then_some(slot)
}

/// Appends `label`'s one-hot block (`classes` values) to `out`.
pub fn push_one_hot(out: &mut Vec<f32>, label: u8, classes: usize) {
    let hot = label_slot(label, classes);
    out.extend((0..classes).map(|c| if hot == Some(c) { 1.0 } else { 0.0 }));
}

/// A dense layer `y = x W^T + b` with `W` of shape (outputs, inputs).
#[derive(Debug, Clone)]
pub struct Dense {
    /// Weights, (outputs, inputs), row-major: the runtime's layout.
    pub w: Mat,
    /// Biases, (outputs,).
    pub b: Vector,
}

impl Dense {
    /// PyTorch's default initialisation: weights and biases uniform in
    /// `±1/sqrt(inputs)`.
    pub fn new(dev: &Dev, rng: &mut impl Rng, inputs: usize, outputs: usize) -> Self {
        let bound = 1.0 / (inputs as f32).sqrt();
        let w: Vec<f32> = (0..inputs * outputs)
            .map(|_| rng.gen_range(-bound..bound))
            .collect();
        let b: Vec<f32> = (0..outputs).map(|_| rng.gen_range(-bound..bound)).collect();
        Dense {
            w: dev.tensor_from_vec(w, (outputs, inputs)),
            b: dev.tensor_from_vec(b, (outputs,)),
        }
    }

    /// `(inputs, outputs)`.
    pub fn shape(&self) -> (usize, usize) {
        let (o, i) = *self.w.shape();
        (i, o)
    }

    /// Applies the layer to a batch.
    pub fn forward<T: Tape<f32, Dev> + Merge<NoneTape>>(&self, x: Mat<T>) -> Mat<T> {
        let batch = x.shape().0;
        let outputs = self.w.shape().0;
        let y = x.matmul(self.w.clone().permute::<(usize, usize), Axes2<1, 0>>());
        y + self
            .b
            .clone()
            .broadcast_like::<_, Axis<0>>(&(batch, outputs))
    }
}
