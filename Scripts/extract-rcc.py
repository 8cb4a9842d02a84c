#!/usr/bin/env python3
"""List or extract files from a compiled Qt resource file (.rcc), stdlib only.

Usage:
    extract-rcc.py list    FILE.rcc
    extract-rcc.py extract FILE.rcc PATH_IN_RCC DEST [PATH_IN_RCC DEST ...]

PATH_IN_RCC is the resource path as printed by `list`, with or without the
leading slash (e.g. /gcompris/src/activities/details/resource/foo.webp).

Binary layout (Qt's rcc, formats 1-3; all integers big-endian):
  header:  b"qres", u32 version, u32 tree_offset, u32 data_offset,
           u32 names_offset, and for version >= 3 a u32 of overall flags.
  tree:    fixed-size nodes, 14 bytes in v1 and 22 bytes in v2/v3:
             u32 name_offset, u16 flags,
             directory (flags & 2): u32 child_count, u32 first_child_index
             file:                  u16 territory, u16 language, u32 data_offset
             v2+: u64 last-modified (ms since epoch)
           node 0 is the root directory.
  names:   at names_offset + name_offset: u16 length, u32 hash,
           then `length` UTF-16BE code units.
  data:    at data_offset + offset: u32 length, then the payload.  Flag 1 means
           zlib (qCompress: u32 uncompressed length + zlib stream); flag 4 means
           zstd, which the standard library cannot decode.
"""

import struct
import sys
import zlib

FLAG_COMPRESSED = 0x01
FLAG_DIRECTORY = 0x02
FLAG_COMPRESSED_ZSTD = 0x04


class RccError(Exception):
    pass


class Rcc:
    def __init__(self, blob):
        if blob[:4] != b"qres":
            raise RccError("not a Qt resource file (missing 'qres' magic)")
        self.blob = blob
        (self.version, self.tree_off, self.data_off,
         self.names_off) = struct.unpack_from(">IIII", blob, 4)
        if self.version not in (1, 2, 3):
            raise RccError("unsupported rcc format version %d" % self.version)
        self.node_size = 14 if self.version == 1 else 22

    def _node(self, index):
        off = self.tree_off + index * self.node_size
        name_off, flags = struct.unpack_from(">IH", self.blob, off)
        if flags & FLAG_DIRECTORY:
            count, first = struct.unpack_from(">II", self.blob, off + 6)
            return name_off, flags, ("dir", count, first)
        territory, language, data = struct.unpack_from(">HHI", self.blob, off + 6)
        return name_off, flags, ("file", territory, language, data)

    def _name(self, name_off):
        off = self.names_off + name_off
        (length,) = struct.unpack_from(">H", self.blob, off)
        raw = self.blob[off + 6: off + 6 + 2 * length]
        return raw.decode("utf-16-be")

    def walk(self):
        """Yield (path, flags, territory, language, data_offset) for every file."""
        stack = [(0, "")]
        seen = set()
        while stack:
            index, prefix = stack.pop()
            if index in seen:
                raise RccError("cycle in resource tree at node %d" % index)
            seen.add(index)
            name_off, flags, info = self._node(index)
            name = "" if index == 0 else self._name(name_off)
            path = prefix + "/" + name if index else ""
            if info[0] == "dir":
                _, count, first = info
                for child in range(first + count - 1, first - 1, -1):
                    stack.append((child, path))
            else:
                _, territory, language, data = info
                yield path, flags, territory, language, data

    def stored_size(self, data_offset):
        (size,) = struct.unpack_from(">I", self.blob, self.data_off + data_offset)
        return size

    def read(self, flags, data_offset):
        start = self.data_off + data_offset
        (size,) = struct.unpack_from(">I", self.blob, start)
        payload = self.blob[start + 4: start + 4 + size]
        if len(payload) != size:
            raise RccError("truncated data at offset %d" % data_offset)
        if flags & FLAG_COMPRESSED_ZSTD:
            raise RccError("entry is zstd-compressed; not supported without zstd")
        if flags & FLAG_COMPRESSED:
            (expected,) = struct.unpack_from(">I", payload, 0)
            out = zlib.decompress(payload[4:])
            if len(out) != expected:
                raise RccError("zlib length mismatch (%d != %d)" % (len(out), expected))
            return out
        return payload


def main(argv):
    if len(argv) >= 3 and argv[1] == "list":
        rcc = Rcc(open(argv[2], "rb").read())
        print("# rcc format version %d" % rcc.version)
        for path, flags, territory, language, data in rcc.walk():
            kind = "zstd" if flags & FLAG_COMPRESSED_ZSTD else (
                "zlib" if flags & FLAG_COMPRESSED else "raw")
            locale = "" if (territory, language) == (0, 1) or (territory, language) == (0, 0) \
                else "  [territory=%d language=%d]" % (territory, language)
            print("%10d %-4s %s%s" % (rcc.stored_size(data), kind, path, locale))
        return 0
    if len(argv) >= 5 and argv[1] == "extract" and (len(argv) - 3) % 2 == 0:
        rcc = Rcc(open(argv[2], "rb").read())
        wanted = {}
        for i in range(3, len(argv), 2):
            wanted["/" + argv[i].lstrip("/")] = argv[i + 1]
        found = {}
        for path, flags, _t, _l, data in rcc.walk():
            # First match wins (the default-locale entry is listed first).
            if path in wanted and path not in found:
                found[path] = (flags, data)
        missing = sorted(set(wanted) - set(found))
        if missing:
            raise RccError("not found in %s: %s" % (argv[2], ", ".join(missing)))
        for path, dest in wanted.items():
            content = rcc.read(*found[path])
            with open(dest, "wb") as fh:
                fh.write(content)
        return 0
    sys.stderr.write(__doc__)
    return 2


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv))
    except (RccError, OSError, struct.error, zlib.error) as exc:
        sys.stderr.write("extract-rcc.py: error: %s\n" % exc)
        sys.exit(1)
