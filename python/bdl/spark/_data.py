"""From DataFrame columns to the arrays a bdl worker trains on.

On the driver, prepare() turns the features column (a Spark ML vector, an
array of numbers, or one number) into array<float> and the label into a number,
so that every task receives plain Arrow lists. In a task, arrays_of() turns the
partition's Arrow batches into NumPy arrays without going through Python rows.
"""
from __future__ import annotations

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


def arrays_of(batches: Iterable, has_validation: bool, has_weight: bool):
    """(x, y, w, vx, vy, vw) of one partition's Arrow batches: the training rows
    and, when the stage carries them, the validation rows."""
    parts: dict[bool, dict[str, list]] = {False: {"x": [], "y": [], "w": []},
                                          True: {"x": [], "y": [], "w": []}}
    for batch in batches:
        if batch.num_rows == 0:
            continue
        flags = (batch.column(VALIDATION).to_numpy(zero_copy_only=False).astype(bool)
                 if has_validation else np.zeros(batch.num_rows, bool))
        x = matrix(batch.column(FEATURES), "features")
        label = batch.column(LABEL)
        if label.null_count:
            raise ValueError(f"label: {label.null_count} of {len(label)} rows are null")
        import pyarrow as pa
        if pa.types.is_list(label.type):
            y = matrix(label, "label")
        else:
            y = label.to_numpy(zero_copy_only=False)
        w = (batch.column(WEIGHT).to_numpy(zero_copy_only=False).astype(np.float32)
             if has_weight else None)
        for side in (False, True):
            keep = flags == side
            if not keep.any():
                continue
            parts[side]["x"].append(x[keep])
            parts[side]["y"].append(y[keep])
            if w is not None:
                parts[side]["w"].append(w[keep])

    def joined(side: bool):
        p = parts[side]
        if not p["x"]:
            return None, None, None
        return (np.concatenate(p["x"]), np.concatenate(p["y"]),
                np.concatenate(p["w"]) if p["w"] else None)

    x, y, w = joined(False)
    vx, vy, vw = joined(True)
    return x, y, w, vx, vy, vw
