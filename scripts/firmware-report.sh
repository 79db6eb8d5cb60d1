#!/usr/bin/env bash
# Prints the firmware figures: flash and RAM of each board's release build
# (llvm-size), and instructions executed per decoded digit on the emulated
# Cortex-M3, counted deterministically under QEMU (-icount), with the digits
# per second that gives at the board's clock.
#
# Method: with `-icount shift=7` every instruction advances QEMU's virtual
# clock by exactly 128 ns; SysTick runs at the LM3S6965's 12.5 MHz, so it
# ticks 1.6 times per instruction. The firmware's `bench=N` mode times a
# calibration loop of exactly 10,000,000 instructions and then N decodes,
# and this script converts ticks to instructions with the measured ratio.
set -euo pipefail
cd "$(dirname "$0")/.."
DIGITS="${DIGITS:-20}"
SYSROOT="$(rustc --print sysroot)"
LLVM_SIZE="$(find "$SYSROOT/lib/rustlib" -name llvm-size -type f | head -n1)"
[ -x "$LLVM_SIZE" ] || { echo "llvm-size not found: rustup component add llvm-tools" >&2; exit 1; }

size_of() { # board target bin
    (cd "firmware/boards/$1" && cargo build --release --quiet)
    local elf="firmware/boards/$1/target/$2/release/$3"
    "$LLVM_SIZE" -A "$elf" | awk -v board="$1" '
        $1 == ".vector_table" || $1 == ".text" || $1 == ".rodata" { flash += $2 }
        $1 == ".data" { flash += $2; ram += $2 }
        $1 == ".bss" || $1 == ".uninit" { ram += $2 }
        END { printf "firmware=%s flash_bytes=%d static_ram_bytes=%d\n", board, flash, ram }'
}

size_of lm3s6965evb thumbv7m-none-eabi lm3s6965evb
size_of blackpill-f411 thumbv7em-none-eabihf blackpill-f411
size_of microbit thumbv6m-none-eabi microbit
# The size probe: only what a device needs to load, validate and decode.
(cd firmware/boards/microbit && cargo build --release --quiet --features size-probe --target-dir target-size)
"$LLVM_SIZE" -A firmware/boards/microbit/target-size/thumbv6m-none-eabi/release/microbit | awk '
    $1 == ".text" { printf "runtime size probe (thumbv6m: load, validate, sample, decode; incl. compiler builtins and startup): text_bytes=%d\n", $2 }'
MODEL_BYTES=$(stat -c %s models/mcu.postcard)
echo "model=models/mcu.postcard bytes=$MODEL_BYTES (included in flash above)"

report() { # core machine elf mhz [semihosting args]
    local line
    line=$(timeout 300 qemu-system-arm -machine "$2" -display none -icount shift=7 \
        -semihosting-config "enable=on,target=native,arg=firmware$5" -kernel "$3" 2>/dev/null | grep '^BENCH')
    echo "$line"
    python3 - "$1" "$2" "$4" "$line" <<'PY'
import json, sys
core, board, mhz, line = sys.argv[1], sys.argv[2], float(sys.argv[3]), sys.argv[4]
f = dict(kv.split("=") for kv in line.split()[1:])
ratio = int(f["calibration_ticks"]) / int(f["calibration_instructions"])
per_digit = int(f["decode_ticks"]) / ratio / int(f["digits"])
macs = json.load(open("models/mcu.json"))["decoder_macs"]
print(f"core={core} board={board} digit instructions={per_digit:.0f} per_mac={per_digit / macs:.2f} "
      f"digits_per_s_at_{mhz:g}MHz={mhz * 1e6 / per_digit:.1f} (one instruction per cycle; wait states add cycles)")
if "decode_stack_bytes" in f:
    print(f"core={core} board={board} ram decode_stack_bytes={f['decode_stack_bytes']} (stack painting) "
          f"decoder_scratch_bytes={f['decoder_scratch_bytes']} output_image_bytes=784 "
          f"firmware_stack_peak_bytes={f['stack_peak_bytes']}")
PY
}
report cortex-m3 lm3s6965evb firmware/boards/lm3s6965evb/target/thumbv7m-none-eabi/release/lm3s6965evb 50 ",arg=bench=$DIGITS"
report cortex-m0 microbit firmware/boards/microbit/target/thumbv6m-none-eabi/release/microbit 16 ""
