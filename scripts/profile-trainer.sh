#!/usr/bin/env bash
# Profiles the trainer's training step with perf (software cpu-clock
# samples, so it works where hardware counters are not exposed) and prints
# where the time goes: gemm's kernels, the trainer's own ops (sparse first
# layer, fused BCE, Adam; the rayon closures they run in), dfdx's ops, the
# Linux kernel (page faults, TLB shootdowns, thread wake-ups), the
# allocator, memory copies, and the rest; then the top symbols. Also prints minor page faults and peak RSS of the same run.
#
#   scripts/profile-trainer.sh                 # classic, 1 epoch
#   ARCH=mcu EPOCHS=2 scripts/profile-trainer.sh
#
# Needs perf (Debian: apt-get install linux-perf) and the MNIST files
# (`cargo run --release -p trainer -- fetch-data`).
set -euo pipefail
cd "$(dirname "$0")/.."

ARCH=${ARCH:-classic}
EPOCHS=${EPOCHS:-1}
command -v perf >/dev/null || { echo "perf is missing: apt-get install linux-perf" >&2; exit 1; }
cargo build --release -q -p trainer
trainer=target/release/trainer
[ -f data/mnist/train-images-idx3-ubyte ] || "$trainer" fetch-data

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
/usr/bin/time -v -o "$work/time" perf record -q -e cpu-clock -F 499 -g -o "$work/perf.data" -- \
    "$trainer" train --arch "$ARCH" --epochs "$EPOCHS" --lr-schedule constant \
    --run-dir "$work/run" >"$work/log" 2>&1
perf report -i "$work/perf.data" --no-children --sort dso,sym --stdio -g none 2>/dev/null |
    grep -E '^ +[0-9.]+%' >"$work/flat"

echo "== where the time goes ($ARCH, $EPOCHS epoch(s), training and per-epoch test evaluation)"
awk '
    { pct = $1; sub(/%/, "", pct); line = $0
      if (line ~ /\[k\]/) cat = "Linux kernel (page faults, TLB, syscalls)"
      else if (line ~ /gemm/) cat = "gemm (matrix multiply)"
      else if (line ~ /malloc|free|_int_|cfree|realloc|mi_|je_/) cat = "allocator"
      else if (line ~ /memcpy|memmove|memset/) cat = "memory copies and fills"
      else if (line ~ /dfdx/) cat = "dfdx element-wise ops, reductions, tape"
      else if (line ~ /trainer::|rayon|call_mut|logf|expf|log1p/) cat = "the trainer'"'"'s own ops (sparse first layer, fused BCE, Adam) on rayon"
      else cat = "other"
      total[cat] += pct }
    END { for (c in total) printf "%6.1f%%  %s\n", total[c], c }' "$work/flat" | sort -rn
echo
echo "== top symbols"
head -15 "$work/flat"
echo
awk -F: '/Minor .*page faults/ {printf "minor page faults: %d\n", $2}
         /Maximum resident set size/ {printf "peak RSS: %.0f MB\n", $2/1024}
         /Elapsed \(wall clock\)/ {print "wall clock:" $2 ":" $3}' "$work/time"
grep -E '^epoch' "$work/log" | tail -n 3
