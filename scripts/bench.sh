#!/usr/bin/env bash
# The benchmark: builds the benchmark firmware for each emulated core
# (Cortex-M0, M3, M4 and RV32IMC), runs
# it under QEMU with exact instruction counting, and prints one line per core
# and layer (the committed model's layers, prefixed with the model name, and
# the reference 128x784 layer with pseudo-random weights), a line per whole
# digit, and flash and RAM figures. See docs/benchmarks.md for the method.
#
#   scripts/bench.sh            # all cores
#   CORES=cortex-m4 scripts/bench.sh
set -euo pipefail
cd "$(dirname "$0")/.."
CORES="${CORES:-cortex-m0 cortex-m3 cortex-m4 rv32imc}"

board_of() {
    case "$1" in
        cortex-m0) echo "microbit thumbv6m-none-eabi microbit" ;;
        cortex-m3) echo "lm3s6965evb thumbv7m-none-eabi lm3s6965evb" ;;
        cortex-m4) echo "mps2-an386 thumbv7em-none-eabihf mps2-an386" ;;
        rv32imc) echo "riscv-virt riscv32imc-unknown-none-elf virt" ;;
        *) echo "unknown core $1" >&2; exit 2 ;;
    esac
}

for core in $CORES; do
    read -r feature target machine <<<"$(board_of "$core")"
    (cd firmware/boards/bench && cargo build --release --quiet --features "$feature" --target "$target" --target-dir "target/$feature")
    elf="firmware/boards/bench/target/$feature/$target/release/bench"
    # -icount shift=7: every instruction advances the virtual clock by 128 ns,
    # so SysTick counts (and RISC-V's minstret, which QEMU derives from the
    # same clock) are an exact function of the instructions executed.
    if [ "$machine" = virt ]; then
        timeout 600 qemu-system-riscv32 -machine virt -cpu rv32 -bios none -display none \
            -serial stdio -monitor none -icount shift=7 -kernel "$elf" 2>/dev/null | grep -v '^HASH'
    else
        timeout 600 qemu-system-arm -machine "$machine" -display none -icount shift=7 \
            -semihosting-config enable=on,target=native -kernel "$elf" 2>/dev/null | grep -v '^HASH'
    fi
done
