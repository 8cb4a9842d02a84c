#!/usr/bin/env bash
# bench-mpi.sh - training throughput on this machine: one process (its threads splitting each
# batch, or one pass with every core in each kernel) against mpirun with one rank per core
# (one thread each). Prints photos per second from each run's last line; the configurations
# alternate, REPEATS rounds. Needs the release build and Open MPI (Scripts/setup.sh).
#   Scripts/bench-mpi.sh [ITERATIONS=12] [BATCH=4] [REPEATS=2]
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
ITERATIONS=${1:-12} BATCH=${2:-4} REPEATS=${3:-2}
PICASSO=.build/release/picasso
CORES=$(nproc)
OUT=$(mktemp -d)
trap 'rm -rf "$OUT"' EXIT
[ "$(id -u)" -eq 0 ] && export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
COMMON=(train --dataset Datasets/free-256.h5 --style "${STYLE:-../shared/data/styles/starry_night.jpg}"
        --iterations "$ITERATIONS" --batch-size "$BATCH" --checkpoint-every 100000 --validate-every 100000)
run() {  # name, command...
  local name=$1; shift
  local line
  line=$("$@" 2>&1 | grep "train: done" | tail -1)
  echo "$name: $(echo "$line" | sed -E 's/.*\(([0-9.]+ photos\/s[^)]*)\).*/\1/')"
}
echo "bench-mpi: $(lscpu | sed -n 's/^Model name: *//p'), $CORES cores, batch $BATCH at 256 px, $ITERATIONS iterations"
for r in $(seq "$REPEATS"); do
  run "one process, $CORES threads" "$PICASSO" "${COMMON[@]}" --output "$OUT/a.h5" --threads "$CORES"
  run "one process, one pass" "$PICASSO" "${COMMON[@]}" --output "$OUT/b.h5" --threads 1
  run "mpirun -np $CORES, 1 thread each" mpirun -np "$CORES" "$PICASSO" "${COMMON[@]}" --output "$OUT/c.h5"
done
