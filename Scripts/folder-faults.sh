#!/usr/bin/env bash
# Folder rendering under faults (issue: nothing lost, nothing crashes). Builds a folder of 200
# photos in a scratch directory (never in the project), 20 of them bad: corrupt, truncated,
# zero-byte, a text file with a .jpg name, and unreadable by permission; also a PNG named
# .jpg, which is good (formats are recognised by their bytes). Then:
#   1. `picasso stylize` on the folder is killed with SIGKILL once 60 outputs exist;
#   2. the same command is run again and must finish: every good photo rendered exactly once
#      (outputs from run 1 untouched: same inode and time), every bad one listed with its
#      reason, exit status 1 (some photos failed), and no temporary files left behind.
#
#   Scripts/folder-faults.sh [MODEL]     (default: the first model in Models/ other than vgg19.h5)
#
# Good photos are the ones in ../shared/data (photos and train/free), cycled under new names,
# rendered at --max-size 256 to keep the run short. Run as root, the renders run as `nobody`
# so that permissions bite.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
root=$PWD
model=${1:-$(ls Models/*.h5 2>/dev/null | grep -v vgg19.h5 | head -1 || true)}
[ -n "$model" ] && [ -f "$model" ] || { echo "folder-faults: no model (give one: Scripts/folder-faults.sh MODEL.h5)" >&2; exit 2; }
picasso=$root/.build/release/picasso
[ -x "$picasso" ] || swift build -c release >/dev/null
shared=$root/../shared/data
scratch=$(mktemp -d /tmp/picasso-faults.XXXXXX)
chmod 755 "$scratch"
trap 'rm -rf "$scratch"' EXIT
photos=$scratch/photos out=$scratch/out
mkdir -p "$photos/a" "$photos/b/c"
cp "$model" "$scratch/model.h5"

mapfile -t sources < <(find "$shared/photos" "$shared/train/free" -type f \( -iname '*.jpg' -o -iname '*.jpeg' -o -iname '*.png' \) | sort)
good=0
for i in $(seq 0 179); do
  src=${sources[$((i % ${#sources[@]}))]}
  ext=${src##*.}
  sub=$([ $((i % 3)) -eq 0 ] && echo a || ([ $((i % 3)) -eq 1 ] && echo b/c || echo .))
  cp "$src" "$photos/$sub/photo$(printf %03d $i).$ext"
  good=$((good + 1))
done
png=$(printf '%s\n' "${sources[@]}" | grep -i '\.png$' | head -1)
cp "$png" "$photos/png_named.jpg" && good=$((good + 1))   # wrong extension, good bytes
jpg=$(printf '%s\n' "${sources[@]}" | grep -i '\.jpg$' | head -1)
bad=0
for k in 1 2 3 4; do
  head -c $(( $(stat -c %s "$jpg") / 3 )) "$jpg" >"$photos/a/truncated$k.jpg"
  : >"$photos/b/empty$k.png"
  echo "not a photo $k" >"$photos/b/c/notes$k.jpg"
  cp "$jpg" "$photos/locked$k.jpg"
  bad=$((bad + 4))
done
for k in 1 2 3; do
  { head -c 200 "$jpg"; head -c 30000 /dev/urandom; } >"$photos/corrupt$k.jpg"
  bad=$((bad + 1))
done
echo "a readme, skipped quietly" >"$photos/README.txt"
total=$(find "$photos" -type f \( -name '*.jpg' -o -name '*.png' \) | wc -l)
chmod -R a+rX "$photos" && chmod 000 "$photos"/locked*.jpg
chmod 777 "$scratch"
as=()
[ "$(id -u)" -eq 0 ] && as=(setpriv --reuid=65534 --regid=65534 --clear-groups)
run=("${as[@]}" "$picasso" stylize --model "$scratch/model.h5" --output-dir "$out" --max-size 256 --json "$photos")
echo "folder-faults: $total image files ($good good, $bad bad) in $photos"

# Run 1, killed with SIGKILL once 60 outputs exist.
"${run[@]}" >"$scratch/run1.json" 2>"$scratch/run1.err" &
pid=$!
while kill -0 $pid 2>/dev/null && [ "$(find "$out" -name '*.png' 2>/dev/null | wc -l)" -lt 60 ]; do sleep 0.2; done
kill -9 $pid 2>/dev/null || true
wait $pid 2>/dev/null || true
first=$(find "$out" -name '*.png' | wc -l)
find "$out" -name '*.png' -printf '%p %i %T@\n' | sort >"$scratch/before.txt"
echo "run 1: killed with SIGKILL after $first outputs"

# Run 2: the same command.
set +e
"${run[@]}" >"$scratch/run2.json" 2>"$scratch/run2.err"
status=$?
set -e
failures=$(grep -c '^  failed: ' "$scratch/run2.err" || true)
outputs=$(find "$out" -name '*.png' | wc -l)
temporaries=$(find "$out" -name '*.tmp-*' | wc -l)
redone=$(join <(cut -d' ' -f1 "$scratch/before.txt") <(sed -n 's/.*"output":"\([^"]*\)".*/\1/p' "$scratch/run2.json" | sort) | wc -l)
notpng=$(for f in $(find "$out" -name '*.png'); do [ "$(head -c 4 "$f" | od -An -tx1 | tr -d ' ')" = 89504e47 ] || echo "$f"; done | wc -l)
changed=$(find "$out" -name '*.png' -printf '%p %i %T@\n' | sort | join - "$scratch/before.txt" | awk '$2 != $4 || $3 != $5' | wc -l)
echo "run 2: exit $status, $(grep -c . "$scratch/run2.json") rendered, $failures failed, $outputs outputs in all, $temporaries temporary files left"
sed -n 's/^  failed: //p' "$scratch/run2.err" | sed "s|$photos/||" | sort | sed 's/^/  bad: /'
ok=1
[ "$outputs" -eq "$good" ] || { echo "FAIL: $outputs outputs for $good good photos"; ok=0; }
[ "$failures" -eq "$bad" ] || { echo "FAIL: $failures listed as failed, $bad bad"; ok=0; }
[ "$status" -eq 1 ] || { echo "FAIL: exit status $status, expected 1"; ok=0; }
[ "$temporaries" -eq 0 ] || { echo "FAIL: temporary files left"; ok=0; }
[ "$redone" -eq 0 ] && [ "$changed" -eq 0 ] || { echo "FAIL: $redone outputs of run 1 rendered again, $changed changed"; ok=0; }
[ "$notpng" -eq 0 ] || { echo "FAIL: $notpng outputs are not PNG files"; ok=0; }
[ $ok -eq 1 ] && echo "folder-faults: passed ($first outputs before the kill, $((outputs - first)) after; none redone, none lost; $bad bad files reported)"
[ $ok -eq 1 ]
