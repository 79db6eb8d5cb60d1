//! Export: post-training quantization of the decoder with the runtime's
//! quantizer, the model file, its model card, and the pictures.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use runtime::quantize::{Calibration, FloatDecoder, FloatLayer, QuantizedModel};
use runtime::{Decoder, Digit, Latent, LatentSampler, Model};
use serde_json::json;

use crate::atomic::write_atomic;
use crate::checkpoint::RunState;
use crate::data::{Dataset, PIXELS, SIDE};
use crate::eval::{self, HOST_SCRATCH};
use crate::images;
use crate::prior::{self, PriorSpec};
use crate::train::{normals, rng_for};
use crate::vae::{Dev, Vae};
use runtime::quantize_prior::OwnedPrior;

/// The decoder's float weights in the runtime quantizer's form.
pub fn float_decoder(vae: &Vae) -> FloatDecoder {
    FloatDecoder {
        latent_dim: vae.arch.decoder_inputs(),
        image_width: SIDE,
        image_height: SIDE,
        layers: vae
            .dec
            .iter()
            .map(|d| {
                let (i, o) = d.shape();
                FloatLayer {
                    input_dim: i,
                    output_dim: o,
                    weights: d.w.as_vec(),
                    bias: d.b.as_vec(),
                }
            })
            .collect(),
    }
}

/// Decoder inputs that exercise the decoder as it will be used: posterior
/// samples of training images (reconstruction) and prior samples
/// (generation), with the images' labels for a conditional model.
pub fn calibration_latents(
    dev: &Dev,
    vae: &Vae,
    train: &Dataset,
    seed: u64,
    n: usize,
) -> Vec<Vec<f32>> {
    let d = vae.arch.latent;
    let idx: Vec<usize> = (0..n.min(train.len())).collect();
    let labels = train.labels_of(&idx);
    let (mu, logvar) = vae.posterior(dev, &train.batch(&idx), &labels);
    let mut rng = rng_for(seed, 20, 0);
    let eps = normals(&mut rng, mu.len());
    let mut z: Vec<f32> = mu
        .iter()
        .zip(&logvar)
        .zip(&eps)
        .map(|((m, lv), e)| m + (0.5 * lv).exp() * e)
        .collect();
    z.extend(normals(&mut rng, n * d));
    // A conditional model's prior samples get the training labels in turn.
    let rows = z.len() / d.max(1);
    let labels: Vec<u8> = labels.iter().cycle().take(rows).copied().collect();
    let width = vae.arch.decoder_inputs();
    vae.with_labels(&z, d, &labels)
        .chunks(width)
        .map(<[f32]>::to_vec)
        .collect()
}

/// The calibration choices tried, and the quantized model that scored best
/// (lowest quantized negative ELBO on `holdout`, a slice of the training set).
pub struct Quantized {
    /// The chosen quantized model.
    pub model: QuantizedModel,
    /// The chosen calibration.
    pub calibration: Calibration,
    /// Every candidate with its holdout negative ELBO.
    pub tried: Vec<(String, f64)>,
}

/// Quantizes the decoder, choosing the activation calibration on training data.
pub fn quantize_decoder(
    dev: &Dev,
    vae: &Vae,
    train: &Dataset,
    seed: u64,
    bits: u8,
) -> Result<Quantized> {
    let float = float_decoder(vae);
    let latents = calibration_latents(dev, vae, train, seed, 1000);
    let holdout = train.take(2000);
    let mut best: Option<(f64, QuantizedModel, Calibration)> = None;
    let mut tried = Vec::new();
    for cal in [
        Calibration::Max,
        Calibration::Percentile(99.999),
        Calibration::Percentile(99.99),
        Calibration::Percentile(99.9),
    ] {
        // The file holds at most 32 bytes of name (names here are ASCII).
        let full = model_name(&vae.arch.name, bits);
        let name = full.get(..runtime::format::MAX_NAME_LEN).unwrap_or(&full);
        let q = runtime::quantize::quantize_bits(&float, &latents, cal, name, bits)
            .context("quantizing the decoder")?;
        let score = eval::nelbo(dev, vae, &holdout, seed, Some(&q.model()?))?
            .quantized
            .map_or(f64::INFINITY, |n| n.nelbo);
        tried.push((format!("{cal:?}"), score));
        if best.as_ref().is_none_or(|(s, _, _)| score < *s) {
            best = Some((score, q, cal));
        }
    }
    let (_, model, calibration) = best.context("no calibration candidate")?;
    Ok(Quantized {
        model,
        calibration,
        tried,
    })
}

