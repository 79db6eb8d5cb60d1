//! `simulator`: the firmware's screen on the desktop.
//!
//! ```text
//! cargo run -p simulator                                   # window, the emulated board's OLED
//! cargo run -p simulator -- --display color --seed 7       # window, 320x240 colour screen
//! cargo run -p simulator -- --png out.png --display ssd1306 --seed 3   # headless PNG
//! ```

use std::path::{Path, PathBuf};

use anyhow::Result;
use clap::Parser;
use simulator::screen::{self, DisplayKind};

/// See on the PC exactly what the board will show.
#[derive(Debug, Parser)]
#[command(version, about)]
struct Cli {
    /// Display to simulate.
    /// (oled: 128x64 16 greys; ssd1306: 128x64 monochrome, dithered;
    /// color: 320x240 RGB565)
    #[arg(long, default_value = "oled", value_parser = screen::parse_display)]
    display: DisplayKind,
    /// Seed of the digit sequence (the firmware's `seed=`).
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Model file (default: the committed models/mcu.postcard).
    #[arg(long)]
    model: Option<PathBuf>,
    /// Draw this digit (a class label of the model's prior, e.g. 7);
    /// default: any digit, drawn from the prior's mixture.
    #[arg(long)]
    digit: Option<String>,
    /// Write frame `--frame` to this PNG instead of opening a window (no X server needed).
    #[arg(long)]
    png: Option<PathBuf>,
    /// Which frame to write with --png (0 = the first the board shows).
    #[arg(long, default_value_t = 0)]
    frame: u32,
    /// Screen pixels per display pixel in the PNG.
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..=16))]
    png_scale: u32,
}

fn default_model() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../models/mcu.postcard")
}

fn run(cli: Cli) -> Result<()> {
    let path = cli.model.unwrap_or_else(default_model);
    let bytes = screen::read_model_file(&path)?;
    let model = screen::load_model(&bytes, &path)?;
    let class = match &cli.digit {
        None => None,
        Some(label) => Some(screen::class_of(&model, label)?),
    };
    match cli.png {
        Some(out) => {
            let frame = screen::render_class(&model, cli.display, cli.seed, cli.frame, class)?;
            runtime::host::atomic_file::write_atomic(&out, &frame.png_bytes(cli.png_scale)?)?;
            eprintln!("wrote {}", out.display());
            Ok(())
        }
        None => simulator::window::run(&model, cli.display, cli.seed, class),
    }
}

fn main() {
    if let Err(e) = run(Cli::parse()) {
        eprintln!("error: {e:#}");
        std::process::exit(1);
    }
}
