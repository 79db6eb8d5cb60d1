//! The quality-per-byte table: every trained run in a list, evaluated float
//! and quantized through the runtime's integer decoder, with its weight
//! bytes, multiply-accumulates and a grid of samples as a device draws them.
//! `trainer quality` prints it and writes it into `docs/quality.md`.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use runtime::Model;

use crate::checkpoint::LrSchedule;
use crate::data::Dataset;
use crate::layers::Dev;
use crate::{draw, eval, images, quantize, train};
use runtime::host::atomic_file::write_atomic_creating_dirs;

/// One configuration's figures.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Row {
    /// Run directory name (also the grid's file name).
    pub name: String,
    /// Decoder widths, e.g. `24-128-64-784`.
    pub decoder: String,
    /// Epochs, schedule and KL warm-up, e.g. `150, cosine`.
    pub training: String,
    /// Stored weight bytes of the quantized decoder (padded layout).
    pub weight_bytes: usize,
    /// Multiply-accumulates per decoded digit.
    pub macs: usize,
    /// Float test negative ELBO (nats/image, single sample).
    pub float_nelbo: f64,
    /// The same through the runtime's integer decoder.
    pub quantized_nelbo: f64,
    /// Importance-weighted bound, float and quantized.
    pub iwae: (f64, f64),
    /// Training wall-clock seconds.
    pub train_seconds: f64,
    /// Where the grid of 64 device samples went.
    pub grid: PathBuf,
    /// The digit judge's figures with the default class prior (rows saved
    /// before the judge existed have none).
    #[serde(default)]
    pub judged: Option<JudgedRow>,
}

/// The judge's headline figures for a table row.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct JudgedRow {
    /// The prior (e.g. `full-k1-t0.5`) and its bytes in the model file.
    pub prior: String,
    /// Bytes of the prior's arrays.
    pub prior_bytes: usize,
    /// Share of requested digits drawn, averaged over classes, and the
    /// lowest class.
    pub requested_drawn: (f64, f64),
    /// Unconditional draws: inception score and share with confidence > 0.9.
    pub unconditional: (f64, f64),
}

/// A run to evaluate: `DIR`, or `DIR@4` / `DIR@8` to quantize its weights
/// to 4 or 8 bits (default: the run's own width).
pub fn parse_run_spec(spec: &str) -> Result<(PathBuf, Option<u8>)> {
    Ok(match spec.rsplit_once('@') {
        Some((d, "4")) => (PathBuf::from(d), Some(4)),
        Some((d, "8")) => (PathBuf::from(d), Some(8)),
        Some((_, b)) => anyhow::bail!("`{spec}`: weight bits must be 8 or 4, not `{b}`"),
        None => (PathBuf::from(spec), None),
    })
}

/// Saves `row` next to its grid (`<grids>/<name>.json`), so that the table
/// can be rebuilt from every run evaluated so far.
pub fn save_row(row: &Row, grids: &Path) -> Result<()> {
    let json = serde_json::to_vec_pretty(row)?;
    Ok(write_atomic_creating_dirs(
        &grids.join(format!("{}.json", row.name)),
        &json,
    )?)
}

/// Every row saved in `grids`, in name order.
pub fn saved_rows(grids: &Path) -> Result<Vec<Row>> {
    let mut rows = Vec::new();
    let entries =
        std::fs::read_dir(grids).with_context(|| format!("reading {}", grids.display()))?;
    for entry in entries {
        let path = entry?.path();
        if path.extension().is_some_and(|e| e == "json") {
            let bytes = std::fs::read(&path)?;
            rows.push(
                serde_json::from_slice::<Row>(&bytes)
                    .with_context(|| format!("reading {}", path.display()))?,
            );
        }
    }
    rows.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(rows)
}

