//! Puts this board's memory.x where cortex-m-rt's link.x finds it (the
//! model is embedded by `board-common`).

use std::{env, fs, path::PathBuf};

fn main() {
    let out = PathBuf::from(env::var_os("OUT_DIR").expect("cargo sets OUT_DIR"));
    if let Err(e) = fs::copy("memory.x", out.join("memory.x")) {
        panic!("cannot read the memory map memory.x: {e}");
    }
    println!("cargo:rustc-link-search={}", out.display());
    println!("cargo:rerun-if-changed=memory.x");
}
