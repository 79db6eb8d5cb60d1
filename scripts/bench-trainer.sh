#!/usr/bin/env bash
# Times training epochs of the trainer (dfdx) and, when python3 can import
# torch, of PyTorch on the same recipe, in the same run, one after the other
# per architecture: classic 784-400-20 and mcu (24-128-64 decoder), batch 128,
# Adam lr 1e-3 constant, seed 1, 2 threads each. Prints s/epoch (median of
# the epochs), peak RSS, and the ratio trainer / PyTorch.
#
#   scripts/bench-trainer.sh            # 3 epochs per side and architecture
#   EPOCHS=10 scripts/bench-trainer.sh  # the issue's 10-epoch recipe
#   ARCHS=classic scripts/bench-trainer.sh
#
# PyTorch is optional (`pip install torch numpy`, about 5 GB; never in CI).
# The machine is shared: compare the ratio of one run, not absolute times
# from different runs.
set -euo pipefail
cd "$(dirname "$0")/.."

EPOCHS=${EPOCHS:-3}
ARCHS=${ARCHS:-"classic mcu"}
THREADS=2
cargo build --release -q -p trainer
trainer=target/release/trainer
[ -f data/mnist/train-images-idx3-ubyte ] || "$trainer" fetch-data

have_torch=0
if python3 -c 'import torch' 2>/dev/null; then
    have_torch=1
else
    echo "PyTorch: python3 cannot import torch; timing the trainer only (pip install torch numpy)"
fi

median() { sort -g | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }
peak_mb() { awk -F: '/Maximum resident set size/ {printf "%.0f", $2/1024}' "$1"; }

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
printf '\n%-8s %-8s %10s %12s\n' arch side "s/epoch" "peak RSS MB"
for arch in $ARCHS; do
    RAYON_NUM_THREADS=$THREADS /usr/bin/time -v -o "$work/time-$arch" \
        "$trainer" train --arch "$arch" --epochs "$EPOCHS" --batch 128 --lr 1e-3 \
        --lr-schedule constant --qat-from "$EPOCHS" --seed 1 --run-dir "$work/run-$arch" \
        >"$work/log-$arch" 2>&1
    ours=$(python3 -c 'import json,sys; [print(m["seconds"]) for m in json.load(open(sys.argv[1]))]' \
        "$work/run-$arch/metrics.json" | median)
    printf '%-8s %-8s %10.3f %12s\n' "$arch" trainer "$ours" "$(peak_mb "$work/time-$arch")"
    if ((have_torch)); then
        /usr/bin/time -v -o "$work/ttime-$arch" python3 scripts/bench_trainer_torch.py \
            --arch "$arch" --epochs "$EPOCHS" --threads $THREADS >"$work/tlog-$arch" 2>&1
        theirs=$(awk '/^torch s\/epoch/ {print $3}' "$work/tlog-$arch")
        printf '%-8s %-8s %10.3f %12s\n' "$arch" pytorch "$theirs" "$(peak_mb "$work/ttime-$arch")"
        printf '%-8s %-8s %10.2f  (trainer s/epoch / PyTorch s/epoch; below 1: trainer faster)\n' \
            "$arch" ratio "$(python3 -c "print($ours / $theirs)")"
    fi
done