/// Evaluates the run in `dir` (with `bits` bits per weight, default the
/// run's own); writes its sample grid into `grids`. With a judge, the model
/// also gets the default class prior and the judge's figures (1,000 draws
/// per class).
#[allow(clippy::too_many_arguments)]
pub fn evaluate(
    dev: &Dev,
    dir: &Path,
    bits: Option<u8>,
    train_set: &Dataset,
    test_set: &Dataset,
    iw_samples: usize,
    grids: &Path,
    judge: Option<(&crate::judge::Judge, &crate::judge::JudgeCard)>,
) -> Result<Row> {
    let (vae, state) = train::load_run(dev, dir)
        .with_context(|| format!("loading the run in {}", dir.display()))?;
    let seed = state.config.seed;
    let bits = bits.unwrap_or(state.config.weight_bits);
    let mut q = quantize::quantize_decoder(dev, &vae, train_set, seed, bits)?;
    let spec = crate::prior::PriorSpec::DEFAULT;
    if judge.is_some() {
        q.model.prior = quantize::fitted_prior(&vae, train_set, Some(&spec), seed)?;
    }
    let prior_bytes = q.model.prior.as_ref().map_or(0, |p| p.array_bytes());
    let bytes = q.model.to_bytes()?;
    let model = Model::from_bytes(&bytes)?;
    let judged = match judge {
        Some((j, card)) => {
            let r = crate::judge::judge_model(j, card, dev, &model, test_set, seed, 1000)?;
            let req = r
                .requested
                .as_ref()
                .context("the prior gives requested draws")?;
            Some(JudgedRow {
                prior: spec.name(),
                prior_bytes,
                requested_drawn: (
                    req.requested_drawn,
                    req.requested_drawn_per_class
                        .iter()
                        .copied()
                        .fold(1.0, f64::min),
                ),
                unconditional: (r.unconditional.inception_score, r.unconditional.confident),
            })
        }
        None => None,
    };
    let single = eval::nelbo(dev, &vae, test_set, seed, Some(&model))?;
    let quantized = single.quantized.context("quantized result")?;
    let iw = eval::iwae(dev, &vae, test_set, iw_samples, seed, Some(&model))?;
    let dir_name = dir.file_name().map_or_else(
        || state.arch.name.clone(),
        |n| n.to_string_lossy().into_owned(),
    );
    // An int8 run evaluated with int4 weights gets its own row and grid.
    let name = if bits == 4 && !dir_name.contains("int4") && !dir_name.contains("qat4") {
        format!("{dir_name}-int4")
    } else {
        dir_name
    };
    let grid = grids.join(format!("{name}.png"));
    images::save_grid(&grid, &draw::device_samples(&model, 1, 64, None)?, 8, 1)?;
    let decoder = state.arch.decoder_widths();
    let mut training = format!(
        "{} ep, {}",
        state.epochs_done,
        match state.config.lr_schedule {
            LrSchedule::Constant => "constant",
            LrSchedule::Cosine => "cosine",
        }
    );
    if state.config.kl_warmup > 0 {
        let _ = write!(training, ", KL warm-up {}", state.config.kl_warmup);
    }
    if let Some(from) = state.config.qat_from {
        let _ = write!(
            training,
            ", QAT int{} from {}",
            state.config.weight_bits, from
        );
    }
    let _ = write!(training, "; int{bits}");
    Ok(Row {
        name,
        decoder,
        training,
        weight_bytes: model.weight_bytes(),
        macs: model.macs(),
        float_nelbo: single.float.nelbo,
        quantized_nelbo: quantized.nelbo,
        iwae: (iw.float, iw.quantized.unwrap_or(f64::NAN)),
        train_seconds: state.training_seconds,
        grid,
        judged,
    })
}

/// The table in Markdown, best quantized -ELBO first; `grids_rel` is the
/// grids' folder relative to the document.
pub fn table(rows: &[Row], iw_samples: usize, grids_rel: &str) -> String {
    let mut sorted: Vec<&Row> = rows.iter().collect();
    sorted.sort_by(|a, b| a.quantized_nelbo.total_cmp(&b.quantized_nelbo));
    let mut s = format!(
        "| run | decoder | training | weight bytes | MACs/digit | float -ELBO | quantized -ELBO | IWAE k={iw_samples} float / quantized | train s | judge: prior (bytes), requested drawn (lowest class), unconditional IS / confident | samples |\n|---|---|---|---|---|---|---|---|---|---|---|\n"
    );
    for r in sorted {
        let _ = writeln!(
            s,
            "| {} | {} | {} | {} | {} | {:.3} | {:.3} | {:.3} / {:.3} | {:.0} | {} | [grid]({grids_rel}/{}.png) |",
            r.name,
            r.decoder,
            r.training,
            r.weight_bytes,
            r.macs,
            r.float_nelbo,
            r.quantized_nelbo,
            r.iwae.0,
            r.iwae.1,
            r.train_seconds,
            r.judged.as_ref().map_or_else(
                || "-".to_string(),
                |j| format!(
                    "{} ({} B), {:.2}% ({:.1}%), {:.2} / {:.1}%",
                    j.prior,
                    j.prior_bytes,
                    100.0 * j.requested_drawn.0,
                    100.0 * j.requested_drawn.1,
                    j.unconditional.0,
                    100.0 * j.unconditional.1
                )
            ),
            r.name
        );
    }
    s
}

/// Markers around the generated table in `docs/quality.md`; the text
/// outside them is kept.
pub const BEGIN: &str = "<!-- quality-table:begin (written by `trainer quality`) -->";
/// See [`BEGIN`].
pub const END: &str = "<!-- quality-table:end -->";

/// Replaces the table between the markers of `doc` (or appends it).
pub fn splice(doc: &str, table: &str) -> String {
    match (doc.find(BEGIN), doc.find(END)) {
        (Some(b), Some(e)) if b < e => format!("{}{BEGIN}\n{table}{}", &doc[..b], &doc[e..]),
        _ => format!("{doc}\n{BEGIN}\n{table}{END}\n"),
    }
}

/// Writes the table into the document at `path` (atomically).
pub fn write_doc(path: &Path, table: &str) -> Result<()> {
    let doc = match std::fs::read_to_string(path) {
        Ok(d) => d,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => "# Quality per byte\n".to_string(),
        Err(e) => return Err(e).with_context(|| format!("reading {}", path.display())),
    };
    Ok(write_atomic_creating_dirs(
        path,
        splice(&doc, table).as_bytes(),
    )?)
}

/// `target` relative to `base` when it lies inside it (else as given), with
/// forward slashes, for links in Markdown.
pub fn pathdiff(target: &Path, base: &Path) -> String {
    let rel = if base.as_os_str().is_empty() {
        target
    } else {
        target.strip_prefix(base).unwrap_or(target)
    };
    rel.to_string_lossy().replace('\\', "/")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splice_keeps_the_text_around_the_table() {
        let doc = format!("# T\nintro\n{BEGIN}\nold\n{END}\nafter\n");
        let out = splice(&doc, "new\n");
        assert_eq!(out, format!("# T\nintro\n{BEGIN}\nnew\n{END}\nafter\n"));
        let fresh = splice("# T\n", "x\n");
        assert!(fresh.ends_with(&format!("{BEGIN}\nx\n{END}\n")));
    }
}
