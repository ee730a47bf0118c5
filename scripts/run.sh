#!/usr/bin/env bash
# Sets up what is missing, builds Nachweis (release), loads the demo data
# and serves the portal at http://127.0.0.1:3000 (override with NACHWEIS_LISTEN).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/nachweis/target}"
export NACHWEIS_DATA_DIR="${NACHWEIS_DATA_DIR:-$PWD/data}"

scripts/setup-tools.sh
# Release builds run wasm-opt; Debian's binaryen breaks hydration, npm's works.
PATH="$PWD/end2end/node_modules/.bin:$PATH" cargo leptos build --release

bin="$CARGO_TARGET_DIR/release/nachweis"
"$bin" demo
export LEPTOS_SITE_ROOT="$PWD/target/site"
echo "Nachweis runs at http://${NACHWEIS_LISTEN:-127.0.0.1:3000}/ (Ctrl-C stops it)"
exec "$bin" serve
