# Sourced by scripts/test.sh and scripts/firmware-report.sh: the display
# boards are the folders of firmware/boards with a program of their own
# (src/main.rs), except the benchmark firmware (bench; board-common is a
# library). A board's binary is named after its folder, and its target is
# the one in its .cargo/config.toml, so adding a board needs no edit here.

# Prints one line per display board: `name target`.
display_boards() {
    local dir target
    for dir in firmware/boards/*/; do
        dir=${dir%/}
        [ -f "$dir/src/main.rs" ] && [ "${dir##*/}" != bench ] || continue
        target=$(sed -n 's/^target = "\(.*\)"/\1/p' "$dir/.cargo/config.toml")
        echo "${dir##*/} $target"
    done
}
