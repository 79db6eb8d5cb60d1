//! The web page in a real headless browser: Chromium, driven through
//! ChromeDriver, opens the built page (`scripts/web.sh build`), clicks
//! digits, "new digits", seeds, display kinds and keys as a person would,
//! and after every step the canvas must equal, bit for bit, what the host
//! draws with the same model, seed, digit, frame and display kind (the
//! simulator's `render_class`, which the golden images pin). A corrupt and
//! a truncated model file show the runtime's reason; another valid model
//! file draws its own digits.
//!
//! Needs `chromium`, `chromedriver` (Debian packages) and `wasm-bindgen`
//! (`scripts/web.sh tools`); without them it says so loudly and skips,
//! except under `CI=true`, where it fails.

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use digits_web::Page;
use embedded_graphics::prelude::*;
use integration_tests::browser::{self, Browser, ENTER};
use integration_tests::qemu::{require_tool, workspace};
use serde_json::{json, Value};
use simulator::screen::{class_of, render_class, DisplayKind};

const WAIT: Duration = Duration::from_secs(30);

/// What the page is asked to show: display, seed, frame, digit.
type Request = (DisplayKind, u64, u32, Option<&'static str>);

/// One thing a person does on the page.
enum Act {
    /// Clicks the element (a button, a list entry); the page draws.
    Click(&'static str),
    /// Types text and Enter into a field; the page draws.
    Type(&'static str, &'static str),
    /// Presses a key; the page draws.
    Press(&'static str),
    /// Clicks the screen: moves the focus there, nothing is drawn.
    Focus,
}

impl Act {
    fn run(&self, b: &mut Browser) {
        match *self {
            Act::Click(selector) => and_draw(b, |b| b.click(selector)),
            Act::Type(selector, text) => and_draw(b, |b| {
                b.type_into(selector, &format!("{text}{ENTER}"), true)
            }),
            Act::Press(key) => and_draw(b, |b| b.press(key)),
            Act::Focus => b.click("#screen"),
        }
    }
}

/// The canvas's pixels as RGB, carried out of the page as hex.
fn canvas(b: &mut Browser) -> (u32, u32, Vec<u8>) {
    let value = b.run(
        "const c = document.getElementById('screen');
         const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
         const hex = [];
         for (let i = 0; i < d.length; i += 4) {
           for (let k = 0; k < 3; k++) hex.push(d[i + k].toString(16).padStart(2, '0'));
         }
         return [c.width, c.height, hex.join('')];",
        json!([]),
    );
    let size = |i: usize| value[i].as_u64().expect("canvas size") as u32;
    let rgb = browser::decode_hex(value[2].as_str().expect("canvas pixels"));
    (size(0), size(1), rgb)
}

/// What the host draws for the same request: the simulator's frame.
fn host(model: &[u8], kind: DisplayKind, seed: u64, frame: u32, digit: Option<&str>) -> Vec<u8> {
    let model = runtime::Model::from_bytes(model).expect("host model");
    let class = digit.map(|d| class_of(&model, d).expect("host class"));
    let frame = render_class(&model, kind, seed, frame, class).expect("host render");
    let size = kind.size();
    (0..size.height as i32)
        .flat_map(|y| (0..size.width as i32).map(move |x| Point::new(x, y)))
        .flat_map(|p| {
            let c = frame.rgb(p);
            [c.r(), c.g(), c.b()]
        })
        .collect()
}

/// Frames the page has drawn so far.
fn draws(b: &mut Browser) -> u64 {
    let value = b.run(
        "return Number(document.body.dataset.draws || 0);",
        json!([]),
    );
    value.as_u64().unwrap_or(0)
}

/// Opens the page at `url` and waits for its first drawing.
fn open_page(b: &mut Browser, url: &str) {
    b.open(url);
    b.wait_for(
        "return Number(document.body.dataset.draws || 0) >= 1;",
        WAIT,
    );
}

/// Does `act`, then waits for the page to draw.
fn and_draw(b: &mut Browser, act: impl FnOnce(&mut Browser)) {
    let before = draws(b);
    act(b);
    b.wait_for(
        &format!("return Number(document.body.dataset.draws || 0) > {before};"),
        WAIT,
    );
}

/// The canvas equals the host's drawing of this request, pixel for pixel.
fn assert_same(b: &mut Browser, model: &[u8], request: Request, step: &str) {
    let (kind, seed, frame, digit) = request;
    let (w, h, got) = canvas(b);
    assert_eq!(
        (w, h),
        (kind.size().width, kind.size().height),
        "{step}: canvas size"
    );
    let want = host(model, kind, seed, frame, digit);
    let differ = got
        .chunks(3)
        .zip(want.chunks(3))
        .filter(|(a, b)| a != b)
        .count();
    assert_eq!(
        differ, 0,
        "{step}: {differ} pixels differ from the host's {request:?}"
    );
    assert!(got.iter().any(|&v| v > 0), "{step}: the canvas is blank");
    let status = text(b, "#status");
    let asked = digit.map_or("any digit".to_string(), |d| format!("digit {d}"));
    let expected = format!("seed {seed} · frame {frame} · {asked}");
    assert!(
        status.contains(&expected),
        "{step}: status `{status}` lacks `{expected}`"
    );
}

fn text(b: &mut Browser, selector: &str) -> String {
    let script =
        "const e = document.querySelector(arguments[0]); return e.hidden ? '' : e.textContent;";
    let value = b.run(script, json!([selector]));
    value.as_str().unwrap_or_default().to_string()
}

fn build_site() {
    let status = Command::new("bash")
        .arg(workspace().join("scripts/web.sh"))
        .arg("build")
        .status()
        .expect("run scripts/web.sh build");
    assert!(status.success(), "scripts/web.sh build failed");
}

/// Uploads `bytes` as a file named `name` through the page's file input.
fn upload(b: &mut Browser, dir: &Path, name: &str, bytes: &[u8]) {
    let path = dir.join(name);
    std::fs::write(&path, bytes).expect("write the model file");
    b.type_into("#model-file", &path.display().to_string(), false);
}

#[test]
fn the_page_draws_the_hosts_pixels_for_every_click_and_refuses_bad_models() {
    let why = "the web page's headless-browser test";
    if !(require_tool("chromium", why)
        && require_tool("chromedriver", why)
        && require_tool("wasm-bindgen", why))
    {
        return;
    }
    build_site();
    let base = browser::serve_dir(&browser::web_site());
    let model = digits_web::BUILTIN_MODEL;
    let mut b = Browser::start();

    // The address bar picks the first screen.
    open_page(&mut b, &format!("{base}/?display=oled&seed=1"));
    assert_same(
        &mut b,
        model,
        (DisplayKind::Oled, 1, 0, None),
        "first screen",
    );
    assert_eq!(
        b.run(
            "return document.querySelectorAll('#digits button').length;",
            json!([])
        ),
        json!(11),
        "buttons: any, 0 ... 9"
    );

    // Buttons, fields and keys, as a person uses them; after each step the
    // canonical request (display, seed, frame, digit) the canvas must show.
    use Act::{Click, Focus, Press, Type};
    let steps: [(&str, &[Act], Request); 8] = [
        (
            "click 7",
            &[Click("#digits button[data-digit='7']")],
            (DisplayKind::Oled, 1, 0, Some("7")),
        ),
        (
            "new digits x2",
            &[Click("#new"), Click("#new")],
            (DisplayKind::Oled, 1, 2, Some("7")),
        ),
        (
            "seed 42",
            &[Type("#seed", "42")],
            (DisplayKind::Oled, 42, 0, Some("7")),
        ),
        (
            "next seed",
            &[Click("#seed-next")],
            (DisplayKind::Oled, 43, 0, Some("7")),
        ),
        (
            "SSD1306",
            &[Click("#display option[value='ssd1306']")],
            (DisplayKind::Ssd1306, 43, 0, Some("7")),
        ),
        // Focus leaves the list, so keys reach the page.
        (
            "key 3",
            &[Focus, Press("3")],
            (DisplayKind::Ssd1306, 43, 0, Some("3")),
        ),
        (
            "key N",
            &[Press("n")],
            (DisplayKind::Ssd1306, 43, 1, Some("3")),
        ),
        (
            "colour, key A",
            &[Click("#display option[value='color']"), Focus, Press("a")],
            (DisplayKind::Color, 43, 0, None),
        ),
    ];
    for (step, acts, request) in steps {
        for act in acts {
            act.run(&mut b);
        }
        assert_same(&mut b, model, request, step);
    }

    // The address bar keeps the state, so a link shows the same digits.
    let search = b.run("return location.search;", json!([]));
    assert_eq!(search, json!("?display=color&seed=43"));
    open_page(
        &mut b,
        &format!("{base}/?display=color&seed=5&digit=0&frame=3"),
    );
    assert_same(
        &mut b,
        model,
        (DisplayKind::Color, 5, 3, Some("0")),
        "a link",
    );

    // Bad model files: the runtime's reason on the page, the picture kept.
    let dir = tempfile::tempdir().unwrap();
    let (_, _, before) = canvas(&mut b);
    let mut corrupt = model.to_vec();
    corrupt[model.len() / 2] ^= 0x10;
    let truncated = &model[..100];
    for (name, bytes) in [
        ("corrupt.postcard", &corrupt[..]),
        ("short.postcard", truncated),
    ] {
        upload(&mut b, dir.path(), name, bytes);
        let shown = b.wait_for(
            "const e = document.getElementById('error'); return !e.hidden && e.textContent;",
            WAIT,
        );
        let reason = Page::load(bytes.to_vec()).expect_err("the runtime refuses it");
        assert_eq!(shown, Value::from(format!("{name}: {reason}")), "{name}");
        assert!(
            shown.as_str().unwrap().contains("not a valid model: "),
            "{shown}"
        );
        assert_eq!(canvas(&mut b).2, before, "{name}: the last picture stays");
    }

    // Another valid model (no class prior): its own digits, only "any".
    let other = integration_tests::small_model_bytes(3);
    and_draw(&mut b, |b| upload(b, dir.path(), "small.postcard", &other));
    assert_same(
        &mut b,
        &other,
        (DisplayKind::Color, 5, 0, None),
        "other model",
    );
    assert_eq!(
        b.run(
            "return document.querySelectorAll('#digits button').length;",
            json!([])
        ),
        json!(1),
        "a model without classes offers `any` only"
    );
    assert_eq!(text(&mut b, "#error"), "", "the error is cleared");

    // Back to the built-in model; the time to draw a screen, as measured
    // by the page itself (performance.now, which browsers coarsen).
    and_draw(&mut b, |b| b.click("#builtin"));
    for kind in ["oled", "ssd1306", "color"] {
        and_draw(&mut b, |b| {
            b.click(&format!("#display option[value='{kind}']"))
        });
        let mut ms = Vec::new();
        for _ in 0..20 {
            and_draw(&mut b, |b| b.click("#new"));
            let v = b.run(
                "return Number(document.getElementById('status').dataset.ms);",
                json!([]),
            );
            ms.push(v.as_f64().unwrap_or(f64::NAN));
        }
        ms.sort_by(f64::total_cmp);
        println!(
            "browser: one {kind} screen drawn in {:.2} ms (median of 20 frames, frame numbers 1..20), max {:.2} ms",
            ms[10], ms[19]
        );
    }

    if std::env::var("UPDATE_SCREENSHOT").is_ok_and(|v| v == "1") {
        open_page(&mut b, &format!("{base}/?display=oled&seed=1&digit=7"));
        let png = b.screenshot();
        std::fs::write(workspace().join("docs/images/web-page.png"), png).unwrap();
    }
}
