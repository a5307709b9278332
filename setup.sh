#!/usr/bin/env bash
# setup.sh — prepares a fresh Debian 12 machine for Magpie Desktop: installs what is missing
# (apt), configures and builds (build/), and builds the guest image (cached; see
# packaging/guest/README.md). Idempotent: a second run only rebuilds what changed.
set -euo pipefail
cd "$(dirname "$0")"

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi

PACKAGES=(
  build-essential cmake ninja-build pkg-config
  qt6-base-dev libqt6sql6-sqlite libgl-dev
  qemu-system-x86 qemu-utils e2fsprogs
  debootstrap busybox-static cpio lintian
  python3 python3-venv python3-pip
  xvfb xauth
  xdotool python3-gi gir1.2-atspi-2.0 at-spi2-core trayer imagemagick
)
missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
  echo "[setup] installing: ${missing[*]}"
  $SUDO apt-get update -q
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

BUILD_DIR="${MAGPIE_BUILD_DIR:-build}"
if [ ! -f "$BUILD_DIR/build.ninja" ]; then
  cmake -S . -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo
fi
cmake --build "$BUILD_DIR"
# The guest image: kernel + initramfs with our agent + Debian root (debootstrap needs root;
# run the builder itself rather than through cmake, so no build file becomes root's).
$SUDO bash packaging/guest/build-image.sh --agent "$BUILD_DIR/resources/guest/agent/magpie-agent" --out "$BUILD_DIR/guest"
echo "[setup] done: binary $BUILD_DIR/app/magpie-desktop, guest image $BUILD_DIR/guest"
