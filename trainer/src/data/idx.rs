//! Reader for the IDX format of the original MNIST files (and Fashion-MNIST,
//! which uses the same layout), raw or gzip-compressed.
//!
//! An IDX file is a big-endian header `0x00 0x00 <type> <ndims>`, one u32
//! size per dimension, then the data. Images are type `0x08` (u8) with 3
//! dimensions (count, rows, cols); labels are type `0x08` with 1 dimension.

use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};

use flate2::read::GzDecoder;

/// Everything that can be wrong with an IDX file.
#[derive(Debug, thiserror::Error)]
pub enum IdxError {
    /// The file could not be opened or read.
    #[error("{path}: cannot read: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The magic number is not that of an unsigned-byte IDX file of the expected rank.
    #[error("{path}: bad magic {found:#010x}, expected {expected:#010x} ({what})")]
    BadMagic {
        /// The file.
        path: PathBuf,
        /// The magic number read.
        found: u32,
        /// The magic number expected.
        expected: u32,
        /// What the file should hold.
        what: &'static str,
    },
    /// The file is shorter than its header says.
    #[error("{path}: truncated: header promises {expected} bytes of data, file has {found}")]
    Truncated {
        /// The file.
        path: PathBuf,
        /// Data bytes the header implies.
        expected: usize,
        /// Data bytes present.
        found: usize,
    },
    /// The file is longer than its header says.
    #[error("{path}: {extra} unexpected bytes after the data")]
    TrailingData {
        /// The file.
        path: PathBuf,
        /// Extra bytes.
        extra: usize,
    },
    /// Images are not of the expected size.
    #[error("{path}: images are {rows}x{cols}, expected {want_rows}x{want_cols}")]
    WrongImageSize {
        /// The file.
        path: PathBuf,
        /// Rows per image.
        rows: usize,
        /// Columns per image.
        cols: usize,
        /// Expected rows.
        want_rows: usize,
        /// Expected columns.
        want_cols: usize,
    },
    /// Image and label counts differ.
    #[error("{images} has {n_images} images but {labels} has {n_labels} labels")]
    CountMismatch {
        /// Image file.
        images: PathBuf,
        /// Number of images.
        n_images: usize,
        /// Label file.
        labels: PathBuf,
        /// Number of labels.
        n_labels: usize,
    },
    /// A label is outside 0..=9.
    #[error("{path}: label {label} at index {index} is not a digit class 0..=9")]
    BadLabel {
        /// The file.
        path: PathBuf,
        /// Position.
        index: usize,
        /// Value.
        label: u8,
    },
}

/// Images of one IDX file: `count` images of `rows * cols` bytes, row-major.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdxImages {
    /// Number of images.
    pub count: usize,
    /// Rows per image.
    pub rows: usize,
    /// Columns per image.
    pub cols: usize,
    /// All pixels, image after image.
    pub pixels: Vec<u8>,
}

/// Reads a whole file, gunzipping it when it starts with the gzip magic.
pub fn read_maybe_gz(path: &Path) -> Result<Vec<u8>, IdxError> {
    let io = |source| IdxError::Io {
        path: path.to_owned(),
        source,
    };
    let mut raw = Vec::new();
    File::open(path)
        .and_then(|mut f| f.read_to_end(&mut raw))
        .map_err(io)?;
    if raw.starts_with(&[0x1F, 0x8B]) {
        let mut out = Vec::new();
        GzDecoder::new(&raw[..]).read_to_end(&mut out).map_err(io)?;
        Ok(out)
    } else {
        Ok(raw)
    }
}

/// Parses the header of an unsigned-byte IDX file of rank `dims`, returning
/// its sizes and the data that follows (checked to be exactly the right length).
fn parse<'a>(
    path: &Path,
    bytes: &'a [u8],
    dims: u8,
    what: &'static str,
) -> Result<(Vec<usize>, &'a [u8]), IdxError> {
    let expected = 0x0000_0800 | u32::from(dims);
    let header_len = 4 + 4 * usize::from(dims);
    if bytes.len() < header_len {
        let found = if bytes.len() >= 4 {
            u32::from_be_bytes(bytes[..4].try_into().unwrap_or_default())
        } else {
            0
        };
        if bytes.len() < 4 || found != expected {
            return Err(IdxError::BadMagic {
                path: path.to_owned(),
                found,
                expected,
                what,
            });
        }
        return Err(IdxError::Truncated {
            path: path.to_owned(),
            expected: header_len,
            found: bytes.len(),
        });
    }
    let word = |i: usize| {
        u32::from_be_bytes([
            bytes[4 * i],
            bytes[4 * i + 1],
            bytes[4 * i + 2],
            bytes[4 * i + 3],
        ])
    };
    let magic = word(0);
    if magic != expected {
        return Err(IdxError::BadMagic {
            path: path.to_owned(),
            found: magic,
            expected,
            what,
        });
    }
    let sizes: Vec<usize> = (1..=usize::from(dims)).map(|i| word(i) as usize).collect();
    let data = &bytes[header_len..];
    let need = sizes
        .iter()
        .try_fold(1usize, |acc, &s| acc.checked_mul(s))
        .unwrap_or(usize::MAX);
    if data.len() < need {
        return Err(IdxError::Truncated {
            path: path.to_owned(),
            expected: need,
            found: data.len(),
        });
    }
    if data.len() > need {
        return Err(IdxError::TrailingData {
            path: path.to_owned(),
            extra: data.len() - need,
        });
    }
    Ok((sizes, data))
}

/// Reads an IDX image file (magic `0x00000803`) whose images must be
/// `rows` x `cols`.
pub fn read_images(path: &Path, rows: usize, cols: usize) -> Result<IdxImages, IdxError> {
    let bytes = read_maybe_gz(path)?;
    let (sizes, data) = parse(path, &bytes, 3, "images")?;
    if sizes[1] != rows || sizes[2] != cols {
        return Err(IdxError::WrongImageSize {
            path: path.to_owned(),
            rows: sizes[1],
            cols: sizes[2],
            want_rows: rows,
            want_cols: cols,
        });
    }
    Ok(IdxImages {
        count: sizes[0],
        rows,
        cols,
        pixels: data.to_vec(),
    })
}

/// Reads an IDX label file (magic `0x00000801`); labels must be 0..=9.
pub fn read_labels(path: &Path) -> Result<Vec<u8>, IdxError> {
    let bytes = read_maybe_gz(path)?;
    let (_, data) = parse(path, &bytes, 1, "labels")?;
    if let Some((index, &label)) = data.iter().enumerate().find(|(_, &l)| l > 9) {
        return Err(IdxError::BadLabel {
            path: path.to_owned(),
            index,
            label,
        });
    }
    Ok(data.to_vec())
}

/// Encodes images as an IDX file (used by tests and tools).
pub fn encode_images(count: usize, rows: usize, cols: usize, pixels: &[u8]) -> Vec<u8> {
    let mut out = vec![0, 0, 8, 3];
    for s in [count, rows, cols] {
        out.extend_from_slice(&(s as u32).to_be_bytes());
    }
    out.extend_from_slice(pixels);
    out
}

/// Encodes labels as an IDX file (used by tests and tools).
pub fn encode_labels(labels: &[u8]) -> Vec<u8> {
    let mut out = vec![0, 0, 8, 1];
    out.extend_from_slice(&(labels.len() as u32).to_be_bytes());
    out.extend_from_slice(labels);
    out
}
