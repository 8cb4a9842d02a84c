#!/usr/bin/env bash
# measure-grid.sh - how much regular 4-pixel hatching a trained network paints: each model
# (the arguments, or every bundled model and the base) renders the sample photos
# (`picasso stylize`, the default margin), and two numbers are measured on the grey level of
# each output and of the photo itself:
#   spread  the high-pass (each pixel less the mean of its four neighbours) averaged over each
#           of the 16 positions modulo 4 in x and y; the largest of those means minus the
#           smallest, in 8-bit levels. A grid the network paints at its 4-pixel period shows
#           here; natural texture averages out.
#   grid    the share of the image's power (mean removed) at the spatial frequencies of a
#           pattern repeating every 4 pixels in x and y (multiples of 1/4 cycle per pixel),
#           as a multiple of the photo's own share at those frequencies.
# Per model, the mean over the photos, and each photo's values.
#
# Usage: Scripts/measure-grid.sh [MODEL.h5 ...]. Needs Scripts/setup.sh (release build,
# sample photos) and pillow (Scripts/check-onnx.sh installs it into .venv-onnx).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
PY="$ROOT/.venv-onnx/bin/python"
[ -x "$PY" ] && "$PY" -c "import PIL" 2>/dev/null || { echo "measure-grid: run Scripts/check-onnx.sh first (pillow in .venv-onnx)" >&2; exit 1; }
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
models=("$@")
if [ ${#models[@]} -eq 0 ]; then
  for m in Models/*.h5; do
    [ "$(basename "$m")" = vgg19.h5 ] || models+=("$m")
  done
fi
i=0
for m in "${models[@]}"; do
  .build/release/picasso stylize --model "$m" --max-size 512 --output-dir "$WORK/$i" Datasets/samples/photos/*.png >/dev/null
  i=$((i + 1))
done
"$PY" - "$WORK" "${models[@]}" <<'PYEOF'
import glob, os, sys
import numpy as np
from PIL import Image

work, models = sys.argv[1], sys.argv[2:]

def grey(path, size=None):
    img = Image.open(path).convert("RGB")
    if size is not None and img.size != size:
        img = img.resize(size, Image.BICUBIC)
    return np.asarray(img, dtype=np.float64).mean(axis=2)

def spread(g):
    h = g[1:-1, 1:-1] - (g[:-2, 1:-1] + g[2:, 1:-1] + g[1:-1, :-2] + g[1:-1, 2:]) / 4
    # h[i, j] is the pixel (i + 1, j + 1): group by the absolute position modulo 4
    means = [h[(a + 3) % 4::4, (b + 3) % 4::4].mean() for a in range(4) for b in range(4)]
    return max(means) - min(means)

def grid_share(g):
    g = g[: g.shape[0] // 4 * 4, : g.shape[1] // 4 * 4]
    p = np.abs(np.fft.fft2(g - g.mean())) ** 2
    on = np.zeros_like(p, dtype=bool)
    on[:: g.shape[0] // 4, :: g.shape[1] // 4] = True
    on[0, 0] = False
    return p[on].sum() / p.sum()

photos = sorted(glob.glob("Datasets/samples/photos/*.png"))
names = [os.path.basename(p)[:-4] for p in photos]
outputs = lambda i: [f"{work}/{i}/{n}.png" for n in names]
sizes = [Image.open(o).size for o in outputs(0)] if models else []
ref = [(spread(grey(p, s)), grid_share(grey(p, s))) for p, s in zip(photos, sizes)]
print(f"{'image':40s} {'spread':>7s} {'grid':>7s}   spread/grid per photo ({', '.join(names)})")
print(f"{'the photos (at the outputs sizes)':40s} {np.mean([r[0] for r in ref]):7.2f} {1:7.1f}   "
      + ", ".join(f"{r[0]:.2f}/1" for r in ref))
for i, m in enumerate(models):
    vals = [(spread(grey(o)), grid_share(grey(o)) / r[1]) for o, r in zip(outputs(i), ref)]
    print(f"{m:40s} {np.mean([v[0] for v in vals]):7.2f} {np.mean([v[1] for v in vals]):7.1f}   "
          + ", ".join(f"{v[0]:.2f}/{v[1]:.0f}" for v in vals))
PYEOF
