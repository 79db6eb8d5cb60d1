//! A real SDL2 window under Xvfb: the simulator opens its window, the X
//! server's own screenshot (`xwd`) is taken, and the window's pixels equal
//! the headless PNG at the same magnification.

mod common;

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

struct Killed(Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Parses an XWD screenshot (ZPixmap, 24/32 bits per pixel) into RGB.
fn parse_xwd(bytes: &[u8]) -> (usize, usize, Vec<u8>) {
    let field = |i: usize| u32::from_be_bytes(bytes[i * 4..i * 4 + 4].try_into().unwrap()) as usize;
    let (header, format, width, height) = (field(0), field(2), field(4), field(5));
    let (byte_order, bpp, stride) = (field(7), field(11), field(12));
    let (rmask, gmask, bmask, ncolors) = (
        field(14) as u32,
        field(15) as u32,
        field(16) as u32,
        field(19),
    );
    assert_eq!(format, 2, "ZPixmap");
    assert!(bpp == 24 || bpp == 32, "{bpp} bits per pixel");
    let bytes_pp = bpp / 8;
    let data = &bytes[header + ncolors * 12..];
    let shift = |m: u32| m.trailing_zeros();
    let mut rgb = Vec::with_capacity(width * height * 3);
    for y in 0..height {
        for x in 0..width {
            let p = &data[y * stride + x * bytes_pp..][..bytes_pp];
            let v = if byte_order == 0 {
                p.iter()
                    .rev()
                    .fold(0u32, |acc, &b| (acc << 8) | u32::from(b))
            } else {
                p.iter().fold(0u32, |acc, &b| (acc << 8) | u32::from(b))
            };
            rgb.extend([
                ((v & rmask) >> shift(rmask)) as u8,
                ((v & gmask) >> shift(gmask)) as u8,
                ((v & bmask) >> shift(bmask)) as u8,
            ]);
        }
    }
    (width, height, rgb)
}

/// Where `needle` appears inside `hay` (both RGB), if anywhere.
fn find(hay: (usize, usize, &[u8]), needle: (usize, usize, &[u8])) -> Option<(usize, usize)> {
    let ((hw, hh, h), (nw, nh, n)) = (hay, needle);
    for oy in 0..=hh.checked_sub(nh)? {
        'x: for ox in 0..=hw.checked_sub(nw)? {
            for y in 0..nh {
                let a = &h[((oy + y) * hw + ox) * 3..][..nw * 3];
                if a != &n[y * nw * 3..][..nw * 3] {
                    continue 'x;
                }
            }
            return Some((ox, oy));
        }
    }
    None
}

#[test]
fn window_under_xvfb_shows_the_headless_picture() {
    if !common::require_tool("Xvfb", "the real-window simulator test")
        || !common::require_tool("xwd", "the real-window simulator test")
    {
        return;
    }
    let display = format!(":{}", 50 + std::process::id() % 200);
    let _xvfb = Killed(
        Command::new("Xvfb")
            .args([
                display.as_str(),
                "-screen",
                "0",
                "800x600x24",
                "-nolisten",
                "tcp",
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("Xvfb starts"),
    );
    let socket = format!("/tmp/.X11-unix/X{}", &display[1..]);
    let deadline = Instant::now() + Duration::from_secs(20);
    while !std::path::Path::new(&socket).exists() {
        assert!(Instant::now() < deadline, "Xvfb did not start");
        std::thread::sleep(Duration::from_millis(50));
    }

    let dir = tempfile::tempdir().unwrap();
    let png = dir.path().join("headless.png");
    let status = Command::new(env!("CARGO_BIN_EXE_simulator"))
        .args([
            "--display",
            "oled",
            "--seed",
            "3",
            "--png-scale",
            "4",
            "--png",
        ])
        .arg(&png)
        .status()
        .unwrap();
    assert!(status.success());
    let (nw, nh, expected) = common::decode_png(&std::fs::read(&png).unwrap());

    let mut sim = Killed(
        Command::new(env!("CARGO_BIN_EXE_simulator"))
            .args(["--display", "oled", "--seed", "3"])
            .env("DISPLAY", &display)
            .env_remove("EG_SIMULATOR_DUMP")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("simulator starts"),
    );
    let stdout = sim.0.stdout.take().unwrap();
    let mut lines = BufReader::new(stdout).lines();
    let mut legend = String::new();
    loop {
        let line = lines.next().expect("simulator printed READY").unwrap();
        if line == "READY" {
            break;
        }
        legend.push_str(&line);
    }
    assert!(legend.contains("keys:"), "key legend missing: {legend}");

    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let shot = Command::new("xwd")
            .args(["-root", "-silent", "-display", &display])
            .output()
            .expect("xwd runs");
        assert!(shot.status.success(), "xwd failed");
        let (w, h, rgb) = parse_xwd(&shot.stdout);
        if let Some(at) = find((w, h, &rgb), (nw, nh, &expected)) {
            eprintln!("window found at {at:?} on the {w}x{h} screen");
            save_screen(&rgb, w, h);
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the window never showed the headless picture"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// Keeps the X screen as `target/simulator-window/xvfb-screen.png` for people to look at.
fn save_screen(rgb: &[u8], w: usize, h: usize) {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/simulator-window");
    std::fs::create_dir_all(&dir).unwrap();
    let file = std::fs::File::create(dir.join("xvfb-screen.png")).unwrap();
    let mut enc = png::Encoder::new(std::io::BufWriter::new(file), w as u32, h as u32);
    enc.set_color(png::ColorType::Rgb);
    enc.set_depth(png::BitDepth::Eight);
    enc.write_header().unwrap().write_image_data(rgb).unwrap();
}
