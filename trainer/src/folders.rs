//! Where things go by default, decided in one place: the workspace's
//! `runs/` (one folder per run, the digit judge's cache beside them),
//! `models/` (the exported models, the committed judge), the MNIST data,
//! and the quality table `docs/quality.md` with its saved rows and grids in
//! `docs/quality/`. Every path a command uses without being told one comes
//! from here.

use std::path::{Path, PathBuf};

/// The workspace root (the parent of the trainer's folder).
pub fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map_or_else(|| PathBuf::from("."), Path::to_path_buf)
}

/// A run's folder: `runs/<name>`.
pub fn run(name: &str) -> PathBuf {
    workspace().join("runs").join(name)
}

/// The digit judge's cache for the runs in `run_dir`'s parent: `judge/`
/// beside the run (so `runs/judge` for the default runs, and a folder of
/// its own beside a run kept elsewhere).
pub fn judge_cache_beside(run_dir: &Path) -> PathBuf {
    run_dir
        .parent()
        .map_or_else(|| PathBuf::from("judge"), |p| p.join("judge"))
}

/// The digit judge's cache when no run is involved: `runs/judge`.
pub fn judge_cache() -> PathBuf {
    judge_cache_beside(&run("judge"))
}

/// The second judge's cache: `runs/judge-second` (see `trainer judge
/// --second-judge`).
pub fn second_judge_cache() -> PathBuf {
    run("judge-second")
}

/// Where models are exported, and where the committed judge is.
pub fn models() -> PathBuf {
    workspace().join("models")
}

/// The quality table's document: `docs/quality.md`.
pub fn quality_doc() -> PathBuf {
    workspace().join(QUALITY_DOC)
}

/// The quality table's document, relative to the workspace (as the model
/// card names it).
pub const QUALITY_DOC: &str = "docs/quality.md";

/// The folder of the quality table's saved rows and grids, for models
/// exported to `models_dir` (the `docs/quality` beside it).
pub fn quality_rows(models_dir: &Path) -> PathBuf {
    models_dir
        .parent()
        .unwrap_or(Path::new("."))
        .join("docs/quality")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_defaults_hang_together() {
        assert_eq!(judge_cache(), workspace().join("runs/judge"));
        assert_eq!(judge_cache_beside(&run("mcu")), judge_cache());
        assert_eq!(quality_rows(&models()), workspace().join("docs/quality"));
        assert_eq!(
            quality_doc().parent(),
            Some(quality_rows(&models()).parent().unwrap())
        );
    }
}
