"""From DataFrame columns to the arrays a bdl worker trains on.

On the driver, prepare() turns the features column (a Spark ML vector, an
array of numbers, or one number) into array<float> and the label into a number,
so that every task receives plain Arrow lists. In a task, Share reads the
partition's Arrow batches into NumPy arrays without going through Python rows,
or spills them to local record shards when they exceed the memory budget.
"""
from __future__ import annotations

import os
import shutil
from typing import Iterable

import numpy as np

FEATURES = "__bdl_features"
LABEL = "__bdl_label"
WEIGHT = "__bdl_weight"
VALIDATION = "__bdl_validation"


def features_column(df, name: str):
    """The column `name` of df as array<float>, or a TypeError naming it."""
    from pyspark.ml.functions import vector_to_array
    from pyspark.ml.linalg import VectorUDT
    from pyspark.sql import functions as F
    from pyspark.sql import types as T
    if name not in df.columns:
        raise ValueError(f"featuresCol '{name}' is not a column of the DataFrame "
                         f"(columns: {', '.join(df.columns)})")
    t = df.schema[name].dataType
    if isinstance(t, VectorUDT):
        return vector_to_array(F.col(name), "float32")
    if isinstance(t, T.ArrayType) and isinstance(t.elementType, T.NumericType):
        return F.col(name).cast("array<float>")
    if isinstance(t, T.NumericType):
        return F.array(F.col(name).cast("float"))
    raise TypeError(f"featuresCol '{name}' is {t.simpleString()}: bdl trains on a vector "
                    "(VectorAssembler), an array of numbers, or one number")


def label_column(df, name: str, classes: bool):
    """The label as a long (class index) or float(s), or an error naming it."""
    from pyspark.sql import functions as F
    from pyspark.sql import types as T
    if name not in df.columns:
        raise ValueError(f"labelCol '{name}' is not a column of the DataFrame "
                         f"(columns: {', '.join(df.columns)})")
    t = df.schema[name].dataType
    if classes:
        if not isinstance(t, T.NumericType):
            raise TypeError(f"labelCol '{name}' is {t.simpleString()}: a classifier needs class "
                            "indices 0, 1, ... (StringIndexer makes them from strings)")
        return F.col(name).cast("long")
    if isinstance(t, T.ArrayType) and isinstance(t.elementType, T.NumericType):
        return F.col(name).cast("array<float>")
    if isinstance(t, T.NumericType):
        return F.array(F.col(name).cast("float"))
    from pyspark.ml.linalg import VectorUDT
    if isinstance(t, VectorUDT):
        from pyspark.ml.functions import vector_to_array
        return vector_to_array(F.col(name), "float32")
    raise TypeError(f"labelCol '{name}' is {t.simpleString()}: bdl needs a number, an array of "
                    "numbers or a vector")


def matrix(column, what: str) -> np.ndarray:
    """A list<float> Arrow array of equal-length rows as an (n, d) float32 array."""
    import pyarrow as pa
    import pyarrow.compute as pc
    if isinstance(column, pa.ChunkedArray):
        column = column.combine_chunks()
    n = len(column)
    if column.null_count:
        raise ValueError(f"{what}: {column.null_count} of {n} rows are null (drop them, or use "
                         "VectorAssembler(handleInvalid='skip'))")
    if n == 0:
        return np.zeros((0, 0), np.float32)
    lengths = pc.list_value_length(column)
    low, high = pc.min(lengths).as_py(), pc.max(lengths).as_py()
    if low != high:
        raise ValueError(f"{what}: rows hold from {low} to {high} values; every row needs the "
                         "same length")
    values = column.flatten()
    if values.null_count:
        raise ValueError(f"{what}: {values.null_count} values inside the rows are null")
    return values.to_numpy(zero_copy_only=False).astype(np.float32, copy=False).reshape(n, low)


def _rows_of(batch, has_validation: bool, has_weight: bool):
    """(side, x, y, w) of one Arrow batch, for each side (training False,
    validation True) that has rows in it."""
    import pyarrow as pa
    flags = (batch.column(VALIDATION).to_numpy(zero_copy_only=False).astype(bool)
             if has_validation else np.zeros(batch.num_rows, bool))
    x = matrix(batch.column(FEATURES), "features")
    label = batch.column(LABEL)
    if label.null_count:
        raise ValueError(f"label: {label.null_count} of {len(label)} rows are null")
    y = matrix(label, "label") if pa.types.is_list(label.type) \
        else label.to_numpy(zero_copy_only=False)
    w = (batch.column(WEIGHT).to_numpy(zero_copy_only=False).astype(np.float32)
         if has_weight else None)
    for side in (False, True):
        keep = flags == side
        if keep.any():
            yield side, x[keep], y[keep], (w[keep] if w is not None else None)


