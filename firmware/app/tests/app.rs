//! Host tests of the board-independent firmware logic.

use std::convert::Infallible;

use embedded_graphics::mock_display::MockDisplay;
use embedded_graphics::pixelcolor::{BinaryColor, Gray4, Gray8};
use embedded_graphics::prelude::*;
use firmware_app::ssd0323::{self, Ssd0323};
use firmware_app::{draw_error, Gallery, Layout};
use runtime::{Decoder, Digit, LatentSampler, Model, ModelError};

#[test]
fn layouts_fit_and_centre() {
    for (w, h) in [
        (128u32, 64u32),
        (320, 240),
        (240, 320),
        (96, 96),
        (56, 28),
        (20, 20),
        (800, 480),
    ] {
        let l = Layout::auto(Size::new(w, h));
        let side = 28 * l.scale;
        assert!(l.cols * side <= w && l.rows * side <= h, "{w}x{h}: {l:?}");
        if l.cells() > 0 {
            let last = l.cell(l.cells() - 1);
            assert!(last.x as u32 + side <= w && last.y as u32 + side <= h);
            // Centred: equal margins (up to one pixel).
            let (mx, my) = (w - l.cols * side, h - l.rows * side);
            assert_eq!(l.origin, Point::new((mx / 2) as i32, (my / 2) as i32));
        }
    }
    assert_eq!(Layout::auto(Size::new(20, 20)).cells(), 0);
    assert_eq!(Layout::with_scale(Size::new(128, 64), 1).cells(), 8);
}

#[test]
fn gallery_frames_are_the_runtime_digits_in_cell_order() {
    let bytes = runtime::testing::tiny_model_bytes();
    let model = Model::from_bytes(&bytes).unwrap();
    let mut display = MockDisplay::<Gray8>::new();
    display.set_allow_overdraw(true);
    let mut gallery =
        Gallery::<8>::with_layout(&model, 9, Layout::with_scale(Size::new(64, 64), 1)).unwrap();
    assert_eq!(gallery.layout().cells(), 4);
    gallery.draw_frame(&mut display).unwrap();
    // The same digits straight from the runtime.
    let mut decoder = Decoder::<8>::new(&model).unwrap();
    let mut sampler = LatentSampler::new(9);
    for cell in 0..4 {
        let mut digit = Digit::new();
        decoder.decode(&sampler.sample(2), &mut digit).unwrap();
        let origin = gallery.layout().cell(cell);
        for y in 0..28 {
            for x in 0..28 {
                let p = origin + Point::new(x, y);
                let g = digit.get(x as usize, y as usize).unwrap();
                assert_eq!(
                    display.get_pixel(p),
                    Some(Gray8::new(g)),
                    "cell {cell} {p:?}"
                );
            }
        }
    }
    assert_eq!(gallery.frames_drawn(), 1);
}

#[test]
fn skipping_frames_then_drawing_equals_drawing_every_frame() {
    let bytes = runtime::testing::tiny_model_bytes();
    let model = Model::from_bytes(&bytes).unwrap();
    let layout = Layout::with_scale(Size::new(64, 64), 1);
    for class in [None, Some(1)] {
        let frame = |skip: bool| {
            let mut display = MockDisplay::<Gray8>::new();
            display.set_allow_overdraw(true);
            let mut gallery = Gallery::<8>::with_layout(&model, 5, layout).unwrap();
            gallery.set_class(class);
            if skip {
                gallery.skip_frames(3);
            } else {
                for _ in 0..3 {
                    gallery.draw_frame(&mut display).unwrap();
                }
            }
            gallery.draw_frame(&mut display).unwrap();
            assert_eq!(gallery.frames_drawn(), 4);
            display
        };
        let (drawn, skipped) = (frame(false), frame(true));
        assert_eq!(drawn, skipped, "class {class:?}");
        let first = {
            let mut display = MockDisplay::<Gray8>::new();
            display.set_allow_overdraw(true);
            let mut gallery = Gallery::<8>::with_layout(&model, 5, layout).unwrap();
            gallery.set_class(class);
            gallery.draw_frame(&mut display).unwrap();
            display
        };
        assert_ne!(first, skipped, "frame 3 differs from frame 0");
    }
}

#[test]
fn a_click_steps_the_digit_when_released_and_ends_the_wait() {
    use firmware_app::wait_for_frame_or_click;
    // The committed model: it has a class prior (ten digits).
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../models/mcu.postcard");
    let bytes = std::fs::read(path).unwrap();
    let model = Model::from_bytes(&bytes).unwrap();
    let classes = model.prior().map_or(0, |p| p.classes());
    assert_eq!(classes, 10);
    let mut gallery =
        Gallery::<{ firmware_app::SCRATCH }>::new(&model, 1, Size::new(64, 64)).unwrap();
    // Pressed on the 5th poll, held for 3 more, then released.
    let mut polls = 0;
    let mut slept = 0;
    let pressed = || {
        polls += 1;
        (5..=8).contains(&polls)
    };
    wait_for_frame_or_click(&mut gallery, 3000, pressed, |ms| slept += ms);
    assert_eq!(gallery.class(), Some(0), "any -> first class");
    assert_eq!(slept, 4 * 10 + 3 * 10, "4 idle polls, 3 held");
    // Clicks cycle through every class and back to "any".
    for k in 1..=classes {
        let mut first = true;
        wait_for_frame_or_click(&mut gallery, 100, || std::mem::take(&mut first), |_| {});
        assert_eq!(gallery.class(), (k < classes).then_some(k));
    }
}

