//! The interactive window (SDL2): the same frames as the board, with keys to
//! step through samples and interpolations.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::Result;
use embedded_graphics_simulator::sdl2::Keycode;
use embedded_graphics_simulator::{SimulatorEvent, Window};
use firmware_app::Gallery;
use runtime::{Latent, Model};

use crate::screen::{output_settings, write_atomic, DisplayKind, Frame, SCRATCH};

/// The keys, printed when the window opens.
pub const LEGEND: &str =
    "keys: 0-9 draw that digit | A any digit | N/Space new digits | I interpolate (animate) | \
Left/Right step interpolation | S next seed | P save screenshot PNG | Q/Esc quit";

/// The digit a key asks for (`0`-`9` on the main row or the keypad).
fn digit_of(key: Keycode) -> Option<usize> {
    let main = [
        Keycode::Num0,
        Keycode::Num1,
        Keycode::Num2,
        Keycode::Num3,
        Keycode::Num4,
        Keycode::Num5,
        Keycode::Num6,
        Keycode::Num7,
        Keycode::Num8,
        Keycode::Num9,
    ];
    let pad = [
        Keycode::Kp0,
        Keycode::Kp1,
        Keycode::Kp2,
        Keycode::Kp3,
        Keycode::Kp4,
        Keycode::Kp5,
        Keycode::Kp6,
        Keycode::Kp7,
        Keycode::Kp8,
        Keycode::Kp9,
    ];
    main.iter()
        .position(|&k| k == key)
        .or_else(|| pad.iter().position(|&k| k == key))
}

/// Steps of an interpolation.
const STEPS: u32 = 16;

enum Mode {
    Samples,
    Interpolation {
        a: Box<Latent>,
        b: Box<Latent>,
        step: u32,
        animate: bool,
    },
}

/// Opens the window and runs until it is closed.
pub fn run(
    model: &Model<'_>,
    kind: DisplayKind,
    mut seed: u64,
    digit: Option<usize>,
) -> Result<()> {
    let settings = output_settings(kind.window_scale());
    let mut window = Window::new(
        &format!(
            "digits: {kind:?} {}x{}",
            kind.size().width,
            kind.size().height
        ),
        &settings,
    );
    let new_gallery = |seed: u64| {
        Gallery::<SCRATCH>::new(model, seed, kind.size())
            .map_err(|e| anyhow::anyhow!("the model does not fit: {e}"))
    };
    let mut gallery = new_gallery(seed)?;
    gallery.set_class(digit);
    let mut frame = Frame::new(kind);
    let mut mode = Mode::Samples;
    frame.draw_with(&mut |d| d.gallery_frame(&mut gallery));
    println!("{LEGEND}");
    println!("seed {seed}: frame 0");
    let mut ready_printed = false;
    let mut last_step = Instant::now();
    loop {
        match &frame {
            Frame::Gray4(d) => window.update(d),
            Frame::Binary(d) => window.update(d),
            Frame::Rgb565(d) => window.update(d),
        }
        if !ready_printed {
            // Tests wait for this line before taking a screenshot.
            println!("READY");
            ready_printed = true;
        }
        let mut redraw = false;
        for event in window.events() {
            match event {
                SimulatorEvent::Quit => return Ok(()),
                SimulatorEvent::KeyDown { keycode, .. } => match keycode {
                    Keycode::Q | Keycode::Escape => return Ok(()),
                    Keycode::N | Keycode::Space => {
                        mode = Mode::Samples;
                        redraw = true;
                    }
                    Keycode::A => {
                        gallery.set_class(None);
                        mode = Mode::Samples;
                        redraw = true;
                        println!("any digit");
                    }
                    key if digit_of(key).is_some() => {
                        let label = digit_of(key).map(|d| d.to_string()).unwrap_or_default();
                        let class = model.prior().and_then(|p| p.class_of(&label));
                        if class.is_none() {
                            println!("the model has no class `{label}` (no class prior)");
                        }
                        gallery.set_class(class);
                        mode = Mode::Samples;
                        redraw = true;
                    }
                    Keycode::S => {
                        seed = seed.wrapping_add(1);
                        let class = gallery.class();
                        gallery = new_gallery(seed)?;
                        gallery.set_class(class);
                        mode = Mode::Samples;
                        redraw = true;
                        println!("seed {seed}");
                    }
                    Keycode::I => {
                        mode = match mode {
                            Mode::Interpolation {
                                a,
                                b,
                                step,
                                animate,
                            } => Mode::Interpolation {
                                a,
                                b,
                                step,
                                animate: !animate,
                            },
                            Mode::Samples => {
                                let (a, b) = (gallery.next_latent(), gallery.next_latent());
                                Mode::Interpolation {
                                    a: Box::new(a),
                                    b: Box::new(b),
                                    step: 0,
                                    animate: true,
                                }
                            }
                        };
                        redraw = true;
                    }
                    Keycode::Left | Keycode::Right => {
                        if let Mode::Interpolation { step, animate, .. } = &mut mode {
                            *animate = false;
                            *step = if keycode == Keycode::Left {
                                step.saturating_sub(1)
                            } else {
                                (*step + 1).min(STEPS)
                            };
                            redraw = true;
                        }
                    }
                    Keycode::P => {
                        let path = PathBuf::from(
                            format!(
                                "screenshot-{kind:?}-seed{seed}-frame{}.png",
                                gallery.frames_drawn()
                            )
                            .to_lowercase(),
                        );
                        write_atomic(&path, &frame.png_bytes(kind.window_scale())?)?;
                        println!("saved {}", path.display());
                    }
                    _ => {}
                },
                _ => {}
            }
        }
        if let Mode::Interpolation {
            step,
            animate: true,
            ..
        } = &mut mode
        {
            if last_step.elapsed() > Duration::from_millis(120) {
                *step = (*step + 1) % (STEPS + 1);
                last_step = Instant::now();
                redraw = true;
            }
        }
        if redraw {
            match &mode {
                Mode::Samples => frame.draw_with(&mut |d| d.gallery_frame(&mut gallery)),
                Mode::Interpolation { a, b, step, .. } => {
                    frame.draw_with(&mut |d| d.interpolation(&mut gallery, a, b, *step, STEPS))
                }
            }
        }
    }
}
