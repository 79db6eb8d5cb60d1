//! Every kernel gives exactly the reference kernel's output, and the
//! reference gives exactly a row-major i64 oracle's, for random layers of odd
//! and even sizes, both input kinds (activations in [0, 255] and the i16 Q12
//! latent) and extreme values. The assembly kernels are the safe twins
//! tested here; `tests/tests/cores_bit_exact.rs` checks the assembly itself
//! on each core under QEMU.

use proptest::prelude::*;
use runtime::format::{Activation, Layer};
use runtime::kernels::{dense, dense_with_twin, dsp, host, int4, reference, rv32, thumb};
use runtime::layout::{pack, padded_inputs};

#[derive(Debug, Clone)]
struct OwnedLayer {
    bits: u8,
    inputs: u16,
    outputs: u16,
    row_major: Vec<i8>,
    weights: Vec<u8>,
    bias: Vec<i32>,
    multiplier: Vec<i32>,
    shift: Vec<i8>,
    bias_bytes: Vec<u8>,
    multiplier_bytes: Vec<u8>,
    shift_bytes: Vec<u8>,
}

impl OwnedLayer {
    fn new(inputs: u16, outputs: u16, w: Vec<i8>, b: Vec<i32>, m: Vec<i32>, s: Vec<i8>) -> Self {
        OwnedLayer {
            bits: 8,
            inputs,
            outputs,
            weights: pack(usize::from(outputs), usize::from(inputs), 8, &w),
            row_major: w,
            bias_bytes: b.iter().flat_map(|v| v.to_le_bytes()).collect(),
            multiplier_bytes: m.iter().flat_map(|v| v.to_le_bytes()).collect(),
            shift_bytes: s.iter().map(|&v| v as u8).collect(),
            bias: b,
            multiplier: m,
            shift: s,
        }
    }

    fn view(&self) -> Layer<'_> {
        Layer {
            activation: Activation::Relu,
            input_dim: self.inputs,
            output_dim: self.outputs,
            weight_bits: self.bits,
            padding: &[],
            weights: &self.weights,
            bias: &self.bias_bytes,
            multiplier: &self.multiplier_bytes,
            shift: &self.shift_bytes,
        }
    }
}

fn layer_strategy(max_inputs: u16) -> impl Strategy<Value = OwnedLayer> {
    (1u16..=max_inputs, 1u16..=29).prop_flat_map(|(inputs, outputs)| {
        let n = usize::from(inputs) * usize::from(outputs);
        let o = usize::from(outputs);
        (
            proptest::collection::vec(-127i8..=127, n),
            proptest::collection::vec(-(1i32 << 28)..=(1 << 28), o),
            proptest::collection::vec((0i32..=0x7FFF).prop_map(|m| m << 16), o),
            proptest::collection::vec(-31i8..=30, o),
        )
            .prop_map(move |(w, b, m, s)| OwnedLayer::new(inputs, outputs, w, b, m, s))
    })
}

/// The same layer with its weights divided by 18 (into `[-7, 7]`) and
/// stored as int4.
fn as_int4(layer: OwnedLayer) -> OwnedLayer {
    let w: Vec<i8> = layer.row_major.iter().map(|&v| v / 18).collect();
    OwnedLayer {
        bits: 4,
        weights: pack(usize::from(layer.outputs), usize::from(layer.inputs), 4, &w),
        row_major: w,
        ..layer
    }
}

