//! The IDX reader on good and malformed files made here.

mod common;

use std::path::Path;

use trainer::data::{self, idx, idx::IdxError, Split};

fn write(dir: &Path, name: &str, bytes: &[u8]) -> std::path::PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, bytes).unwrap();
    p
}

#[test]
fn reads_raw_and_gzipped_files() {
    let dir = tempfile::tempdir().unwrap();
    let train = common::synthetic(30, 1);
    let test = common::synthetic(10, 2);
    common::write_idx_dir(dir.path(), &train, &test); // gzipped
    let loaded = data::load(dir.path(), Split::Train).unwrap();
    assert_eq!(loaded.pixels, train.pixels);
    assert_eq!(loaded.labels, train.labels);
    // The same as raw files.
    let raw = tempfile::tempdir().unwrap();
    write(
        raw.path(),
        "t10k-images-idx3-ubyte",
        &idx::encode_images(10, 28, 28, &test.pixels),
    );
    write(
        raw.path(),
        "t10k-labels-idx1-ubyte",
        &idx::encode_labels(&test.labels),
    );
    let loaded = data::load(raw.path(), Split::Test).unwrap();
    assert_eq!(loaded.pixels, test.pixels);
    assert_eq!(loaded.image(3), &test.pixels[3 * 784..4 * 784]);
}

#[test]
fn malformed_files_name_the_file_and_problem() {
    let dir = tempfile::tempdir().unwrap();
    let good = idx::encode_images(2, 28, 28, &[7u8; 2 * 784]);

    let mut bad = good.clone();
    bad[3] = 1; // a label magic in an image file
    let p = write(dir.path(), "magic", &bad);
    let e = idx::read_images(&p, 28, 28).unwrap_err();
    assert!(matches!(e, IdxError::BadMagic { found: 0x801, .. }), "{e}");
    assert!(e.to_string().contains("magic") && e.to_string().contains(&p.display().to_string()));

    let p = write(dir.path(), "short", &good[..good.len() - 1]);
    let e = idx::read_images(&p, 28, 28).unwrap_err();
    assert!(
        matches!(
            e,
            IdxError::Truncated {
                expected: 1568,
                found: 1567,
                ..
            }
        ),
        "{e}"
    );

    let p = write(dir.path(), "header-only", &good[..10]);
    assert!(matches!(
        idx::read_images(&p, 28, 28).unwrap_err(),
        IdxError::Truncated { .. }
    ));

    let p = write(dir.path(), "empty", &[]);
    assert!(matches!(
        idx::read_images(&p, 28, 28).unwrap_err(),
        IdxError::BadMagic { .. }
    ));

    let mut long = good.clone();
    long.push(0);
    let p = write(dir.path(), "long", &long);
    assert!(matches!(
        idx::read_images(&p, 28, 28).unwrap_err(),
        IdxError::TrailingData { extra: 1, .. }
    ));

    let p = write(
        dir.path(),
        "size",
        &idx::encode_images(2, 32, 32, &[0u8; 2 * 1024]),
    );
    let e = idx::read_images(&p, 28, 28).unwrap_err();
    assert!(
        matches!(
            e,
            IdxError::WrongImageSize {
                rows: 32,
                cols: 32,
                ..
            }
        ),
        "{e}"
    );

    let p = write(dir.path(), "labels", &idx::encode_labels(&[1, 2, 12]));
    assert!(matches!(
        idx::read_labels(&p).unwrap_err(),
        IdxError::BadLabel {
            index: 2,
            label: 12,
            ..
        }
    ));

    let e = idx::read_images(&dir.path().join("missing"), 28, 28).unwrap_err();
    assert!(matches!(e, IdxError::Io { .. }) && e.to_string().contains("missing"));

    // A corrupt gzip stream is an I/O error naming the file, not a panic.
    let p = write(dir.path(), "bad.gz", &[0x1F, 0x8B, 8, 0, 1, 2, 3]);
    assert!(matches!(
        idx::read_images(&p, 28, 28).unwrap_err(),
        IdxError::Io { .. }
    ));
}

#[test]
fn count_mismatch_and_missing_files() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "train-images-idx3-ubyte",
        &idx::encode_images(3, 28, 28, &[0u8; 3 * 784]),
    );
    write(
        dir.path(),
        "train-labels-idx1-ubyte",
        &idx::encode_labels(&[1, 2]),
    );
    let e = data::load(dir.path(), Split::Train).unwrap_err();
    let text = format!("{e:#}");
    assert!(
        text.contains("3 images") && text.contains("2 labels"),
        "{text}"
    );
    let e = data::load(dir.path(), Split::Test).unwrap_err();
    assert!(format!("{e:#}").contains("t10k-images-idx3-ubyte"), "{e:#}");
    assert!(!data::has_all_files(dir.path()));
}

#[test]
fn fetch_verification_rejects_wrong_bytes() {
    let e = &data::fetch::MNIST_FILES[1];
    let wrong_size = vec![0u8; 10];
    assert!(data::fetch::verify(e, &wrong_size)
        .unwrap_err()
        .to_string()
        .contains("10 bytes"));
    let right_size = vec![0u8; e.size as usize];
    assert!(data::fetch::verify(e, &right_size)
        .unwrap_err()
        .to_string()
        .contains("SHA-256"));
    assert_eq!(
        data::fetch::sha256_hex(b"abc"),
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    );
}
