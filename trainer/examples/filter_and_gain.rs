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
//! The filter is the prior's own class posterior (`prior`), or a latent
//! classifier `z -> 64 -> 10` trained on 200,000 latents drawn from the
//! float prior, each labelled with the class of the digit the float decoder
//! draws from it, by the VAE's own encoder and the prior's densities
//! (`cycle`: no judge involved) or by the first judge (`judge`).
//! Figures by both judges; with `GAN_TRAIN_EPOCHS=N` also GAN-train (the
//! judge's network trained N epochs on 6,000 filtered digits per class).
//!
//! ```sh
//! cargo run --release -p trainer --example filter_and_gain -- T GAIN[,GAIN..] TAU[,TAU..] K prior|cycle|judge
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

/// What decides whether a latent drawn for class `k` is kept.
enum Filter {
    /// The prior's own class posterior `p(k | z)`.
    Prior(FloatPrior),
    /// A latent classifier `z -> 64 (ReLU) -> 10` trained on the host.
    Net(Vec<f32>, Vec<f32>, Vec<f32>, Vec<f32>),
}

impl Filter {
    fn prob(&self, z: &[f32], k: usize) -> f64 {
        match self {
            Filter::Prior(fp) => posterior(fp, z, k),
            Filter::Net(w1, b1, w2, b2) => {
                let d = z.len();
                let h: Vec<f32> = b1
                    .iter()
                    .enumerate()
                    .map(|(o, b)| (b + (0..d).map(|i| w1[o * d + i] * z[i]).sum::<f32>()).max(0.0))
                    .collect();
                let l: Vec<f64> = b2
                    .iter()
                    .enumerate()
                    .map(|(o, b)| {
                        f64::from(
                            b + (0..h.len())
                                .map(|i| w2[o * h.len() + i] * h[i])
                                .sum::<f32>(),
                        )
                    })
                    .collect();
                if std::env::var("RULE").as_deref() == Ok("margin") {
                    // The margin over the best other class, in nats.
                    let other = (0..l.len())
                        .filter(|&j| j != k)
                        .map(|j| l[j])
                        .fold(f64::NEG_INFINITY, f64::max);
                    return l[k] - other;
                }
                let m = l.iter().copied().fold(f64::NEG_INFINITY, f64::max);
                let s: f64 = l.iter().map(|v| (v - m).exp()).sum();
                (l[k] - m).exp() / s
            }
        }
    }
}

/// Trains the latent classifier on 20,000 latents per class drawn from the
/// float prior `fp`, each labelled with the class of the digit the float
/// decoder draws from it: by the VAE's own encoder and the prior's class
/// densities (`cycle`), or by the judge (`judge`).
fn train_filter(
    dev: &Dev,
    vae: &trainer::vae::Vae,
    fp: &FloatPrior,
    labeler: &str,
    judge: &judge::Judge,
) -> Filter {
    let d = vae.arch.latent;
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(7);
    let mut z = Vec::new();
    for c in &fp.classes {
        let comp = &c.components[0];
        for _ in 0..20_000 {
            let eps: Vec<f64> = (0..d)
                .map(|_| (0..12).map(|_| rng.gen::<f64>()).sum::<f64>() - 6.0)
                .collect();
            for i in 0..d {
                let row = &comp.scale[i * (i + 1) / 2..][..=i];
                z.push((comp.mean[i] + (0..=i).map(|j| row[j] * eps[j]).sum::<f64>()) as f32);
            }
        }
    }
    let rows = z.len() / d;
    let mut labels = Vec::with_capacity(rows);
    for chunk in z.chunks(10_000 * d) {
        let logits = vae.logits(dev, chunk, &[]);
        let px: Vec<f32> = logits.iter().map(|l| 1.0 / (1.0 + (-l).exp())).collect();
        if labeler == "judge" {
            let bytes: Vec<u8> = px.iter().map(|p| (p * 255.0).round() as u8).collect();
            let imgs: Vec<&Image> = bytes.chunks(784).collect();
            labels.extend(judge.probabilities(dev, &imgs).iter().map(judge::top));
        } else {
            let (mu, _) = vae.posterior(&px, &[]);
            for m in mu.chunks(d) {
                let l = log_density(fp, m);
                labels.push((0..l.len()).max_by(|&a, &b| l[a].total_cmp(&l[b])).unwrap());
            }
        }
    }
    let hidden: usize = std::env::var("HIDDEN")
        .ok()
        .and_then(|h| h.parse().ok())
        .unwrap_or(64);
    // The network `export` trains, on these latents and labels.
    let net = trainer::latent_filter::train(dev, &z, &labels, d, hidden, CLASSES, 0);
    let (l1, l2) = (&net.layers[0], &net.layers[1]);
    Filter::Net(
        l1.weights.clone(),
        l1.bias.clone(),
        l2.weights.clone(),
        l2.bias.clone(),
    )
}

