//! End to end on the emulated board: the firmware boots in QEMU's
//! `lm3s6965evb`, draws on the emulated SSD0323 OLED, and the pixels QEMU
//! shows (captured with QMP `screendump`) equal, bit for bit, what the host
//! runtime and the same application code draw for the same seed and model.
//! A firmware built with a corrupt model shows an error screen instead.

use std::convert::Infallible;
use std::time::Duration;

use embedded_graphics::prelude::*;
use firmware_app::ssd0323::{self, Ssd0323};
use firmware_app::Gallery;
use integration_tests::qemu::{build_board, require_tool, save_png, workspace, Qemu};

/// An SPI bus and pin that go nowhere: the host keeps only the frame buffer.
struct Nowhere;

impl embedded_hal::spi::ErrorType for Nowhere {
    type Error = Infallible;
}

impl embedded_hal::spi::SpiBus<u8> for Nowhere {
    fn read(&mut self, _: &mut [u8]) -> Result<(), Infallible> {
        Ok(())
    }
    fn write(&mut self, _: &[u8]) -> Result<(), Infallible> {
        Ok(())
    }
    fn transfer(&mut self, _: &mut [u8], _: &[u8]) -> Result<(), Infallible> {
        Ok(())
    }
    fn transfer_in_place(&mut self, _: &mut [u8]) -> Result<(), Infallible> {
        Ok(())
    }
    fn flush(&mut self) -> Result<(), Infallible> {
        Ok(())
    }
}

impl embedded_hal::digital::ErrorType for Nowhere {
    type Error = Infallible;
}

impl embedded_hal::digital::OutputPin for Nowhere {
    fn set_low(&mut self) -> Result<(), Infallible> {
        Ok(())
    }
    fn set_high(&mut self) -> Result<(), Infallible> {
        Ok(())
    }
}

/// The 16-level picture in a screendump: QEMU magnifies 4x and shows level
/// `v` as grey `17 * v`.
fn oled_levels(w: usize, h: usize, rgb: &[u8]) -> Vec<u8> {
    assert_eq!((w, h), (128 * 4, 64 * 4), "screendump size");
    let mut out = Vec::with_capacity(128 * 64);
    for y in 0..64 {
        for x in 0..128 {
            let i = ((y * 4 + 1) * w + x * 4 + 1) * 3;
            let (r, g, b) = (rgb[i], rgb[i + 1], rgb[i + 2]);
            assert!(
                r == g && g == b && r % 17 == 0,
                "({x}, {y}) is not an SSD0323 grey: {r} {g} {b}"
            );
            out.push(r / 17);
        }
    }
    out
}

fn host_levels(display: &Ssd0323<Nowhere, Nowhere>) -> Vec<u8> {
    let mut out = Vec::with_capacity(128 * 64);
    for y in 0..64 {
        for x in 0..128 {
            out.push(ssd0323::pixel(display.buffer(), x, y).unwrap());
        }
    }
    out
}

fn describe_diff(a: &[u8], b: &[u8]) -> String {
    let diffs: Vec<usize> = (0..a.len()).filter(|&i| a[i] != b[i]).collect();
    format!(
        "{} pixels differ, first at {:?}",
        diffs.len(),
        diffs.first().map(|i| (i % 128, i / 128))
    )
}

const SEED: u64 = 5;
const FRAMES: u32 = 3;

/// The LM3S6965 firmware built with the committed model, and that model.
fn board_with_committed_model() -> (std::path::PathBuf, Vec<u8>) {
    let elf = build_board(
        "lm3s6965evb",
        "lm3s6965evb",
        "thumbv7m-none-eabi",
        None,
        "target",
    );
    let model_bytes = std::fs::read(workspace().join("models/mcu.postcard")).unwrap();
    (elf, model_bytes)
}

#[test]
fn emulated_oled_shows_exactly_what_the_host_draws() {
    if !require_tool("qemu-system-arm", "the QEMU end-to-end firmware test") {
        return;
    }
    let (elf, model_bytes) = board_with_committed_model();
    let model = runtime::Model::from_bytes(&model_bytes).unwrap();
    let mut host = Ssd0323::new(Nowhere, Nowhere);
    let mut gallery = Gallery::<256>::new(&model, SEED, host.size()).unwrap();

    let seed = format!("seed={SEED}");
    let frames = format!("frames={FRAMES}");
    let mut qemu = Qemu::start("lm3s6965evb", &elf, &[&seed, &frames, "step"], &[], true);
    let ok = qemu.wait_for("MODEL", Duration::from_secs(60));
    let announced = format!(
        "MODEL OK name={} latent={}",
        model.name(),
        model.latent_dim()
    );
    assert!(ok.starts_with(&announced), "{ok}");
    for frame in 0..FRAMES {
        qemu.wait_for(&format!("FRAME {frame}"), Duration::from_secs(120));
        let (w, h, rgb) = qemu.screendump(&format!("frame{frame}.ppm"));
        let shown = oled_levels(w, h, &rgb);
        save_png(
            &workspace().join(format!(
                "target/firmware-qemu/oled-seed{SEED}-frame{frame}.png"
            )),
            w,
            h,
            &rgb,
        );
        gallery.draw_frame(&mut host).unwrap();
        let expected = host_levels(&host);
        assert!(
            expected.iter().filter(|&&v| v > 0).count() > 200,
            "host frame {frame} is nearly empty"
        );
        assert!(
            shown == expected,
            "frame {frame}: {}",
            describe_diff(&shown, &expected)
        );
        qemu.send_byte();
    }
    let status = qemu.wait_exit(Duration::from_secs(60));
    assert!(
        status.success(),
        "QEMU exit status {status}; console {:#?}",
        qemu.transcript
    );
}

