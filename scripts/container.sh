#!/usr/bin/env bash
# Builds the container image `nachweis` from the release binary with
# packaging/Containerfile, then lists every file in the image.
#   scripts/container.sh [--base IMAGE]   (default: docker.io/library/debian:bookworm-slim;
#                                          scripts/container-base.sh makes one offline)
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$NACHWEIS_ROOT"
base="docker.io/library/debian:bookworm-slim"
[ "${1:-}" = "--base" ] && base="$2"
bin="$CARGO_TARGET_DIR/release/nachweis"
[ -x "$bin" ] || scripts/build.sh --release

# The Containerfile copies exactly these libraries: stop if the binary
# needs another one.
needed="$(ldd "$bin" | grep -o '/[^ ]*' | xargs -n1 basename | sort | tr '\n' ' ')"
expected="ld-linux-x86-64.so.2 libc.so.6 libgcc_s.so.1 libm.so.6 "
if [ "$needed" != "$expected" ]; then
  echo "the binary links against: $needed; packaging/Containerfile copies: $expected" >&2
  exit 1
fi

ctx="$(mktemp -d)"
trap 'rm -rf "$ctx"' EXIT
step "container: build context in $ctx"
cp "$bin" "$ctx/nachweis"
mkdir -p "$ctx/root/etc" "$ctx/root/tmp" "$ctx/root/var/lib" "$ctx/data"
chmod 1777 "$ctx/root/tmp"
chmod 0700 "$ctx/data"
printf 'root:x:0:0:root:/root:/usr/sbin/nologin\nnachweis:x:10001:10001:Nachweis:/var/lib/nachweis:/usr/sbin/nologin\n' >"$ctx/root/etc/passwd"
printf 'root:x:0:\nnachweis:x:10001:\n' >"$ctx/root/etc/group"
printf 'hosts: files dns\n' >"$ctx/root/etc/nsswitch.conf"
step "container: podman build (BASE=$base)"
podman build --build-arg BASE="$base" -f packaging/Containerfile -t nachweis "$ctx"

step "container: the image's files"
podman image save --format docker-archive -o "$ctx/image.tar" nachweis >/dev/null
mkdir "$ctx/image"
tar -C "$ctx/image" -xf "$ctx/image.tar"
for layer in $(python3 -c 'import json,sys; print(" ".join(json.load(open(sys.argv[1]))[0]["Layers"]))' "$ctx/image/manifest.json"); do
  tar -tvf "$ctx/image/$layer"
done | awk '{print $1, $2, $3, $NF}' | sort -k4
podman image inspect nachweis --format 'user={{.Config.User}} entrypoint={{.Config.Entrypoint}} cmd={{.Config.Cmd}} volumes={{.Config.Volumes}} size={{.Size}}'
