#!/usr/bin/env bash
# Cargo runner of the Raspberry Pi Pico board (firmware/boards/pico): turns
# the ELF cargo built into a UF2 file beside it, checks it, and copies it
# onto the Pico's USB drive when one is mounted (BOOTSEL mode). Uses the
# workspace's `uf2` tool, built for the host.
set -euo pipefail
elf=$(realpath "$1")
# From the workspace root, so the board's .cargo/config.toml (its target,
# thumbv6m) does not apply to the host tool.
cd "$(dirname "$0")/.."
exec cargo run --quiet --release -p uf2 -- "$elf"
