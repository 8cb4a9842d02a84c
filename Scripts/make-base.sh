#!/usr/bin/env bash
# make-base.sh - the base network new training runs start from (Models/base.h5): the default
# transformation network trained to turn photos into the same photos (content loss at
# relu2_2 and total variation only, style weight 0), so that a run for a painting starts
# from a network that keeps the photo's shapes. No painting is involved: the --style image is
# required by picasso train but weighs nothing here.
#
# Usage: Scripts/make-base.sh [MINUTES]   (default 12). Needs Scripts/setup.sh and the
# training set Datasets/free-256.h5 (Datasets/README.md).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
MINUTES="${1:-12}"
OUT=.cache/runs/base
mkdir -p "$OUT"
.build/release/picasso train --dataset Datasets/free-256.h5 --style Datasets/samples/photos/coffee.png \
  --style-weight 0 --base none --time "${MINUTES}m" --checkpoint-every 100 --validate-every 100 --output "$OUT/base.h5"
.build/release/picasso train --dataset Datasets/free-256.h5 --output "$OUT/base.h5" --resume --float16 \
  --iterations "$(.build/release/picasso models --json "$OUT/base.h5" | sed -n 's/.*"iterations":\([0-9]*\).*/\1/p')"
cp "$OUT/base.h5" Models/base.h5
echo "make-base: wrote Models/base.h5" >&2