#[test]
fn error_screen_wraps_and_never_panics() {
    let errors = [
        ModelError::Empty,
        ModelError::CrcMismatch {
            stored: 1,
            computed: 2,
        },
        ModelError::ExceedsCapacity {
            what: "a very long description of a size",
            value: usize::MAX,
            max: 3,
        },
    ];
    for e in errors {
        let mut display = MockDisplay::<BinaryColor>::new();
        display.set_allow_overdraw(true);
        display.set_allow_out_of_bounds_drawing(true);
        draw_error(&mut display, &e).unwrap();
        assert!(display.affected_area().size.width > 0, "{e}: nothing drawn");
    }
}

/// Records what goes over the bus, with the D/C level of every byte.
#[derive(Default)]
struct Recorder {
    dc_high: bool,
    log: Vec<(bool, u8)>,
}

struct Bus<'a>(&'a std::cell::RefCell<Recorder>);
struct Dc<'a>(&'a std::cell::RefCell<Recorder>);

impl embedded_hal::spi::ErrorType for Bus<'_> {
    type Error = Infallible;
}
impl embedded_hal::spi::SpiBus<u8> for Bus<'_> {
    fn read(&mut self, _: &mut [u8]) -> Result<(), Infallible> {
        Ok(())
    }
    fn write(&mut self, words: &[u8]) -> Result<(), Infallible> {
        let mut r = self.0.borrow_mut();
        let dc = r.dc_high;
        r.log.extend(words.iter().map(|&w| (dc, w)));
        Ok(())
    }
    fn transfer(&mut self, _: &mut [u8], w: &[u8]) -> Result<(), Infallible> {
        self.write(w)
    }
    fn transfer_in_place(&mut self, _: &mut [u8]) -> Result<(), Infallible> {
        Ok(())
    }
    fn flush(&mut self) -> Result<(), Infallible> {
        Ok(())
    }
}
impl embedded_hal::digital::ErrorType for Dc<'_> {
    type Error = Infallible;
}
impl embedded_hal::digital::OutputPin for Dc<'_> {
    fn set_low(&mut self) -> Result<(), Infallible> {
        self.0.borrow_mut().dc_high = false;
        Ok(())
    }
    fn set_high(&mut self) -> Result<(), Infallible> {
        self.0.borrow_mut().dc_high = true;
        Ok(())
    }
}

#[test]
fn ssd0323_packs_pixels_and_sends_commands_then_data() {
    let rec = std::cell::RefCell::new(Recorder::default());
    let mut oled = Ssd0323::new(Bus(&rec), Dc(&rec));
    oled.init().unwrap();
    assert!(
        rec.borrow().log.iter().all(|&(dc, _)| !dc),
        "init is all commands"
    );
    assert_eq!(
        rec.borrow().log.last(),
        Some(&(false, 0xAF)),
        "display on last"
    );
    rec.borrow_mut().log.clear();

    Pixel(Point::new(0, 0), Gray4::new(0xA))
        .draw(&mut oled)
        .unwrap();
    Pixel(Point::new(1, 0), Gray4::new(0x3))
        .draw(&mut oled)
        .unwrap();
    Pixel(Point::new(127, 63), Gray4::WHITE)
        .draw(&mut oled)
        .unwrap();
    Pixel(Point::new(128, 0), Gray4::WHITE)
        .draw(&mut oled)
        .unwrap(); // off screen: ignored
    Pixel(Point::new(-1, 5), Gray4::WHITE)
        .draw(&mut oled)
        .unwrap();
    assert_eq!(oled.buffer()[0], 0xA3, "left pixel in the high nibble");
    assert_eq!(oled.buffer()[ssd0323::BUFFER_LEN - 1], 0x0F);
    assert_eq!(ssd0323::pixel(oled.buffer(), 1, 0), Some(3));
    assert_eq!(oled.buffer().iter().filter(|&&b| b != 0).count(), 2);

    oled.flush().unwrap();
    let log = rec.borrow().log.clone();
    let commands: Vec<u8> = log.iter().filter(|(dc, _)| !dc).map(|&(_, b)| b).collect();
    assert_eq!(commands, [0x15, 0x00, 0x3F, 0x75, 0x00, 0x3F]);
    let data: Vec<u8> = log.iter().filter(|(dc, _)| *dc).map(|&(_, b)| b).collect();
    assert_eq!(data.len(), ssd0323::BUFFER_LEN);
    assert_eq!(&data[..], &oled.buffer()[..]);

    oled.clear(Gray4::new(5)).unwrap();
    assert!(oled.buffer().iter().all(|&b| b == 0x55));
}
