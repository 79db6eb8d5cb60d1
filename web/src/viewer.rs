//! The JavaScript interface: a thin `wasm-bindgen` layer over [`Page`],
//! turning its typed errors into JavaScript `Error`s whose message the page
//! shows.

use wasm_bindgen::prelude::*;

use crate::page::{Page, PageError};
use firmware_app::DisplayKind;

fn js(error: PageError) -> JsError {
    JsError::new(&error.to_string())
}

/// A model the page draws with.
#[wasm_bindgen]
pub struct Viewer {
    page: Page,
}

#[wasm_bindgen]
impl Viewer {
    /// The built-in default model.
    pub fn builtin() -> Result<Viewer, JsError> {
        Ok(Viewer {
            page: Page::builtin().map_err(js)?,
        })
    }

    /// The model in a file the user chose; an `Error` saying why the runtime
    /// refuses it otherwise.
    #[wasm_bindgen(js_name = fromBytes)]
    pub fn from_bytes(bytes: Vec<u8>) -> Result<Viewer, JsError> {
        Ok(Viewer {
            page: Page::load(bytes).map_err(js)?,
        })
    }

    /// The model's name, as stored in the file.
    pub fn name(&self) -> Result<String, JsError> {
        Ok(self.page.model().map_err(js)?.name().into())
    }

    /// One line about the model: name, latent size, weight bytes, file size.
    pub fn describe(&self) -> Result<String, JsError> {
        let model = self.page.model().map_err(js)?;
        Ok(format!(
            "{}: format v{}, latent {}, {} weight bytes, {} classes, file {} B",
            model.name(),
            model.format_version(),
            model.latent_dim(),
            model.weight_bytes(),
            model.prior().map_or(0, |p| p.classes()),
            self.page.file_len()
        ))
    }

    /// The digit labels the model can be asked for, in class order.
    pub fn labels(&self) -> Result<Vec<String>, JsError> {
        self.page.labels().map_err(js)
    }

    /// The RGBA pixels (row by row) of frame `frame` of the gallery seeded
    /// with `seed` (decimal text), asking for `digit` (a label, or
    /// `undefined` for any digit), on display `display` ("oled", "ssd1306",
    /// "color").
    pub fn render(
        &self,
        display: &str,
        seed: &str,
        digit: Option<String>,
        frame: u32,
    ) -> Result<Vec<u8>, JsError> {
        let screen = self
            .page
            .screen(display, seed, digit.as_deref(), frame)
            .map_err(js)?;
        self.page.render(&screen).map_err(js)
    }
}

/// `[width, height]` of display `display` in pixels.
#[wasm_bindgen(js_name = displaySize)]
pub fn display_size(display: &str) -> Result<Vec<u32>, JsError> {
    let kind =
        DisplayKind::from_name(display).ok_or_else(|| js(PageError::Display(display.into())))?;
    Ok(vec![kind.size().width, kind.size().height])
}
