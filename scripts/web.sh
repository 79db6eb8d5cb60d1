#!/usr/bin/env bash
# The web page: the runtime and screen program compiled to WebAssembly.
#
#   scripts/web.sh              build into target/web/site, then serve it on http://127.0.0.1:8000
#   scripts/web.sh build        build only (what the browser test and CI use)
#   scripts/web.sh serve 9000   build, then serve on another port
#   scripts/web.sh tools        install the toolchain pieces only
#
# The site is static (index.html, app.js, style.css, digits_web.js and
# digits_web_bg.wasm): copy target/web/site to any static host to publish it.
set -euo pipefail
cd "$(dirname "$0")/.."

site=target/web/site
# 150 KB: the page's budget for the WebAssembly, default model included.
budget=150000

# The CLI must be exactly the version of the wasm-bindgen crate in
# Cargo.lock: the JS glue it writes talks to that crate's code.
bindgen_version() {
    awk '/^name = "wasm-bindgen"$/ { getline; gsub(/"/, "", $3); print $3 }' Cargo.lock
}

tools() {
    rustup target add wasm32-unknown-unknown
    local version
    version=$(bindgen_version)
    if ! wasm-bindgen --version 2>/dev/null | grep -qx "wasm-bindgen $version"; then
        echo "==> cargo install wasm-bindgen-cli $version (a few minutes, once)"
        # No default features: the CLI's download support (TLS) is not needed.
        cargo install wasm-bindgen-cli --version "$version" --no-default-features --force
    fi
}

build() {
    tools
    cargo build -p web --profile web --target wasm32-unknown-unknown --target-dir target/web
    local tmp="$site.tmp"
    rm -rf "$tmp"
    wasm-bindgen --target web --no-typescript --remove-name-section --remove-producers-section \
        --out-dir "$tmp" target/web/wasm32-unknown-unknown/web/digits_web.wasm
    # No wasm-opt: Debian's binaryen (108) corrupts the reference-types
    # tables that current Rust and wasm-bindgen emit (measured: the page
    # failed to start); the crate's `web` profile and allocator keep the
    # size in budget without it.
    cp web/www/index.html web/www/app.js web/www/style.css "$tmp/"
    # Swap the finished site in whole, so a failed build never leaves half a site.
    rm -rf "$site"
    mv "$tmp" "$site"
    local wasm="$site/digits_web_bg.wasm" bytes gz
    bytes=$(stat -c %s "$wasm")
    gz=$(gzip -9 -c "$wasm" | wc -c)
    echo "web page: $site ($bytes B of WebAssembly with the default model, $gz B gzip'd; page total $(du -sb "$site" | cut -f1) B)"
    if ((bytes > budget)); then
        echo "error: $wasm is $bytes B, over the page's budget of $budget B" >&2
        exit 1
    fi
}

serve() {
    build
    local port="${1:-8000}"
    echo "serving http://127.0.0.1:$port/ (Ctrl-C to stop)"
    python3 -m http.server --bind 127.0.0.1 --directory "$site" "$port"
}

case "${1:-serve}" in
    tools) tools ;;
    build) build ;;
    serve) shift || true; serve "${1:-8000}" ;;
    *) echo "usage: scripts/web.sh [build | serve [PORT] | tools]" >&2; exit 2 ;;
esac
