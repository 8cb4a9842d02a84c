#!/usr/bin/env bash
# Resource limits: small files that declare enormous contents are refused before any big
# allocation. Writes the bombs (picasso-fuzz bombs) into a scratch folder, feeds each to the
# picasso command that would read it, and prints the message and the peak resident memory.
#
#   Scripts/bombs.sh
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
swift build -c release --product picasso >/dev/null
swift build --product picasso-fuzz >/dev/null
picasso=.build/release/picasso
scratch=$(mktemp -d /tmp/picasso-bombs.XXXXXX)
trap 'rm -rf "$scratch"' EXIT
.build/debug/picasso-fuzz bombs "$scratch"
.build/debug/picasso-fuzz seeds "$scratch/seeds" >/dev/null
model=$scratch/seeds/model/tiny.h5
vgg=Models/vgg19.h5
style=$scratch/style.png
cp "$scratch/seeds/png/seed2.png" "$style"

status=0
printf '| file | on disk | declares | command | refused with | peak memory |\n|---|---|---|---|---|---|\n'
check() {  # check FILE DECLARES COMMAND…
  local file=$1 declares=$2
  shift 2
  local err=$scratch/err rss
  set +e
  /usr/bin/time -f %M -o "$scratch/rss" "$@" >/dev/null 2>"$err"
  local rc=$?
  set -e
  rss=$(tail -1 "$scratch/rss")
  local message
  message=$(grep -m1 -i "error\|failed:" "$err" | sed "s|$scratch/||g; s|^picasso: error: ||; s|^ *failed: ||")
  printf '| `%s` | %s B | %s | `picasso %s` | %s | %d MB |\n' "$(basename "$file")" "$(stat -c %s "$file")" "$declares" "$2" "$message" $((rss / 1024))
  if [ $rc -eq 0 ] || [ "$rss" -gt 262144 ]; then
    echo "bombs.sh: $(basename "$file") was not refused within 256 MB (exit $rc, $rss kB)" >&2
    status=1
  fi
}
check "$scratch/bomb-100000x100000.png" "100000 × 100000 RGB (30 GB)" \
  $picasso stylize --model "$model" --output-dir "$scratch/out" "$scratch/bomb-100000x100000.png"
check "$scratch/bomb-60000x60000.jpg" "60000 × 60000 RGB (10.8 GB)" \
  $picasso stylize --model "$model" --output-dir "$scratch/out" "$scratch/bomb-60000x60000.jpg"
check "$scratch/bomb-100000x100000.png" "100000 × 100000 RGB, as a painting" \
  $picasso optimize --content "$style" --style "$scratch/bomb-100000x100000.png" --output "$scratch/o.png" --vgg $vgg --iterations 1
check "$scratch/bomb-dataset.h5" "1000 images of 30000 × 30000 (2.7 TB)" \
  $picasso train --dataset "$scratch/bomb-dataset.h5" --style "$style" --output "$scratch/m.h5" --vgg $vgg
check "$scratch/bomb-model-architecture.h5" "widths 1024, 64 residual blocks (1.2 G parameters, 4.8 GB)" \
  $picasso stylize --model "$scratch/bomb-model-architecture.h5" --output-dir "$scratch/out" "$style"
check "$scratch/bomb-model-weights.h5" "a 2^40-element weight (4 TB)" \
  $picasso models "$scratch/bomb-model-weights.h5"
exit $status
