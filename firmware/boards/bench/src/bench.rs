//! The measurements and their output lines.

use core::fmt::Write as _;

use runtime::format::{Activation, Layer};
use runtime::kernels::{dense, reference};
use runtime::layout::{pack_into, packed_bytes, packed_len, padded_inputs};
use runtime::{Aligned, Decoder, Digit, LatentSampler, Model, Rng};

use crate::platform::{calibration_loop, now, println, stack_pointer, CORE};
use crate::stack;

/// Instructions in the calibration loop: 2 (decrement, branch), 1,000,000
/// times.
const CALIBRATION_LOOPS: u32 = 1_000_000;

/// Converts clock ticks (SysTick on Cortex-M, `minstret` on RISC-V) to
/// instructions with the measured ratio.
struct Clock {
    ticks_per_loop_x2: u64,
    overhead: u64,
}

impl Clock {
    fn calibrate() -> Clock {
        let t0 = now();
        let t1 = now();
        let overhead = t1 - t0;
        let t0 = now();
        calibration_loop(CALIBRATION_LOOPS);
        let t1 = now();
        Clock {
            ticks_per_loop_x2: (t1 - t0).saturating_sub(overhead).max(1),
            overhead,
        }
    }

    /// Instructions executed by `f`.
    fn instructions(&self, f: impl FnOnce()) -> u64 {
        let t0 = now();
        f();
        let t1 = now();
        let ticks = (t1 - t0).saturating_sub(self.overhead);
        let calibration_instructions = 2 * u64::from(CALIBRATION_LOOPS);
        (ticks * calibration_instructions + self.ticks_per_loop_x2 / 2) / self.ticks_per_loop_x2
    }
}

/// FNV-1a over 32-bit values: a fingerprint of a result for the host.
fn hash(values: impl Iterator<Item = u32>) -> u32 {
    values.fold(0x811C_9DC5u32, |h, v| (h ^ v).wrapping_mul(0x0100_0193))
}

/// The input the host test uses too: `x[i] = (37 i + 11) mod 256`.
fn activation_pattern<const N: usize>() -> Aligned<[i16; N]> {
    Aligned(core::array::from_fn(|i| {
        i16::from((i.wrapping_mul(37).wrapping_add(11)) as u8)
    }))
}

static REF_WEIGHTS: &Aligned<[u8]> = &Aligned(*include_bytes!(concat!(
    env!("OUT_DIR"),
    "/ref_weights.bin"
)));
// Word-aligned like the arrays of a model file loaded at an aligned address.
static REF_BIAS: &Aligned<[u8]> =
    &Aligned(*include_bytes!(concat!(env!("OUT_DIR"), "/ref_bias.bin")));
static REF_MULTIPLIER: &Aligned<[u8]> = &Aligned(*include_bytes!(concat!(
    env!("OUT_DIR"),
    "/ref_multiplier.bin"
)));

fn reference_layer() -> Layer<'static> {
    Layer {
        activation: Activation::Relu,
        input_dim: 128,
        output_dim: 784,
        weight_bits: 8,
        padding: &[],
        weights: &REF_WEIGHTS.0,
        bias: &REF_BIAS.0,
        multiplier: &REF_MULTIPLIER.0,
        shift: include_bytes!(concat!(env!("OUT_DIR"), "/ref_shift.bin")),
    }
}

fn per_mac(instructions: u64, macs: u64) -> (u64, u64) {
    let hundredths = (instructions * 100 + macs / 2) / macs.max(1);
    (hundredths / 100, hundredths % 100)
}

/// Times one layer on a fixed input (the latent for layer 0, else the
/// activation pattern) and prints its line and hash.
fn layer_line(clock: &Clock, name: &str, layer: &Layer<'_>, latent: &[i16]) {
    let mut out = [0i32; 784];
    let outputs = usize::from(layer.output_dim).min(out.len());
    let mut x = activation_pattern::<1024>();
    let inputs = padded_inputs(usize::from(layer.input_dim)).min(x.0.len());
    if !latent.is_empty() {
        x.0.fill(0);
        for (d, &z) in x.0.iter_mut().zip(latent) {
            *d = z;
        }
    }
    let x = &x.0[..inputs];
    let out = &mut out[..outputs];
    let instructions = clock.instructions(|| dense(layer, x, &mut *out, |v| v));
    let macs = u64::from(layer.input_dim) * u64::from(layer.output_dim);
    let (units, cents) = per_mac(instructions, macs);
    println(format_args!(
        "core={CORE} layer={name}{}x{} macs={macs} instructions={instructions} per_mac={units}.{cents:02}",
        layer.input_dim, layer.output_dim
    ));
    println(format_args!(
        "HASH {name}{}x{} {}",
        layer.input_dim,
        layer.output_dim,
        hash(out.iter().map(|&v| v as u32))
    ));
}

