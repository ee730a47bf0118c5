#!/usr/bin/env bash
# Builds the server binary and the site (WebAssembly, JS, CSS, assets)
# with plain cargo and wasm-bindgen, no cargo-leptos needed:
#   scripts/build.sh                debug server and site
#   scripts/build.sh --release      optimised, wasm-opt'ed (what run.sh serves)
#   scripts/build.sh --shipped-site a debug server around the release site
#                                   (what the tests run: the WebAssembly users get)
# The site lands in target/site/ and is embedded in the server binary.
# `cargo leptos build` still works from the [workspace.metadata.leptos]
# section.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$NACHWEIS_ROOT"

case "${1:-}" in
  --release) server_profile=release wasm_profile=wasm-release ;;
  --shipped-site) server_profile=dev wasm_profile=wasm-release ;;
  "") server_profile=dev wasm_profile=dev ;;
  *) echo "usage: scripts/build.sh [--release | --shipped-site]" >&2; exit 2 ;;
esac
profile_dir() { case "$1" in dev) echo debug ;; *) echo "$1" ;; esac; }

build_server() {
  cargo build -p server --bin nachweis --profile "$server_profile"
}

# The WebAssembly, then the site around it in $site (target/site): what the
# server embeds, so it is built before the server's last compile.
build_site() {
  cargo build -p app --lib --target wasm32-unknown-unknown --no-default-features --features hydrate \
    --profile "$wasm_profile"
  local pkg="$site/$LEPTOS_SITE_PKG_DIR"
  # Assembled outside the site directory, whose times the server watches.
  local new="$CARGO_TARGET_DIR/site-pkg.new"
  step "site: wasm-bindgen into $pkg"
  rm -rf "$new"
  mkdir -p "$new"
  wasm-bindgen --target web --no-typescript --out-dir "$new" --out-name "$LEPTOS_OUTPUT_NAME" \
    "$CARGO_TARGET_DIR/wasm32-unknown-unknown/$(profile_dir "$wasm_profile")/app.wasm"
  # The page loads <name>.wasm (leptos' HydrationScripts), not wasm-bindgen's <name>_bg.wasm.
  mv "$new/${LEPTOS_OUTPUT_NAME}_bg.wasm" "$new/$LEPTOS_OUTPUT_NAME.wasm"
  sed -i "s/${LEPTOS_OUTPUT_NAME}_bg\.wasm/${LEPTOS_OUTPUT_NAME}.wasm/g" "$new/$LEPTOS_OUTPUT_NAME.js"
  if [ "$wasm_profile" = wasm-release ]; then
    step "site: wasm-opt -Oz"
    # Debian's binaryen breaks hydration; npm's (end2end/package.json) works.
    "$NACHWEIS_ROOT/end2end/node_modules/.bin/wasm-opt" -Oz --enable-bulk-memory --enable-nontrapping-float-to-int \
      --enable-sign-ext --enable-mutable-globals --enable-reference-types --enable-multivalue \
      -o "$new/$LEPTOS_OUTPUT_NAME.wasm" "$new/$LEPTOS_OUTPUT_NAME.wasm"
  fi
  cp style/main.css "$new/$LEPTOS_OUTPUT_NAME.css"
  if [ "$wasm_profile" = wasm-release ]; then
    # Brotli and gzip copies, made once here, served as they are.
    step "site: precompressing (brotli, gzip)"
    node "$NACHWEIS_ROOT/scripts/precompress.mjs" "$new"
  fi
  # An unchanged site keeps its files (and times): the server, which
  # embeds it, then does not compile again.
  if diff -rq "$new" "$pkg" >/dev/null 2>&1; then
    rm -rf "$new"
  else
    rm -rf "$pkg"
    mv "$new" "$pkg"
  fi
  local a
  for a in assets/*; do
    cmp -s "$a" "$site/$(basename "$a")" || cp -r "$a" "$site/"
  done
}

site="$NACHWEIS_SITE_DIR"
mkdir -p "$site"
if [ "$wasm_profile" != "$server_profile" ]; then
  # The two builds keep their artifacts in different profile directories,
  # so they run side by side: the WebAssembly build's long single-threaded
  # LTO overlaps the server's compile instead of following it. The server
  # then compiles once more, only its own crate, to embed the finished
  # site (its build script watches target/site).
  site_log="$CARGO_TARGET_DIR/site-build.log"
  mkdir -p "$CARGO_TARGET_DIR"
  step "WebAssembly and site ($wasm_profile), in the background, log: $site_log"
  # Each build in a process group of its own (job control), so that
  # stopping one stops its cargo and rustc processes too.
  set -m
  build_site >"$site_log" 2>&1 &
  site_pid=$!
  step "server: cargo build -p server ($server_profile)"
  build_server &
  server_pid=$!
  trap 'kill -- -"$site_pid" -"$server_pid" 2>/dev/null || true' EXIT
  # Whichever ends first is reported; a failure stops the other at once,
  # so a broken WebAssembly build is not noticed only after the server.
  pending=("$site_pid" "$server_pid")
  while [ "${#pending[@]}" -gt 0 ]; do
    finished=""
    if wait -n -p finished "${pending[@]}"; then
      # Only the one still running is waited for next time (waiting
      # for a finished one again makes bash complain "no such job").
      left=()
      for pid in "${pending[@]}"; do
        [ "$pid" = "$finished" ] || left+=("$pid")
      done
      pending=("${left[@]}")
      if [ "$finished" = "$site_pid" ]; then
        step "WebAssembly and site built"
      else
        step "server compiled"
      fi
    else
      if [ "$finished" = "$site_pid" ]; then
        tail -n 60 "$site_log" >&2
        echo "the WebAssembly or site build failed (whole log: $site_log)" >&2
      else
        echo "the server build failed" >&2
      fi
      exit 1
    fi
  done
  trap - EXIT
  set +m
  step "site built; server: embedding it"
  build_server
else
  # Debug builds share target/debug for build scripts and proc macros, so
  # cargo would serialise them anyway: the site first, then the server
  # that embeds it.
  step "WebAssembly: cargo build -p app --target wasm32-unknown-unknown ($wasm_profile)"
  build_site
  step "server: cargo build -p server ($server_profile), embedding the site"
  build_server
fi
step "built: $CARGO_TARGET_DIR/$(profile_dir "$server_profile")/nachweis, site embedded ($(du -h "$site/$LEPTOS_SITE_PKG_DIR/$LEPTOS_OUTPUT_NAME.wasm" | cut -f1) of WebAssembly)"
