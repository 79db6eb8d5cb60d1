//! The encoder's first layer on the nonzero inputs only, as a dfdx op.
//!
//! About four in five MNIST pixels are exactly 0 (the black background), and
//! a conditional model's one-hot label has a single 1. A dense first layer
//! spends most of its multiplies (`x W^T`, and `dW = dY^T x` backward) on
//! those zeros, and it is the largest matrix of the model (784 x 400): the
//! trainer's epochs were mostly that layer. Here the batch is kept by its
//! nonzero entries (compressed rows, [`SparseRows`]) and the layer does the
//! work of the nonzeros only, on every core, and records its backward pass
//! on dfdx's tape like any other op. The input needs no gradient, so `dX` is
//! never computed.
//!
//! Both passes are one kernel, "a sparse row times a dense matrix":
//! forward, output row `r` is `sum_p x[r,p] W^T[p,:]` over the nonzeros of
//! row `r`; backward, row `p` of `dW^T` is `sum_r x[r,p] dY[r,:]` over the
//! nonzeros of column `p`. Each output value is one chain of fused
//! multiply-adds in a fixed order (ascending index), whatever the thread
//! count or the SIMD width, so results are the same on every run and on
//! every host with fused multiply-add in hardware (x86-64 with FMA,
//! aarch64); elsewhere the same values come from a slower software fma.

use std::cell::RefCell;
use std::sync::Arc;

use dfdx::prelude::*;
use rayon::prelude::*;

use crate::layers::{label_slot, Dense, Dev, Mat};

/// A batch of rows stored by their nonzero entries (compressed sparse rows).
#[derive(Debug, Clone, PartialEq)]
pub struct SparseRows {
    width: usize,
    /// Row `r`'s entries are `index[start[r]..start[r + 1]]`.
    start: Vec<usize>,
    index: Vec<u32>,
    value: Vec<f32>,
}

impl SparseRows {
    /// The nonzeros of `dense` (rows of `width` values, row-major), each row
    /// followed by the one-hot code of its label when `classes > 0` (the
    /// conditional model's input; labels outside `0..classes` get no 1).
    ///
    /// # Panics
    /// If `dense` is not whole rows, or `classes > 0` and there is not one
    /// label per row.
    pub fn new(dense: &[f32], width: usize, labels: &[u8], classes: usize) -> Self {
        assert!(width > 0 && dense.len() % width == 0, "whole rows");
        let rows = dense.len() / width;
        assert!(classes == 0 || labels.len() == rows, "one label per row");
        let total = width + classes;
        assert!(u32::try_from(total).is_ok(), "row width fits u32");
        let mut out = SparseRows {
            width: total,
            start: Vec::with_capacity(rows + 1),
            index: Vec::with_capacity(dense.len() / 4),
            value: Vec::with_capacity(dense.len() / 4),
        };
        out.start.push(0);
        for (r, row) in dense.chunks_exact(width).enumerate() {
            for (p, &v) in row.iter().enumerate() {
                if v != 0.0 {
                    out.index.push(p as u32);
                    out.value.push(v);
                }
            }
            let slot = labels.get(r).and_then(|&l| label_slot(l, classes));
            if let Some(slot) = slot {
                out.index.push((width + slot) as u32);
                out.value.push(1.0);
            }
            out.start.push(out.index.len());
        }
        out
    }

    /// Number of rows.
    pub fn rows(&self) -> usize {
        self.start.len() - 1
    }

    /// Values per row, zeros included.
    pub fn width(&self) -> usize {
        self.width
    }

    /// Number of nonzero entries.
    pub fn nonzeros(&self) -> usize {
        self.index.len()
    }

    /// The rows written out densely, row-major.
    pub fn to_dense(&self) -> Vec<f32> {
        let mut out = vec![0.0; self.rows() * self.width];
        for r in 0..self.rows() {
            let (index, value) = self.row(r);
            for (&p, &v) in index.iter().zip(value) {
                out[r * self.width + p as usize] = v;
            }
        }
        out
    }

    fn row(&self, r: usize) -> (&[u32], &[f32]) {
        let span = self.start[r]..self.start[r + 1];
        (&self.index[span.clone()], &self.value[span])
    }