/// `n` digits of class `k`, redrawing while the filter's `p(k | z)` is below
/// `tau` (at most 32 draws); returns digits and mean draws per digit.
fn draw(
    model: &Model<'_>,
    fp: &Filter,
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
            if fp.prob(&zf, k) >= tau {
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
    let reference = fidelity::Reference::new(&dev, j.features(&dev, &test_imgs), FEATURES);
    let _ = card;
    let (j2, _) = judge::cached(
        &dev,
        &trainer::folders::second_judge_cache(),
        None,
        &train,
        &test,
        judge::JudgeArch::Mlp,
        2,
        judge::EPOCHS,
    )?;
    let reference2 = fidelity::Reference::new(&dev, j2.features(&dev, &test_imgs), FEATURES);
    let kind = args.get(5).map_or("prior", String::as_str);
    let filter = match kind {
        "prior" => Filter::Prior(fp.clone()),
        labeler => train_filter(&dev, &vae, &fp, labeler, &j),
    };
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
                let (d, m) = draw(&model, &filter, c, 1000, tau, 1 + c as u64);
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
                un.extend(draw(&model, &filter, c, n, tau, 100 + c as u64).0);
            }
            let imgs: Vec<&Image> = un.iter().map(Vec::as_slice).collect();
            let feats = j.features(&dev, &imgs);
            let f = fidelity::measure(
                &dev,
                &imgs,
                &feats,
                &reference,
                &imgs,
                &Dataset {
                    pixels: train.pixels[..784 * 1000].to_vec(),
                    labels: train.labels[..1000].to_vec(),
                },
            );
            let mean = shares.iter().sum::<f64>() / 10.0;
            let low = shares.iter().copied().fold(1.0, f64::min);
            println!("t {t} k {k} gain {g} filter {kind} tau {tau}: -ELBO q {nelbo:.2}; draws/digit {cost:.2}; grey {:.1}%", 100.0 * f.mid_grey);
            println!("  judge 1: requested {:.2}% (low {:.1}%); FD {:.2} P {:.3} R {:.3} D {:.3} C {:.3}",
                100.0 * mean, 100.0 * low, f.frechet, f.precision, f.recall, f.density, f.coverage);
            let mut shares2 = Vec::new();
            for (c, d) in all.chunks(1000).enumerate() {
                let imgs: Vec<&Image> = d.iter().map(Vec::as_slice).collect();
                let p = j2.probabilities(&dev, &imgs);
                shares2
                    .push(p.iter().filter(|p| judge::top(p) == c).count() as f64 / d.len() as f64);
            }
            let feats2 = j2.features(&dev, &imgs);
            let m2 = fidelity::manifold(&dev, &reference2, &feats2);
            let fd2 = reference2.frechet(&feats2);
            println!("  judge 2: requested {:.2}% (low {:.1}%); FD {:.2} P {:.3} R {:.3} D {:.3} C {:.3}",
                100.0 * shares2.iter().sum::<f64>() / 10.0, 100.0 * shares2.iter().copied().fold(1.0, f64::min), fd2, m2.precision, m2.recall, m2.density, m2.coverage);
            // GAN-train (env GAN_TRAIN_EPOCHS): the judge's network trained on
            // 6,000 filtered digits per class, tested on the real test set.
            if let Some(epochs) = std::env::var("GAN_TRAIN_EPOCHS")
                .ok()
                .and_then(|e| e.parse().ok())
            {
                let mut drawn = Dataset {
                    pixels: Vec::new(),
                    labels: Vec::new(),
                };
                for c in 0..CLASSES {
                    for d in draw(&model, &filter, c, 6000, tau, 1 + c as u64).0 {
                        drawn.pixels.extend(d);
                        drawn.labels.push(c as u8);
                    }
                }
                let net = judge::Judge::train(&dev, &drawn, epochs, 1);
                println!(
                    "  GAN-train ({epochs} epochs): {:.2}%",
                    100.0 * net.accuracy(&dev, &test)
                );
            }
        }
    }
    let _ = state;
    Ok(())
}
