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
step "cargo clippy for the browser build (hydrate, wasm32) -- -D warnings"
cargo clippy -p app --lib --target wasm32-unknown-unknown --no-default-features --features hydrate -- -D warnings

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
# One file to deploy: for every spec file (in each project) the fixture
# (end2end/fixtures.ts) links the binary alone into an empty directory, runs
# `nachweis demo` and `nachweis serve` there (no LEPTOS_SITE_ROOT, no
# target/): the site comes from inside the binary, and each spec file starts
# from fresh demo data, independent of the others and of their order.
(cd end2end && NACHWEIS_E2E_BINARY="$CARGO_TARGET_DIR/debug/nachweis" npx playwright test)
step "all checks passed"
