#!/usr/bin/env bash
# Installs what the tests need and runs every test and check of the workspace.
# Used by developers and by CI (.ci/run). Safe to re-run: installs are skipped
# when already present.
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n==> %s\n' "$*"; }

# --- set-up -------------------------------------------------------------
step "rust targets and components"
rustup target add thumbv6m-none-eabi thumbv7m-none-eabi thumbv7em-none-eabihf
rustup component add clippy rustfmt llvm-tools

apt_install() {
    local missing=()
    for pkg in "$@"; do
        dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg")
    done
    if ((${#missing[@]})); then
        step "apt packages: ${missing[*]}"
        local sudo=""
        [ "$(id -u)" -ne 0 ] && sudo="sudo"
        $sudo apt-get update -q
        DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q "${missing[@]}"
    fi
}
# (Packages for the QEMU, simulator and firmware tests are added here as those land.)
apt_install pkg-config

# --- checks and tests ---------------------------------------------------
step "format"
cargo fmt --all --check

step "clippy"
cargo clippy --workspace --all-targets -- -D warnings

step "runtime builds for microcontrollers (no_std, no alloc)"
for target in thumbv6m-none-eabi thumbv7m-none-eabi thumbv7em-none-eabihf; do
    cargo build -p runtime --release --target "$target"
done

step "rustdoc"
RUSTDOCFLAGS="-D warnings" cargo doc --workspace --no-deps

step "tests"
cargo test --workspace
