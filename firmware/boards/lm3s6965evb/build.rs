//! Puts this board's memory.x where cortex-m-rt's link.x finds it, and the
//! model to embed (`FIRMWARE_MODEL`, default the committed
//! `models/mcu.postcard`) where `include_bytes!` finds it.
use std::{env, fs, path::PathBuf};

fn main() {
    let out = PathBuf::from(env::var_os("OUT_DIR").expect("cargo sets OUT_DIR"));
    fs::copy("memory.x", out.join("memory.x")).expect("memory.x is readable");
    println!("cargo:rustc-link-search={}", out.display());
    println!("cargo:rerun-if-changed=memory.x");
    let model =
        env::var("FIRMWARE_MODEL").unwrap_or_else(|_| "../../../models/mcu.postcard".into());
    if let Err(e) = fs::copy(&model, out.join("model.postcard")) {
        panic!("cannot read the model to embed, {model}: {e}");
    }
    println!("cargo:rerun-if-env-changed=FIRMWARE_MODEL");
    println!("cargo:rerun-if-changed={model}");
}
