//! What the page asks for, in plain Rust: which model, and the screen for a
//! display name, a seed and a digit label as the user typed them. Every
//! failure is a [`PageError`] with a message for the page; nothing panics.

use core::fmt;

use firmware_app::DisplayKind;
use runtime::{DecodeError, Model, ModelError};

use crate::canvas::Screen;

/// The model built into the page: the committed default model.
pub static BUILTIN_MODEL: &[u8] = include_bytes!("../../models/mcu.postcard");

/// Why the page cannot show what was asked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PageError {
    /// The model file fails the runtime's validation.
    Model(ModelError),
    /// The model is valid but does not fit the screen program (its hidden
    /// layers are wider than the boards' scratch, or its image is not 28x28).
    Decode(DecodeError),
    /// No display kind has this name.
    Display(String),
    /// The seed is not a whole number from 0 to 2^64 - 1.
    Seed(String),
    /// The model has no class with this label.
    Digit {
        /// The label asked for.
        asked: String,
        /// The labels the model has (empty without a class prior).
        labels: Vec<String>,
    },
}

impl fmt::Display for PageError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PageError::Model(e) => write!(f, "not a valid model: {e}"),
            PageError::Decode(e) => write!(f, "the model does not fit the screen program: {e}"),
            PageError::Display(name) => {
                write!(f, "no display `{name}`: expected one of ")?;
                list(f, DisplayKind::ALL.iter().map(|k| k.name()))
            }
            PageError::Seed(seed) => {
                write!(
                    f,
                    "seed `{seed}` is not a whole number from 0 to 18446744073709551615"
                )
            }
            PageError::Digit { asked, labels } if labels.is_empty() => write!(
                f,
                "cannot draw a {asked}: the model has no class prior, so it draws any digit only"
            ),
            PageError::Digit { asked, labels } => {
                write!(f, "no digit `{asked}` in this model: its classes are ")?;
                list(f, labels.iter().map(String::as_str))
            }
        }
    }
}

impl std::error::Error for PageError {}

/// Writes `items` separated by commas (no `join`: the page's WebAssembly
/// is counted in bytes).
fn list<'a>(f: &mut fmt::Formatter<'_>, items: impl Iterator<Item = &'a str>) -> fmt::Result {
    for (i, item) in items.enumerate() {
        if i > 0 {
            f.write_str(", ")?;
        }
        f.write_str(item)?;
    }
    Ok(())
}

/// A validated model file the page draws with.
#[derive(Debug, Clone)]
pub struct Page {
    bytes: Vec<u8>,
}

impl Page {
    /// The page with its built-in model.
    pub fn builtin() -> Result<Page, PageError> {
        Page::load(BUILTIN_MODEL.to_vec())
    }

    /// The page with the model in `bytes`, if the runtime accepts it and it
    /// fits the screen program.
    pub fn load(bytes: Vec<u8>) -> Result<Page, PageError> {
        let page = Page { bytes };
        // Trying a frame checks what `Gallery::new` checks (scratch width,
        // image size), so a model that loads always renders.
        page.render(&Screen {
            kind: DisplayKind::Oled,
            seed: 0,
            class: None,
            frame: 0,
        })?;
        Ok(page)
    }

