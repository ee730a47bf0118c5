#!/usr/bin/env bash
# Runs every check and test of Nachweis: formatting, lints, unit and
# integration tests (SQLite and PostgreSQL), and the browser tests in
# Chromium with JavaScript on and off. Installs missing tools first.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/nachweis/target}"
# cargo-leptos builds debug with this flag; using it everywhere lets every
# step share one build instead of compiling the workspace twice.
export RUSTFLAGS="--cfg erase_components"
# The same LEPTOS_* variables cargo-leptos sets: leptos reads LEPTOS_OUTPUT_NAME
# at compile time (it names the .wasm file the page loads), so a `cargo test`
# without them would rebuild leptos and a server that fetches the wrong file.
export LEPTOS_OUTPUT_NAME=nachweis LEPTOS_SITE_ROOT=target/site LEPTOS_SITE_PKG_DIR=pkg \
  LEPTOS_SITE_ADDR=127.0.0.1:3000 LEPTOS_RELOAD_PORT=3001 LEPTOS_LIB_DIR=app LEPTOS_BIN_DIR=server \
  LEPTOS_JS_MINIFY=false LEPTOS_HASH_FILES=false
export CARGO_TERM_COLOR=never

step() { printf '\n==> %s\n' "$*"; }

step "tools"
scripts/setup-tools.sh

step "cargo fmt --check"
cargo fmt --all --check

step "cargo leptos build (server + WebAssembly)"
cargo leptos build

step "cargo clippy --all-targets -- -D warnings"
cargo clippy --workspace --all-targets -- -D warnings

step "cargo test (unit and integration, SQLite and PostgreSQL)"
pg_url="${NACHWEIS_TEST_PG_URL:-postgres://postgres@127.0.0.1:5432/test}"
pg_hostport="${pg_url#*@}"; pg_hostport="${pg_hostport%%/*}"
if ! (exec 3<>"/dev/tcp/${pg_hostport%:*}/${pg_hostport##*:}") 2>/dev/null; then
  if [ "${CI:-}" = "true" ]; then
    echo "ERROR: no PostgreSQL at $pg_hostport and CI=true: the PostgreSQL runs are required." >&2
    exit 1
  fi
  printf '\n!!!!!!!!\n!!! SKIPPING the PostgreSQL runs: nothing listens at %s (set NACHWEIS_TEST_PG_URL)\n!!!!!!!!\n\n' "$pg_hostport" >&2
fi
cargo test --workspace

step "browser tests (Chromium, with and without JavaScript)"
data="$(mktemp -d)"
port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
bin="$CARGO_TARGET_DIR/debug/nachweis"
"$bin" --data-dir "$data" demo >/dev/null
NACHWEIS_LOG=warn LEPTOS_SITE_ROOT="$PWD/target/site" "$bin" --data-dir "$data" serve --listen "127.0.0.1:$port" &
server=$!
trap 'kill $server 2>/dev/null || true; rm -rf "$data"' EXIT
for _ in $(seq 1 100); do
  curl -fs "http://127.0.0.1:$port/healthz" >/dev/null 2>&1 && break
  sleep 0.1
done
(cd end2end && NACHWEIS_E2E_URL="http://127.0.0.1:$port" npx playwright test)
