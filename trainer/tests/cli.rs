//! The command line: bad flags and paths give clear errors (never a panic),
//! and a whole export runs on a small synthetic dataset.

mod common;

use std::process::Command;

fn trainer() -> Command {
    Command::new(env!("CARGO_BIN_EXE_trainer"))
}

fn fails_with(cmd: &mut Command, needle: &str) {
    let out = cmd.output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "should fail: {stderr}");
    assert!(!stderr.contains("panicked"), "panicked: {stderr}");
    assert!(stderr.contains(needle), "stderr lacks `{needle}`: {stderr}");
}

#[test]
fn bad_flags_and_paths_are_errors() {
    fails_with(trainer().args(["train", "--batch", "0"]), "--batch");
    fails_with(trainer().args(["train", "--epochs", "many"]), "--epochs");
    fails_with(trainer().args(["frobnicate"]), "unrecognized subcommand");
    fails_with(
        trainer().args(["train", "--arch", "huge"]),
        "unknown architecture",
    );
    let empty = tempfile::tempdir().unwrap();
    fails_with(
        trainer().args(["train", "--data-dir"]).arg(empty.path()),
        "train-images-idx3-ubyte",
    );
    fails_with(
        trainer().args(["eval", "--run-dir"]).arg(empty.path()),
        "checkpoint",
    );
    let bogus = empty.path().join("checkpoint.safetensors");
    std::fs::write(&bogus, b"not a checkpoint").unwrap();
    fails_with(
        trainer().args(["sample", "--run-dir"]).arg(empty.path()),
        "not a safetensors file",
    );
    fails_with(
        trainer().args(["sample", "--model", "/no/such/model.postcard"]),
        "reading model file /no/such/model.postcard",
    );
    fails_with(
        trainer().args(["export", "--prior-temperature", "0"]),
        "--prior-temperature",
    );
    fails_with(trainer().args(["judge", "--prior", "wide"]), "--prior");
    fails_with(trainer().args(["judge", "--seeds", "0"]), "--seeds");
    fails_with(
        trainer().args(["export", "--pixel-mask", "0"]),
        "outside (0, 10000]",
    );
    fails_with(
        trainer().args(["export", "--pixel-mask", "edges"]),
        "is not a pixel mask",
    );
    for sub in ["fetch-data", "train", "eval", "sample", "export", "judge"] {
        let out = trainer().args([sub, "--help"]).output().unwrap();
        assert!(
            out.status.success() && !out.stdout.is_empty(),
            "{sub} --help"
        );
    }
}