/// Inputs padded with zeros to the layout's multiple of 4.
fn padded(layer: &OwnedLayer, x: Vec<i16>) -> Vec<i16> {
    let mut x = x;
    x.resize(padded_inputs(usize::from(layer.inputs)), 0);
    x
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 400,
        failure_persistence: Some(Box::new(proptest::test_runner::FileFailurePersistence::Off)),
        ..ProptestConfig::default()
    })]

    #[test]
    fn kernels_agree_on_activations(layer in layer_strategy(70), seed in any::<u64>()) {
        let mut rng = runtime::Rng::new(seed);
        let x = padded(&layer, (0..layer.inputs).map(|_| (rng.next_u32() % 256) as i16).collect());
        let expect = run_oracle(&layer, &x);
        prop_assert_eq!(&run_reference(&layer, &x), &expect);
        prop_assert_eq!(&run_block(&layer, &x), &expect);
        prop_assert_eq!(&run_host(&layer, &x), &expect);
        prop_assert_eq!(&run_rv32(&layer, &x), &expect);
        #[cfg(target_arch = "x86_64")]
        prop_assert_eq!(&run_x86(&layer, &x), &expect);
        prop_assert!(dsp::applies(&x));
        prop_assert_eq!(&run_dsp(&layer, &x), &expect);
        prop_assert_eq!(&run_dense(&layer, &x), &expect);
    }

    #[test]
    fn int4_kernel_agrees_with_reference(layer in layer_strategy(70), seed in any::<u64>(), latent in any::<bool>()) {
        let layer = as_int4(layer);
        let mut rng = runtime::Rng::new(seed);
        let x = padded(&layer, (0..layer.inputs).map(|_| if latent { rng.next_u32() as i16 } else { (rng.next_u32() % 256) as i16 }).collect());
        let expect = run_oracle(&layer, &x);
        prop_assert_eq!(&run_reference(&layer, &x), &expect);
        prop_assert_eq!(&run_with(&layer, |l, out| dense_with_twin(l, &x, out, |v| v, int4::block_sums)), &expect);
        prop_assert_eq!(&run_dense(&layer, &x), &expect);
    }

    #[test]
    fn kernels_agree_on_latents(layer in layer_strategy(64), seed in any::<u64>()) {
        let mut rng = runtime::Rng::new(seed);
        let x = padded(&layer, (0..layer.inputs).map(|_| rng.next_u32() as i16).collect());
        let expect = run_oracle(&layer, &x);
        prop_assert_eq!(&run_reference(&layer, &x), &expect);
        prop_assert_eq!(&run_block(&layer, &x), &expect);
        prop_assert_eq!(&run_host(&layer, &x), &expect);
        prop_assert_eq!(&run_rv32(&layer, &x), &expect);
        prop_assert_eq!(&run_dense(&layer, &x), &expect);
    }

    /// Short and odd-length inputs (missing values count as zero) give the
    /// host and RV32 kernels the Thumb twin's sums.
    #[test]
    fn host_sums_equal_the_thumb_twin_on_any_input_length(
        block in proptest::collection::vec(any::<u8>(), 0..=96),
        x in proptest::collection::vec(any::<i16>(), 0..=13),
    ) {
        let whole = &block[..block.len() / 16 * 16];
        prop_assert_eq!(host::block_sums(whole, &x), thumb::block_sums(whole, &x));
        prop_assert_eq!(rv32::block_sums(whole, &x), thumb::block_sums(whole, &x));
        #[cfg(target_arch = "x86_64")]
        prop_assert_eq!(runtime::kernels::x86::block_sums(whole, &x), thumb::block_sums(whole, &x));
    }
}

/// Row-major weights, i64 sums, and the reference requantization.
fn run_oracle(layer: &OwnedLayer, x: &[i16]) -> Vec<i32> {
    let k = usize::from(layer.inputs);
    (0..usize::from(layer.outputs))
        .map(|r| {
            let dot: i64 = (0..k)
                .map(|i| i64::from(layer.row_major[r * k + i]) * i64::from(x[i]))
                .sum();
            let acc = i32::try_from(i64::from(layer.bias[r]) + dot).expect("in range");
            runtime::requant::requantize(acc, layer.multiplier[r], layer.shift[r])
        })
        .collect()
}