    /// The model, read in place from the page's bytes.
    pub fn model(&self) -> Result<Model<'_>, PageError> {
        Model::from_bytes(&self.bytes).map_err(PageError::Model)
    }

    /// Size of the model file in bytes.
    pub fn file_len(&self) -> usize {
        self.bytes.len()
    }

    /// The class labels of the model's prior, in class order (empty without
    /// a prior).
    pub fn labels(&self) -> Result<Vec<String>, PageError> {
        let model = self.model()?;
        Ok(model.prior().map_or_else(Vec::new, |p| {
            (0..p.classes())
                .filter_map(|k| p.label(k))
                .map(String::from)
                .collect()
        }))
    }

    /// The screen for a display name, a seed and a digit label as typed on
    /// the page (`digit`: `None` for any digit).
    pub fn screen(
        &self,
        display: &str,
        seed: &str,
        digit: Option<&str>,
        frame: u32,
    ) -> Result<Screen, PageError> {
        let kind =
            DisplayKind::from_name(display).ok_or_else(|| PageError::Display(display.into()))?;
        let seed = seed
            .trim()
            .parse::<u64>()
            .map_err(|_| PageError::Seed(seed.into()))?;
        let class = match digit {
            None => None,
            Some(label) => {
                let model = self.model()?;
                let class = model.prior().and_then(|p| p.class_of(label));
                Some(class.ok_or_else(|| PageError::Digit {
                    asked: label.into(),
                    labels: self.labels().unwrap_or_default(),
                })?)
            }
        };
        Ok(Screen {
            kind,
            seed,
            class,
            frame,
        })
    }

    /// The RGBA pixels of `screen`.
    pub fn render(&self, screen: &Screen) -> Result<Vec<u8>, PageError> {
        let model = self.model()?;
        screen.render(&model).map_err(PageError::Decode)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_builtin_model_loads_and_has_ten_digits() {
        let page = Page::builtin().unwrap();
        let labels = page.labels().unwrap();
        assert_eq!(labels.len(), 10);
        assert_eq!(labels[7], "7");
    }

    #[test]
    fn what_the_user_typed_becomes_a_screen_or_a_clear_error() {
        let page = Page::builtin().unwrap();
        let screen = page.screen("color", " 42 ", Some("3"), 2).unwrap();
        assert_eq!(
            screen,
            Screen {
                kind: DisplayKind::Color,
                seed: 42,
                class: Some(3),
                frame: 2
            }
        );
        let bad = |d, s, digit| page.screen(d, s, digit, 0).unwrap_err().to_string();
        assert_eq!(
            bad("crt", "1", None),
            "no display `crt`: expected one of oled, ssd1306, color"
        );
        assert!(bad("oled", "-1", None).starts_with("seed `-1` is not a whole number"));
        assert!(bad("oled", "18446744073709551616", None).contains("is not a whole number"));
        assert!(bad("oled", "1", Some("x")).contains("its classes are 0, 1, 2"));
    }

    #[test]
    fn a_corrupt_or_truncated_model_is_refused_with_the_runtimes_reason() {
        let mut bytes = BUILTIN_MODEL.to_vec();
        let mid = bytes.len() / 2;
        bytes[mid] ^= 0x40;
        let err = Page::load(bytes.clone()).unwrap_err();
        let expected = Model::from_bytes(&bytes).unwrap_err();
        assert_eq!(err, PageError::Model(expected));
        assert!(err.to_string().starts_with("not a valid model: "));
        for len in [0, 3, 13, 100, BUILTIN_MODEL.len() - 1] {
            let err = Page::load(BUILTIN_MODEL[..len].to_vec()).unwrap_err();
            assert!(matches!(err, PageError::Model(_)), "{len} bytes: {err}");
        }
    }

    #[test]
    fn no_mutated_model_file_panics_the_page() {
        // Each file is the model, or a prefix of it, with one byte changed:
        // every one must load or be refused, never panic (the runtime's
        // fuzzing covers the loader itself; this covers the page around it).
        let mut rng = runtime::Rng::new(21);
        let mut refused = 0;
        for _ in 0..2_000 {
            let len = match rng.next_u32() % 2 {
                0 => BUILTIN_MODEL.len(),
                _ => 1 + rng.next_u32() as usize % BUILTIN_MODEL.len(),
            };
            let mut bytes = BUILTIN_MODEL[..len].to_vec();
            let at = rng.next_u32() as usize % len;
            bytes[at] = bytes[at].wrapping_add(1 + (rng.next_u32() % 255) as u8);
            match Page::load(bytes) {
                Ok(page) => {
                    page.render(&page.screen("ssd1306", "7", None, 2).unwrap())
                        .unwrap();
                }
                Err(e) => {
                    assert!(!e.to_string().is_empty());
                    refused += 1;
                }
            }
        }
        assert_eq!(
            refused, 2_000,
            "a changed byte always fails the CRC or a check"
        );
    }
}
