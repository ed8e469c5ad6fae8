"""Losses and metrics by name, Keras's names included."""
from __future__ import annotations

import numpy as np

from . import _arrays, _core

_LOSSES = ["cross_entropy", "nll", "mse", "l1", "smooth_l1", "bce", "bce_with_logits", "kl_div"]
_ALIASES = {
    # Keras's sparse categorical cross-entropy on logits (from_logits=True):
    # bdl's cross_entropy takes logits, as PyTorch's does.
    "sparse_categorical_crossentropy": "cross_entropy",
    "mean_squared_error": "mse",
    "mean_absolute_error": "l1",
    "mae": "l1",
    "huber": "smooth_l1",
    "binary_crossentropy": "bce",
    "kld": "kl_div",
    "kl_divergence": "kl_div",
}
_METRICS = {"accuracy": "top1", "acc": "top1", "sparse_categorical_accuracy": "top1",
            "sparse_top_k_categorical_accuracy": "top5", "mean_absolute_error": "mae",
            "mean_squared_error": "mse", "root_mean_squared_error": "rmse"}


def name_of(loss) -> str:
    if isinstance(loss, Loss):
        return loss.name
    if not isinstance(loss, str):
        raise TypeError(f"loss: a name ({', '.join(_LOSSES)}) or bdl.losses.Loss, not "
                        f"{type(loss).__name__}")
    name = _ALIASES.get(loss, loss)
    if name not in _LOSSES:
        raise ValueError(f"loss: '{loss}' is not one of {', '.join(_LOSSES)} "
                         f"(or {', '.join(_ALIASES)})")
    return name


def metric_name(metric) -> str:
    if not isinstance(metric, str):
        raise TypeError(f"metrics: names only, not {type(metric).__name__}")
    return _METRICS.get(metric, metric)


class Loss:
    """A loss for a loop written in Python: value = loss(output, target),
    grad = loss.backward(output, target)."""

    def __init__(self, name: str = "cross_entropy"):
        self.name = name_of(name)
        self._c = _core.make_criterion(self.name)

    def _target(self, target):
        return _arrays.targets(target, "target", self._c.takes_class_indices)

    def __call__(self, output, target) -> float:
        return self._c.forward(_arrays.features(output, "output"), self._target(target))

    def backward(self, output, target) -> np.ndarray:
        return self._c.backward(_arrays.features(output, "output"), self._target(target))


def get(name: str) -> Loss:
    return Loss(name)
