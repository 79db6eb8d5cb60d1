//! Drawing decoded images with embedded-graphics: MockDisplay patterns for
//! every supported colour type, scaling, placement and dithering.

use embedded_graphics::mock_display::MockDisplay;
use embedded_graphics::pixelcolor::{BinaryColor, Gray4, Gray8, Rgb565};
use embedded_graphics::prelude::*;
use embedded_graphics::primitives::Rectangle;
use runtime::{Decoder, Digit, FromGrey, GrayImage, LatentSampler, Model};

fn ramp() -> GrayImage<4, 2> {
    let mut image = GrayImage::new();
    image
        .pixels_mut()
        .copy_from_slice(&[0, 85, 170, 255, 255, 170, 85, 0]);
    image
}

#[test]
fn gray4_levels_and_scale() {
    let mut display = MockDisplay::<Gray4>::new();
    ramp().view(Point::new(1, 0), 2).draw(&mut display).unwrap();
    // MockDisplay draws Gray4 levels as hex digits.
    // MockDisplay shows Gray4 levels as hex digits; 85 -> 5, 170 -> A.
    display.assert_pattern(&[" 0055AAFF", " 0055AAFF", " FFAA5500", " FFAA5500"]);
}

#[test]
fn gray8_exact_levels() {
    let mut display = MockDisplay::<Gray8>::new();
    ramp().view(Point::zero(), 1).draw(&mut display).unwrap();
    let expected = [0u8, 85, 170, 255, 255, 170, 85, 0];
    for (i, &g) in expected.iter().enumerate() {
        let p = Point::new(i as i32 % 4, i as i32 / 4);
        assert_eq!(display.get_pixel(p), Some(Gray8::new(g)), "{p:?}");
    }
    assert_eq!(
        display.affected_area(),
        Rectangle::new(Point::zero(), Size::new(4, 2))
    );
}

#[test]
fn binary_dithering_follows_bayer_thresholds() {
    // A flat 50% grey (128) lights exactly half of each 4x4 tile in the
    // Bayer order; 0 is all off and 255 all on.
    let mut flat = GrayImage::<4, 4>::new();
    flat.pixels_mut().fill(128);
    let mut display = MockDisplay::<BinaryColor>::new();
    flat.view(Point::zero(), 1).draw(&mut display).unwrap();
    display.assert_pattern(&["#.#.", ".#.#", "#.#.", ".#.#"]);

    let mut display = MockDisplay::<BinaryColor>::new();
    ramp().view(Point::zero(), 1).draw(&mut display).unwrap();
    // Row 0 thresholds 8,136,40,168: 0 off, 85 off, 170 on, 255 on.
    // Row 1 thresholds 200,72,232,104: 255 on, 170 on, 85 off, 0 off.
    display.assert_pattern(&["..##", "##.."]);
}

#[test]
fn dithering_uses_screen_coordinates() {
    // The same image drawn at an odd offset picks other Bayer cells.
    let mut flat = GrayImage::<2, 1>::new();
    flat.pixels_mut().fill(100);
    let mut display = MockDisplay::<BinaryColor>::new();
    flat.view(Point::new(1, 0), 1).draw(&mut display).unwrap();
    // Thresholds at x = 1, 2 of row 0: 136, 40 -> off, on.
    display.assert_pattern(&[" .#"]);
}

#[test]
fn colour_screens_get_grey() {
    assert_eq!(Rgb565::from_grey(255, Point::zero()), Rgb565::WHITE);
    assert_eq!(Rgb565::from_grey(0, Point::zero()), Rgb565::BLACK);
    assert_eq!(Gray4::from_grey(128, Point::zero()), Gray4::new(8));
}

#[test]
fn bounding_box_and_zero_scale() {
    let image = ramp();
    let view = image.view::<Gray8>(Point::new(3, 4), 3);
    assert_eq!(
        view.bounding_box(),
        Rectangle::new(Point::new(3, 4), Size::new(12, 6))
    );
    let mut display = MockDisplay::<Gray8>::new();
    image.view(Point::zero(), 0).draw(&mut display).unwrap();
    assert_eq!(display.affected_area().size, Size::zero());
}

