//! Copies the model to embed (`FIRMWARE_MODEL`, default the committed
//! `models/mcu.postcard`) to `OUT_DIR/model.postcard`, where the crate's
//! `include_bytes!` finds it: every board embeds the same file this way.

use std::{env, fs, path::PathBuf};

fn main() {
    let out = PathBuf::from(env::var_os("OUT_DIR").expect("cargo sets OUT_DIR"));
    let model =
        env::var("FIRMWARE_MODEL").unwrap_or_else(|_| "../../../models/mcu.postcard".into());
    if let Err(e) = fs::copy(&model, out.join("model.postcard")) {
        panic!("cannot read the model to embed, {model}: {e}");
    }
    println!("cargo:rerun-if-env-changed=FIRMWARE_MODEL");
    println!("cargo:rerun-if-changed={model}");
}