#[test]
fn corrupt_model_shows_an_error_screen_and_keeps_running() {
    if !require_tool("qemu-system-arm", "the QEMU corrupt-model firmware test") {
        return;
    }
    let mut bytes = std::fs::read(workspace().join("models/mcu.postcard")).unwrap();
    bytes[5000] ^= 0x40; // one flipped bit inside the weights
    let dir = tempfile::tempdir().unwrap();
    let corrupt = dir.path().join("corrupt.postcard");
    std::fs::write(&corrupt, &bytes).unwrap();
    let elf = build_board(
        "lm3s6965evb",
        "lm3s6965evb",
        "thumbv7m-none-eabi",
        Some(&corrupt),
        "target-corrupt-model",
    );
    let mut qemu = Qemu::start("lm3s6965evb", &elf, &["step", "frames=1"], &[], true);
    let line = qemu.wait_for("MODEL", Duration::from_secs(60));
    assert!(
        line.starts_with("MODEL ERROR") && line.contains("CRC-32"),
        "{line}"
    );
    let (w, h, rgb) = qemu.screendump("error.ppm");
    save_png(
        &workspace().join("target/firmware-qemu/oled-model-error.png"),
        w,
        h,
        &rgb,
    );
    let shown = oled_levels(w, h, &rgb);
    // The host draws the same error screen.
    let error = runtime::Model::from_bytes(&bytes).unwrap_err();
    let mut host = Ssd0323::new(Nowhere, Nowhere);
    firmware_app::draw_error(&mut host, &error).unwrap();
    let expected = host_levels(&host);
    assert!(expected.contains(&15), "error screen has text");
    assert!(
        shown == expected,
        "error screen: {}",
        describe_diff(&shown, &expected)
    );
    // Still alive and answering after the error: it exits only when told.
    qemu.send_byte();
    let status = qemu.wait_exit(Duration::from_secs(30));
    assert!(status.success(), "QEMU exit status {status}");
}

/// The board's buttons, pressed through QEMU's emulated gamepad (QMP
/// `send-key`): Up/Down choose the digit, Select draws new ones, and every
/// frame on the OLED, with the label of the digit asked for, equals the
/// host's drawing of the same clicks, pixel for pixel.
#[test]
fn buttons_choose_the_digit_and_the_screen_follows() {
    if !require_tool("qemu-system-arm", "the QEMU button test") {
        return;
    }
    let (elf, model_bytes) = board_with_committed_model();
    let model = runtime::Model::from_bytes(&model_bytes).unwrap();
    let classes = model.prior().map_or(0, |p| p.classes());
    assert_eq!(
        classes, 10,
        "the committed model carries a prior of ten digits"
    );
    let mut host = Ssd0323::new(Nowhere, Nowhere);
    let seed = 7;
    let mut gallery = Gallery::<256>::new(&model, seed, host.size()).unwrap();
    // (QEMU key, step through "any", 0..9, expected class after it)
    let clicks = [
        ("up", 1, Some(0)),
        ("up", 1, Some(1)),
        ("down", -1, Some(0)),
        ("ctrl", 0, Some(0)),
        ("down", -1, None),
        ("down", -1, Some(9)),
    ];
    let frames = clicks.len() + 1;
    let args = [
        format!("seed={seed}"),
        "keys".into(),
        format!("frames={frames}"),
    ];
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let mut qemu = Qemu::start("lm3s6965evb", &elf, &args, &[], true);
    let ok = qemu.wait_for("MODEL", Duration::from_secs(60));
    assert!(ok.starts_with("MODEL OK"), "{ok}");
    for frame in 0..frames {
        if frame > 0 {
            let (key, step, class) = clicks[frame - 1];
            qemu.qmp_command(&format!(
                r#"{{"execute":"send-key","arguments":{{"keys":[{{"type":"qcode","data":"{key}"}}]}}}}"#
            ));
            let next = firmware_app::step_class(gallery.class(), classes, step);
            assert_eq!(next, class, "click {frame}");
            gallery.set_class(next);
        }
        let label = gallery.class().map_or("any".to_string(), |k| k.to_string());
        let line = qemu.wait_for(&format!("FRAME {frame}"), Duration::from_secs(120));
        assert_eq!(line, format!("FRAME {frame} class={label}"));
        let (w, h, rgb) = qemu.screendump(&format!("keys{frame}.ppm"));
        save_png(
            &workspace().join(format!(
                "target/firmware-qemu/oled-keys-seed{seed}-frame{frame}.png"
            )),
            w,
            h,
            &rgb,
        );
        let shown = oled_levels(w, h, &rgb);
        gallery.draw_frame(&mut host).unwrap();
        let expected = host_levels(&host);
        // The label column (x < 8) carries text exactly when a digit is asked for.
        let label_pixels = (0..64 * 128)
            .filter(|i| i % 128 < 8 && expected[*i] > 0)
            .count();
        assert_eq!(
            label_pixels > 0,
            gallery.class().is_some(),
            "frame {frame} label"
        );
        assert!(
            shown == expected,
            "frame {frame}: {}",
            describe_diff(&shown, &expected)
        );
    }
    qemu.send_byte(); // the last frame was seen: let the firmware exit
    let status = qemu.wait_exit(Duration::from_secs(60));
    assert!(
        status.success(),
        "QEMU exit status {status}; console {:#?}",
        qemu.transcript
    );
}
