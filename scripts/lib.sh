# Shared by the scripts: the build environment and a step logger that
# prints each step with the time since the script started.
# shellcheck shell=bash

NACHWEIS_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/nachweis/target}"
export CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-never}"

# The cfg flags and compile-time Leptos settings live in .cargo/config.toml,
# so every build (these scripts, plain cargo, cargo leptos) is the same one.
# A RUSTFLAGS from outside would silently make another configuration.
if [ -n "${RUSTFLAGS:-}" ]; then
  echo "RUSTFLAGS is set ($RUSTFLAGS): unset it; the build flags are in .cargo/config.toml" >&2
  exit 1
fi
export LEPTOS_OUTPUT_NAME=nachweis LEPTOS_SITE_PKG_DIR=pkg
# Where build.sh writes the site; the server embeds this directory
# (server/src/site.rs). Not LEPTOS_SITE_ROOT: that, set, makes a running
# server serve from a directory instead of its embedded copy.
NACHWEIS_SITE_DIR="$NACHWEIS_ROOT/target/site"

NACHWEIS_T0="${NACHWEIS_T0:-$(date +%s)}"
export NACHWEIS_T0

# step "what": a visible mark with minutes:seconds since the first script started.
step() {
  local s=$(($(date +%s) - NACHWEIS_T0))
  printf '\n==> [%02d:%02d] %s\n' $((s / 60)) $((s % 60)) "$*" >&2
}
