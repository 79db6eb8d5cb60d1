//! The decoder's GAN-train ceiling: a classifier of the judge's network
//! trained on the 60,000 training digits as the device's decoder redraws
//! them from their encoder means (each labelled with its own label), tested
//! on the real test digits, beside the same trained on the real digits.
//! No prior can teach a better classifier than its decoder's reconstructions
//! do, so this bounds what any prior in the file could reach on GAN-train.
//!
//! `cargo run --release -p trainer --example gan_train_ceiling -- [MODEL] [EPOCHS]`
//! (default `models/mcu.postcard`, 2 epochs: the figure of `judge
//! --gan-train-epochs 2`). The model file must hold the `mcu` run's decoder
//! (its gain is applied as a device applies it).

use anyhow::{Context, Result};
use runtime::{Decoder, Digit, Latent, Model};
use trainer::data::{self, Dataset, DatasetKind};
use trainer::judge::Judge;
use trainer::layers::Dev;
use trainer::run::RunPaths;

fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let ws = trainer::folders::workspace();
    let path = args
        .get(1)
        .map_or_else(|| ws.join("models/mcu.postcard"), Into::into);
    let epochs: usize = args.get(2).map_or(Ok(2), |s| s.parse())?;
    let dev = Dev::default();
    let (train, test) = data::load_both(
        DatasetKind::Mnist,
        &DatasetKind::Mnist.default_dir(&ws),
        true,
    )?;
    let (vae, _) =
        trainer::checkpoint::load_run(&dev, &RunPaths::from(trainer::folders::run("mcu")))?;
    let bytes = std::fs::read(&path).with_context(|| format!("reading {}", path.display()))?;
    let model = Model::from_bytes(&bytes)?;
    let d = vae.arch.latent;
    let means = trainer::prior::encoder_means(&vae, &train);
    let mut decoder = Decoder::<{ trainer::draw::HOST_SCRATCH }>::new(&model)?;
    let mut digit = Digit::new();
    let mut pixels = Vec::with_capacity(train.len() * 784);
    for mu in means.chunks(d) {
        let z = Latent::from_f32(mu).context("latent width")?;
        decoder.decode(&z, &mut digit)?;
        pixels.extend_from_slice(digit.pixels());
    }
    let redrawn = Dataset {
        pixels,
        labels: train.labels.clone(),
    };
    let on_redrawn = Judge::train(&dev, &redrawn, epochs, 1).accuracy(&dev, &test);
    let on_real = Judge::train(&dev, &train, epochs, 1).accuracy(&dev, &test);
    println!(
        "GAN-train ceiling ({} digits, {epochs} epochs): trained on the decoder's reconstructions {:.2}% | on real ones {:.2}% test accuracy",
        train.len(),
        100.0 * on_redrawn,
        100.0 * on_real
    );
    Ok(())
}
