#!/usr/bin/env bash
# make-optimize-sheet.sh - the README's contact sheet for `picasso optimize`: 3 photos × 3
# paintings from ../shared/data, 512 px, default settings, plus the settings and timings.
# Usage: Scripts/make-optimize-sheet.sh [OUTPUT_DIR]   (default Models/figures)
# Each result is kept in OUTPUT_DIR/optimize/; existing results are reused, so an
# interrupted run continues where it stopped.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
DATA=../shared/data
OUT="${1:-Models/figures}"
PHOTOS=(astronaut timbered_houses lighthouse_rocks)
PAINTINGS=(starry_night the_scream great_wave)
PICASSO=.build/release/picasso
mkdir -p "$OUT/optimize"

photo_path() { ls "$DATA/photos/$1".* | head -n 1; }
painting_path() { ls "$DATA/styles/$1".* | head -n 1; }

cells=(-)
for s in "${PAINTINGS[@]}"; do cells+=("$(painting_path "$s")"); done
for p in "${PHOTOS[@]}"; do
  cells+=("$(photo_path "$p")")
  for s in "${PAINTINGS[@]}"; do
    result="$OUT/optimize/${p}__${s}.jpg"
    if [ ! -f "$result" ]; then
      echo "== $p × $s" >&2
      "$PICASSO" optimize --content "$(photo_path "$p")" --style "$(painting_path "$s")" \
        --output "$result" --quality 90 --json --print-every 50 > "$OUT/optimize/${p}__${s}.json"
    fi
    cells+=("$result")
  done
done
"$PICASSO" sheet --columns 4 --cell 320 --output "$OUT/optimize-sheet.jpg" "${cells[@]}"
echo "wrote $OUT/optimize-sheet.jpg" >&2