/// Scratch width of the decoder: the committed model's hidden layers are at
/// most 128 wide.
const SCRATCH: usize = 128;

/// Largest random layer of the on-device kernel check.
const CHECK_MAX_IN: usize = 72;
const CHECK_MAX_OUT: usize = 40;

/// Runs the selected kernel and the reference kernel on random layers of
/// odd and even sizes (activations and latent-like inputs, random
/// requantization) and prints how many outputs differ: must be 0.
fn kernel_check() {
    let mut rng = Rng::new(7);
    let mut weights = Aligned([0u8; packed_len(CHECK_MAX_OUT, CHECK_MAX_IN)]);
    // One spare byte so that parameters can start at an odd address: the
    // Cortex-M0 routine loads 2-aligned parameters by half-words, others by
    // bytes; the cases alternate.
    let mut bias = Aligned([0u8; CHECK_MAX_OUT * 4 + 1]);
    let mut mult = Aligned([0u8; CHECK_MAX_OUT * 4 + 1]);
    let mut shift = [0u8; CHECK_MAX_OUT];
    let mut x = Aligned([0i16; CHECK_MAX_IN]);
    let (mut layers, mut outputs_checked, mut mismatches) = (0u32, 0u32, 0u32);
    for case in 0..60u32 {
        let inputs = 1 + (rng.next_u32() as usize) % CHECK_MAX_IN;
        let outputs = 1 + (rng.next_u32() as usize) % CHECK_MAX_OUT;
        let seed = rng.next_u32();
        let odd = (case % 2) as usize;
        let w = |r: usize, k: usize| {
            let h =
                seed ^ (r as u32).wrapping_mul(0x9E37_79B9) ^ (k as u32).wrapping_mul(0x85EB_CA6B);
            let h = (h ^ (h >> 15)).wrapping_mul(0x2C1B_3C6D);
            (((h >> 8) % 255) as i32 - 127) as i8
        };
        // Every fifth layer int4 (weights divided into [-7, 7]).
        let bits = if case % 5 == 4 { 4 } else { 8 };
        let Some(wbuf) = weights.0.get_mut(..packed_bytes(outputs, inputs, bits)) else {
            continue;
        };
        let divisor = if bits == 4 { 18 } else { 1 };
        pack_into(outputs, inputs, bits, |r, k| w(r, k) / divisor, wbuf);
        for (c, shift) in shift.iter_mut().take(outputs).enumerate() {
            let b = (rng.next_u32() % 400_001) as i32 - 200_000;
            bias.0[odd + 4 * c..odd + 4 * c + 4].copy_from_slice(&b.to_le_bytes());
            let m = ((1i32 << 30) + (rng.next_u32() >> 2) as i32) & !0xFFFF;
            mult.0[odd + 4 * c..odd + 4 * c + 4].copy_from_slice(&m.to_le_bytes());
            // Shift regimes: all <= -2, all <= 0 (with 0 and -1: the
            // routines' whole range), or some positive (blocks redone by
            // the safe twin).
            let span = [30, 31, 20][(case % 3) as usize];
            let top = [-2, 0, 2][(case % 3) as usize];
            *shift = (top - (rng.next_u32() % span) as i32).max(-31) as i8 as u8;
        }
        let latent_like = case % 4 == 3;
        x.0.fill(0);
        for v in x.0.iter_mut().take(inputs) {
            *v = if latent_like {
                rng.next_u32() as i16 >> 2
            } else {
                (rng.next_u32() % 256) as i16
            };
        }
        let layer = Layer {
            activation: Activation::Relu,
            input_dim: inputs as u16,
            output_dim: outputs as u16,
            weight_bits: bits,
            padding: &[],
            weights: wbuf,
            bias: &bias.0[odd..odd + outputs * 4],
            multiplier: &mult.0[odd..odd + outputs * 4],
            shift: &shift[..outputs],
        };
        let xs = &x.0[..padded_inputs(inputs)];
        let (mut fast, mut slow) = ([0i32; CHECK_MAX_OUT], [0i32; CHECK_MAX_OUT]);
        dense(&layer, xs, &mut fast[..outputs], |v| v);
        reference::dense(&layer, xs, &mut slow[..outputs], |v| v);
        mismatches += fast[..outputs]
            .iter()
            .zip(&slow[..outputs])
            .filter(|(a, b)| a != b)
            .count() as u32;
        outputs_checked += outputs as u32;
        layers += 1;
    }
    println(format_args!(
        "core={CORE} kernel={} kernel_check layers={layers} outputs={outputs_checked} mismatches={mismatches}",
        runtime::kernels::SELECTED
    ));
}

