//! The quality-per-byte table (`docs/quality.md`): one saved row per
//! evaluated run (`docs/quality/<name>.json` beside its grid of samples),
//! the Markdown table made of them, and a model's place in it (for its
//! model card).

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use serde::Serialize;

use crate::judge::{FidelityReport, Judged};
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
    /// Fidelity and variety of the unconditional draws (rows saved before
    /// the judge measured them have none).
    #[serde(default)]
    pub fidelity: Option<FidelityRow>,
}

/// Fidelity and variety figures for a table row, each as (drawn, real
/// training digits), both against the real test digits.
#[derive(Debug, Clone, Copy, serde::Serialize, serde::Deserialize)]
pub struct FidelityRow {
    /// Fréchet distance in the judge's features.
    pub frechet: (f64, f64),
    /// Precision (k = 3).
    pub precision: (f64, f64),
    /// Recall (k = 3).
    pub recall: (f64, f64),
    /// Share of mid-grey pixels.
    pub mid_grey: (f64, f64),
}

impl FidelityRow {
    /// The row's figures from the judge's report.
    pub fn new(f: &FidelityReport) -> FidelityRow {
        let (d, r) = (&f.unconditional, &f.real);
        FidelityRow {
            frechet: (d.frechet, r.frechet),
            precision: (d.precision, r.precision),
            recall: (d.recall, r.recall),
            mid_grey: (d.mid_grey, r.mid_grey),
        }
    }

    /// As a table cell: `FD 74.6 (20 x) · P 0.96 / 0.87 · R 0.08 / 0.86 · grey 12% / 6%`.
    pub fn cell(&self) -> String {
        format!(
            "FD {:.1} ({:.0} x) · P {:.2} / {:.2} · R {:.2} / {:.2} · grey {:.0}% / {:.0}%",
            self.frechet.0,
            self.frechet.0 / self.frechet.1.max(f64::MIN_POSITIVE),
            self.precision.0,
            self.precision.1,
            self.recall.0,
            self.recall.1,
            100.0 * self.mid_grey.0,
            100.0 * self.mid_grey.1
        )
    }
}

impl JudgedRow {
    /// The row's summary of the judge's figures for a model with the prior
    /// `prior` (of `prior_bytes` bytes).
    pub fn new(prior: String, prior_bytes: usize, judged: &Judged) -> Result<JudgedRow> {
        let req = judged
            .requested
            .as_ref()
            .context("the prior gives requested draws")?;
        Ok(JudgedRow {
            prior,
            prior_bytes,
            requested_drawn: (
                req.requested_drawn,
                req.requested_drawn_per_class
                    .iter()
                    .copied()
                    .fold(1.0, f64::min),
            ),
            unconditional: (
                judged.unconditional.inception_score,
                judged.unconditional.confident,
            ),
            fidelity: Some(FidelityRow::new(&judged.fidelity)),
        })
    }
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

/// Where the model sits in the quality-per-byte table.
#[derive(Debug, Clone, Serialize)]
pub struct QualityPosition {
    /// The best row with at most 64 KB of weights.
    #[serde(rename = "best_under_64KB")]
    pub best_under_64kb: Option<BestRow>,
    /// 1 + the rows under 64 KB with a lower quantized -ELBO.
    #[serde(rename = "rank_by_quantized_nelbo_among_rows_under_64KB")]
    pub rank_under_64kb: usize,
    /// The model's own row.
    pub row: QualityRow,
    /// Rows with at most 64 KB of weights.
    #[serde(rename = "rows_under_64KB")]
    pub rows_under_64kb: usize,
    /// The document holding the table.
    pub table: String,
}

/// A row of the quality table, as the card quotes it.
#[derive(Debug, Clone, Serialize)]
pub struct QualityRow {
    /// Decoder widths.
    pub decoder: String,
    /// Quantized importance-weighted bound.
    pub iwae_quantized: f64,
    /// Quantized single-sample -ELBO.
    pub quantized_nelbo: f64,
    /// Training recipe.
    pub training: String,
    /// Stored weight bytes.
    pub weight_bytes: usize,
}

/// The best row under 64 KB.
#[derive(Debug, Clone, Serialize)]
pub struct BestRow {
    /// Quantized single-sample -ELBO.
    pub quantized_nelbo: f64,
    /// Its run name.
    pub run: String,
    /// Training recipe.
    pub training: String,
}

/// Where the model `name` sits in the table whose rows are saved in
/// `rows_dir`: its row and its rank by quantized -ELBO among the rows with
/// at most 64 KB of weights. `None` if the table has no row of that name.
pub fn position(rows_dir: &Path, name: &str) -> Option<QualityPosition> {
    let rows = saved_rows(rows_dir).ok()?;
    let row = rows.iter().find(|r| r.name == name)?;
    let small: Vec<_> = rows.iter().filter(|r| r.weight_bytes <= 65_536).collect();
    let rank = small
        .iter()
        .filter(|r| r.quantized_nelbo < row.quantized_nelbo)
        .count()
        + 1;
    Some(QualityPosition {
        table: crate::folders::QUALITY_DOC.into(),
        row: QualityRow {
            decoder: row.decoder.clone(),
            training: row.training.clone(),
            weight_bytes: row.weight_bytes,
            quantized_nelbo: row.quantized_nelbo,
            iwae_quantized: row.iwae.1,
        },
        rank_under_64kb: rank,
        rows_under_64kb: small.len(),
        best_under_64kb: small
            .iter()
            .min_by(|a, b| a.quantized_nelbo.total_cmp(&b.quantized_nelbo))
            .map(|r| BestRow {
                run: r.name.clone(),
                quantized_nelbo: r.quantized_nelbo,
                training: r.training.clone(),
            }),
    })
}

/// The table in Markdown, best quantized -ELBO first; `grids_rel` is the
/// grids' folder relative to the document.
pub fn table(rows: &[Row], iw_samples: usize, grids_rel: &str) -> String {
    let mut sorted: Vec<&Row> = rows.iter().collect();
    sorted.sort_by(|a, b| a.quantized_nelbo.total_cmp(&b.quantized_nelbo));
    let mut s = format!(
        "| run | decoder | training | weight bytes | MACs/digit | float -ELBO | quantized -ELBO | IWAE k={iw_samples} float / quantized | train s | judge: prior (bytes), requested drawn (lowest class), unconditional IS / confident | fidelity and variety of unconditional draws, drawn / real: Fréchet distance (x real), precision, recall, mid-grey pixels | samples |\n|---|---|---|---|---|---|---|---|---|---|---|---|\n"
    );
    for r in sorted {
        let _ = writeln!(
            s,
            "| {} | {} | {} | {} | {} | {:.3} | {:.3} | {:.3} / {:.3} | {:.0} | {} | {} | [grid]({grids_rel}/{}.png) |",
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
            r.judged
                .as_ref()
                .and_then(|j| j.fidelity)
                .map_or_else(|| "-".to_string(), |f| f.cell()),
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
