#!/usr/bin/env python3
"""Fetch more freely licensed photos for training, each with its licence checked.

Usage:
    Scripts/fetch-photos.py [--force]

Photos come from two Debian packages (pinned versions, from the Debian mirror):
  gcompris-qt-data         the photos of three activities (animals, monuments), WebP
                           inside Qt .rcc files; each activity's resource README
                           names every file's author, source and licence
  lomiri-wallpapers-16.04  landscape and still-life photographs; the package's
                           machine-readable copyright file names each file's licence

A file is taken only when its own entry (not a wildcard) gives a licence in ALLOWED
and it is not one of the NOT_PHOTOS (drawings, abstract art). The photos go to
Datasets/free-photos/<source>/ (git-ignored) as PNG or the package's JPEG, and
every one is listed with its author, licence and source in Datasets/SOURCES.md,
which this script writes (the same bytes on every machine for these versions).
Downloads are kept in .cache/fetch-photos/. Needs python3, apt-get, dpkg-deb and
dwebp (Debian package webp); Scripts/fetch-samples.sh installs them.
"""

import importlib.util
import os
import re
import shutil
import subprocess
import sys
import tempfile

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CACHE = os.path.join(REPO, ".cache", "fetch-photos")
OUT = os.path.join(REPO, "Datasets", "free-photos")
SOURCES_MD = os.path.join(REPO, "Datasets", "SOURCES.md")

# Public domain, CC0 and the Creative Commons attribution (and share-alike) licences.
ALLOWED = re.compile(r"^(public-domain|cc0(-1\.0)?|cc-by(-sa)?-[234]\.0)$")

GCOMPRIS = ("gcompris-qt-data", "3.1-2")
LOMIRI = ("lomiri-wallpapers-16.04", "20.04.0-2")

# (name in the output, package, .rcc inside the .deb, folder of the photos inside the .rcc, README)
RCC_SOURCES = [
    ("gcompris-erase", "./usr/share/gcompris-qt/rcc/erase.rcc",
     "/gcompris/src/activities/erase/resource", "README"),
    ("gcompris-monuments", "./usr/share/gcompris-qt/rcc/explore_monuments.rcc",
     "/gcompris/src/activities/explore_monuments/resource", "README"),
    ("gcompris-animals", "./usr/share/gcompris-qt/rcc/explore_world_animals.rcc",
     "/gcompris/src/activities/explore_world_animals/resource/animals", "README"),
]
LOMIRI_COPYRIGHT = "./usr/share/doc/lomiri-wallpapers-16.04/copyright"
LOMIRI_DIR = "./usr/share/backgrounds"
LOMIRI_PREFIX = "16.04/"  # how the copyright file names the photos

# Entries whose licence is fine but which are not photographs.
NOT_PHOTOS = {"analogpattern_by_Peter_Nerlich.jpg"}

RASTER = (".webp", ".jpg", ".jpeg", ".png")


def log(msg):
    print("fetch-photos: " + msg, file=sys.stderr)


def die(msg):
    print("fetch-photos: error: " + msg, file=sys.stderr)
    sys.exit(1)


def normalise_licence(name):
    """'CC-BY-SA 4.0' / 'Public Domain' / 'CC0-1.0' -> 'cc-by-sa-4.0' / 'public-domain' / 'cc0-1.0'."""
    return re.sub(r"[\s_]+", "-", name.strip().lower())


def stanzas(text):
    """Paragraphs of 'Key: value' lines (DEP-5 style); continuation lines extend the last key."""
    out = []
    for para in re.split(r"\n\s*\n", text):
        fields, key = {}, None
        for line in para.splitlines():
            if line[:1] in (" ", "\t") or (key == "Files" and ":" not in line and line.strip()):
                if key:
                    fields[key] += "\n" + line.strip()
                continue
            if ":" in line:
                key, _, value = line.partition(":")
                key = key.strip()
                fields[key] = value.strip()
        if fields:
            out.append(fields)
    return out


def licensed_files(text, prefix=""):
    """{file: (author, licence as written, source)} for every file a stanza names explicitly (no wildcards)."""
    files = {}
    for st in stanzas(text):
        for name in st.get("Files", "").split():
            if any(c in name for c in "*?[") or not name.startswith(prefix):
                continue
            licence = (st.get("License", "").strip().splitlines() or [""])[0]  # the name, not the text
            files[name[len(prefix):]] = (st.get("Copyright", "").strip(), licence, st.get("Source", "").strip())
    return files


def apt_download(package, version, dest):
    wanted = "%s_%s_all.deb" % (package, version)
    if os.path.exists(os.path.join(dest, wanted)):
        return os.path.join(dest, wanted)
    # Scripts/fetch-samples.sh keeps the same gcompris package; use it rather than fetch it again.
    shared = os.path.join(REPO, ".cache", "fetch-samples", wanted)
    if os.path.exists(shared):
        return shared
    log("downloading %s %s from the Debian mirror" % (package, version))
    with tempfile.TemporaryDirectory(dir=dest) as work:
        cmd = ["apt-get", "download", "-qq", "-o", "APT::Sandbox::User=root", "%s=%s" % (package, version)]
        if subprocess.run(cmd, cwd=work).returncode != 0:
            subprocess.run(["apt-get", "update", "-qq"], check=False)
            if subprocess.run(cmd, cwd=work).returncode != 0:
                die("apt-get could not download %s %s" % (package, version))
        os.replace(os.path.join(work, wanted), os.path.join(dest, wanted))
    return os.path.join(dest, wanted)


