#!/usr/bin/env bash
# Runs every check and test of Nachweis: formatting, lints, unit and
# integration tests (SQLite and PostgreSQL), and the browser tests in
# Chromium with JavaScript on and off. Installs missing tools first.
# Every build here uses the configuration `scripts/run.sh` ships
# (.cargo/config.toml); only the optimisation level differs.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$NACHWEIS_ROOT"

step "tools"
scripts/setup-tools.sh test

step "cargo fmt --check"
cargo fmt --all --check

# The release WebAssembly, as scripts/run.sh ships it (same cfg flags,
# same optimisation, wasm-opt), around a debug server: the browser tests
# run the site users get, and a configuration whose release build fails
# (as the unerased one did without a recursion limit) fails here.
scripts/build.sh --shipped-site

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

step "browser tests (Chromium, with and without JavaScript), against the binary alone"
# One file to deploy: the binary, copied alone into an empty directory,
# serves the site from inside itself (no LEPTOS_SITE_ROOT, no target/).
install="$(mktemp -d)"
port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
cp "$CARGO_TARGET_DIR/debug/nachweis" "$install/"
data="$install/data"
mkdir -p "$data"
# The test OpenID Connect provider listens on loopback: allowed explicitly.
printf '[sso]\nallow_private_addresses = true\n' >"$data/nachweis.toml"
(cd "$install" && env -u LEPTOS_SITE_ROOT ./nachweis demo >/dev/null)
(cd "$install" && exec env -u LEPTOS_SITE_ROOT NACHWEIS_LOG=warn ./nachweis serve --listen "127.0.0.1:$port") &
server=$!
trap 'kill $server 2>/dev/null || true; rm -rf "$install"' EXIT
for _ in $(seq 1 100); do
  curl -fs "http://127.0.0.1:$port/healthz" >/dev/null 2>&1 && break
  sleep 0.1
done
(cd end2end && NACHWEIS_E2E_URL="http://127.0.0.1:$port" npx playwright test)
step "all checks passed"
