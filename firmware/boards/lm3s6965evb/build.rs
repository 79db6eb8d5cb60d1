//! Puts this board's memory.x where cortex-m-rt's link.x finds it, and the
//! model to embed (`FIRMWARE_MODEL`, default the committed
//! `models/mcu.postcard`) where `include_bytes!` finds it.

include!("../build_common.rs");

fn main() {
    use_memory_map("memory.x");
    embed_model();
}
