#!/usr/bin/env bash
# make-base.sh - the base network new training runs start from (Models/base.h5), in two stages:
#   1. the photo base: the default transformation network trained to turn photos into the same
#      photos (content loss at relu2_2 and total variation only, style weight 0), so that it
#      keeps the photo's shapes. No painting is involved: the --style image is required by
#      picasso train but weighs nothing there.
#   2. the painted base: that network trained with picasso train's defaults on a painting that
#      none of the bundled models is trained or judged on, Vincent van Gogh's The Church at
#      Auvers (1890; Datasets/samples/paintings/church_at_auvers.png, fetched by
#      Scripts/setup.sh). A run for another painting then starts from a network that already
#      paints strokes over the photo's shapes, and has only to change which strokes
#      (docs/training.md).
#
# Usage: Scripts/make-base.sh [PHOTO_MINUTES] [PAINTED_MINUTES]   (defaults 12 and 30; a
# PAINTED_MINUTES of 0 stores the photo base). Needs Scripts/setup.sh and the training set
# Datasets/free-256.h5 (Datasets/README.md). Working files go to .cache/runs/base/.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
PHOTO_MINUTES="${1:-12}"
PAINTED_MINUTES="${2:-30}"
PICASSO=.build/release/picasso
OUT=.cache/runs/base
mkdir -p "$OUT"

# Stores a run's model finished (float16, no checkpoint) at the iteration it reached.
finish() {
  "$PICASSO" train --dataset Datasets/free-256.h5 --output "$1" --resume --float16 \
    --iterations "$("$PICASSO" models --json "$1" | sed -n 's/.*"iterations":\([0-9]*\).*/\1/p')"
}

"$PICASSO" train --dataset Datasets/free-256.h5 --style Datasets/samples/photos/coffee.png \
  --style-weight 0 --base none --time "${PHOTO_MINUTES}m" --checkpoint-every 100 --validate-every 100 \
  --output "$OUT/photo-base.h5"
finish "$OUT/photo-base.h5"
if [ "$PAINTED_MINUTES" = 0 ]; then
  cp "$OUT/photo-base.h5" Models/base.h5
else
  "$PICASSO" train --dataset Datasets/free-256.h5 --style Datasets/samples/paintings/church_at_auvers.png \
    --base "$OUT/photo-base.h5" --time "${PAINTED_MINUTES}m" --checkpoint-every 100 --validate-every 100 \
    --output "$OUT/painted-base.h5"
  finish "$OUT/painted-base.h5"
  cp "$OUT/painted-base.h5" Models/base.h5
fi
echo "make-base: wrote Models/base.h5" >&2
