#!/usr/bin/env bash
# Prints the firmware figures: flash and RAM of each display firmware's
# release build (llvm-size), the runtime's code size on thumbv6m (size
# probe), and the benchmark firmware's exact instruction counts, digits per
# second, code size and RAM on each emulated core (scripts/bench.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
SYSROOT="$(rustc --print sysroot)"
LLVM_SIZE="$(find "$SYSROOT/lib/rustlib" -name llvm-size -type f | head -n1)"
[ -x "$LLVM_SIZE" ] || { echo "llvm-size not found: rustup component add llvm-tools" >&2; exit 1; }

size_of() { # name elf
    "$LLVM_SIZE" -A "$2" | awk -v name="$1" '
        # Cortex-M (cortex-m-rt; the Pico adds its boot loader, .boot2) and
        # ESP32-C3 (esp-hal: .flash.appdesc is the app descriptor; .trap and
        # .rwtext are code the start-up copies from flash into RAM).
        $1 == ".boot2" || $1 == ".vector_table" || $1 == ".text" || $1 == ".rodata" || $1 == ".flash.appdesc" { flash += $2 }
        $1 == ".data" || $1 == ".trap" || $1 == ".rwtext" { flash += $2; ram += $2 }
        $1 == ".bss" || $1 == ".uninit" { ram += $2 }
        END { printf "firmware=%s flash_bytes=%d static_ram_bytes=%d\n", name, flash, ram }'
}

source scripts/boards.sh
while read -r board target; do
    (cd "firmware/boards/$board" && cargo build --release --quiet)
    size_of "$board" "firmware/boards/$board/target/$target/release/$board"
done < <(display_boards)
echo "model=models/mcu.postcard bytes=$(stat -c %s models/mcu.postcard) (included in flash above)"

# The size probe: only what a device needs to load, validate, sample and decode.
# Built for int8 models only (`default-features = false`: no int4 kernel);
# the line after it gives the .text with int4 support.
(cd firmware/boards/bench && cargo build --release --quiet --no-default-features --features size-probe,microbit \
    --target thumbv6m-none-eabi --target-dir target/size-probe)
(cd firmware/boards/bench && cargo build --release --quiet --features size-probe,microbit \
    --target thumbv6m-none-eabi --target-dir target/size-probe-int4)
"$LLVM_SIZE" -A firmware/boards/bench/target/size-probe-int4/thumbv6m-none-eabi/release/bench | awk '
    $1 == ".text" { printf "runtime size probe thumbv6m with int4 text_bytes=%d\n", $2 }'
PROBE=firmware/boards/bench/target/size-probe/thumbv6m-none-eabi/release/bench
"$LLVM_SIZE" -A "$PROBE" | awk '
    $1 == ".text" { printf "runtime size probe thumbv6m text_bytes=%d (load, validate, sample, decode; with compiler builtins and startup)\n", $2 }'
# The same .text split by symbol: compiler builtins (memcpy, 64-bit shifts
# and multiply, ...), cortex-m-rt's startup and handlers, and the rest: the
# runtime's code (everything inlined into the probe's 20-line main counts
# as runtime).
"$(dirname "$LLVM_SIZE")/llvm-nm" --print-size --size-sort --demangle "$PROBE" | awk '
    function hex(s,    i, v) { v = 0; for (i = 1; i <= length(s); i++) v = v * 16 + index("0123456789abcdef", tolower(substr(s, i, 1))) - 1; return v }
    $3 ~ /^[tTwW]$/ {
        size = hex($2); name = $4
        if (name ~ /^(__aeabi|__clz|__udiv|__divsi|__mul|__ashl|__lshr|__ashr|mem(cpy|set|cmp|move|clr)|compiler_builtins::)/) builtins += size
        else if (name ~ /^(Reset|DefaultHandler|DefaultHandler_|DefaultPreInit|HardFault_|HardFault|__pre_init|main)$/) startup += size
        else runtime += size
        # Of the runtime: the class prior (parsing, validation, the draw).
        if (name ~ /[Pp]rior|pick/) prior += size
    }
    END { printf "runtime size probe thumbv6m runtime_code_bytes=%d compiler_builtins_bytes=%d startup_bytes=%d (of the runtime: class prior %d, as far as not inlined)\n", runtime, builtins, startup, prior }'

scripts/bench.sh
