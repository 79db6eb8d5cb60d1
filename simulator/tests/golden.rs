//! Golden images: the headless PNG for a fixed seed and the committed model
//! equals the committed reference, pixel for pixel, for every display kind.
//! Regenerate after an intended change with `UPDATE_GOLDEN=1 cargo test -p simulator`.

mod common;

use simulator::screen::{render, DisplayKind};

#[test]
fn headless_frames_match_committed_references() {
    let bytes = std::fs::read(common::model_path()).unwrap();
    let model = runtime::Model::from_bytes(&bytes).unwrap();
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden");
    let update = std::env::var("UPDATE_GOLDEN").is_ok_and(|v| v == "1");
    let cases = [
        (DisplayKind::Oled, 1, 0),
        (DisplayKind::Oled, 1, 1),
        (DisplayKind::Ssd1306, 1, 0),
        (DisplayKind::Color, 1, 0),
        (DisplayKind::Oled, 42, 0),
    ];
    for (kind, seed, frame) in cases {
        let name = format!("{kind:?}-seed{seed}-frame{frame}.png").to_lowercase();
        let png = render(&model, kind, seed, frame)
            .unwrap()
            .png_bytes(1)
            .unwrap();
        let path = dir.join(&name);
        if update {
            std::fs::write(&path, &png).unwrap();
            continue;
        }
        let golden = std::fs::read(&path).unwrap_or_else(|_| {
            panic!(
                "{} missing: run UPDATE_GOLDEN=1 cargo test -p simulator",
                path.display()
            )
        });
        let (gw, gh, g) = common::decode_png(&golden);
        let (w, h, got) = common::decode_png(&png);
        assert_eq!((w, h), (gw, gh), "{name}: size");
        let differ = g
            .chunks(3)
            .zip(got.chunks(3))
            .filter(|(a, b)| a != b)
            .count();
        assert_eq!(
            differ, 0,
            "{name}: {differ} pixels differ from the golden image"
        );
        assert!(got.iter().any(|&v| v > 0), "{name} is blank");
    }
}
