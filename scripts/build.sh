#!/usr/bin/env bash
# Builds the server binary and the site (WebAssembly, JS, CSS, assets)
# with plain cargo and wasm-bindgen, no cargo-leptos needed:
#   scripts/build.sh            debug (what the tests run)
#   scripts/build.sh --release  optimised, wasm-opt'ed (what run.sh serves)
# The site lands in target/site/ (LEPTOS_SITE_ROOT). `cargo leptos build`
# still works from the [workspace.metadata.leptos] section.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$NACHWEIS_ROOT"

release=false
[ "${1:-}" = "--release" ] && release=true

if $release; then
  server_profile=release
  wasm_profile=wasm-release
else
  server_profile=dev
  wasm_profile=dev
fi
profile_dir() { case "$1" in dev) echo debug ;; *) echo "$1" ;; esac; }

build_server() {
  cargo build -p server --bin nachweis --profile "$server_profile"
}
build_wasm() {
  cargo build -p app --lib --target wasm32-unknown-unknown --no-default-features --features hydrate \
    --profile "$wasm_profile"
}
if $release; then
  # The two release builds keep their artifacts in different profile
  # directories, so they can run side by side: the WebAssembly build's long
  # single-threaded LTO then overlaps the server's compile instead of
  # following it (on 2 cores this saves several minutes on a fresh machine).
  wasm_log="$CARGO_TARGET_DIR/wasm-build.log"
  mkdir -p "$CARGO_TARGET_DIR"
  step "WebAssembly: cargo build -p app --target wasm32-unknown-unknown ($wasm_profile), in the background, log: $wasm_log"
  build_wasm >"$wasm_log" 2>&1 &
  wasm_pid=$!
  trap 'kill $wasm_pid 2>/dev/null || true' EXIT
  step "server: cargo build -p server ($server_profile)"
  build_server
  step "server built; waiting for the WebAssembly build"
  if ! wait "$wasm_pid"; then
    tail -n 60 "$wasm_log" >&2
    echo "the WebAssembly build failed (whole log: $wasm_log)" >&2
    exit 1
  fi
  trap - EXIT
  step "WebAssembly built"
else
  # Debug builds share target/debug for build scripts and proc macros, so
  # cargo would serialise them anyway: one after the other, output visible.
  step "server: cargo build -p server ($server_profile)"
  build_server
  step "WebAssembly: cargo build -p app --target wasm32-unknown-unknown ($wasm_profile)"
  build_wasm
fi

site="$LEPTOS_SITE_ROOT"
pkg="$site/$LEPTOS_SITE_PKG_DIR"
step "site: wasm-bindgen into $pkg"
rm -rf "$pkg.new"
mkdir -p "$pkg.new"
wasm-bindgen --target web --no-typescript --out-dir "$pkg.new" --out-name "$LEPTOS_OUTPUT_NAME" \
  "$CARGO_TARGET_DIR/wasm32-unknown-unknown/$(profile_dir "$wasm_profile")/app.wasm"
# The page loads <name>.wasm (leptos' HydrationScripts), not wasm-bindgen's <name>_bg.wasm.
mv "$pkg.new/${LEPTOS_OUTPUT_NAME}_bg.wasm" "$pkg.new/$LEPTOS_OUTPUT_NAME.wasm"
sed -i "s/${LEPTOS_OUTPUT_NAME}_bg\.wasm/${LEPTOS_OUTPUT_NAME}.wasm/g" "$pkg.new/$LEPTOS_OUTPUT_NAME.js"
if $release; then
  step "site: wasm-opt -Oz"
  # Debian's binaryen breaks hydration; npm's (end2end/package.json) works.
  "$NACHWEIS_ROOT/end2end/node_modules/.bin/wasm-opt" -Oz --enable-bulk-memory --enable-nontrapping-float-to-int \
    --enable-sign-ext --enable-mutable-globals --enable-reference-types --enable-multivalue \
    -o "$pkg.new/$LEPTOS_OUTPUT_NAME.wasm" "$pkg.new/$LEPTOS_OUTPUT_NAME.wasm"
fi
cp style/main.css "$pkg.new/$LEPTOS_OUTPUT_NAME.css"
rm -rf "$pkg"
mv "$pkg.new" "$pkg"
cp -r assets/. "$site/"
step "built: $CARGO_TARGET_DIR/$(profile_dir "$server_profile")/nachweis and $site ($(du -h "$pkg/$LEPTOS_OUTPUT_NAME.wasm" | cut -f1) of WebAssembly)"
