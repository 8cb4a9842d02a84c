#!/usr/bin/env bash
# stylize-samples.sh - the camera filter on the bundled samples: every sample photo
# (Datasets/samples/photos) through every bundled model (Models/*.h5 but vgg19.h5) into
# OUT/MODEL/, then a contact sheet OUT/sheet.png with one row per photo: the photo, then one
# column per model, in the order `ls Models` gives, each column headed by the model's name
# (and its painting, where a file of that name is here), each row by the photo's.
#
# Every run renders afresh (--overwrite), so a model that changed shows in the sheet.
# Usage: Scripts/stylize-samples.sh [OUT]   (default OUT: stylized-samples). Needs
# Scripts/setup.sh first (release build, sample photos).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
OUT="${1:-stylized-samples}"
PICASSO=.build/release/picasso
PHOTOS=Datasets/samples/photos

models=()
for m in Models/*.h5; do
  case "$(basename "$m")" in vgg19.h5|base.h5) ;; *) models+=("$m") ;; esac
done
if [ ${#models[@]} -eq 0 ]; then
  echo "stylize-samples: no trained model in Models/" >&2
  exit 1
fi
if ! ls "$PHOTOS"/*.png >/dev/null 2>&1; then
  echo "stylize-samples: no sample photos in $PHOTOS (run Scripts/setup.sh)" >&2
  exit 1
fi

for m in "${models[@]}"; do
  name="$(basename "$m" .h5)"
  echo "stylize-samples: $name" >&2
  "$PICASSO" stylize --model "$m" --overwrite --output-dir "$OUT/$name" "$PHOTOS"
done

cells=()
rows=()
for photo in "$PHOTOS"/*.png; do
  rows+=("$(basename "$photo" .png)")
  cells+=("$photo")
  for m in "${models[@]}"; do
    cells+=("$OUT/$(basename "$m" .h5)/photos/$(basename "$photo")")
  done
done
# Column headings: each model's name, and its painting above it where a file of that name is in
# ../shared/data/styles or Datasets/samples/paintings (picasso models --json names it).
labels="photo"
thumbs="-"
for m in "${models[@]}"; do
  labels+=",$(basename "$m" .h5)"
  painting="$("$PICASSO" models --json "$m" | sed -n 's/.*"painting" *: *"\([^"]*\)".*/\1/p' | head -1)"
  found="-"
  for dir in ../shared/data/styles Datasets/samples/paintings; do
    if [ -n "$painting" ] && [ -f "$dir/$painting" ]; then found="$dir/$painting"; break; fi
  done
  thumbs+=",$found"
done
"$PICASSO" sheet --columns $((1 + ${#models[@]})) --column-labels "$labels" --column-images "$thumbs" \
  --row-labels "$(IFS=,; echo "${rows[*]}")" --output "$OUT/sheet.png" "${cells[@]}"
echo "stylize-samples: ${#models[@]} model(s) × $(ls "$PHOTOS"/*.png | wc -l) photos in $OUT/, contact sheet $OUT/sheet.png" >&2
