"""NumPy arrays (and pandas frames) as the C++ core takes them."""
from __future__ import annotations

import numpy as np

_FLOAT_KINDS = "fiub"


def features(x, name: str) -> np.ndarray:
    """x as C-contiguous float32: no copy when it is one already, else one copy."""
    x = _as_array(x, name)
    if x.dtype.kind not in _FLOAT_KINDS:
        raise TypeError(f"{name}: dtype {x.dtype} is not a number type (give float32, "
                        "another float or integer type, or bool)")
    if x.ndim < 1:
        raise ValueError(f"{name}: a scalar is not a batch; give an array of shape (samples, ...)")
    return np.ascontiguousarray(x, dtype=np.float32)


def targets(y, name: str, classes: bool) -> np.ndarray:
    """y as int64 class indices (classes) or float32 values."""
    y = _as_array(y, name)
    if y.ndim < 1:
        raise ValueError(f"{name}: a scalar is not a batch; give one target per sample")
    if classes:
        if y.ndim == 2 and y.shape[1] == 1:
            y = y[:, 0]
        if y.ndim != 1:
            raise ValueError(f"{name}: class indices are one per sample, shape (samples,); got "
                             f"shape {y.shape} (one-hot rows? give y.argmax(1), or a loss on "
                             "values)")
        if y.dtype.kind == "f":
            if not np.all(np.isfinite(y)) or not np.all(y == np.round(y)):
                raise ValueError(f"{name}: class indices must be whole numbers")
        elif y.dtype.kind not in "iub":
            raise TypeError(f"{name}: dtype {y.dtype} is not an integer type for class indices")
        return np.ascontiguousarray(y, dtype=np.int64)
    if y.dtype.kind not in _FLOAT_KINDS:
        raise TypeError(f"{name}: dtype {y.dtype} is not a number type")
    if y.ndim == 1:
        y = y.reshape(-1, 1)
    return np.ascontiguousarray(y, dtype=np.float32)


def weights(w, name: str, samples: int) -> np.ndarray | None:
    if w is None:
        return None
    w = _as_array(w, name)
    if w.shape != (samples,):
        raise ValueError(f"{name}: one weight per sample, shape ({samples},); got {w.shape}")
    if w.dtype.kind not in "fiu":
        raise TypeError(f"{name}: dtype {w.dtype} is not a number type")
    return np.ascontiguousarray(w, dtype=np.float32)


def check_samples(x: np.ndarray, y: np.ndarray, x_name: str, y_name: str) -> None:
    if x.shape[0] != y.shape[0]:
        raise ValueError(f"{x_name} has {x.shape[0]} samples but {y_name} has {y.shape[0]}")
    if x.shape[0] == 0:
        raise ValueError(f"{x_name}: no samples")


def _as_array(a, name: str) -> np.ndarray:
    if hasattr(a, "to_numpy") and not isinstance(a, np.ndarray):  # pandas
        a = a.to_numpy()
    if isinstance(a, np.ndarray):
        return a
    try:
        return np.asarray(a)
    except Exception as e:  # noqa: BLE001 - the reason is in the message
        raise TypeError(f"{name}: not an array ({type(a).__name__}): {e}") from None