/// The model file of a run's decoder, quantized with the run's seed and
/// weight width, with the latent prior `prior` fitted to the training set
/// (what `export` would write, without evaluating it).
pub fn quantized_file(
    dev: &Dev,
    vae: &Vae,
    state: &RunState,
    train: &Dataset,
    prior: Option<&PriorSpec>,
) -> Result<Vec<u8>> {
    let mut q = quantize_decoder(dev, vae, train, state.config.seed, state.config.weight_bits)?;
    q.model.prior = fitted_prior(dev, vae, train, prior, state.config.seed)?;
    Ok(q.model.to_bytes()?)
}

/// The integer prior section for `spec` (`None`: no prior, N(0, I)).
pub fn fitted_prior(
    dev: &Dev,
    vae: &Vae,
    train: &Dataset,
    spec: Option<&PriorSpec>,
    seed: u64,
) -> Result<Option<OwnedPrior>> {
    let classes = vae.arch.classes;
    let Some(spec) = spec else {
        anyhow::ensure!(
            classes == 0,
            "`{}` is a conditional model: its prior supplies the label the decoder needs, so it cannot be exported with --prior none",
            vae.arch.name
        );
        return Ok(None);
    };
    let means = prior::encoder_means(dev, vae, train);
    let mut float = prior::fit(&means, &train.labels, vae.arch.latent, spec, seed)?;
    if classes > 0 {
        float = prior::condition(float, vae.arch.latent, classes)?;
    }
    let owned = float
        .quantize(vae.arch.decoder_inputs())
        .context("the prior does not fit the model format")?;
    Ok(Some(owned))
}

/// `n` digits exactly as a device draws them: `LatentSampler::new(seed)`,
/// one latent after another ([`LatentSampler::draw`]: from the model's prior
/// for `class`, or unconditionally with `None`), through the integer decoder.
pub fn device_samples(
    model: &Model<'_>,
    seed: u64,
    n: usize,
    class: Option<usize>,
) -> Result<Vec<Vec<u8>>> {
    let mut decoder = Decoder::<HOST_SCRATCH>::new(model)?;
    let mut sampler = LatentSampler::new(seed);
    let mut digit = Digit::new();
    (0..n)
        .map(|_| {
            decoder.decode(&sampler.draw(model, class), &mut digit)?;
            Ok(digit.pixels().to_vec())
        })
        .collect()
}

/// The grid of requested digits: row `k` holds `per_row` draws of class `k`
/// (`LatentSampler::new(seed + k)`), for every class of the model's prior.
pub fn digit_rows(model: &Model<'_>, seed: u64, per_row: usize) -> Result<Vec<Vec<u8>>> {
    let classes = model
        .prior()
        .map(|p| p.classes())
        .context("the model has no class prior, so no digit can be requested")?;
    let mut out = Vec::new();
    for k in 0..classes {
        out.extend(device_samples(
            model,
            seed.wrapping_add(k as u64),
            per_row,
            Some(k),
        )?);
    }
    Ok(out)
}