class Share:
    """One worker's partition, read from its Arrow batches: kept in memory as
    NumPy arrays while it fits budget_bytes, else spilled once to record shards
    in a directory of its own under spill_root (written in pieces of about
    piece_bytes as the batches arrive, so memory stays near a piece), which
    every epoch then streams from this machine's disk.

    After read(): spilled is None and x, y, w, vx, vy, vw hold the arrays, or
    spilled is the directory (train/ and, with validation rows, test/ record
    shards) and rows counts the training rows."""

    def __init__(self, sample_shape, budget_bytes: float, spill_root: str,
                 piece_bytes: int = 64 << 20):
        self.shape = tuple(int(d) for d in sample_shape)
        self.budget, self.root, self.piece_bytes = budget_bytes, spill_root, piece_bytes
        self.parts = {False: [], True: []}  # pending (x, y, w) per side
        self.pending = {False: 0, True: 0}  # their bytes
        self.pieces = {False: 0, True: 0}   # pieces written per side
        self.rows = 0
        self.spilled: str | None = None
        self.x = self.y = self.w = self.vx = self.vy = self.vw = None

    def read(self, batches: Iterable, has_validation: bool, has_weight: bool) -> "Share":
        for batch in batches:
            if batch.num_rows == 0:
                continue
            for side, x, y, w in _rows_of(batch, has_validation, has_weight):
                width = int(np.prod(self.shape))
                if x.shape[1] != width:
                    raise ValueError(f"bdl.spark: the features hold {x.shape[1]} values per row, "
                                     f"the model takes input of shape {self.shape} ({width} "
                                     "values)")
                x = x.reshape((len(x), *self.shape))
                self.parts[side].append((x, y, w))
                self.pending[side] += x.nbytes + y.nbytes + (w.nbytes if w is not None else 0)
                if not side:
                    self.rows += len(x)
                if self.spilled is None and sum(self.pending.values()) > self.budget:
                    import tempfile
                    os.makedirs(self.root, exist_ok=True)
                    self.spilled = tempfile.mkdtemp(prefix="bdl-share-", dir=self.root)
                if self.spilled is not None and self.pending[side] >= self.piece_bytes:
                    self._write(side)
        if self.spilled is not None:
            for side in (False, True):
                if self.parts[side]:
                    self._write(side)
        else:
            self.x, self.y, self.w = canonical_order(*self._joined(False))
            self.vx, self.vy, self.vw = self._joined(True)
        return self

    def _joined(self, side: bool):
        p = self.parts[side]
        if not p:
            return None, None, None
        return (np.concatenate([r[0] for r in p]), np.concatenate([r[1] for r in p]),
                np.concatenate([r[2] for r in p]) if p[0][2] is not None else None)

    def _write(self, side: bool) -> None:
        """The side's pending rows as one more shard of the spilled share:
        <dir>/train/part-NNNNN.tfrecord (test/ for validation rows)."""
        from .. import datasets
        x, y, w = self._joined(side)
        self.parts[side], self.pending[side] = [], 0
        split = "test" if side else "train"
        staging = os.path.join(self.spilled, f".piece-{split}")
        datasets.write_record_shards(staging, x, y, sample_weight=w, split=split, shards=1)
        os.makedirs(os.path.join(self.spilled, split), exist_ok=True)
        written = [f for f in os.listdir(os.path.join(staging, split)) if f.endswith(".tfrecord")]
        os.replace(os.path.join(staging, split, written[0]),
                   os.path.join(self.spilled, split, f"part-{self.pieces[side]:05d}.tfrecord"))
        shutil.rmtree(staging)
        self.pieces[side] += 1

    def remove(self) -> None:
        if self.spilled is not None:
            shutil.rmtree(self.spilled, ignore_errors=True)


def canonical_order(x, y, w):
    """The rows sorted by a hash of their contents (features, label, weight):
    after a shuffle, Spark delivers a partition's rows in the order their blocks
    arrive, which differs between attempts; training depends on the rows only
    through this order and the seeded shuffles, so a retried fit trains on the
    same batches as the interrupted one."""
    if x is None or len(x) < 2:
        return x, y, w
    n = len(x)
    words = []
    for part in (x, y, w):
        if part is None:
            continue
        b = np.ascontiguousarray(part).reshape(n, -1).view(np.uint8)
        pad = (-b.shape[1]) % 4
        if pad:
            b = np.concatenate([b, np.zeros((n, pad), np.uint8)], axis=1)
        words.append(b.view(np.uint32))
    multipliers = [np.random.default_rng(0x5EED + i).integers(1, 1 << 63, p.shape[1],
                                                              dtype=np.uint64) | np.uint64(1)
                   for i, p in enumerate(words)]
    key = np.zeros(n, np.uint64)
    rows = max(1, (1 << 22) // sum(p.shape[1] for p in words))  # about 32 MB of temporaries
    with np.errstate(over="ignore"):
        for first in range(0, n, rows):
            last = min(n, first + rows)
            k = key[first:last]
            for p, m in zip(words, multipliers):
                k *= np.uint64(0x9E3779B97F4A7C15)
                k += (p[first:last].astype(np.uint64) * m).sum(axis=1, dtype=np.uint64)
    order = np.argsort(key, kind="stable")
    return x[order], y[order], (w[order] if w is not None else None)


def spill_root() -> str:
    """Where a task spills: the executor's local directories (Spark's
    SPARK_LOCAL_DIRS, YARN's LOCAL_DIRS), else the system's temporary one."""
    import tempfile
    for var in ("SPARK_LOCAL_DIRS", "LOCAL_DIRS"):
        first = os.environ.get(var, "").split(",")[0]
        if first:
            return first
    return tempfile.gettempdir()
