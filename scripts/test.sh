#!/usr/bin/env bash
# Installs what the tests need and runs every test and check of the workspace.
# Used by developers and by CI (.ci/run). Safe to re-run: installs are skipped
# when already present.
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n==> %s\n' "$*"; }

# --- set-up -------------------------------------------------------------
step "rust targets and components"
rustup target add thumbv6m-none-eabi thumbv7m-none-eabi thumbv7em-none-eabihf riscv32imc-unknown-none-elf wasm32-unknown-unknown
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
        # Some machines come with a newer qemu-utils (a backport) that
        # breaks the release's qemu-system packages: take the release's
        # qemu-utils with them (the tests do not use qemu-img).
        if [[ " ${missing[*]} " == *" qemu-system-"* ]] && dpkg -s qemu-utils >/dev/null 2>&1; then
            missing+=("qemu-utils/$(. /etc/os-release && echo "$VERSION_CODENAME")")
        fi
        DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q --allow-downgrades "${missing[@]}"
    fi
}
# qemu-system-arm: the firmware runs on the emulated LM3S6965 board.
# libsdl2-dev: the simulator's window; xvfb and x11-apps (xwd): its real-window test.
# qemu-system-misc: qemu-system-riscv32, the RV32IMC benchmark core.
# chromium, chromium-driver: the web page's headless-browser test.
apt_install pkg-config qemu-system-arm qemu-system-misc libsdl2-dev xvfb x11-apps chromium chromium-driver
step "wasm-bindgen CLI (the web page's JS glue; the version of Cargo.lock)"
scripts/web.sh tools

# --- checks and tests ---------------------------------------------------
step "format"
cargo fmt --all --check

step "clippy"
cargo clippy --workspace --all-targets -- -D warnings

step "module floors (no import circles)"
python3 scripts/floors.py trainer/src runtime/src simulator/src firmware/app/src web/src

# Each board is its own workspace (it builds only for its own target).
source scripts/boards.sh
step "board-common: format, clippy"
(cd firmware/boards/common && cargo fmt --check && cargo clippy --features semihosting -- -D warnings)
while read -r board _target; do
    step "board $board: format, clippy, release build"
    (cd "firmware/boards/$board" && cargo fmt --check && cargo clippy --release -- -D warnings && cargo build --release)
done < <(display_boards)
step "benchmark firmware: format, clippy for each core"
(
    cd firmware/boards/bench && cargo fmt --check
    for spec in "microbit thumbv6m-none-eabi" "lm3s6965evb thumbv7m-none-eabi" "mps2-an386 thumbv7em-none-eabihf" \
        "riscv-virt riscv32imc-unknown-none-elf"; do
        set -- $spec
        cargo clippy --release --features "$1" --target "$2" --target-dir "target/$1" -- -D warnings
    done
)

step "runtime builds for microcontrollers (no_std, no alloc)"
for target in thumbv6m-none-eabi thumbv7m-none-eabi thumbv7em-none-eabihf riscv32imc-unknown-none-elf; do
    cargo build -p runtime --release --target "$target"
    cargo build -p runtime --release --target "$target" --no-default-features
done

step "web page: clippy for WebAssembly, build, size budget"
cargo clippy -p web --target wasm32-unknown-unknown -- -D warnings
scripts/web.sh build

step "rustdoc"
RUSTDOCFLAGS="-D warnings" cargo doc --workspace --no-deps

step "firmware figures and benchmark (flash, RAM, exact instruction counts under QEMU)"
scripts/firmware-report.sh

step "tests"
cargo test --workspace
