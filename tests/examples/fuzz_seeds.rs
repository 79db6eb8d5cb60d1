//! Writes seed inputs for the `load_model` fuzz target into
//! `runtime/fuzz/seeds/`: two valid model files and their bare payloads
//! (the fuzz target also wraps inputs in a valid header and CRC).
//!
//! Run: `cargo run -p integration-tests --example fuzz_seeds`

use std::path::Path;

fn main() -> std::io::Result<()> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../runtime/fuzz/seeds");
    std::fs::create_dir_all(&dir)?;
    let models = [
        ("tiny", runtime::testing::tiny_model_bytes().to_vec()),
        ("small", integration_tests::small_model_bytes(1)),
    ];
    for (name, bytes) in models {
        std::fs::write(dir.join(format!("{name}.model")), &bytes)?;
        std::fs::write(
            dir.join(format!("{name}.payload")),
            &bytes[10..bytes.len() - 4],
        )?;
    }
    println!("wrote seeds to {}", dir.display());
    Ok(())
}