    /// The same entries by column: row `p` of the result holds the rows
    /// where column `p` is nonzero, ascending.
    fn transpose(&self) -> SparseRows {
        let mut count = vec![0usize; self.width + 1];
        for &p in &self.index {
            count[p as usize + 1] += 1;
        }
        for p in 0..self.width {
            count[p + 1] += count[p];
        }
        let start = count.clone();
        let mut next = count;
        let mut index = vec![0u32; self.index.len()];
        let mut value = vec![0.0f32; self.value.len()];
        for r in 0..self.rows() {
            let (idx, val) = self.row(r);
            for (&p, &v) in idx.iter().zip(val) {
                let slot = &mut next[p as usize];
                index[*slot] = r as u32;
                value[*slot] = v;
                *slot += 1;
            }
        }
        SparseRows {
            width: self.rows(),
            start,
            index,
            value,
        }
    }
}

/// `layer` applied to the rows of `x` (`x W^T + b`), with its backward pass
/// (gradients of the weights and biases, none for `x`) recorded on `tape`.
///
/// # Panics
/// If `x`'s width is not the layer's input count.
pub fn forward<T: Tape<f32, Dev>>(layer: &Dense, x: &Arc<SparseRows>, mut tape: T) -> Mat<T> {
    let (outputs, inputs) = *layer.w.shape();
    assert_eq!(x.width(), inputs, "input width");
    let rows = x.rows();
    let mut w = take(outputs * inputs);
    layer.w.copy_into(&mut w);
    let mut bias = vec![0.0; outputs];
    layer.b.copy_into(&mut bias);
    let mut wt = take(outputs * inputs);
    transpose_into::<false>(&mut wt, &w, outputs, inputs);
    give(w);
    let mut y = vec![0.0f32; rows * outputs];
    y.par_chunks_mut(outputs * ROWS_PER_TASK)
        .enumerate()
        .for_each(|(task, out)| {
            for (i, y_row) in out.chunks_exact_mut(outputs).enumerate() {
                let (index, value) = x.row(task * ROWS_PER_TASK + i);
                sparse_row_times(index, value, &wt, y_row);
                for (y, b) in y_row.iter_mut().zip(&bias) {
                    *y += b;
                }
            }
        });
    give(wt);
    let dev = layer.w.device().clone();
    let y = dev.tensor_from_vec(y, (rows, outputs));
    if T::OWNS_TAPE {
        let (w_ghost, b_ghost, y_ghost) = (layer.w.ghost(), layer.b.ghost(), y.ghost());
        let x = Arc::clone(x);
        tape.add_backward_op(move |grads| {
            let mut dy = take(rows * outputs);
            dy.copy_from_slice(grads.get_or_alloc_mut(&y_ghost)?);
            let dwt = weight_gradient(&x, &dy, outputs);
            let gw = grads.get_or_alloc_mut(&w_ghost)?;
            transpose_into::<true>(gw, &dwt, inputs, outputs);
            give(dwt);
            let gb = grads.get_or_alloc_mut(&b_ghost)?;
            for row in dy.chunks_exact(outputs) {
                for (g, d) in gb.iter_mut().zip(row) {
                    *g += d;
                }
            }
            give(dy);
            Ok(())
        });
    }
    y.put_tape(tape)
}

/// Rows per parallel task: enough work to outweigh the task's overhead.
const ROWS_PER_TASK: usize = 8;

/// `dW^T` (inputs x outputs, row-major) of a batch: row `p` is
/// `sum_r x[r,p] dY[r,:]`.
fn weight_gradient(x: &SparseRows, dy: &[f32], outputs: usize) -> Vec<f32> {
    let by_column = x.transpose();
    let mut dwt = take(x.width() * outputs);
    dwt.par_chunks_mut(outputs * ROWS_PER_TASK)
        .enumerate()
        .for_each(|(task, out)| {
            for (i, row) in out.chunks_exact_mut(outputs).enumerate() {
                let (index, value) = by_column.row(task * ROWS_PER_TASK + i);
                if index.is_empty() {
                    row.fill(0.0);
                } else {
                    sparse_row_times(index, value, dy, row);
                }
            }
        });
    dwt
}

thread_local! {
    /// Buffers of earlier steps, for reuse: the layer needs the same
    /// megabyte-sized ones every step, and a fresh one costs a zero fill.
    static POOL: RefCell<Vec<Vec<f32>>> = const { RefCell::new(Vec::new()) };
}

