#!/usr/bin/env bash
# make-border-figure.sh - the line a trained network paints down the right-hand edge it sees,
# and the margin that keeps it out of the picture: each bundled model on the sample photos with
# `stylize --margin 0` and with the default margin; the right-hand 40 columns of the top
# 120 rows of each, side by side (Models/figures/border-crops.png), and the mean colour step
# of the last column against the column 4 pixels in, per model and margin, on stdout.
#
# Usage: Scripts/make-border-figure.sh. Needs Scripts/setup.sh (release build, sample photos)
# and pillow (Scripts/check-onnx.sh installs it into .venv-onnx).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
PY="$ROOT/.venv-onnx/bin/python"
[ -x "$PY" ] && "$PY" -c "import PIL" 2>/dev/null || { echo "make-border-figure: run Scripts/check-onnx.sh first (pillow in .venv-onnx)" >&2; exit 1; }
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
models=()
for m in Models/*.h5; do
  case "$(basename "$m")" in vgg19.h5|base.h5) ;; *) models+=("$m") ;; esac
done
for m in "${models[@]}"; do
  name="$(basename "$m" .h5)"
  .build/release/picasso stylize --model "$m" --margin 0 --output-dir "$WORK/$name-0" Datasets/samples/photos/*.png >/dev/null
  .build/release/picasso stylize --model "$m" --output-dir "$WORK/$name-16" Datasets/samples/photos/*.png >/dev/null
done
"$PY" - "$WORK" "${models[@]}" <<'PYEOF'
import os, sys, glob
import numpy as np
from PIL import Image
work, models = sys.argv[1], [os.path.basename(m)[:-3] for m in sys.argv[2:]]
crops, labels = [], []
for name in models:
    for margin in ("0", "16"):
        steps = []
        for path in sorted(glob.glob(f"{work}/{name}-{margin}/*.png")):
            a = np.asarray(Image.open(path).convert("RGB"), dtype=np.float64)
            steps.append((a[:, -1] - a[:, -5]).mean())
            if os.path.basename(path) == "astronaut.png":
                crops.append(Image.fromarray(a[:120, -40:].astype(np.uint8)).resize((160, 480), Image.NEAREST))
                labels.append(f"{name}, margin {margin}")
        print(f"{name:14s} margin {margin:>2s}: last column minus the column 4 pixels in, mean over RGB and photos: {np.mean(steps):+.1f} levels "
              f"(per photo {', '.join(f'{s:+.1f}' for s in steps)})")
sheet = Image.new("RGB", (len(crops) * 170 - 10, 480), "white")
for i, c in enumerate(crops):
    sheet.paste(c, (i * 170, 0))
sheet.save("Models/figures/border-crops.png")
print("columns, left to right:", "; ".join(labels))
PYEOF
