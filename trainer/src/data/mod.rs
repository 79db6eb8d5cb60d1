//! Datasets: MNIST and Fashion-MNIST in IDX format, and fetching MNIST.

pub mod fetch;
pub mod idx;

use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};

/// Side of every image in both datasets.
pub const SIDE: usize = 28;
/// Pixels per image.
pub const PIXELS: usize = SIDE * SIDE;
/// Label classes in both datasets (labels are 0..=9).
pub const CLASSES: usize = 10;

/// Which dataset to read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum DatasetKind {
    /// Handwritten digits (LeCun et al.).
    Mnist,
    /// Zalando's clothing images, same format (Debian package `dataset-fashion-mnist`).
    Fashion,
}

impl DatasetKind {
    /// Where the data lives when no `--data-dir` is given.
    pub fn default_dir(self, workspace: &Path) -> PathBuf {
        match self {
            DatasetKind::Mnist => workspace.join("data").join("mnist"),
            DatasetKind::Fashion => PathBuf::from("/usr/share/datasets/fashion-mnist"),
        }
    }
}

/// Training or test split.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Split {
    /// 60,000 training images.
    Train,
    /// 10,000 test images.
    Test,
}

impl Split {
    fn prefix(self) -> &'static str {
        match self {
            Split::Train => "train",
            Split::Test => "t10k",
        }
    }
}

/// Images (u8 grey levels) and their labels.
#[derive(Debug, Clone)]
pub struct Dataset {
    /// `len * 784` pixels, image after image.
    pub pixels: Vec<u8>,
    /// One label per image.
    pub labels: Vec<u8>,
}

impl Dataset {
    /// Number of images.
    pub fn len(&self) -> usize {
        self.labels.len()
    }

    /// Whether there are no images.
    pub fn is_empty(&self) -> bool {
        self.labels.is_empty()
    }

    /// Pixels of image `i`.
    pub fn image(&self, i: usize) -> &[u8] {
        &self.pixels[i * PIXELS..(i + 1) * PIXELS]
    }

    /// The first `n` images (all if fewer).
    pub fn take(&self, n: usize) -> Dataset {
        let n = n.min(self.len());
        Dataset {
            pixels: self.pixels[..n * PIXELS].to_vec(),
            labels: self.labels[..n].to_vec(),
        }
    }

    /// Images `indices` as f32 grey levels in [0, 1], row after row.
    pub fn batch(&self, indices: &[usize]) -> Vec<f32> {
        let mut out = Vec::with_capacity(indices.len() * PIXELS);
        for &i in indices {
            out.extend(self.image(i).iter().map(|&p| f32::from(p) / 255.0));
        }
        out
    }

    /// Labels of images `indices`.
    pub fn labels_of(&self, indices: &[usize]) -> Vec<u8> {
        indices.iter().map(|&i| self.labels[i]).collect()
    }
}

/// The file `<name>` or `<name>.gz` in `dir`.
pub fn find_file(dir: &Path, name: &str) -> Option<PathBuf> {
    [dir.join(name), dir.join(format!("{name}.gz"))]
        .into_iter()
        .find(|p| p.is_file())
}

/// Whether `dir` holds all four IDX files (raw or gzipped).
pub fn has_all_files(dir: &Path) -> bool {
    [Split::Train, Split::Test].iter().all(|s| {
        find_file(dir, &format!("{}-images-idx3-ubyte", s.prefix())).is_some()
            && find_file(dir, &format!("{}-labels-idx1-ubyte", s.prefix())).is_some()
    })
}

/// Loads one split from `dir`, checking the files agree with each other.
pub fn load(dir: &Path, split: Split) -> Result<Dataset> {
    let images_name = format!("{}-images-idx3-ubyte", split.prefix());
    let labels_name = format!("{}-labels-idx1-ubyte", split.prefix());
    let Some(images_path) = find_file(dir, &images_name) else {
        bail!(
            "{}: missing {images_name} (or {images_name}.gz)",
            dir.display()
        );
    };
    let Some(labels_path) = find_file(dir, &labels_name) else {
        bail!(
            "{}: missing {labels_name} (or {labels_name}.gz)",
            dir.display()
        );
    };
    let images = idx::read_images(&images_path, SIDE, SIDE)?;
    let labels = idx::read_labels(&labels_path)?;
    if images.count != labels.len() {
        return Err(idx::IdxError::CountMismatch {
            images: images_path,
            n_images: images.count,
            labels: labels_path,
            n_labels: labels.len(),
        }
        .into());
    }
    Ok(Dataset {
        pixels: images.pixels,
        labels,
    })
}

/// Loads both splits, fetching MNIST first when `dir` is the default MNIST
/// directory and holds no data yet.
pub fn load_both(
    kind: DatasetKind,
    dir: &Path,
    is_default_dir: bool,
) -> Result<(Dataset, Dataset)> {
    if !has_all_files(dir) {
        if kind == DatasetKind::Mnist && is_default_dir {
            eprintln!("No MNIST files in {}: fetching them.", dir.display());
            fetch::fetch_mnist(dir).context("fetching MNIST")?;
        } else if kind == DatasetKind::Fashion {
            bail!(
                "{}: Fashion-MNIST not found; install Debian's package `dataset-fashion-mnist` or pass --data-dir",
                dir.display()
            );
        }
    }
    let train = load(dir, Split::Train)
        .with_context(|| format!("loading training set from {}", dir.display()))?;
    let test = load(dir, Split::Test)
        .with_context(|| format!("loading test set from {}", dir.display()))?;
    Ok((train, test))
}
