#!/usr/bin/env python3
"""`bdl convert`'s shards read by other tools' code: TensorBoard's TFRecord
reader (its own framing and CRC-32C checks) and the protobuf wire decoder below,
written from the format's public definition. Every sample must come back equal
to its source, for Fashion-MNIST's image bytes and for a NumPy directory of
float features, value targets and weights.

    read_shards_with_tensorboard.py BDL_BINARY     (a CTest of label python)
"""
import gzip
import os
import struct
import subprocess
import sys
import tempfile

import numpy as np
from tensorboard.compat.tensorflow_stub import pywrap_tensorflow


def varint(buf, i):
    shift = value = 0
    while True:
        b = buf[i]
        i += 1
        value |= (b & 0x7F) << shift
        shift += 7
        if not b & 0x80:
            return value, i


def fields(buf):
    """(field number, payload) of each length-delimited field of a message."""
    i = 0
    while i < len(buf):
        tag, i = varint(buf, i)
        assert tag & 7 == 2, f"wire type {tag & 7}"
        n, i = varint(buf, i)
        yield tag >> 3, buf[i:i + n]
        i += n


def signed(v):
    return v - (1 << 64) if v >= 1 << 63 else v


def decode_example(buf):
    (number, features), = fields(buf)
    assert number == 1
    out = {}
    for _, entry in fields(features):
        parts = dict(fields(entry))
        name = parts[1].decode()
        (kind, body), = fields(parts[2])
        if kind == 1:
            out[name] = [v for _, v in fields(body)]
        elif kind == 2:
            packed = dict(fields(body)).get(1, b"")
            out[name] = list(struct.unpack("<%df" % (len(packed) // 4), packed))
        else:
            packed, values, i = dict(fields(body)).get(1, b""), [], 0
            while i < len(packed):
                v, i = varint(packed, i)
                values.append(signed(v))
            out[name] = values
    return out


def records(directory):
    for name in sorted(n for n in os.listdir(directory) if n.endswith(".tfrecord")):
        reader = pywrap_tensorflow.PyRecordReader_New(os.path.join(directory, name).encode())
        while True:
            try:
                reader.GetNext()
            except Exception:  # the stub's end of file
                break
            yield decode_example(reader.record())


def read_idx(path):
    with gzip.open(path, "rb") as f:
        data = f.read()
    ndim = data[3]
    dims = struct.unpack(">" + "I" * ndim, data[4:4 + 4 * ndim])
    return np.frombuffer(data, np.uint8, offset=4 + 4 * ndim).reshape(dims)


def convert(bdl, data, out, *flags):
    subprocess.run([bdl, "convert", "--data", data, "-o", out, *flags], check=True,
                   stdout=subprocess.DEVNULL)


def main():
    bdl = sys.argv[1]
    with tempfile.TemporaryDirectory() as tmp:
        fm = "/usr/share/datasets/fashion-mnist"
        convert(bdl, "fashion-mnist", os.path.join(tmp, "fm"), "--shards", "3")
        images = read_idx(f"{fm}/t10k-images-idx3-ubyte.gz")
        labels = read_idx(f"{fm}/t10k-labels-idx1-ubyte.gz")
        got = list(records(os.path.join(tmp, "fm", "test")))
        assert len(got) == len(images) == 10000, len(got)
        assert sorted(os.listdir(os.path.join(tmp, "fm", "test")))[0] == "MANIFEST"
        assert len(os.listdir(os.path.join(tmp, "fm", "test"))) == 4
        for i, e in enumerate(got):
            assert e["features"][0] == images[i].tobytes(), i
            assert e["shape"] == [1, 28, 28] and e["label"] == [int(labels[i])], i

        npy = os.path.join(tmp, "npy")
        os.makedirs(npy)
        rng = np.random.default_rng(1)
        x = rng.standard_normal((50, 3, 2)).astype(np.float32)
        y = rng.standard_normal((50, 2)).astype(np.float32)
        w = rng.random(50).astype(np.float32)
        for prefix in ("train", "test"):
            np.save(os.path.join(npy, f"{prefix}-features.npy"), x)
            np.save(os.path.join(npy, f"{prefix}-targets.npy"), y)
            np.save(os.path.join(npy, f"{prefix}-weights.npy"), w)
        convert(bdl, npy, os.path.join(tmp, "out"), "--shards", "4")
        got = list(records(os.path.join(tmp, "out", "train")))
        assert len(got) == 50
        for i, e in enumerate(got):
            assert np.array_equal(np.float32(e["features"]), x[i].ravel()), i
            assert e["shape"] == [3, 2], i
            assert np.array_equal(np.float32(e["label"]), y[i]), i
            assert np.float32(e["weight"][0]) == w[i], i
    print("bdl convert's shards read back by TensorBoard's reader: all samples equal")


if __name__ == "__main__":
    main()
