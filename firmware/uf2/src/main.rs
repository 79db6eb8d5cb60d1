//! `uf2 FIRMWARE.elf [OUT.uf2]`: writes the UF2 file a Raspberry Pi Pico
//! takes in BOOTSEL mode (default: `FIRMWARE.uf2` beside the ELF), checks
//! it, and copies it onto the Pico's USB drive (`RPI-RP2`) when one is
//! mounted. The Pico board's `cargo run` calls it (`scripts/pico-runner.sh`).
//! `uf2 --check FILE.uf2` checks a file only.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use uf2::{check, elf_segments, write, Summary, PICO_FLASH, RP2040_FAMILY};

fn describe(path: &Path, summary: &Summary) -> String {
    format!(
        "{}: {} blocks, flash {:#010x}..{:#010x} ({} bytes), RP2040 family, boot loader CRC valid",
        path.display(),
        summary.blocks,
        summary.span.start,
        summary.span.end,
        summary.span.end - summary.span.start
    )
}

/// A mounted Pico in BOOTSEL mode: a folder named RPI-RP2 holding INFO_UF2.TXT.
fn pico_drive() -> Option<PathBuf> {
    let user = std::env::var("USER").unwrap_or_default();
    let candidates = [
        format!("/media/{user}/RPI-RP2"),
        format!("/run/media/{user}/RPI-RP2"),
        "/media/RPI-RP2".to_string(),
        "/Volumes/RPI-RP2".to_string(),
    ];
    std::env::var("PICO_DRIVE")
        .ok()
        .into_iter()
        .chain(candidates)
        .map(PathBuf::from)
        .find(|d| d.join("INFO_UF2.TXT").is_file())
}

fn run(args: &[String]) -> Result<(), String> {
    match args {
        [flag, file] if flag == "--check" => {
            let path = Path::new(file);
            let bytes = std::fs::read(path).map_err(|e| format!("cannot read {file}: {e}"))?;
            let summary = check(&bytes, PICO_FLASH).map_err(|e| format!("{file}: {e}"))?;
            println!("{}", describe(path, &summary));
            Ok(())
        }
        [elf] | [elf, _] => {
            let out = args
                .get(1)
                .map_or_else(|| Path::new(elf).with_extension("uf2"), PathBuf::from);
            let bytes = std::fs::read(elf).map_err(|e| format!("cannot read {elf}: {e}"))?;
            let segments = elf_segments(&bytes).map_err(|e| format!("{elf}: {e}"))?;
            let uf2 = write(&segments, RP2040_FAMILY);
            let summary = check(&uf2, PICO_FLASH)
                .map_err(|e| format!("{elf}: the UF2 would not boot: {e}"))?;
            // Atomically: a half-written file must never sit where a user
            // copies it from.
            let tmp = out.with_extension("uf2.tmp");
            std::fs::write(&tmp, &uf2)
                .and_then(|()| std::fs::rename(&tmp, &out))
                .map_err(|e| format!("cannot write {}: {e}", out.display()))?;
            println!("wrote {}", describe(&out, &summary));
            match pico_drive() {
                Some(drive) => {
                    let target = drive.join(out.file_name().unwrap_or_default());
                    std::fs::copy(&out, &target)
                        .map_err(|e| format!("cannot copy onto {}: {e}", drive.display()))?;
                    println!("copied onto the Pico at {}: it reboots and runs", drive.display());
                }
                None => println!(
                    "To flash: hold BOOTSEL while plugging the Pico in, then copy {} onto the RPI-RP2 drive.",
                    out.display()
                ),
            }
            Ok(())
        }
        _ => Err("usage: uf2 FIRMWARE.elf [OUT.uf2] | uf2 --check FILE.uf2".into()),
    }
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match run(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