/// A buffer of `len` values, from the pool when it holds one of that size;
/// its contents are unspecified (callers overwrite all of it).
fn take(len: usize) -> Vec<f32> {
    let pooled = POOL.with_borrow_mut(|pool| {
        let at = pool.iter().position(|v| v.len() == len)?;
        Some(pool.swap_remove(at))
    });
    pooled.unwrap_or_else(|| vec![0.0; len])
}

/// Returns a buffer to the pool (which keeps a few).
fn give(buffer: Vec<f32>) {
    POOL.with_borrow_mut(|pool| {
        if pool.len() < 8 {
            pool.push(buffer);
        }
    });
}

/// `dst = src^T` (`ADD`: `dst += src^T`), with `src` (rows x cols) and
/// `dst` (cols x rows), both row-major; in bands of eight destination rows,
/// one band per task, moved through 8 x 8 tiles so that every read and
/// write is a contiguous run.
fn transpose_into<const ADD: bool>(dst: &mut [f32], src: &[f32], rows: usize, cols: usize) {
    const T: usize = 8;
    let put = |d: &mut f32, v: f32| {
        if ADD {
            *d += v;
        } else {
            *d = v;
        }
    };
    dst.par_chunks_mut(rows * T)
        .enumerate()
        .for_each(|(band, out)| {
            let c0 = band * T;
            let width = out.len() / rows;
            let whole = if width == T { rows / T * T } else { 0 };
            for r0 in (0..whole).step_by(T) {
                let mut tile = [[0.0f32; T]; T];
                for (i, line) in tile.iter_mut().enumerate() {
                    line.copy_from_slice(&src[(r0 + i) * cols + c0..][..T]);
                }
                for (j, run) in out.chunks_exact_mut(rows).enumerate() {
                    for (i, d) in run[r0..r0 + T].iter_mut().enumerate() {
                        put(d, tile[i][j]);
                    }
                }
            }
            for r in whole..rows {
                for (j, &v) in src[r * cols + c0..][..width].iter().enumerate() {
                    put(&mut out[j * rows + r], v);
                }
            }
        });
}

/// `out = sum_k value[k] * m[index[k], :]` where `m` has `out.len()` columns:
/// a sparse row times a dense matrix. Each output is one chain of fused
/// multiply-adds from 0 in the order of `index`, whatever the SIMD width.
fn sparse_row_times(index: &[u32], value: &[f32], m: &[f32], out: &mut [f32]) {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma") {
        // SAFETY: the CPU has the features the function is compiled for.
        unsafe { sparse_row_times_avx2(index, value, m, out) };
        return;
    }
    sparse_row_times_portable(index, value, m, out);
}

/// [`sparse_row_times_portable`] compiled for AVX2 and FMA.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn sparse_row_times_avx2(index: &[u32], value: &[f32], m: &[f32], out: &mut [f32]) {
    sparse_row_times_portable(index, value, m, out);
}

/// Outputs kept in registers across one pass over the nonzeros: eight
/// AVX2 registers, enough independent chains to keep both FMA units busy.
const LANES: usize = 64;

#[inline(always)]
fn sparse_row_times_portable(index: &[u32], value: &[f32], m: &[f32], out: &mut [f32]) {
    let cols = out.len();
    let wide = cols / LANES * LANES;
    let narrow = cols / 8 * 8;
    for c0 in (0..wide).step_by(LANES) {
        block::<LANES>(index, value, m, cols, c0, &mut out[c0..c0 + LANES]);
    }
    for c0 in (wide..narrow).step_by(8) {
        block::<8>(index, value, m, cols, c0, &mut out[c0..c0 + 8]);
    }
    for c0 in narrow..cols {
        block::<1>(index, value, m, cols, c0, &mut out[c0..c0 + 1]);
    }
}

