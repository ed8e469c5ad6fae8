"""Datasets as NumPy arrays, Keras's way: (x_train, y_train), (x_test, y_test)."""
from __future__ import annotations

import gzip
import os

import numpy as np

FASHION_MNIST = "/usr/share/datasets/fashion-mnist"  # Debian's dataset-fashion-mnist


class Source:
    """A data source the C++ core reads itself, for fit(x=Source(...)): "fashion-mnist",
    a directory of MNIST's four IDX files, a partitioned directory written by
    `bdl split` (each worker loads only its own parts), a NumPy directory
    (train-features.npy, train-targets.npy, ...), or record shards
    (DIR/{train,test}/part-*.tfrecord, written by `bdl convert` or
    write_record_shards), streamed from disk with memory that does not grow with
    them, each worker reading its own shards. Validation uses its test split.
    A CSV or TSV table (FILE.csv, or a directory with train.csv and test.csv)
    is parsed by the C++ core in parallel: label_column names the label,
    feature_columns the features (default: all others), text columns become
    category indices, and missing values are an error or filled ("zero",
    "mean"); standardize scales numeric features to mean 0 and deviation 1 with
    the training file's statistics; one_hot makes text columns one-hot columns.
    An image folder (one sub-folder of JPEG and PNG files per class, or
    DIR/train with DIR/test or DIR/val) is decoded at the model's input size as
    it streams, by decode_threads background threads; augment is the training
    images' transform: "none" (resize and centre crop), "flip", "standard"
    (random resized crop and flip) or "strong" (and colour jitter).
    Image bytes of IDX files and shards are normalised with Fashion-MNIST's
    mean and deviation; images of folders with ImageNet's per channel (0.5 and
    0.5 for grey).
    skip_bad_records: damaged records of shards and images that do not decode
    are skipped and counted (the report's "skipped_records") instead of
    stopping training."""

    def __init__(self, path: str, train_samples: int | None = None,
                 validation_samples: int | None = None, skip_bad_records: bool = False,
                 label_column: str | None = None, feature_columns=None,
                 missing: str = "error", standardize: bool = False, one_hot: bool = False,
                 augment: str = "none",
                 decode_threads: int = 1):
        self.path = os.fspath(path)
        self.train_samples, self.validation_samples = train_samples, validation_samples
        self.skip_bad_records = bool(skip_bad_records)
        self.label_column = label_column
        self.feature_columns = None if feature_columns is None else [str(c) for c in feature_columns]
        if missing not in ("error", "zero", "mean"):
            raise ValueError(f"missing: 'error', 'zero' or 'mean', got {missing!r}")
        self.missing = missing
        self.standardize = bool(standardize)
        self.one_hot = bool(one_hot)
        if augment not in ("none", "flip", "standard", "strong"):
            raise ValueError(f"augment: 'none', 'flip', 'standard' or 'strong', got {augment!r}")
        self.augment = augment
        if int(decode_threads) < 1:
            raise ValueError(f"decode_threads: at least 1, got {decode_threads!r}")
        self.decode_threads = int(decode_threads)

    def settings(self) -> dict:
        return {"source": self.path, "train_samples": self.train_samples,
                "validation_samples": self.validation_samples,
                "skip_bad_records": self.skip_bad_records, "label_column": self.label_column,
                "feature_columns": self.feature_columns, "missing": self.missing,
                "standardize": self.standardize, "one_hot": self.one_hot,
                "augment": self.augment,
                "decode_threads": self.decode_threads}

    def __repr__(self) -> str:
        return f"Source({self.path!r})"


def write_record_shards(directory: str, x, y, sample_weight=None, split: str = "train",
                        shards: int = 1) -> None:
    """Writes arrays as record shards, DIR/<split>/part-NNNNN-of-MMMMM.tfrecord of
    tf.train.Example records and a MANIFEST, for Source(DIR): x uint8 (kept as
    bytes, normalised when batches are made) or float32, y int64 class indices or
    float32 values, an optional float32 weight per sample. The split is replaced
    whole; a failure leaves an older one as it was."""
    from . import _arrays, _core
    x_raw = _arrays._as_array(x, "x")
    xs = np.ascontiguousarray(x_raw) if x_raw.dtype == np.uint8 else _arrays.features(x, "x")
    y_raw = _arrays._as_array(y, "y")
    ys = _arrays.targets(y, "y", classes=y_raw.dtype.kind in "iu")
    _arrays.check_samples(xs, ys, "x", "y")
    w = _arrays.weights(sample_weight, "sample_weight", xs.shape[0])
    _core.write_record_shards(xs, ys, w, os.fspath(directory), split, int(shards))