/// The loader's agreement cases (see build.rs): a small model with its
/// name's length, then its prior's class count, written in 1 to 10 bytes.
static VARINT_CASES: &Aligned<[u8]> = &Aligned(*include_bytes!(concat!(
    env!("OUT_DIR"),
    "/varint_cases.bin"
)));

/// Loads each agreement case and prints what the loader says, for the host
/// to compare with its own answer: a file must be valid on a device exactly
/// when it is valid on the host.
fn loader_agreement() {
    let mut rest: &[u8] = &VARINT_CASES.0;
    for (what, width) in ["name", "classes"]
        .into_iter()
        .flat_map(|what| (1..=10).map(move |w| (what, w)))
    {
        let Some((len, tail)) = rest.split_first_chunk::<4>() else {
            return;
        };
        let len = u32::from_le_bytes(*len) as usize;
        let Some(file) = tail.get(..len) else {
            return;
        };
        match Model::from_bytes(file) {
            Ok(_) => println(format_args!("LOAD varint {what}/{width} ok")),
            Err(e) => println(format_args!("LOAD varint {what}/{width} {e}")),
        }
        rest = tail.get(len.div_ceil(4) * 4..).unwrap_or(&[]);
    }
}

/// Runs every measurement and prints the report.
pub fn run(model: &Model<'_>) {
    crate::platform::start_clock();
    let clock = Clock::calibrate();
    kernel_check();
    loader_agreement();

    let latent = LatentSampler::new(1).sample(model.latent_dim());
    for (i, layer) in model.layers().iter().enumerate() {
        let z: &[i16] = if i == 0 { latent.as_q12() } else { &[] };
        let mut name: heapless::String<40> = heapless::String::new();
        let _ = write!(name, "{}.{i}:", model.name());
        layer_line(&clock, name.as_str(), layer, z);
    }
    layer_line(&clock, "", &reference_layer(), &[]);

    let Ok(mut decoder) = Decoder::<SCRATCH>::new(model) else {
        return;
    };
    let mut digit = Digit::new();
    let sp_at_call = stack_pointer();
    stack::repaint_below_sp();
    let _ = decoder.decode(&latent, &mut digit);
    let decode_stack = sp_at_call.saturating_sub(stack::deepest());
    let digits = 4u64;
    let instructions = clock.instructions(|| {
        for _ in 0..digits {
            let _ = decoder.decode(&latent, &mut digit);
        }
    }) / digits;
    println(format_args!(
        "core={CORE} digit instructions={instructions} digits_per_s_at_48MHz={}",
        48_000_000 / instructions.max(1)
    ));
    println(format_args!(
        "HASH digit {}",
        hash(digit.pixels().iter().map(|&p| u32::from(p)))
    ));
    draws(&clock, model, &mut decoder, instructions);

    extern "C" {
        static __stext: u8;
        static __etext: u8;
    }
    let text = core::ptr::addr_of!(__etext) as usize - core::ptr::addr_of!(__stext) as usize;
    println(format_args!(
        "core={CORE} flash code_bytes={text} weight_bytes={} reference_layer_weight_bytes={}",
        model.weight_bytes(),
        reference_layer().weights.len()
    ));
    println(format_args!(
        "core={CORE} ram static_bytes={} decode_stack_bytes={decode_stack} decoder_bytes={} digit_bytes={} model_bytes={} of_which_prior_bytes={} stack_peak_bytes={}",
        stack::static_bytes(),
        core::mem::size_of::<Decoder<'_, SCRATCH>>(),
        core::mem::size_of::<Digit>(),
        core::mem::size_of::<Model<'_>>(),
        core::mem::size_of::<Option<runtime::PriorView<'_>>>(),
        stack::top() - stack::deepest()
    ));
}

