#!/usr/bin/env bash
# check-onnx.sh - every bundled model (Models/*.h5 but vgg19.h5) exported with
# `picasso export --onnx`, checked by onnx.checker, and run by onnxruntime on the sample
# photos (Datasets/samples/photos): fails if any output pixel differs from `picasso stylize`'s
# by more than 1/255. onnx, onnxruntime, numpy and pillow come from PyPI into .venv-onnx
# (about 60 MB the first time).
#
# Usage: Scripts/check-onnx.sh [MODEL.h5 ...] (default: every bundled model). Needs Scripts/setup.sh first (release build, sample photos).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
log() { echo "check-onnx: $*" >&2; }

VENV="$ROOT/.venv-onnx"
if [ ! -x "$VENV/bin/python" ] || ! "$VENV/bin/python" -c "import onnx, onnxruntime, numpy, PIL" 2>/dev/null; then
  log "installing onnx, onnxruntime, numpy and pillow into .venv-onnx"
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install -q --disable-pip-version-check onnx onnxruntime numpy pillow
fi

WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
models=("$@")
if [ ${#models[@]} -eq 0 ]; then
  for m in Models/*.h5; do
    [ "$(basename "$m")" = vgg19.h5 ] || models+=("$m")
  done
fi
for m in "${models[@]}"; do
  name="$(basename "$m" .h5)"
  .build/release/picasso export --onnx "$WORK/$name.onnx" "$m" 2>/dev/null
  .build/release/picasso stylize --model "$m" --output-dir "$WORK/$name" --overwrite Datasets/samples/photos/*.png >/dev/null 2>&1
done
"$VENV/bin/python" Scripts/check_onnx.py "$WORK" Datasets/samples/photos/*.png