/// The same latents through the float decoder (for comparison).
/// A conditional model draws digit `i % 10` as the `i`-th.
pub fn float_samples(dev: &Dev, vae: &Vae, seed: u64, n: usize) -> Vec<Vec<u8>> {
    let mut sampler = LatentSampler::new(seed);
    let z: Vec<f32> = (0..n)
        .flat_map(|_| sampler.sample(vae.arch.latent).to_f32().collect::<Vec<_>>())
        .collect();
    let labels: Vec<u8> = (0..n).map(|i| (i % crate::data::CLASSES) as u8).collect();
    let logits = vae.logits(dev, &z, &labels);
    logits
        .chunks(PIXELS)
        .map(|l| {
            l.iter()
                .map(|&v| (255.0 / (1.0 + (-v).exp())).round() as u8)
                .collect()
        })
        .collect()
}

/// Test images beside their reconstructions (posterior means through the
/// integer decoder): pairs of rows, originals above.
pub fn reconstructions(
    dev: &Dev,
    vae: &Vae,
    model: &Model<'_>,
    test: &Dataset,
    n: usize,
) -> Result<Vec<Vec<u8>>> {
    let idx: Vec<usize> = (0..n.min(test.len())).collect();
    let labels = test.labels_of(&idx);
    let (mu, _) = vae.posterior(dev, &test.batch(&idx), &labels);
    let inputs = vae.with_labels(&mu, vae.arch.latent, &labels);
    let mut decoder = Decoder::<HOST_SCRATCH>::new(model)?;
    let mut digit = Digit::new();
    let mut recon = Vec::new();
    for m in inputs.chunks(vae.arch.decoder_inputs()) {
        decoder.decode(
            &Latent::from_f32(m).context("latent too large")?,
            &mut digit,
        )?;
        recon.push(digit.pixels().to_vec());
    }
    let originals: Vec<Vec<u8>> = idx.iter().map(|&i| test.image(i).to_vec()).collect();
    let mut out = Vec::new();
    for (o, r) in originals.chunks(8).zip(recon.chunks(8)) {
        out.extend(o.iter().cloned());
        out.extend(r.iter().cloned());
    }
    Ok(out)
}

/// Rows of latent interpolations between pairs of test digits (posterior
/// means), with the runtime's integer interpolation.
pub fn interpolations(
    dev: &Dev,
    vae: &Vae,
    model: &Model<'_>,
    test: &Dataset,
    pairs: &[(usize, usize)],
    steps: u32,
) -> Result<Vec<Vec<u8>>> {
    let idx: Vec<usize> = pairs.iter().flat_map(|&(a, b)| [a, b]).collect();
    let labels = test.labels_of(&idx);
    let (mu, _) = vae.posterior(dev, &test.batch(&idx), &labels);
    // A conditional model interpolates the one-hot labels too.
    let mu = vae.with_labels(&mu, vae.arch.latent, &labels);
    let d = vae.arch.decoder_inputs();
    let mut decoder = Decoder::<HOST_SCRATCH>::new(model)?;
    let mut digit = Digit::new();
    let mut out = Vec::new();
    for p in 0..pairs.len() {
        let a = Latent::from_f32(&mu[2 * p * d..][..d]).context("latent")?;
        let b = Latent::from_f32(&mu[(2 * p + 1) * d..][..d]).context("latent")?;
        for s in 0..=steps {
            decoder.decode(&Latent::lerp(&a, &b, s, steps), &mut digit)?;
            out.push(digit.pixels().to_vec());
        }
    }
    Ok(out)
}

/// Files written by an export.
pub struct ExportFiles {
    /// The model file.
    pub model: PathBuf,
    /// The model card.
    pub card: PathBuf,
    /// The sample grid.
    pub grid: PathBuf,
    /// The grid of requested digits, one row per class (models with a prior).
    pub digits: PathBuf,
}

/// The model's name: the architecture's, with `-int4` for 4-bit weights.
pub fn model_name(arch: &str, bits: u8) -> String {
    if bits == 4 {
        format!("{arch}-int4")
    } else {
        arch.to_string()
    }
}

