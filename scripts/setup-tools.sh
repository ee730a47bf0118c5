#!/usr/bin/env bash
# Installs what building (and, with `test`, testing) Nachweis needs and is
# missing on this machine. Idempotent: every step checks first, so a second
# run takes seconds.
#   scripts/setup-tools.sh        build tools only (what run.sh needs)
#   scripts/setup-tools.sh test   and the test tools: Chromium, poppler,
#                                 the SMTP/S3 peers, the browser-test packages
#   scripts/setup-tools.sh bench  and wrk and nginx for the load benchmark
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
here="$NACHWEIS_ROOT"
WASM_BINDGEN_VERSION="0.2.130" # = the wasm-bindgen pinned in Cargo.toml

mode="${1:-build}"
sudo_if_needed() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

apt_packages=()
if [ "$mode" = test ]; then
  apt_packages+=(chromium poppler-utils libnss3-tools qpdf python3-venv)
fi
if [ "$mode" = bench ]; then
  apt_packages+=(wrk nginx-light)
fi
missing=()
for p in "${apt_packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  step "setup: Debian packages ${missing[*]}"
  sudo_if_needed apt-get update -qq
  DEBIAN_FRONTEND=noninteractive sudo_if_needed apt-get install -y -qq "${missing[@]}" >/dev/null
fi

if ! rustup target list --installed | grep -q wasm32-unknown-unknown; then
  step "setup: the wasm32-unknown-unknown target"
  rustup target add wasm32-unknown-unknown
fi

if ! command -v wasm-bindgen >/dev/null || [ "$(wasm-bindgen --version | awk '{print $2}')" != "$WASM_BINDGEN_VERSION" ]; then
  step "setup: wasm-bindgen-cli $WASM_BINDGEN_VERSION (about 3 minutes)"
  # Its own target dir: the build's RUSTFLAGS must not leak into it, and
  # the project's target dir stays the project's. Not --locked: its lock
  # file names a yanked webpki-roots.
  RUSTFLAGS="" CARGO_TARGET_DIR="$HOME/.cache/nachweis/tools-target" \
    cargo install wasm-bindgen-cli --version "$WASM_BINDGEN_VERSION" --force --quiet
fi

# Node packages: wasm-opt (npm's binaryen) for release builds; the browser
# tests and the OpenID Connect provider the tests run.
if [ ! -x "$here/end2end/node_modules/.bin/wasm-opt" ] || [ ! -d "$here/end2end/node_modules/playwright-core" ] \
  || [ ! -d "$here/end2end/node_modules/oidc-provider" ] || [ ! -d "$here/end2end/node_modules/jose" ] \
  || [ ! -d "$here/end2end/node_modules/@axe-core/playwright" ]; then
  step "setup: node packages in end2end/"
  (cd "$here/end2end" && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund --silent)
fi

if [ "$mode" = test ]; then
  # Test peers run as real processes: an SMTP server (aiosmtpd) and an
  # S3-compatible object store (moto's server mode), in a venv of their own.
  pyenv="${NACHWEIS_TEST_VENV:-$HOME/.cache/nachweis/pyenv}"
  if ! "$pyenv/bin/python" -c 'import aiosmtpd, moto.server' >/dev/null 2>&1; then
    step "setup: the test peers aiosmtpd and moto[server] in $pyenv"
    python3 -m venv "$pyenv"
    "$pyenv/bin/pip" install --quiet --disable-pip-version-check \
      "aiosmtpd==1.4.6" "moto[server]==5.1.*"
  fi
fi
step "setup: tools ready"
