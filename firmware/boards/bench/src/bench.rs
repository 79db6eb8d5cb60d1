//! The measurements and their output lines.

use core::fmt::Write as _;
use core::sync::atomic::{AtomicU32, Ordering};

use runtime::format::{Activation, Layer};
use runtime::kernels::dense;
use runtime::{Decoder, Digit, LatentSampler, Model};

use crate::semihosting::println;
use crate::stack;

#[cfg(feature = "microbit")]
const CORE: &str = "cortex-m0";
#[cfg(feature = "lm3s6965evb")]
const CORE: &str = "cortex-m3";
#[cfg(feature = "mps2-an386")]
const CORE: &str = "cortex-m4";

/// Instructions in the calibration loop: `subs` + `bne`, 1,000,000 times.
const CALIBRATION_LOOPS: u32 = 1_000_000;

static SYSTICK_WRAPS: AtomicU32 = AtomicU32::new(0);

fn now() -> u64 {
    loop {
        let wraps = SYSTICK_WRAPS.load(Ordering::SeqCst);
        let val = cortex_m::peripheral::SYST::get_current();
        if wraps == SYSTICK_WRAPS.load(Ordering::SeqCst) {
            return (u64::from(wraps) << 24) + u64::from(0x00FF_FFFF - val);
        }
    }
}

#[cortex_m_rt::exception]
fn SysTick() {
    // ARMv6-M has no atomic read-modify-write; this handler is the only writer.
    let n = SYSTICK_WRAPS.load(Ordering::SeqCst);
    SYSTICK_WRAPS.store(n.wrapping_add(1), Ordering::SeqCst);
}

#[inline(never)]
fn calibration_loop(count: u32) {
    // SAFETY: a register-only countdown loop; touches no memory.
    unsafe {
        core::arch::asm!("1:", "subs r0, r0, #1", "bne 1b", inout("r0") count => _, options(nomem, nostack));
    }
}

/// Converts SysTick ticks to instructions with the measured ratio.
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
fn activation_pattern<const N: usize>() -> [u8; N] {
    core::array::from_fn(|i| (i.wrapping_mul(37).wrapping_add(11)) as u8)
}

fn reference_layer() -> Layer<'static> {
    Layer {
        activation: Activation::Relu,
        input_dim: 128,
        output_dim: 784,
        weights: include_bytes!(concat!(env!("OUT_DIR"), "/ref_weights.bin")),
        bias: include_bytes!(concat!(env!("OUT_DIR"), "/ref_bias.bin")),
        multiplier: include_bytes!(concat!(env!("OUT_DIR"), "/ref_multiplier.bin")),
        shift: include_bytes!(concat!(env!("OUT_DIR"), "/ref_shift.bin")),
    }
}

fn per_mac(instructions: u64, macs: u64) -> (u64, u64) {
    let hundredths = (instructions * 100 + macs / 2) / macs.max(1);
    (hundredths / 100, hundredths % 100)
}

/// Times one layer on a fixed input and prints its line and hash.
fn layer_line(clock: &Clock, name: &str, layer: &Layer<'_>, latent: &[i16]) {
    let mut out = [0i32; 784];
    let outputs = usize::from(layer.output_dim).min(out.len());
    let x = activation_pattern::<1024>();
    let inputs = usize::from(layer.input_dim).min(x.len());
    let out = &mut out[..outputs];
    let instructions = if latent.is_empty() {
        clock.instructions(|| dense(layer, &x[..inputs], out, |v| v))
    } else {
        clock.instructions(|| dense(layer, latent, out, |v| v))
    };
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

/// Runs every measurement and prints the report.
pub fn run(model: &Model<'_>) {
    let Some(mut core) = cortex_m::Peripherals::take() else {
        return;
    };
    core.SYST
        .set_clock_source(cortex_m::peripheral::syst::SystClkSource::Core);
    core.SYST.set_reload(0x00FF_FFFF);
    core.SYST.clear_current();
    core.SYST.enable_interrupt();
    core.SYST.enable_counter();
    let clock = Clock::calibrate();

    let latent = LatentSampler::new(1).sample(model.latent_dim());
    for (i, layer) in model.layers().iter().enumerate() {
        let z: &[i16] = if i == 0 { latent.as_q12() } else { &[] };
        let mut name: heapless::String<40> = heapless::String::new();
        let _ = write!(name, "{}.{i}:", model.name());
        layer_line(&clock, name.as_str(), layer, z);
    }
    layer_line(&clock, "", &reference_layer(), &[]);

    let Ok(mut decoder) = Decoder::<256>::new(model) else {
        return;
    };
    let mut digit = Digit::new();
    let sp_at_call = cortex_m::register::msp::read() as usize;
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
        "core={CORE} ram static_bytes={} decode_stack_bytes={decode_stack} decoder_bytes={} digit_bytes={} stack_peak_bytes={}",
        stack::static_bytes(),
        core::mem::size_of::<Decoder<'_, 256>>(),
        core::mem::size_of::<Digit>(),
        stack::top() - stack::deepest()
    ));
}
