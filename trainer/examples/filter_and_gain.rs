//! An experiment for `docs/quality.md` (host only, not what a device runs):
//! how two changes would move the judge's figures for the committed run
//! `runs/mcu` with a full-covariance prior of `K` components per class at
//! temperature `T`:
//!
//! - a **latent rejection filter**: a latent drawn for class `c` is redrawn
//!   (at most 31 times, from the same seeded sampler) while the prior's own
//!   class posterior `p(c | z)` (its class densities, float) is below `TAU`;
//! - an **output gain**: the last layer's weights and biases times `GAIN`
//!   (logits times `GAIN`: sharper strokes), quantized as `export` does; the
//!   quantized -ELBO printed is that of the gained decoder.
//!
//! Requested digits: 1,000 per class (seed 1 + class); unconditional:
//! 10,000, classes by training frequency (seed 99), each drawn as requested.
//!
//! ```sh
//! cargo run --release -p trainer --example filter_and_gain -- T GAIN[,GAIN..] TAU[,TAU..] [K]
//! ```
use anyhow::Result;
use rand::{Rng, SeedableRng};
use runtime::host::quantize_prior::FloatPrior;
use runtime::{Decoder, Digit, LatentSampler, Model};
use trainer::data::{self, Dataset, DatasetKind};
use trainer::judge::{self, fidelity, Image, CLASSES, FEATURES};
use trainer::layers::Dev;
use trainer::prior::{Covariance, PriorSpec};
use trainer::run::RunPaths;

fn log_density(p: &FloatPrior, z: &[f32]) -> Vec<f64> {
    let d = z.len();
    p.classes
        .iter()
        .map(|c| {
            let comps: Vec<f64> = c
                .components
                .iter()
                .map(|k| {
                    let mut y = vec![0.0; d];
                    let mut logdet = 0.0;
                    for i in 0..d {
                        let row = &k.scale[i * (i + 1) / 2..][..=i];
                        let mut s = f64::from(z[i]) - k.mean[i];
                        for j in 0..i {
                            s -= row[j] * y[j];
                        }
                        y[i] = s / row[i];
                        logdet += row[i].ln();
                    }
                    k.weight.ln() - 0.5 * y.iter().map(|v| v * v).sum::<f64>() - logdet
                })
                .collect();
            let tot: f64 = c.components.iter().map(|k| k.weight).sum();
            let m = comps.iter().copied().fold(f64::NEG_INFINITY, f64::max);
            c.weight.ln() - tot.ln() + m + comps.iter().map(|v| (v - m).exp()).sum::<f64>().ln()
        })
        .collect()
}

fn posterior(p: &FloatPrior, z: &[f32], k: usize) -> f64 {
    let l = log_density(p, z);
    let m = l.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let s: f64 = l.iter().map(|v| (v - m).exp()).sum();
    (l[k] - m).exp() / s
}

/// `n` digits of class `k`, redrawing while the prior's posterior of `k`
/// is below `tau` (at most `tries` draws); returns digits and mean draws.
fn draw(
    model: &Model<'_>,
    fp: &FloatPrior,
    k: usize,
    n: usize,
    tau: f64,
    seed: u64,
) -> (Vec<Vec<u8>>, f64) {
    let mut dec = Decoder::<4096>::new(model).unwrap();
    let mut s = LatentSampler::new(seed);
    let mut digit = Digit::new();
    let mut out = Vec::new();
    let mut draws = 0usize;
    for _ in 0..n {
        let mut z = s.draw(model, Some(k));
        draws += 1;
        for _ in 1..32 {
            let zf: Vec<f32> = z.to_f32().collect();
            if posterior(fp, &zf, k) >= tau {
                break;
            }
            z = s.draw(model, Some(k));
            draws += 1;
        }
        dec.decode(&z, &mut digit).unwrap();
        out.push(digit.pixels().to_vec());
    }
    (out, draws as f64 / n as f64)
}

fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let t: f64 = args.get(1).map_or(1.0, |s| s.parse().unwrap());
    let k: usize = args.get(4).map_or(1, |s| s.parse().unwrap());
    let gains: Vec<f32> = args
        .get(2)
        .map_or("1".into(), |s| s.clone())
        .split(',')
        .map(|s| s.parse().unwrap())
        .collect();
    let taus: Vec<f64> = args
        .get(3)
        .map_or("0".into(), |s| s.clone())
        .split(',')
        .map(|s| s.parse().unwrap())
        .collect();
    rayon::ThreadPoolBuilder::new().build_global().ok();
    let dev = Dev::default();
    let ws = trainer::folders::workspace();
    let (train, test) = data::load_both(
        DatasetKind::Mnist,
        &DatasetKind::Mnist.default_dir(&ws),
        true,
    )?;
    let (vae, state) =
        trainer::checkpoint::load_run(&dev, &RunPaths::from(trainer::folders::run("mcu")))?;
    let (j, card) = judge::cached(
        &dev,
        &trainer::folders::judge_cache(),
        Some(&trainer::folders::models()),
        &train,
        &test,
        judge::JudgeArch::LeNet,
        1,
        judge::EPOCHS,
    )?;
    let spec = PriorSpec {
        components: k,
        covariance: Covariance::Full,
        temperature: t,
    };
    let means = trainer::prior::encoder_means(&vae, &train);
    let fp = trainer::prior::fit(&means, &train.labels, vae.arch.latent, &spec, 1)?;
    let test_imgs: Vec<&Image> = (0..test.len()).map(|i| test.image(i)).collect();
    let test_feat = j.features(&dev, &test_imgs);
    let _ = card;
    for &g in &gains {
        let mut v2 = vae.clone();
        let last = v2.dec.last_mut().unwrap();
        let (w, b) = (last.w.as_vec(), last.b.as_vec());
        last.w
            .copy_from(&w.iter().map(|x| x * g).collect::<Vec<_>>());
        last.b
            .copy_from(&b.iter().map(|x| x * g).collect::<Vec<_>>());
        let mut q = trainer::quantize::quantize_decoder(&dev, &v2, &train, 1, 8)?;
        q.model.prior = trainer::quantize::fitted_prior(&v2, &train, Some(&spec), 1)?;
        let bytes = q.model.to_bytes()?;
        let model = Model::from_bytes(&bytes)?;
        let nelbo = trainer::eval::nelbo(&dev, &v2, &test, 1, Some(&model))?
            .quantized
            .unwrap()
            .nelbo;
        for &tau in &taus {
            let mut shares = Vec::new();
            let mut all = Vec::new();
            let mut cost = 0.0;
            for c in 0..CLASSES {
                let (d, m) = draw(&model, &fp, c, 1000, tau, 1 + c as u64);
                cost += m / CLASSES as f64;
                let imgs: Vec<&Image> = d.iter().map(Vec::as_slice).collect();
                let p = j.probabilities(&dev, &imgs);
                shares
                    .push(p.iter().filter(|p| judge::top(p) == c).count() as f64 / d.len() as f64);
                all.extend(d);
            }
            // Unconditional: classes by training frequency from a seeded RNG.
            let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(99);
            let mut un: Vec<Vec<u8>> = Vec::new();
            let mut per = [0usize; CLASSES];
            for _ in 0..10_000 {
                per[train.labels[rng.gen_range(0..train.len())] as usize] += 1;
            }
            for (c, &n) in per.iter().enumerate() {
                un.extend(draw(&model, &fp, c, n, tau, 100 + c as u64).0);
            }
            let imgs: Vec<&Image> = un.iter().map(Vec::as_slice).collect();
            let feats = j.features(&dev, &imgs);
            let f = fidelity::measure(
                &dev,
                &imgs,
                &feats,
                &test_feat,
                FEATURES,
                &Dataset {
                    pixels: train.pixels[..784 * 1000].to_vec(),
                    labels: train.labels[..1000].to_vec(),
                },
            );
            let mean = shares.iter().sum::<f64>() / 10.0;
            let low = shares.iter().copied().fold(1.0, f64::min);
            println!("t {t} k {k} gain {g} tau {tau}: -ELBO q {nelbo:.2}; requested {:.2}% (low {:.1}%), draws/digit {cost:.2}; FD {:.2} P {:.3} R {:.3} D {:.3} C {:.3} grey {:.1}%",
                100.0 * mean, 100.0 * low, f.frechet, f.precision, f.recall, f.density, f.coverage, 100.0 * f.mid_grey);
        }
    }
    let _ = state;
    Ok(())
}