#[test]
fn decoded_digit_draws_its_own_pixels() {
    let bytes = runtime::testing::tiny_model_bytes();
    let model = Model::from_bytes(&bytes).unwrap();
    let mut decoder = Decoder::<8>::new(&model).unwrap();
    let mut digit = Digit::new();
    decoder
        .decode(&LatentSampler::new(3).sample(2), &mut digit)
        .unwrap();
    let mut display = MockDisplay::<Gray8>::new();
    display.set_allow_out_of_bounds_drawing(false);
    digit.view(Point::new(2, 1), 2).draw(&mut display).unwrap();
    for y in 0..56 {
        for x in 0..56 {
            let g = digit.get(x / 2, y / 2).unwrap();
            assert_eq!(
                display.get_pixel(Point::new(x as i32 + 2, y as i32 + 1)),
                Some(Gray8::new(g))
            );
        }
    }
}

/// A small model (latent 3) with a prior of ten classes.
fn model_with_prior() -> Vec<u8> {
    let d = 3;
    let dec = integration_tests::random_float_decoder(21, d, &[8], 28, 28);
    let mut q = runtime::host::quantize::quantize(
        &dec,
        &integration_tests::normal_latents(22, 64, d),
        runtime::host::quantize::Calibration::Max,
        "prior",
    )
    .unwrap();
    let classes = (0..10)
        .map(|k| runtime::host::quantize_prior::FloatClass {
            label: k.to_string(),
            weight: 1.0,
            components: vec![runtime::host::quantize_prior::FloatComponent {
                weight: 1.0,
                mean: vec![0.3 * k as f64 - 1.5, 0.5, -0.25],
                scale: vec![0.5, 0.1, 0.4, -0.2, 0.05, 0.3],
            }],
        })
        .collect();
    q.prior = runtime::host::quantize_prior::FloatPrior { classes }.quantize(d);
    q.to_bytes().unwrap()
}

#[test]
fn gallery_draws_the_requested_digit_and_labels_it() {
    let bytes = model_with_prior();
    let model = Model::from_bytes(&bytes).unwrap();
    let size = Size::new(64, 64);
    let mut gallery = firmware_app::Gallery::<16>::new(&model, 4, size).unwrap();
    assert_eq!(gallery.classes(), 10);
    gallery.set_class(Some(10)); // no such class: any digit
    assert_eq!(gallery.class(), None);
    gallery.set_class(Some(3));
    assert_eq!(gallery.class(), Some(3));
    let mut display = MockDisplay::<Gray8>::new();
    display.set_allow_overdraw(true);
    gallery.draw_frame(&mut display).unwrap();
    // The cells hold the class-3 draws of LatentSampler::new(4), in order.
    let layout = gallery.layout();
    let mut sampler = LatentSampler::new(4);
    let mut decoder = Decoder::<16>::new(&model).unwrap();
    let mut digit = Digit::new();
    for cell in 0..layout.cells() {
        decoder
            .decode(&sampler.draw(&model, Some(3)), &mut digit)
            .unwrap();
        let at = layout.cell(cell);
        for (i, &g) in digit.pixels().iter().enumerate() {
            let p = at + Point::new(i as i32 % 28, i as i32 / 28);
            assert_eq!(
                display.get_pixel(p),
                Some(Gray8::new(g)),
                "cell {cell} {p:?}"
            );
        }
    }
    // The label "3" is white text left of the grid.
    let lit = |d: &MockDisplay<Gray8>| {
        (0..layout.origin.x)
            .flat_map(|x| (0..64).map(move |y| Point::new(x, y)))
            .filter(|&p| d.get_pixel(p) == Some(Gray8::new(255)))
            .count()
    };
    assert!(lit(&display) > 3, "label drawn");
    // Any digit: no label.
    gallery.set_class(None);
    let mut plain = MockDisplay::<Gray8>::new();
    plain.set_allow_overdraw(true);
    gallery.draw_frame(&mut plain).unwrap();
    assert_eq!(lit(&plain), 0);
}