/// Columns `c0..c0 + N` of a sparse row times `m` (`cols` columns).
#[inline(always)]
fn block<const N: usize>(
    index: &[u32],
    value: &[f32],
    m: &[f32],
    cols: usize,
    c0: usize,
    out: &mut [f32],
) {
    let mut acc = [0.0f32; N];
    for (&k, &v) in index.iter().zip(value) {
        let row = &m[k as usize * cols + c0..][..N];
        for (a, &w) in acc.iter_mut().zip(row) {
            *a = v.mul_add(w, *a);
        }
    }
    out.copy_from_slice(&acc);
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};

    fn random_batch(rows: usize, width: usize, seed: u64) -> Vec<f32> {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
        (0..rows * width)
            .map(|_| {
                if rng.gen_bool(0.3) {
                    rng.gen_range(0.0..1.0)
                } else {
                    0.0
                }
            })
            .collect()
    }

    #[test]
    fn keeps_the_nonzeros_and_appends_one_hot_labels() {
        let dense = [0.0, 0.5, 0.0, 1.0, 0.0, 0.0];
        let plain = SparseRows::new(&dense, 3, &[], 0);
        assert_eq!((plain.rows(), plain.width(), plain.nonzeros()), (2, 3, 2));
        assert_eq!(plain.to_dense(), dense);
        let labelled = SparseRows::new(&dense, 3, &[1, 9], 2);
        assert_eq!(labelled.width(), 5);
        // Label 9 is outside 0..2: no 1 for it.
        assert_eq!(
            labelled.to_dense(),
            [0.0, 0.5, 0.0, 0.0, 1.0, 1.0, 0.0, 0.0, 0.0, 0.0]
        );
        let t = labelled.transpose();
        assert_eq!(t.rows(), 5);
        assert_eq!(t.transpose(), labelled);
    }

    #[test]
    fn matches_the_dense_layer_forward_and_backward() {
        let dev = Dev::default();
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(3);
        // 37 outputs: one 32-wide register block and a tail.
        let (rows, inputs, outputs) = (19, 50, 37);
        let layer = Dense::new(&dev, &mut rng, inputs, outputs);
        let dense = random_batch(rows, inputs, 4);
        let x = Arc::new(SparseRows::new(&dense, inputs, &[], 0));
        let weights: Vec<f32> = (0..rows * outputs)
            .map(|_| rng.gen_range(-1.0..1.0))
            .collect();
        let target: Mat = dev.tensor_from_vec(weights, (rows, outputs));

        let run = |y: Mat<OwnedTape<f32, Dev>>| {
            let loss = (y * target.clone()).sum::<Rank0, _>();
            let grads = loss.backward();
            (grads.get(&layer.w).as_vec(), grads.get(&layer.b).as_vec())
        };
        let y_sparse = forward(&layer, &x, OwnedTape::default());
        let y_dense = layer.forward(dev.tensor_from_vec(dense, (rows, inputs)).leaky_trace());
        let close = |a: &[f32], b: &[f32]| {
            assert_eq!(a.len(), b.len());
            for (u, v) in a.iter().zip(b) {
                assert!((u - v).abs() <= 1e-5 * (1.0 + v.abs()), "{u} vs {v}");
            }
        };
        close(&y_sparse.as_vec(), &y_dense.as_vec());
        let (gw_s, gb_s) = run(y_sparse);
        let (gw_d, gb_d) = run(y_dense);
        close(&gw_s, &gw_d);
        close(&gb_s, &gb_d);
        // Without a tape: the same values, bit for bit.
        let untaped = forward(&layer, &x, NoneTape);
        let again = forward(&layer, &x, OwnedTape::<f32, Dev>::default());
        assert_eq!(untaped.as_vec(), again.as_vec());
    }

    #[test]
    fn the_simd_kernel_equals_the_portable_one_bit_for_bit() {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(5);
        let (rows, cols) = (60, 77);
        let m: Vec<f32> = (0..rows * cols).map(|_| rng.gen_range(-1.0..1.0)).collect();
        let index: Vec<u32> = (0..rows as u32).filter(|_| rng.gen_bool(0.4)).collect();
        let value: Vec<f32> = index.iter().map(|_| rng.gen_range(0.0..1.0)).collect();
        let mut fast = vec![0.0; cols];
        let mut portable = vec![0.0; cols];
        sparse_row_times(&index, &value, &m, &mut fast);
        sparse_row_times_portable(&index, &value, &m, &mut portable);
        assert_eq!(
            fast.iter().map(|v| v.to_bits()).collect::<Vec<_>>(),
            portable.iter().map(|v| v.to_bits()).collect::<Vec<_>>()
        );
        // Each output is the fma chain in index order.
        let mut expect = 0.0f32;
        for (&k, &v) in index.iter().zip(&value) {
            expect = v.mul_add(m[k as usize * cols + 40], expect);
        }
        assert_eq!(fast[40].to_bits(), expect.to_bits());
    }
}
