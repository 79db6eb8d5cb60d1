//! Model architectures: layer widths of encoder and decoder.

use anyhow::{bail, Result};
use serde::{Deserialize, Serialize};

use crate::data::{CLASSES, PIXELS};

/// Encoder `784 -> enc_hidden... -> (mu, logvar)` of size `latent`, and
/// decoder `latent -> dec_hidden... -> 784` logits; ReLU between layers.
///
/// A conditional model (`classes > 0`, a conditional VAE) also feeds the
/// image's label, one-hot, to the encoder (`784 + classes` inputs) and to
/// the decoder (`latent + classes` inputs). Its exported decoder takes the
/// one-hot code as the last `classes` latent values, which the model's prior
/// supplies (see `prior::condition`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Arch {
    /// Short name (used for file names).
    pub name: String,
    /// Hidden widths of the encoder.
    pub enc_hidden: Vec<usize>,
    /// Latent size.
    pub latent: usize,
    /// Hidden widths of the decoder.
    pub dec_hidden: Vec<usize>,
    /// Label classes fed to encoder and decoder (0: an ordinary VAE).
    #[serde(default)]
    pub classes: usize,
}

impl Arch {
    /// The PyTorch example's model: 784-400-20 encoder, 20-400-784 decoder.
    pub fn classic() -> Self {
        Arch {
            name: "classic".into(),
            enc_hidden: vec![400],
            latent: 20,
            dec_hidden: vec![400],
            classes: 0,
        }
    }

    /// The default model for a Cortex-M3 with 256 KB flash, chosen from the
    /// table in `docs/quality.md`: the same encoder, a 24-128-64-784 decoder
    /// (61,440 int8 weight bytes, 61,440 MACs per digit).
    pub fn mcu() -> Self {
        Arch {
            name: "mcu".into(),
            enc_hidden: vec![400],
            latent: 24,
            dec_hidden: vec![128, 64],
            classes: 0,
        }
    }

    /// Whether these are the classic model's widths (whatever the name, e.g.
    /// `classic-fashion`).
    pub fn is_classic(&self) -> bool {
        let classic = Self::classic();
        (
            &self.enc_hidden,
            self.latent,
            &self.dec_hidden,
            self.classes,
        ) == (&classic.enc_hidden, classic.latent, &classic.dec_hidden, 0)
    }

    /// Resolves a name: `classic`, `mcu`, or a custom spec
    /// `dec:L-H1[-H2...]` such as `dec:16-96` (encoder 784-400-L); a
    /// `+cond` suffix (`mcu+cond`) makes it a conditional VAE on the ten
    /// digit labels, named `<name>-cond`.
    pub fn parse(spec: &str) -> Result<Self> {
        if let Some(base) = spec.strip_suffix("+cond") {
            let mut arch = Self::parse(base)?;
            if arch.classes > 0 {
                bail!("`{spec}`: +cond given twice");
            }
            arch.classes = CLASSES;
            arch.name.push_str("-cond");
            if arch.latent + arch.classes > runtime::format::MAX_LATENT_DIM {
                bail!(
                    "`{spec}`: latent size plus {CLASSES} labels exceeds {}",
                    runtime::format::MAX_LATENT_DIM
                );
            }
            return Ok(arch);
        }
        match spec {
            "classic" => return Ok(Self::classic()),
            "mcu" => return Ok(Self::mcu()),
            _ => {}
        }
        let Some(widths) = spec.strip_prefix("dec:") else {
            bail!("unknown architecture `{spec}`: use classic, mcu, or dec:LATENT-HIDDEN[-HIDDEN...] (e.g. dec:16-96)");
        };
        let nums: Vec<usize> = widths
            .split('-')
            .map(|w| {
                w.parse::<usize>()
                    .map_err(|_| anyhow::anyhow!("`{w}` in `{spec}` is not a width"))
            })
            .collect::<Result<_>>()?;
        let Some((&latent, hidden)) = nums.split_first() else {
            bail!("empty architecture spec")
        };
        if latent == 0 || latent > runtime::format::MAX_LATENT_DIM {
            bail!(
                "latent size {latent} must be 1..={}",
                runtime::format::MAX_LATENT_DIM
            );
        }
        if hidden
            .iter()
            .any(|&h| h == 0 || h > runtime::format::MAX_LAYER_DIM)
            || hidden.len() > 6
        {
            bail!(
                "hidden widths must be 1..={} and at most 6 layers",
                runtime::format::MAX_LAYER_DIM
            );
        }
        let name = format!("dec{}", widths.replace('-', "x"));
        Ok(Arch {
            name,
            enc_hidden: vec![400],
            latent,
            dec_hidden: hidden.to_vec(),
            classes: 0,
        })
    }