#[test]
fn export_end_to_end_on_synthetic_data() {
    let root = tempfile::tempdir().unwrap();
    let data = root.path().join("data");
    common::write_idx_dir(&data, &common::synthetic(256, 5), &common::synthetic(40, 6));
    let (run, models) = (root.path().join("run"), root.path().join("models"));
    // `export` into `dir`, with `extra` flags, from the run's checkpoint
    // (trained by the first call).
    let export_to = |dir: &std::path::Path, extra: &[&str]| {
        trainer()
            .arg("--data-dir")
            .arg(&data)
            .args([
                "export",
                "--arch",
                "dec:4-16",
                "--epochs",
                "2",
                "--iw-samples",
                "3",
                "--batch",
                "64",
                "--filter-latents",
                "300",
            ])
            .args(extra)
            .arg("--run-dir")
            .arg(&run)
            .arg("--models-dir")
            .arg(dir)
            .output()
            .unwrap()
    };
    let export = || export_to(&models, &[]);
    let out = export();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(stderr.contains("training `dec4x16` first"), "{stderr}");
    for f in [
        "dec4x16.postcard",
        "dec4x16.json",
        "dec4x16.png",
        "dec4x16-digits.png",
    ] {
        assert!(models.join(f).exists(), "{f} missing");
    }
    // The card carries the judge's figures (a judge trained on the
    // synthetic set, cached beside the run) and the prior.
    let card: serde_json::Value =
        serde_json::from_slice(&std::fs::read(models.join("dec4x16.json")).unwrap()).unwrap();
    assert_eq!(card["prior"]["classes"], 10);
    assert!(card["judge"]["requested"]["requested_drawn"].is_number());
    assert!(
        card["judge"]["test_set"]["inception_score"]
            .as_f64()
            .unwrap()
            >= 1.0
    );
    // Fidelity and variety, drawn beside real, against the test digits.
    let fid = &card["judge"]["fidelity"];
    for side in ["unconditional", "real"] {
        let f = &fid[side];
        assert!(f["frechet"].as_f64().unwrap() >= 0.0, "{f}");
        for share in ["precision", "recall", "coverage", "mid_grey"] {
            let v = f[share].as_f64().unwrap();
            assert!((0.0..=1.0).contains(&v), "{side} {share} {v}");
        }
    }
    assert_eq!(
        fid["requested_frechet_per_class"].as_array().unwrap().len(),
        10
    );
    assert!(root.path().join("judge/judge.bin").exists());
    for f in [
        "checkpoint.safetensors",
        "metrics.csv",
        "metrics.json",
        "loss_curve.png",
        "samples.png",
        "reconstructions.png",
        "interpolation.png",
    ] {
        assert!(run.join(f).exists(), "{f} missing");
    }
    let bytes = std::fs::read(models.join("dec4x16.postcard")).unwrap();
    let model = runtime::Model::from_bytes(&bytes).unwrap();
    // Version 6: the default tied prior, gain and latent filter (labelled
    // by the synthetic judge), described in the card, and a pixel mask that
    // leaves out the border the synthetic strokes never reach.
    assert_eq!(model.format_version(), 6);
    let mask = model.pixel_mask().expect("export writes the pixel mask");
    assert!(!mask.contains(0) && mask.contains(14 * 28 + 14));
    let computed = mask.count();
    assert!((400..784).contains(&computed), "{computed} pixels computed");
    assert_eq!(
        usize::from(model.layers().last().unwrap().output_dim),
        computed
    );
    assert_eq!(card["device_budget_bytes"], bytes.len());
    assert_eq!(
        model.logit_gain(),
        trainer::latent_filter::DrawingSpec::DEFAULT.gain_q8()
    );
    let filter = model.filter().expect("export writes the latent filter");
    assert_eq!((filter.margin, filter.max_draws), (768, 16));
    assert_eq!(card["drawing"]["filter"]["max_draws"], 16);
    let mean = card["drawing"]["filter"]["draws_per_digit"]
        .as_f64()
        .unwrap();
    assert!((1.0..=16.0).contains(&mean), "{mean}");
    // Digits drawn from the exported file alone, as a device draws them,
    // written as an IDX file any MNIST tool reads.
    let idx = root.path().join("sevens.idx");
    let png = root.path().join("sevens.png");
    let out = trainer()
        .args([
            "sample", "--digit", "7", "--count", "12", "--seed", "3", "--model",
        ])
        .arg(models.join("dec4x16.postcard"))
        .arg("--idx")
        .arg(&idx)
        .arg("--out")
        .arg(&png)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let images = trainer::data::idx::read_images(&idx, 28, 28).unwrap();
    assert_eq!(images.count, 12);
    let class = model.prior().unwrap().class_of("7").unwrap();
    let mut sampler = runtime::LatentSampler::new(3);
    let mut decoder = runtime::Decoder::<64>::new(&model).unwrap();
    let mut digit = runtime::Digit::new();
    decoder
        .decode(&sampler.draw(&model, Some(class)), &mut digit)
        .unwrap();
    assert_eq!(
        &images.pixels[..784],
        digit.pixels(),
        "first image is the device's first draw"
    );
    assert!(png.exists());
    // Only the IDX file asked for: nothing is written beside the model
    // (models/ is tracked), and --model without --out writes to the
    // current folder.
    let listing = || -> Vec<_> {
        let entries = std::fs::read_dir(&models).unwrap();
        entries.map(|e| e.unwrap().file_name()).collect()
    };
    let sample_here = |extra: &[&std::ffi::OsStr]| {
        let out = trainer()
            .args(["sample", "--count", "4", "--model"])
            .arg(models.join("dec4x16.postcard"))
            .args(extra)
            .current_dir(root.path())
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "{stderr}");
    };
    let before = listing();
    let only_idx = root.path().join("only.idx");
    sample_here(&["--idx".as_ref(), only_idx.as_os_str()]);
    assert!(only_idx.exists());
    assert_eq!(listing(), before, "sample wrote into the model's folder");
    let default_png = root.path().join("dec4x16.samples-1.png");
    assert!(!default_png.exists(), "a PNG nobody asked for");
    sample_here(&[]);
    assert!(default_png.exists());
    assert_eq!(listing(), before);
    fails_with(
        trainer()
            .args(["sample", "--digit", "x", "--model"])
            .arg(models.join("dec4x16.postcard")),
        "the model's classes are 0, 1",
    );
    // A second export from the finished checkpoint writes the same model.
    let again = export();
    assert!(again.status.success());
    assert_eq!(
        std::fs::read(models.join("dec4x16.postcard")).unwrap(),
        bytes
    );
    // A tied prior from the same checkpoint without a pixel mask:
    // components sharing their class's factor, stored once (format version 5).
    let tied_dir = root.path().join("tied");
    let out = export_to(
        &tied_dir,
        &["--prior-components", "2", "--pixel-mask", "none"],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let tied = std::fs::read(tied_dir.join("dec4x16.postcard")).unwrap();
    let tied = runtime::Model::from_bytes(&tied).unwrap();
    assert_eq!(tied.format_version(), 5);
    let prior = tied.prior().unwrap();
    assert!(prior
        .iter()
        .any(|c| c.components() == 2 && c.shares_factor()));
}
