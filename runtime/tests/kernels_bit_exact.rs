//! Every kernel gives exactly the reference kernel's output, for random
//! layers of odd and even sizes, both input kinds (u8 activations and the
//! i16 Q12 latent) and extreme values.

use proptest::prelude::*;
use runtime::format::{Activation, Layer};
use runtime::kernels::{blocked, reference};

#[derive(Debug, Clone)]
struct OwnedLayer {
    inputs: u16,
    outputs: u16,
    weights: Vec<u8>,
    bias: Vec<u8>,
    multiplier: Vec<u8>,
    shift: Vec<u8>,
}

impl OwnedLayer {
    fn view(&self) -> Layer<'_> {
        Layer {
            activation: Activation::Relu,
            input_dim: self.inputs,
            output_dim: self.outputs,
            weights: &self.weights,
            bias: &self.bias,
            multiplier: &self.multiplier,
            shift: &self.shift,
        }
    }
}

fn layer_strategy() -> impl Strategy<Value = OwnedLayer> {
    (1u16..=37, 1u16..=23).prop_flat_map(|(inputs, outputs)| {
        let n = usize::from(inputs) * usize::from(outputs);
        let o = usize::from(outputs);
        (
            proptest::collection::vec(-127i8..=127, n),
            proptest::collection::vec(-(1i32 << 30)..=(1 << 30), o),
            proptest::collection::vec(0i32..=i32::MAX, o),
            proptest::collection::vec(-31i8..=30, o),
        )
            .prop_map(move |(w, b, m, s)| OwnedLayer {
                inputs,
                outputs,
                weights: w.iter().map(|&v| v as u8).collect(),
                bias: b.iter().flat_map(|v| v.to_le_bytes()).collect(),
                multiplier: m.iter().flat_map(|v| v.to_le_bytes()).collect(),
                shift: s.iter().map(|&v| v as u8).collect(),
            })
    })
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 500,
        failure_persistence: Some(Box::new(proptest::test_runner::FileFailurePersistence::Off)),
        ..ProptestConfig::default()
    })]

    #[test]
    fn blocked_equals_reference_on_activations(layer in layer_strategy(), seed in any::<u64>()) {
        let mut rng = runtime::Rng::new(seed);
        let x: Vec<u8> = (0..layer.inputs).map(|_| rng.next_u32() as u8).collect();
        prop_assert_eq!(run_reference(&layer, &x), run_blocked(&layer, &x));
    }

    #[test]
    fn blocked_equals_reference_on_latents(layer in layer_strategy(), seed in any::<u64>()) {
        let mut rng = runtime::Rng::new(seed);
        let x: Vec<i16> = (0..layer.inputs).map(|_| rng.next_u32() as i16).collect();
        prop_assert_eq!(run_reference(&layer, &x), run_blocked(&layer, &x));
    }
}

/// The reference kernel's accumulators (requantized, no activation).
fn run_reference<X: runtime::kernels::Input>(layer: &OwnedLayer, x: &[X]) -> Vec<i32> {
    let mut out = vec![0i32; usize::from(layer.outputs)];
    reference::dense(&layer.view(), x, &mut out, |v| v);
    out
}

/// The four-channel kernel's, likewise.
fn run_blocked<X: runtime::kernels::Input>(layer: &OwnedLayer, x: &[X]) -> Vec<i32> {
    let mut out = vec![0i32; usize::from(layer.outputs)];
    blocked::dense(&layer.view(), x, &mut out, |v| v);
    out
}

#[test]
fn extreme_values_agree() {
    for (inputs, outputs) in [(1u16, 1u16), (64, 5), (128, 7), (4096, 3)] {
        let n = usize::from(inputs) * usize::from(outputs);
        let layer = OwnedLayer {
            inputs,
            outputs,
            weights: (0..n)
                .map(|i| if i % 3 == 0 { 0x81 } else { 0x7F })
                .collect(),
            bias: (0..outputs)
                .flat_map(|i| (if i % 2 == 0 { 1i32 << 30 } else { -(1 << 30) }).to_le_bytes())
                .collect(),
            multiplier: (0..outputs).flat_map(|_| i32::MAX.to_le_bytes()).collect(),
            shift: (0..outputs)
                .map(|i| if i % 2 == 0 { 30u8 } else { (-31i8) as u8 })
                .collect(),
        };
        let x = vec![255u8; usize::from(inputs)];
        assert_eq!(
            run_reference(&layer, &x),
            run_blocked(&layer, &x),
            "{inputs}x{outputs}"
        );
    }
}