fn run_with(layer: &OwnedLayer, f: impl FnOnce(&Layer<'_>, &mut [i32])) -> Vec<i32> {
    let mut out = vec![0i32; usize::from(layer.outputs)];
    f(&layer.view(), &mut out);
    out
}

fn run_reference(layer: &OwnedLayer, x: &[i16]) -> Vec<i32> {
    run_with(layer, |l, out| reference::dense(l, x, out, |v| v))
}

fn run_block(layer: &OwnedLayer, x: &[i16]) -> Vec<i32> {
    run_with(layer, |l, out| {
        dense_with_twin(l, x, out, |v| v, thumb::block_sums)
    })
}

fn run_host(layer: &OwnedLayer, x: &[i16]) -> Vec<i32> {
    run_with(layer, |l, out| {
        dense_with_twin(l, x, out, |v| v, host::block_sums)
    })
}

fn run_rv32(layer: &OwnedLayer, x: &[i16]) -> Vec<i32> {
    run_with(layer, |l, out| {
        dense_with_twin(l, x, out, |v| v, rv32::block_sums)
    })
}

#[cfg(target_arch = "x86_64")]
fn run_x86(layer: &OwnedLayer, x: &[i16]) -> Vec<i32> {
    run_with(layer, |l, out| {
        dense_with_twin(l, x, out, |v| v, runtime::kernels::x86::block_sums)
    })
}

fn run_dsp(layer: &OwnedLayer, x: &[i16]) -> Vec<i32> {
    run_with(layer, |l, out| {
        dense_with_twin(l, x, out, |v| v, dsp::block_sums)
    })
}

fn run_dense(layer: &OwnedLayer, x: &[i16]) -> Vec<i32> {
    run_with(layer, |l, out| dense(l, x, out, |v| v))
}

#[test]
fn extreme_values_agree() {
    // The largest layers the paired kernel takes (256 inputs) and beyond.
    for (inputs, outputs) in [(1u16, 1u16), (64, 5), (128, 7), (256, 9), (4096, 3)] {
        let n = usize::from(inputs) * usize::from(outputs);
        let o = usize::from(outputs);
        let w = (0..n)
            .map(|i| if i % 3 == 0 { -127 } else { 127 })
            .collect();
        let b = (0..o)
            .map(|i| if i % 2 == 0 { 1 << 28 } else { -(1 << 28) })
            .collect();
        let s = (0..o).map(|i| if i % 2 == 0 { 30 } else { -31 }).collect();
        let layer = OwnedLayer::new(inputs, outputs, w, b, vec![0x7FFF_0000; o], s);
        for value in [255i16, 1] {
            let x = padded(&layer, vec![value; usize::from(inputs)]);
            let expect = run_oracle(&layer, &x);
            assert_eq!(run_reference(&layer, &x), expect, "{inputs}x{outputs}");
            assert_eq!(run_block(&layer, &x), expect, "{inputs}x{outputs}");
            assert_eq!(run_host(&layer, &x), expect, "{inputs}x{outputs}");
            assert_eq!(run_rv32(&layer, &x), expect, "{inputs}x{outputs}");
            #[cfg(target_arch = "x86_64")]
            assert_eq!(run_x86(&layer, &x), expect, "{inputs}x{outputs}");
            if dsp::applies(&x) {
                assert_eq!(run_dsp(&layer, &x), expect, "{inputs}x{outputs}");
            }
        }
    }
    // Odd rows at the bound: all weights -127 or all +127 times 255, 256 inputs.
    for sign in [-127i8, 127] {
        let layer = OwnedLayer::new(
            256,
            2,
            vec![sign; 512],
            vec![0; 2],
            vec![1 << 30; 2],
            vec![-8; 2],
        );
        let x = padded(&layer, vec![255; 256]);
        assert_eq!(run_dsp(&layer, &x), run_oracle(&layer, &x));
    }
}

#[test]
fn dsp_twin_refuses_inputs_it_cannot_sum_exactly() {
    assert!(!dsp::applies(&[256]));
    assert!(!dsp::applies(&[-1]));
    assert!(!dsp::applies(&[0; 260]));
    assert!(dsp::applies(&[255; 256]));
}

/// A swapped row in the twin would be caught: sanity check of the test itself.
#[test]
fn a_wrong_kernel_fails() {
    let layer = OwnedLayer::new(
        8,
        8,
        (0..64).map(|i| i as i8).collect(),
        vec![0; 8],
        vec![1 << 30; 8],
        vec![-1; 8],
    );
    let x = vec![3i16; 8];
    let swapped = run_with(&layer, |l, out| {
        dense_with_twin(
            l,
            &x,
            out,
            |v| v,
            |b, x| {
                let mut s = thumb::block_sums(b, x);
                s.swap(1, 3);
                s
            },
        )
    });
    assert_ne!(swapped, run_oracle(&layer, &x));
}
