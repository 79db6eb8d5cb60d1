//! Golden images: the headless PNG for a fixed seed and the committed model
//! equals the committed reference, pixel for pixel, for every display kind,
//! drawing any digit or a requested one (`--digit`).
//! Regenerate after an intended change with `UPDATE_GOLDEN=1 cargo test -p simulator`.

mod common;

use simulator::screen::{class_of, render_class, DisplayKind};

#[test]
fn headless_frames_match_committed_references() {
    let bytes = std::fs::read(common::model_path()).unwrap();
    let model = runtime::Model::from_bytes(&bytes).unwrap();
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden");
    let update = std::env::var("UPDATE_GOLDEN").is_ok_and(|v| v == "1");
    let cases = [
        (DisplayKind::Oled, 1, 0, None),
        (DisplayKind::Oled, 1, 1, None),
        (DisplayKind::Ssd1306, 1, 0, None),
        (DisplayKind::Color, 1, 0, None),
        (DisplayKind::Oled, 42, 0, None),
        (DisplayKind::Oled, 1, 0, Some("7")),
        (DisplayKind::Ssd1306, 2, 0, Some("3")),
        (DisplayKind::Color, 1, 0, Some("0")),
    ];
    for (kind, seed, frame, digit) in cases {
        let asked = digit.map_or(String::new(), |d| format!("-digit{d}"));
        let name = format!("{kind:?}-seed{seed}{asked}-frame{frame}.png").to_lowercase();
        let class = digit.map(|d| class_of(&model, d).unwrap());
        let png = render_class(&model, kind, seed, frame, class)
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