def write_image_folder(directory: str, x, y, classes=None, format: str = "png",
                       quality: int = 90, size=None, threads: int = 1) -> None:
    """Writes images as an image folder for Source(DIR): DIR/CLASS/NNNNNN.png (or
    .jpg with format="jpeg"), x uint8 of (N, H, W) grey or (N, H, W, C) with C 1
    or 3, y integer class indices, classes the folder names (default "0", "1",
    ...). size=(height, width) resizes first (antialiased bilinear)."""
    from . import _arrays, _core
    xs = np.ascontiguousarray(_arrays._as_array(x, "x"))
    if xs.dtype != np.uint8:
        raise ValueError(f"x: uint8 pixels, got {xs.dtype}")
    ys = np.ascontiguousarray(_arrays._as_array(y, "y"), dtype=np.int64)
    height, width = (0, 0) if size is None else (int(size[0]), int(size[1]))
    _core.write_image_folder(xs, ys, [] if classes is None else [str(c) for c in classes],
                             os.fspath(directory), format, int(quality), height, width,
                             int(threads))


def read_csv(path: str, label_column: str, feature_columns=None, missing: str = "error",
             standardize: bool = False, one_hot: bool = False, threads: int = 0):
    """A CSV or TSV table (header row) parsed by the C++ core, in parallel over byte
    ranges: returns (x, y, info). x is float32 (rows, features); text columns
    become category indices in sorted order of their values. y is int64 classes
    (a text label, or whole non-negative numbers) or float32 values. info holds
    "features" (the columns in x's order), "categories" (each text column's
    values in index order) and "classes" (a text label's values). Missing values
    (empty, NA, NaN, null) are an error naming line and column, or filled with
    "zero" or the column's "mean". standardize: numeric columns to mean 0 and
    deviation 1. one_hot: text columns as one-hot columns ("COLUMN=VALUE" in
    "features") instead of indices."""
    from . import _core
    x, y, features, categories, classes = _core.read_csv(
        os.fspath(path), label_column, [] if feature_columns is None else list(feature_columns),
        missing, bool(standardize), bool(one_hot), int(threads))
    return x, y, {"features": list(features), "categories": dict(categories),
                  "classes": list(classes)}


def _read_idx(path: str) -> np.ndarray:
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rb") as f:
        data = f.read()
    if len(data) < 4 or data[0] != 0 or data[1] != 0 or data[2] != 0x08:
        raise ValueError(f"{path}: not an IDX file of unsigned bytes")
    dims = data[3]
    header = 4 + 4 * dims
    if len(data) < header:
        raise ValueError(f"{path}: truncated header")
    shape = tuple(int.from_bytes(data[4 + 4 * i: 8 + 4 * i], "big") for i in range(dims))
    count = int(np.prod(shape, dtype=np.int64))
    if len(data) - header != count:
        raise ValueError(f"{path}: {len(data) - header} bytes of data for shape {shape}")
    return np.frombuffer(data, dtype=np.uint8, offset=header).reshape(shape)


def _find(directory: str, stem: str) -> str:
    for name in (stem + ".gz", stem):
        path = os.path.join(directory, name)
        if os.path.exists(path):
            return path
    raise FileNotFoundError(f"{directory}: no {stem}[.gz] (install Debian's dataset-fashion-mnist, "
                            "or give the directory of MNIST's four IDX files)")


def fashion_mnist(directory: str = FASHION_MNIST):
    """Fashion-MNIST (or MNIST from its directory): uint8 images (N, 28, 28) and
    int64 labels, as ((x_train, y_train), (x_test, y_test))."""
    out = []
    for split in ("train", "t10k"):
        x = _read_idx(_find(directory, f"{split}-images-idx3-ubyte"))
        y = _read_idx(_find(directory, f"{split}-labels-idx1-ubyte")).astype(np.int64)
        if len(x) != len(y):
            raise ValueError(f"{directory}: {split} has {len(x)} images but {len(y)} labels")
        out.append((x, y))
    return tuple(out)
