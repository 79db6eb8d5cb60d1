//! No drift between the simulator and the runtime: the PNG the simulator
//! writes equals a picture assembled here directly from the runtime's
//! sampler and decoder (without the gallery code), for every display kind.

mod common;

use std::process::Command;

use embedded_graphics::pixelcolor::{BinaryColor, Gray4, Rgb565, Rgb888};
use embedded_graphics::prelude::*;
use firmware_app::Layout;
use runtime::{Decoder, Digit, FromGrey, LatentSampler, Model};

fn expected_rgb<C: FromGrey + Into<Rgb888>>(model: &Model<'_>, size: Size, seed: u64) -> Vec<u8> {
    let layout = Layout::auto(size);
    let mut decoder = Decoder::<256>::new(model).unwrap();
    let mut sampler = LatentSampler::new(seed);
    let (w, h) = (size.width as usize, size.height as usize);
    let mut greys: Vec<Option<u8>> = vec![None; w * h];
    for cell in 0..layout.cells() {
        let mut digit = Digit::new();
        // Any digit: the model's class prior (its mixture over classes).
        decoder
            .decode(&sampler.draw(model, None), &mut digit)
            .unwrap();
        let origin = layout.cell(cell);
        let s = layout.scale as usize;
        for y in 0..28 * s {
            for x in 0..28 * s {
                let (px, py) = (origin.x as usize + x, origin.y as usize + y);
                greys[py * w + px] = digit.get(x / s, y / s);
            }
        }
    }
    let mut rgb = Vec::with_capacity(w * h * 3);
    for (i, g) in greys.iter().enumerate() {
        let at = Point::new((i % w) as i32, (i / w) as i32);
        let c: Rgb888 = C::from_grey(g.unwrap_or(0), at).into();
        rgb.extend([c.r(), c.g(), c.b()]);
    }
    rgb
}

#[test]
fn simulator_png_equals_runtime_decode() {
    let bytes = std::fs::read(common::model_path()).unwrap();
    let model = Model::from_bytes(&bytes).unwrap();
    let dir = tempfile::tempdir().unwrap();
    for (kind, size) in [
        ("oled", Size::new(128, 64)),
        ("ssd1306", Size::new(128, 64)),
        ("color", Size::new(320, 240)),
    ] {
        for seed in [1u64, 9] {
            let out = dir.path().join(format!("{kind}-{seed}.png"));
            let status = Command::new(env!("CARGO_BIN_EXE_simulator"))
                .args(["--display", kind, "--seed", &seed.to_string(), "--png"])
                .arg(&out)
                .status()
                .unwrap();
            assert!(status.success());
            let (w, h, got) = common::decode_png(&std::fs::read(&out).unwrap());
            assert_eq!((w as u32, h as u32), (size.width, size.height));
            let expected = match kind {
                "oled" => expected_rgb::<Gray4>(&model, size, seed),
                "ssd1306" => expected_rgb::<BinaryColor>(&model, size, seed),
                _ => expected_rgb::<Rgb565>(&model, size, seed),
            };
            assert!(
                got == expected,
                "{kind} seed {seed}: simulator and runtime disagree"
            );
        }
    }
}