/// Latent draws as a device makes them: per class of the model's prior (if
/// any) and unconditionally, with their hashes for the host; and what a
/// draw costs next to the decode: sampling N(0, I) alone, a requested-digit
/// draw (class prior: component pick, eps, `z = m + L eps`), and an
/// unconditional draw from the prior's mixture.
fn draws(clock: &Clock, model: &Model<'_>, decoder: &mut Decoder<'_, SCRATCH>, decode: u64) {
    let classes = model.prior().map_or(0, |p| p.classes());
    let mut sampler = LatentSampler::new(3);
    let requests = (0..classes).map(Some).chain((0..10).map(|_| None));
    let values = requests.flat_map(|class| {
        let z = sampler.draw(model, class);
        let v: heapless::Vec<u32, 64> = z.as_q12().iter().map(|&v| v as u16 as u32).collect();
        v
    });
    println(format_args!("HASH draws {}", hash(values)));
    let mut digit = Digit::new();
    let z = sampler.draw(model, Some(7 % classes.max(1)));
    let _ = decoder.decode(&z, &mut digit);
    println(format_args!(
        "HASH digit_class {}",
        hash(digit.pixels().iter().map(|&p| u32::from(p)))
    ));
    let n = 10u64;
    let dim = model.latent_dim();
    let mut s = LatentSampler::new(5);
    let plain = clock.instructions(|| {
        for _ in 0..n {
            let _ = s.sample(dim);
        }
    }) / n;
    let class = clock.instructions(|| {
        for k in 0..n {
            let _ = s.draw(model, Some(k as usize % classes.max(1)));
        }
    }) / n;
    let mixture = clock.instructions(|| {
        for _ in 0..n {
            let _ = s.draw(model, None);
        }
    }) / n;
    let percent = |d: u64| (d.saturating_sub(plain)) * 10_000 / decode.max(1);
    println(format_args!(
        "core={CORE} draw classes={classes} sample_instructions={plain} class_draw_instructions={class} mixture_draw_instructions={mixture} class_draw_extra_vs_decode_bp={}",
        percent(class)
    ));
    let _ = percent(mixture);
    digits_with_draws(clock, model, decoder);
}

/// What a whole digit costs, draw and decode, as a screen draws it: the
/// mean over 10 requested digits per class (the latent filter's redraws
/// included), and the worst case the file allows (every one of the
/// filter's `max_draws` latents drawn and judged, then one decode), with
/// the digits' hash for the host.
fn digits_with_draws(clock: &Clock, model: &Model<'_>, decoder: &mut Decoder<'_, SCRATCH>) {
    let classes = model.prior().map_or(0, |p| p.classes()).max(1);
    let per_class = 10u64;
    let n = per_class * classes as u64;
    let mut digit = Digit::new();
    let mut sampler = LatentSampler::new(11);
    let mean = clock.instructions(|| {
        for i in 0..n {
            let (z, _) = sampler.draw_counted(model, Some(i as usize % classes));
            let _ = decoder.decode(&z, &mut digit);
        }
    }) / n;
    // The same digits again, untimed: every draw count and pixel hashed.
    let mut sampler = LatentSampler::new(11);
    let mut draws = 0u64;
    let mut digests = [0u32; 2];
    for i in 0..n {
        let (z, d) = sampler.draw_counted(model, Some(i as usize % classes));
        draws += u64::from(d);
        let _ = decoder.decode(&z, &mut digit);
        let h = hash(digit.pixels().iter().map(|&p| u32::from(p)));
        digests = [
            digests[0].rotate_left(5) ^ h,
            digests[1].wrapping_add(u32::from(d)),
        ];
    }
    println(format_args!(
        "HASH digits_drawn {}",
        hash(digests.into_iter())
    ));
    let (most, filter_instructions, worst) = match (model.filter(), model.prior()) {
        (Some(f), Some(prior)) => {
            let dim = model.latent_dim();
            let mut s = LatentSampler::new(13);
            let z = LatentSampler::new(13).draw(model, Some(0));
            let reps = 10u64;
            let judge = clock.instructions(|| {
                for _ in 0..reps {
                    let _ = runtime::filter::accepts(f, z.as_q12(), 0);
                }
            }) / reps;
            // A capped digit: `max_draws` class draws, each judged, then the decode.
            let worst = clock.instructions(|| {
                let mut last = z.clone();
                for _ in 0..f.max_draws {
                    last = prior.sample_class(s.rng(), 0, dim).unwrap_or_default();
                    let _ = runtime::filter::accepts(f, last.as_q12(), 0);
                }
                let _ = decoder.decode(&last, &mut digit);
            });
            (f.max_draws, judge, worst)
        }
        _ => (1, 0, mean),
    };
    println(format_args!(
        "core={CORE} digit_with_draw mean_instructions={mean} worst_instructions={worst} draws_per_digit_x100={} max_draws={most} filter_instructions={filter_instructions}",
        draws * 100 / n.max(1)
    ));
}
