#!/usr/bin/env bash
# Sets up what is missing, builds Nachweis (release), loads the demo data
# and serves the portal at http://127.0.0.1:3000 (override with NACHWEIS_LISTEN).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$NACHWEIS_ROOT"
export NACHWEIS_DATA_DIR="${NACHWEIS_DATA_DIR:-$PWD/data}"

step "tools"
scripts/setup-tools.sh
scripts/build.sh --release

bin="$CARGO_TARGET_DIR/release/nachweis"
step "demo data in $NACHWEIS_DATA_DIR"
"$bin" demo
step "Nachweis runs at http://${NACHWEIS_LISTEN:-127.0.0.1:3000}/ (Ctrl-C stops it)"
exec "$bin" serve