/// Where the model sits in the quality-per-byte table (`docs/quality.md`,
/// rows saved by `trainer quality` in `docs/quality/*.json` next to the
/// models folder): its row and its rank by quantized -ELBO among the rows
/// with at most 64 KB of weights. `null` if the table has no row of that name.
fn quality_position(models_dir: &Path, name: &str) -> serde_json::Value {
    let grids = models_dir
        .parent()
        .unwrap_or(Path::new("."))
        .join("docs/quality");
    let Ok(rows) = crate::quality::saved_rows(&grids) else {
        return serde_json::Value::Null;
    };
    let Some(row) = rows.iter().find(|r| r.name == name) else {
        return serde_json::Value::Null;
    };
    let small: Vec<_> = rows.iter().filter(|r| r.weight_bytes <= 65_536).collect();
    let rank = small
        .iter()
        .filter(|r| r.quantized_nelbo < row.quantized_nelbo)
        .count()
        + 1;
    json!({
        "table": "docs/quality.md",
        "row": {
            "decoder": row.decoder,
            "training": row.training,
            "weight_bytes": row.weight_bytes,
            "quantized_nelbo": row.quantized_nelbo,
            "iwae_quantized": row.iwae.1,
        },
        "rank_by_quantized_nelbo_among_rows_under_64KB": rank,
        "rows_under_64KB": small.len(),
        "best_under_64KB": small
            .iter()
            .min_by(|a, b| a.quantized_nelbo.total_cmp(&b.quantized_nelbo))
            .map(|r| json!({"run": r.name, "quantized_nelbo": r.quantized_nelbo, "training": r.training})),
    })
}

/// Scores an exported model with the digit judge (for its model card).
pub type JudgeFn<'j> = dyn Fn(&Model<'_>) -> Result<crate::judge::Judged> + 'j;

