#!/usr/bin/env bash
# crash-test-train.sh - kills `picasso train` with SIGKILL at random moments and resumes it,
# then checks that nothing was lost:
#   - after every kill the model file loads (`picasso models`) and its checkpoint iteration
#     never goes back by more than one checkpoint interval;
#   - the final weights equal those of an uninterrupted run with the same seed.
# Half of the kills are aimed at checkpoint writes (sent as soon as the temporary file of an
# atomic write appears). A tiny network on 32-pixel photos keeps each run to seconds.
#
# Usage: Scripts/crash-test-train.sh [KILLS] (default 24). Needs .build/release/picasso and
# Models/vgg19.h5 (Scripts/setup.sh) and the sample photos and paintings.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
KILLS="${1:-24}"
PICASSO="$ROOT/.build/release/picasso"
PY="$ROOT/.venv-setup/bin/python"
WORK="$(mktemp -d "${TMPDIR:-/tmp}/picasso-crash.XXXXXX")"
trap 'rm -rf "$WORK"' EXIT
log() { echo "crash-test: $*" >&2; }

ITERATIONS=300
EVERY=10
TRAIN=(train --dataset "$WORK/d.h5" --style Datasets/samples/paintings/night_cafe.png
       --arch c9s1-4,d8,d8,R8,u8,u4,c9s1-3 --iterations $ITERATIONS --checkpoint-every $EVERY
       --validate-every 50 --batch-size 2 --seed 7)

"$PICASSO" dataset --images Datasets/samples/photos --output "$WORK/d.h5" --size 32 --crops-per-image 4 --val-count 2 2>/dev/null
log "reference run: $ITERATIONS iterations without interruption"
"$PICASSO" "${TRAIN[@]}" --output "$WORK/reference.h5" 2>/dev/null

iteration() {  # the checkpoint iteration stored in a model file, or -1 if it does not load
  "$PICASSO" models --json "$1" 2>/dev/null | sed -n 's/.*"iterations":\([0-9]*\).*/\1/p' | head -1 || true
}

model="$WORK/crashed.h5"
last=0
kills=0
aimed=0
while [ $kills -lt "$KILLS" ]; do
  if [ -f "$model" ]; then args=(--resume); else args=(); fi
  "$PICASSO" "${TRAIN[@]}" "${args[@]}" --output "$model" 2>/dev/null &
  pid=$!
  if [ $((kills % 2)) -eq 0 ]; then
    # Aim at a checkpoint write: wait for the temporary file beside the model.
    for _ in $(seq 1 10000); do
      if compgen -G "$WORK/.crashed.h5.tmp-*" >/dev/null || ! kill -0 $pid 2>/dev/null; then break; fi
      sleep 0.002
    done
    aimed=$((aimed + 1))
  else
    sleep "$(awk -v s=$RANDOM 'BEGIN { srand(s); printf "%.2f", 1.5 + 4 * rand() }')"
  fi
  if ! kill -9 $pid 2>/dev/null; then
    wait $pid || true
    log "the run finished before kill $((kills + 1)); starting again from scratch for more kills"
    rm -f "$model"
    last=0
    continue
  fi
  wait $pid 2>/dev/null || true
  kills=$((kills + 1))
  if [ -f "$model" ]; then
    now="$(iteration "$model")"
    if [ -z "$now" ]; then log "FAIL: after kill $kills the model file does not load"; exit 1; fi
    if [ "$now" -lt $((last - EVERY)) ]; then log "FAIL: iteration went back from $last to $now"; exit 1; fi
    last=$now
  fi
  log "kill $kills: checkpoint at iteration ${last}"
done
log "finishing the interrupted run"
# (a kill mid-write leaves a temporary file; the next write removes those of dead processes)
if [ -f "$model" ]; then "$PICASSO" "${TRAIN[@]}" --resume --output "$model" 2>/dev/null
else "$PICASSO" "${TRAIN[@]}" --output "$model" 2>/dev/null; fi

if compgen -G "$WORK/.crashed.h5.tmp-*" >/dev/null; then log "FAIL: temporary files left behind"; ls -a "$WORK" >&2; exit 1; fi
"$PY" - "$WORK/reference.h5" "$model" <<'EOF'
import sys, h5py, numpy as np
a, b = h5py.File(sys.argv[1], "r"), h5py.File(sys.argv[2], "r")
worst = max(float(np.max(np.abs(a["params"][k][...] - b["params"][k][...]))) for k in a["params"])
print(f"crash-test: largest weight difference from the uninterrupted run: {worst:.3g}", file=sys.stderr)
sys.exit(0 if worst <= 1e-6 else 1)
EOF
log "passed: $KILLS kills ($aimed aimed at checkpoint writes), the model always loaded, the final weights match"
