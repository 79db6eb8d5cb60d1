//! The device code cannot panic: the Cortex-M0 size probe (benchmark
//! firmware, feature `size-probe`) (load, validate,
//! sample, decode, built with LTO) links no `core::panicking` function at
//! all, so every bounds check and overflow check on the device path was
//! proven unreachable by the compiler.

use std::process::Command;

fn llvm_nm() -> Option<std::path::PathBuf> {
    let sysroot = Command::new("rustc")
        .args(["--print", "sysroot"])
        .output()
        .ok()?;
    let sysroot = String::from_utf8(sysroot.stdout).ok()?;
    let lib = std::path::Path::new(sysroot.trim()).join("lib/rustlib");
    std::fs::read_dir(&lib)
        .ok()?
        .filter_map(|e| e.ok())
        .map(|e| e.path().join("bin/llvm-nm"))
        .find(|p| p.exists())
}

#[test]
fn size_probe_links_no_panic_machinery() {
    let Some(nm) = llvm_nm() else {
        if std::env::var("CI").is_ok_and(|v| v == "true") {
            panic!("llvm-nm is required under CI=true: rustup component add llvm-tools");
        }
        eprintln!("\n*** SKIPPED: llvm-nm not found (rustup component add llvm-tools) ***\n");
        return;
    };
    // The default features (int4 on): the larger of the two size probes.
    let elf = integration_tests::qemu::build_bench(
        "size-probe,microbit",
        "thumbv6m-none-eabi",
        "target/size-probe-int4",
    );
    let out = Command::new(nm).arg("-C").arg(&elf).output().unwrap();
    assert!(out.status.success());
    let symbols = String::from_utf8_lossy(&out.stdout);
    assert!(
        symbols.contains("runtime::"),
        "the probe must contain the runtime's code"
    );
    let panicking: Vec<&str> = symbols.lines().filter(|l| l.contains("panic")).collect();
    assert!(
        panicking.is_empty(),
        "panic paths on the device: {panicking:#?}"
    );
}
