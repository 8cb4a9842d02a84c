#!/usr/bin/env bash
# make-hatching-figure.sh - the fine regular hatching a trained network paints over flat areas,
# up close: each model (the arguments, or every bundled model) renders the sample photos
# astronaut.png and chelsea.png (`picasso stylize`, the default margin), and a 96-pixel square
# of a flat area of each (the astronaut's grey backdrop at the top, the cat's blurred background
# at the right) is enlarged 4 times: one row per photo, the photo's own square first, then one
# per model, left to right (Models/figures/hatching-crops.png, or $OUT).
#
# Usage: Scripts/make-hatching-figure.sh [MODEL.h5 ...]. Needs Scripts/setup.sh (release build,
# sample photos) and pillow (Scripts/check-onnx.sh installs it into .venv-onnx).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
PY="$ROOT/.venv-onnx/bin/python"
[ -x "$PY" ] && "$PY" -c "import PIL" 2>/dev/null || { echo "make-hatching-figure: run Scripts/check-onnx.sh first (pillow in .venv-onnx)" >&2; exit 1; }
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
OUT="${OUT:-Models/figures/hatching-crops.png}"
models=("$@")
if [ ${#models[@]} -eq 0 ]; then
  for m in Models/*.h5; do
    case "$(basename "$m")" in vgg19.h5|base.h5) ;; *) models+=("$m") ;; esac
  done
fi
folders=(Datasets/samples/photos)
for i in "${!models[@]}"; do
  .build/release/picasso stylize --model "${models[$i]}" --output-dir "$WORK/$i" \
    Datasets/samples/photos/astronaut.png Datasets/samples/photos/chelsea.png >/dev/null 2>&1
  folders+=("$WORK/$i")
done
"$PY" - "$OUT" "${folders[@]}" <<'PYEOF'
import sys
from PIL import Image
out, folders = sys.argv[1], sys.argv[2:]
side, scale, gap = 96, 4, 8
cell = side * scale + gap
sheet = Image.new("RGB", (len(folders) * cell - gap, 2 * cell - gap), "white")
for row, name in enumerate(["astronaut.png", "chelsea.png"]):
    for column, folder in enumerate(folders):
        image = Image.open(f"{folder}/{name}").convert("RGB")
        box = (300, 0, 300 + side, side) if row == 0 else (image.width - side, 150, image.width, 150 + side)
        sheet.paste(image.crop(box).resize((side * scale, side * scale), Image.NEAREST), (column * cell, row * cell))
sheet.save(out)
PYEOF
echo "make-hatching-figure: wrote $OUT (left to right: the photo, ${models[*]})"
