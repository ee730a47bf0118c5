#!/usr/bin/env bash
# Makes a minimal Debian 12 base image for packaging/Containerfile from
# Debian's packages (debootstrap), for machines that reach Debian's mirror
# but no container registry. Prints the image name to pass as BASE:
#   podman build --build-arg BASE="$(scripts/container-base.sh)" -f packaging/Containerfile -t nachweis packaging/
set -euo pipefail
name="localhost/nachweis-debian-base:bookworm"
if podman image exists "$name"; then
  echo "$name"
  exit 0
fi
root="$(mktemp -d)"
trap 'rm -rf "$root"' EXIT
mirror="${DEBIAN_MIRROR:-$(awk '/^deb / && /debian/ {print $2; exit}' /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null || true)}"
[ -n "$mirror" ] || mirror="$(grep -h '^URIs:' /etc/apt/sources.list.d/*.sources 2>/dev/null | awk '{print $2; exit}')"
debootstrap --variant=minbase bookworm "$root" "${mirror:-http://deb.debian.org/debian}" >&2
tar -C "$root" -c . | podman import - "$name" >&2
echo "$name"
