// Build steps shared by every board crate (each board's build.rs includes
// this file: boards are separate Cargo workspaces, built for their own targets).

use std::{env, fs, path::PathBuf};

/// `OUT_DIR`, where generated inputs for the firmware go.
fn out_dir() -> PathBuf {
    PathBuf::from(env::var_os("OUT_DIR").expect("cargo sets OUT_DIR"))
}

/// Puts the memory map `path` where cortex-m-rt's `link.x` finds `memory.x`.
fn use_memory_map(path: &str) {
    let out = out_dir();
    if let Err(e) = fs::copy(path, out.join("memory.x")) {
        panic!("cannot read the memory map {path}: {e}");
    }
    println!("cargo:rustc-link-search={}", out.display());
    println!("cargo:rerun-if-changed={path}");
}

/// Copies the model to embed (`FIRMWARE_MODEL`, default the committed
/// `models/mcu.postcard`) to `OUT_DIR/model.postcard` for `include_bytes!`.
fn embed_model() {
    let model =
        env::var("FIRMWARE_MODEL").unwrap_or_else(|_| "../../../models/mcu.postcard".into());
    if let Err(e) = fs::copy(&model, out_dir().join("model.postcard")) {
        panic!("cannot read the model to embed, {model}: {e}");
    }
    println!("cargo:rerun-if-env-changed=FIRMWARE_MODEL");
    println!("cargo:rerun-if-changed={model}");
}
