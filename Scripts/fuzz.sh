#!/usr/bin/env bash
# Fuzzes everything that reads untrusted bytes with libFuzzer and AddressSanitizer: the PNG
# and JPEG decoders, the EXIF orientation parser, the model-file loader (bytes, and
# model-values: well-formed files with fuzzed numbers), the dataset reader and the PyTorch
# state dict reader of picasso import (Sources/picasso-fuzz). Seeds are written by the project's own writers; each target
# runs a fixed number of executions, and any crash, hang (>10 s), allocation over 1 GB or
# use of memory beyond 2.5 GB is a finding, saved under .build-fuzz/findings/.
#
#   Scripts/fuzz.sh [EXECUTIONS_PER_TARGET] [TARGET…]     (default 100000; all seven targets)
#
# Replay a finding (or a regression input in Tests/Fuzz) with the plain build:
#   swift build --product picasso-fuzz && .build/debug/picasso-fuzz TARGET FILE
# Leak detection is off for the HDF5 targets: libhdf5 1.10.8 itself loses a few hundred
# bytes on some corrupt files (direct leaks with only libhdf5 frames), which is not ours to fix.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
runs=${1:-100000}
shift || true
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(png jpeg exif model model-values dataset pytorch)
work=.build-fuzz
mkdir -p "$work/findings"

swift build --product picasso-fuzz >/dev/null
rm -rf "$work/seeds"
.build/debug/picasso-fuzz seeds "$work/seeds"
swift build --build-path "$work" --product picasso-fuzz -Xswiftc -sanitize=fuzzer,address -Xswiftc -DFUZZING \
  -Xcc -fsanitize=fuzzer-no-link,address -Xswiftc -Xclang-linker -Xswiftc -fuse-ld=lld 2>&1 |
  grep -v "Cannot export local symbol" | grep -E "error|Compiling|complete" || true
fuzzer="$work/debug/picasso-fuzz"
[ -x "$fuzzer" ] || { echo "fuzz.sh: the libFuzzer build failed" >&2; exit 1; }

status=0
printf '%-8s %12s %8s %10s %8s\n' target executions seconds corpus findings
for t in "${targets[@]}"; do
  corpus="$work/corpus/$t"
  mkdir -p "$corpus"
  leaks=1
  case $t in model | model-values | dataset) leaks=0 ;; esac
  log="$work/$t.log"
  start=$(date +%s)
  set +e
  # Real photos as further (read-only) seeds: the samples setup fetches, and the shared
  # camera JPEGs where they are (CI has only the samples).
  real=()
  case $t in
    png) [ -d Datasets/samples/photos ] && real+=(Datasets/samples/photos) ;;
    jpeg) [ -d ../shared/data/photos ] && real+=(../shared/data/photos) ;;
  esac
  ASAN_OPTIONS=detect_leaks=$leaks PICASSO_FUZZ_TARGET=$t "$fuzzer" -runs="$runs" -timeout=10 -malloc_limit_mb=1024 -rss_limit_mb=2560 \
    -detect_leaks=$leaks -print_final_stats=1 -artifact_prefix="$work/findings/$t-" "$corpus" "$work/seeds/$t" "${real[@]}" >"$log" 2>&1
  rc=$?
  set -e
  seconds=$(($(date +%s) - start))
  done_runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  findings=$(ls "$work/findings" | grep -c "^$t-" || true)
  printf '%-8s %12s %8s %10s %8s\n' "$t" "${done_runs:-?}" "$seconds" "$(ls "$corpus" | wc -l)" "$findings"
  if [ $rc -ne 0 ]; then
    status=1
    echo "fuzz.sh: $t found something (exit $rc); see $log and $work/findings/" >&2
    grep -E "ERROR|SUMMARY|Test unit written" "$log" >&2 || true
  fi
done
exit $status
