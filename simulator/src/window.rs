//! The interactive window (SDL2): the same frames as the board, with keys to
//! step through samples and interpolations.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::Result;
use embedded_graphics_simulator::sdl2::Keycode;
use embedded_graphics_simulator::{SimulatorDisplay, SimulatorEvent, Window};
use runtime::host::atomic_file::write_atomic;
use runtime::{Latent, Model};

use crate::screen::{
    gallery, output_settings, run_on, window_scale, DisplayKind, Frame, OnDisplay, SimColor,
};

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
pub fn run(model: &Model<'_>, kind: DisplayKind, seed: u64, digit: Option<usize>) -> Result<()> {
    run_on(kind, Session { model, seed, digit })
}

/// The window's session, on a display of any colour type.
struct Session<'m> {
    model: &'m Model<'m>,
    seed: u64,
    digit: Option<usize>,
}

impl OnDisplay for Session<'_> {
    type Output = Result<()>;

    fn run<C: SimColor>(self, display: SimulatorDisplay<C>, kind: DisplayKind) -> Result<()> {
        session(self.model, display, kind, self.seed, self.digit)
    }
}

fn session<C: SimColor>(
    model: &Model<'_>,
    mut display: SimulatorDisplay<C>,
    kind: DisplayKind,
    mut seed: u64,
    digit: Option<usize>,
) -> Result<()> {
    let settings = output_settings(window_scale(kind));
    let mut window = Window::new(
        &format!(
            "digits: {kind:?} {}x{}",
            kind.size().width,
            kind.size().height
        ),
        &settings,
    );
    let mut gallery = gallery(model, seed, kind.size(), digit)?;
    let mut mode = Mode::Samples;
    // Drawing on a simulator display cannot fail.
    let _ = gallery.draw_frame(&mut display);
    println!("{LEGEND}");
    println!("seed {seed}: frame 0");
    let mut ready_printed = false;
    let mut last_step = Instant::now();
    loop {
        window.update(&display);
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
                        gallery = self::gallery(model, seed, kind.size(), gallery.class())?;
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
                        let png = Frame::of(&display).png_bytes(window_scale(kind))?;
                        write_atomic(&path, &png)?;
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
            let _ = match &mode {
                Mode::Samples => gallery.draw_frame(&mut display),
                Mode::Interpolation { a, b, step, .. } => {
                    gallery.draw_interpolation(&mut display, a, b, *step, STEPS)
                }
            };
        }
    }
}
