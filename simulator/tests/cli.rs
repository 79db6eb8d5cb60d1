//! Bad input gives a clear error, never a panic, and never a half-written PNG.

use std::process::Command;

fn simulator() -> Command {
    Command::new(env!("CARGO_BIN_EXE_simulator"))
}

fn fails_with(cmd: &mut Command, needle: &str) {
    let out = cmd.output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "should fail: {stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(stderr.contains(needle), "stderr lacks `{needle}`: {stderr}");
}

#[test]
fn bad_models_and_flags() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out.png");
    fails_with(
        simulator()
            .args(["--png"])
            .arg(&out)
            .args(["--model", "/no/such/model.postcard"]),
        "cannot read model",
    );
    let corrupt = dir.path().join("corrupt.postcard");
    let mut bytes = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../models/mcu.postcard"
    ))
    .unwrap();
    bytes[3000] ^= 1;
    std::fs::write(&corrupt, &bytes).unwrap();
    fails_with(
        simulator()
            .args(["--png"])
            .arg(&out)
            .arg("--model")
            .arg(&corrupt),
        "CRC",
    );
    std::fs::write(&corrupt, &bytes[..100]).unwrap();
    fails_with(
        simulator()
            .args(["--png"])
            .arg(&out)
            .arg("--model")
            .arg(&corrupt),
        "truncated",
    );
    assert!(!out.exists(), "no PNG is written for a bad model");
    fails_with(simulator().args(["--display", "crt"]), "--display");
    fails_with(simulator().args(["--png-scale", "0"]), "--png-scale");
    fails_with(
        simulator().args(["--png", "/no/such/dir/x.png"]),
        "/no/such/dir",
    );
}
