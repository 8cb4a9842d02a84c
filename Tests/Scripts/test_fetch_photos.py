#!/usr/bin/env python3
"""The licence check of Scripts/fetch-photos.py, on records written like the packages' own.

Run: python3 Tests/Scripts/test_fetch_photos.py (stdlib only, no network; .ci/run runs it).
"""

import importlib.util
import os
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
SPEC = importlib.util.spec_from_file_location(
    "fetch_photos", os.path.join(HERE, "..", "..", "Scripts", "fetch-photos.py"))
fp = importlib.util.module_from_spec(SPEC)
SPEC.loader.exec_module(fp)

# As GCompris's resource READMEs are written: Files before or after the other fields,
# a file list on the following lines, licence names in several spellings.
README = """Copyright: Someone, 2022
License: CC-BY-SA 4.0
Files:
square.svg
wonders/tower.webp

Copyright: A Photographer
Source: https://commons.wikimedia.org/wiki/File:Bee.jpg
License: CC-BY-2.0
Comments: cropping
Files: bee.webp

Files: giraffe.webp
Source: https://commons.wikimedia.org/wiki/File:Giraffe.JPG
License: Public domain
Copyright: Another

Copyright: Non-commercial Person
License: CC-BY-NC-4.0
Files: nc.webp

Copyright: No Derivatives
License: CC-BY-ND-4.0
Files: nd.webp

Copyright: A Programmer
License: GPL-3+
Files: gpl.webp

Copyright: Everyone
License: CC0-1.0
Files: *.webp
"""

# As a DEP-5 debian/copyright file: a wildcard paragraph and a licence text paragraph.
DEP5 = """Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/
Source: https://example.org/wallpapers

Files: *
Copyright: The Packager
License: CC0-1.0

Files: 16.04/*
Copyright: Whoever
License: CC0-1.0

Files: 16.04/lake.jpg
Copyright: Lake Person, 2018
License: CC-BY-4.0

Files: 16.04/code.jpg
Copyright: 2018, A Hacker
License: Expat

Files: 20.04/other.jpg
Copyright: Other
License: CC0-1.0

License: Expat
 Permission is hereby granted, free of charge, ...
"""


def taken(files):
    return sorted(name for name, (_, licence, _) in files.items()
                  if fp.ALLOWED.match(fp.normalise_licence(licence)))


class LicenceCheck(unittest.TestCase):
    def test_readme_takes_only_free_licences_named_per_file(self):
        files = fp.licensed_files(README)
        self.assertEqual(sorted(files), ["bee.webp", "giraffe.webp", "gpl.webp", "nc.webp",
                                         "nd.webp", "square.svg", "wonders/tower.webp"])
        self.assertEqual(taken(files), ["bee.webp", "giraffe.webp", "square.svg", "wonders/tower.webp"])
        author, licence, source = files["bee.webp"]
        self.assertEqual((author, licence, source),
                         ("A Photographer", "CC-BY-2.0", "https://commons.wikimedia.org/wiki/File:Bee.jpg"))

    def test_dep5_ignores_wildcards_and_other_folders(self):
        files = fp.licensed_files(DEP5, "16.04/")
        self.assertEqual(sorted(files), ["code.jpg", "lake.jpg"])
        self.assertEqual(taken(files), ["lake.jpg"])
        self.assertEqual(fp.stanzas(DEP5)[0]["Source"], "https://example.org/wallpapers")

    def test_licence_names(self):
        for name in ["Public Domain", "public domain", "CC0-1.0", "CC0", "CC-BY-2.0", "CC-BY 3.0",
                     "CC-BY-SA 4.0", "CC-BY-SA-3.0", "CC-BY-4.0"]:
            self.assertTrue(fp.ALLOWED.match(fp.normalise_licence(name)), name)
        for name in ["", "GPL-2+", "GPL-3+", "Expat", "CC-BY-NC-4.0", "CC-BY-ND-4.0",
                     "CC-BY-NC-SA-4.0", "CC-BY-SA-1.0", "CC-BY-SA 4.0 or later?", "unknown"]:
            self.assertFalse(fp.ALLOWED.match(fp.normalise_licence(name)), name)


if __name__ == "__main__":
    unittest.main()