/// Quantizes, evaluates and writes `models/<name>.postcard`, `.json`, `.png`.
#[allow(clippy::too_many_arguments)]
pub fn export(
    dev: &Dev,
    vae: &Vae,
    state: &RunState,
    train: &Dataset,
    test: &Dataset,
    models_dir: &Path,
    iw_samples: usize,
    data_checksums: &[(String, String)],
    prior: Option<&PriorSpec>,
    judge: Option<&JudgeFn<'_>>,
) -> Result<ExportFiles> {
    let seed = state.config.seed;
    let bits = state.config.weight_bits;
    eprintln!(
        "Quantizing the decoder (per-channel int{bits} weights, calibrating activation ranges)..."
    );
    let mut q = quantize_decoder(dev, vae, train, seed, bits)?;
    if let Some(spec) = prior {
        eprintln!(
            "Fitting the class prior ({}) to the encoder means of the training images...",
            spec.name()
        );
    }
    q.model.prior = fitted_prior(dev, vae, train, prior, seed)?;
    let bytes = q.model.to_bytes()?;
    let model =
        Model::from_bytes(&bytes).context("the exported model does not load in the runtime")?;
    // The judge scores the very file that is written (for the model card).
    let judged = judge.map(|j| j(&model)).transpose()?;
    eprintln!(
        "Evaluating float and quantized decoders on {} test images...",
        test.len()
    );
    let single = eval::nelbo(dev, vae, test, seed, Some(&model))?;
    let iw = if iw_samples > 1 {
        eprintln!("Importance-weighted bound with k = {iw_samples} (float and quantized)...");
        Some(eval::iwae(dev, vae, test, iw_samples, seed, Some(&model))?)
    } else {
        None
    };
    let quantized = single.quantized.context("quantized evaluation missing")?;
    let layers: Vec<_> = model
        .layers()
        .iter()
        .enumerate()
        .map(|(i, l)| {
            json!({
                "index": i,
                "inputs": l.input_dim,
                "outputs": l.output_dim,
                "activation": format!("{:?}", l.activation),
                "parameters": usize::from(l.input_dim) * usize::from(l.output_dim) + usize::from(l.output_dim),
                "weight_bytes": l.weights.len(),
                "requant_bytes": l.bias.len() + l.multiplier.len() + l.shift.len(),
            })
        })
        .collect();
    let name = &model_name(&state.arch.name, bits);
    let card = json!({
        "name": name,
        "test_nelbo_float": single.float.nelbo,
        "test_nelbo_quantized": quantized.nelbo,
        "decoder_weight_bytes": model.weight_bytes(),
        "model_file_bytes": bytes.len(),
        "decoder_macs": model.macs(),
        "metrics": {
            "test_set_images": test.len(),
            "single_sample": { "float": single.float, "quantized": quantized },
            "importance_weighted": iw.map(|p| json!({ "k": iw_samples, "float": p.float, "quantized": p.quantized })),
            "units": "nats per image; grey levels scaled to [0, 1]; BCE summed over 784 pixels + analytic KL",
        },
        "architecture": {
            "encoder": format!("784-{}-{}", state.arch.enc_hidden.iter().map(|h| h.to_string()).collect::<Vec<_>>().join("-"), state.arch.latent),
            "decoder": format!("{}-{}-784", state.arch.latent, state.arch.dec_hidden.iter().map(|h| h.to_string()).collect::<Vec<_>>().join("-")),
            "latent": state.arch.latent,
            "activation": "ReLU; Bernoulli logits out",
            "decoder_layers": layers,
            "float_parameters_total": vae.num_params(),
        },
        "quantization": {
            "scheme": "post-training; int8 symmetric per-output-channel weights; u8 ReLU activations (zero point 0); Q12 latent; Q8 logits; i32 biases; Q31 multiplier (15 significant bits) + shift requantization (see docs/quantization.md)",
            "activation_calibration": format!("{:?}", q.calibration),
            "calibration_candidates_holdout_nelbo": q.tried.iter().map(|(c, s)| json!({"calibration": c, "nelbo": s})).collect::<Vec<_>>(),
            "clamped_biases": q.model.clamped_biases,
            "format_version": model.format_version(),
        },
        "prior": prior.map(|p| json!({
            "kind": "per-class Gaussian mixture fitted to the encoder means of the training images; z = m_k + L_k eps, eps ~ N(0, I)",
            "spec": p,
            "classes": model.prior().map_or(0, |q| q.classes()),
            "array_bytes": q.model.prior.as_ref().map_or(0, |o| o.array_bytes()),
        })),
        "judge": judged,
        "training": {
            "epochs": state.epochs_done,
            "batch": state.config.batch,
            "lr": state.config.lr,
            "lr_schedule": state.config.lr_schedule,
            "kl_warmup_epochs": state.config.kl_warmup,
            "optimizer": "Adam (beta1 0.9, beta2 0.999, eps 1e-8)",
            "seed": seed,
            "training_seconds": state.training_seconds,
            "train_images": state.config.train_images,
            "final_train_nelbo": state.history.last().map(|m| m.train_nelbo),
        },
        "data": {
            "dataset": state.config.dataset,
            "sha256": data_checksums.iter().map(|(n, s)| json!({"file": n, "sha256": s})).collect::<Vec<_>>(),
        },
        "trainer_version": env!("CARGO_PKG_VERSION"),
        "quality_table": quality_position(models_dir, name),
    });
    let files = ExportFiles {
        model: models_dir.join(format!("{name}.postcard")),
        card: models_dir.join(format!("{name}.json")),
        grid: models_dir.join(format!("{name}.png")),
        digits: models_dir.join(format!("{name}-digits.png")),
    };
    write_atomic(&files.model, &bytes)?;
    write_atomic(
        &files.card,
        format!("{}\n", serde_json::to_string_pretty(&card)?).as_bytes(),
    )?;
    images::save_grid(&files.grid, &device_samples(&model, seed, 64, None)?, 8, 2)?;
    if model.prior().is_some() {
        images::save_grid(&files.digits, &digit_rows(&model, seed, 10)?, 10, 2)?;
    }
    eprintln!(
        "test -ELBO: float {:.3}, quantized {:.3} (+{:.3}) nats/image; decoder weights {} bytes",
        single.float.nelbo,
        quantized.nelbo,
        quantized.nelbo - single.float.nelbo,
        model.weight_bytes()
    );
    Ok(files)
}