    /// Inputs of the decoder: the latent, and the one-hot label of a
    /// conditional model.
    pub fn decoder_inputs(&self) -> usize {
        self.latent + self.classes
    }

    /// Inputs of the encoder: the pixels, and the one-hot label of a
    /// conditional model.
    pub fn encoder_inputs(&self) -> usize {
        PIXELS + self.classes
    }

    /// `(inputs, outputs)` of every decoder layer.
    pub fn decoder_shapes(&self) -> Vec<(usize, usize)> {
        let mut dims = vec![self.decoder_inputs()];
        dims.extend(&self.dec_hidden);
        dims.push(PIXELS);
        dims.windows(2).map(|w| (w[0], w[1])).collect()
    }

    /// `(inputs, outputs)` of every encoder trunk layer (before the two heads).
    pub fn encoder_shapes(&self) -> Vec<(usize, usize)> {
        let mut dims = vec![self.encoder_inputs()];
        dims.extend(&self.enc_hidden);
        dims.windows(2).map(|w| (w[0], w[1])).collect()
    }

    /// Width feeding the mu / logvar heads.
    pub fn head_input(&self) -> usize {
        self.enc_hidden
            .last()
            .copied()
            .unwrap_or(self.encoder_inputs())
    }

    /// The decoder's widths, e.g. `24-128-64-784` (`34-...` for a conditional
    /// model: latent and label inputs).
    pub fn decoder_widths(&self) -> String {
        chain(&self.decoder_shapes())
    }

    /// The encoder's widths up to the latent, e.g. `784-400-24`.
    pub fn encoder_widths(&self) -> String {
        let mut shapes = self.encoder_shapes();
        shapes.push((self.head_input(), self.latent));
        chain(&shapes)
    }

    /// int8 weight bytes of the exported decoder.
    pub fn decoder_weight_bytes(&self) -> usize {
        self.decoder_shapes().iter().map(|(i, o)| i * o).sum()
    }
}

/// `a-b-c` for layers `(a, b)`, `(b, c)`.
fn chain(shapes: &[(usize, usize)]) -> String {
    let first = shapes.first().map(|&(i, _)| i);
    first
        .into_iter()
        .chain(shapes.iter().map(|&(_, o)| o))
        .map(|w| w.to_string())
        .collect::<Vec<_>>()
        .join("-")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn named_and_custom() {
        assert_eq!(
            Arch::parse("classic").unwrap().decoder_weight_bytes(),
            20 * 400 + 400 * 784
        );
        let mcu = Arch::parse("mcu").unwrap();
        assert!(mcu.decoder_weight_bytes() <= 128 * 1024);
        let c = Arch::parse("dec:16-96-128").unwrap();
        assert_eq!(c.decoder_shapes(), vec![(16, 96), (96, 128), (128, 784)]);
        assert_eq!(c.name, "dec16x96x128");
        assert!(Arch::classic().is_classic() && !Arch::mcu().is_classic());
        let mut renamed = Arch::classic();
        renamed.name = "classic-fashion".into();
        assert!(renamed.is_classic());
        assert!(!Arch::parse("classic+cond").unwrap().is_classic());
        let cond = Arch::parse("mcu+cond").unwrap();
        assert_eq!(cond.name, "mcu-cond");
        assert_eq!(cond.encoder_shapes()[0], (PIXELS + 10, 400));
        assert_eq!(cond.decoder_shapes()[0], (24 + 10, 128));
        assert_eq!(Arch::mcu().decoder_widths(), "24-128-64-784");
        assert_eq!(Arch::mcu().encoder_widths(), "784-400-24");
        assert_eq!(cond.decoder_widths(), "34-128-64-784");
        assert_eq!(cond.encoder_widths(), "794-400-24");
        for bad in [
            "",
            "big",
            "dec:",
            "dec:0-10",
            "dec:16-x",
            "dec:100-10",
            "mcu+cond+cond",
            "dec:60-10+cond",
        ] {
            assert!(Arch::parse(bad).is_err(), "{bad}");
        }
    }
}
