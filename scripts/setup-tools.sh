#!/usr/bin/env bash
# Installs what building and testing Nachweis needs and what is missing on this machine.
# Idempotent: every step checks first, so a second run takes seconds.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
WASM_BINDGEN_VERSION="0.2.130"
CARGO_LEPTOS_VERSION="0.3.11"

log() { printf '\033[1m[setup]\033[0m %s\n' "$*" >&2; }

sudo_if_needed() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

apt_packages=(chromium poppler-utils libnss3-tools qpdf python3-venv)
missing=()
for p in "${apt_packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  log "installing Debian packages: ${missing[*]}"
  sudo_if_needed apt-get update -qq
  DEBIAN_FRONTEND=noninteractive sudo_if_needed apt-get install -y -qq "${missing[@]}" >/dev/null
fi

if ! rustup target list --installed | grep -q wasm32-unknown-unknown; then
  log "adding the wasm32-unknown-unknown target"
  rustup target add wasm32-unknown-unknown
fi

if ! command -v wasm-bindgen >/dev/null || [ "$(wasm-bindgen --version | awk '{print $2}')" != "$WASM_BINDGEN_VERSION" ]; then
  log "installing wasm-bindgen-cli $WASM_BINDGEN_VERSION (about 2 minutes)"
  # Not --locked: its lock file names a yanked webpki-roots.
  cargo install wasm-bindgen-cli --version "$WASM_BINDGEN_VERSION" --force
fi

if ! cargo leptos --version >/dev/null 2>&1; then
  log "installing cargo-leptos $CARGO_LEPTOS_VERSION (about 14 minutes on 2 cores)"
  # Its lock file pulls cargo-util-schemas 0.14.2 which needs a newer rustc than 1.95;
  # pin 0.14.1 in a copy of the source and install from there.
  cargo install cargo-leptos --version "$CARGO_LEPTOS_VERSION" --locked >/dev/null 2>&1 || true
  src="$(ls -d "${CARGO_HOME:-$HOME/.cargo}"/registry/src/*/cargo-leptos-"$CARGO_LEPTOS_VERSION" | head -n1)"
  work="$(mktemp -d)"
  cp -r "$src" "$work/cargo-leptos"
  (cd "$work/cargo-leptos" && cargo update -p cargo-util-schemas --precise 0.14.1 \
    && cargo install --path . --locked --features no_downloads)
  rm -rf "$work"
fi

if [ ! -x "$here/end2end/node_modules/.bin/wasm-opt" ] || [ ! -d "$here/end2end/node_modules/playwright-core" ] \
  || [ ! -d "$here/end2end/node_modules/oidc-provider" ] || [ ! -d "$here/end2end/node_modules/jose" ] \
  || [ ! -d "$here/end2end/node_modules/@axe-core/playwright" ]; then
  log "installing node packages in end2end/"
  (cd "$here/end2end" && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund --silent)
fi
# Test peers run as real processes: an SMTP server (aiosmtpd) and an
# S3-compatible object store (moto's server mode), in a venv of their own.
pyenv="${NACHWEIS_TEST_VENV:-$HOME/.cache/nachweis/pyenv}"
if ! "$pyenv/bin/python" -c 'import aiosmtpd, moto.server' >/dev/null 2>&1; then
  log "installing the test peers aiosmtpd and moto[server] in $pyenv"
  python3 -m venv "$pyenv"
  "$pyenv/bin/pip" install --quiet --disable-pip-version-check \
    "aiosmtpd==1.4.6" "moto[server]==5.1.*"
fi
log "tools ready"