def deb_members(deb, members):
    """The contents of several files of a .deb, read in one pass."""
    with tempfile.TemporaryDirectory(dir=CACHE) as work:
        tar = subprocess.Popen(["dpkg-deb", "--fsys-tarfile", deb], stdout=subprocess.PIPE)
        proc = subprocess.run(["tar", "-xf", "-", "-C", work] + members, stdin=tar.stdout)
        tar.stdout.close()
        if tar.wait() != 0 or proc.returncode != 0:
            die("could not read %s from %s" % (", ".join(members), os.path.basename(deb)))
        out = {}
        for m in members:
            with open(os.path.join(work, m), "rb") as fh:
                out[m] = fh.read()
        return out


def load_rcc_module():
    spec = importlib.util.spec_from_file_location("extract_rcc", os.path.join(REPO, "Scripts", "extract-rcc.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def main(argv):
    if any(a in ("-h", "--help") for a in argv):
        print(__doc__.strip())
        return 0
    if [a for a in argv if a != "--force"]:
        print("usage: Scripts/fetch-photos.py [--force]", file=sys.stderr)
        return 2
    if "--force" not in argv and os.path.exists(os.path.join(OUT, ".complete")):
        log("photos already present in Datasets/free-photos/ (use --force to fetch again)")
        return 0
    for tool, package in (("apt-get", "apt"), ("dpkg-deb", "dpkg"), ("dwebp", "webp")):
        if shutil.which(tool) is None:
            die("%s not found (Debian package %s; Scripts/setup.sh installs it)" % (tool, package))
    os.makedirs(CACHE, exist_ok=True)
    # Built beside the old folder and swapped in at the end: a failed run leaves the old photos.
    new = OUT + ".new"
    shutil.rmtree(new, ignore_errors=True)
    os.makedirs(new)
    rows, refused = [], []

    rcc_module = load_rcc_module()
    gdeb = apt_download(*GCOMPRIS, CACHE)
    blobs = deb_members(gdeb, [member for _, member, _, _ in RCC_SOURCES])
    for name, member, folder, readme in RCC_SOURCES:
        rcc = rcc_module.Rcc(blobs[member])
        # The first entry of a path wins (the default locale is listed first), as in extract-rcc.py.
        entries = {path: (flags, data) for path, flags, _t, _l, data in reversed(list(rcc.walk()))}
        if folder + "/" + readme not in entries:
            die("%s has no %s" % (member, readme))
        text = rcc.read(*entries[folder + "/" + readme]).decode("utf-8")
        os.makedirs(os.path.join(new, name))
        for rel, (author, licence, source) in sorted(licensed_files(text).items()):
            path = folder + "/" + rel
            if path not in entries:  # the README also credits files this version no longer ships
                continue
            if not rel.lower().endswith(RASTER) or os.path.basename(rel) in NOT_PHOTOS:
                continue
            if not ALLOWED.match(normalise_licence(licence)):
                refused.append((name, rel, licence))
                continue
            flat = rel.replace("/", "-")
            raw = os.path.join(new, name, flat)
            with open(raw, "wb") as fh:
                fh.write(rcc.read(*entries[path]))
            if flat.endswith(".webp"):
                png = raw[: -len(".webp")] + ".png"
                subprocess.run(["dwebp", "-quiet", raw, "-o", png], check=True)
                os.remove(raw)
                flat = os.path.basename(png)
            rows.append((name + "/" + flat, author, licence, source, "%s %s" % GCOMPRIS))

    ldeb = apt_download(*LOMIRI, CACHE)
    name = "lomiri-wallpapers"
    os.makedirs(os.path.join(new, name))
    with tempfile.TemporaryDirectory(dir=CACHE) as work:
        subprocess.run(["dpkg-deb", "-x", ldeb, work], check=True)
        with open(os.path.join(work, LOMIRI_COPYRIGHT), encoding="utf-8") as fh:
            text = fh.read()
        upstream = stanzas(text)[0].get("Source", "").strip()  # the header paragraph
        for rel, (author, licence, source) in sorted(licensed_files(text, LOMIRI_PREFIX).items()):
            if not rel.lower().endswith(RASTER) or rel in NOT_PHOTOS:
                continue
            if not ALLOWED.match(normalise_licence(licence)):
                refused.append((name, rel, licence))
                continue
            src = os.path.join(work, LOMIRI_DIR, rel)
            if not os.path.exists(src):
                die("the copyright file names %s, which the package does not hold" % rel)
            shutil.copyfile(src, os.path.join(new, name, rel))
            rows.append((name + "/" + rel, author, licence, source or upstream, "%s %s" % LOMIRI))

    for src, rel, licence in refused:
        log("left out %s/%s: licence '%s' is not on the list" % (src, rel, licence))
    with open(SOURCES_MD + ".tmp", "w", encoding="utf-8") as fh:
        fh.write("# Sources of Datasets/free-photos/\n\n")
        fh.write("Written by `Scripts/fetch-photos.py`, which fetches these photos from Debian packages and\n")
        fh.write("takes a file only where the package's own licence record names it with public domain,\n")
        fh.write("CC0 or a Creative Commons attribution licence (CC BY, CC BY-SA, versions 2.0 to 4.0).\n")
        fh.write("The photos are git-ignored; `picasso dataset --images Datasets/free-photos` uses them.\n")
        fh.write("%d photos.\n\n" % len(rows))
        fh.write("| file | author | licence | original | package |\n|---|---|---|---|---|\n")
        for row in rows:
            cells = [c.replace("|", "\\|").replace("\n", " ") for c in row]
            fh.write("| %s |\n" % " | ".join(cells))
    os.replace(SOURCES_MD + ".tmp", SOURCES_MD)
    open(os.path.join(new, ".complete"), "w").close()
    shutil.rmtree(OUT, ignore_errors=True)
    os.replace(new, OUT)
    log("%d photos in Datasets/free-photos/, listed in Datasets/SOURCES.md" % len(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
