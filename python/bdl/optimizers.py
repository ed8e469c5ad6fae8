"""Optimisation methods and their learning-rate schedules."""
from __future__ import annotations

from typing import Any

from . import _core


class Optimizer:
    """A method with its settings. In compile(), the job runs it sharded (each
    worker updates its slice); step(model) updates a model from a loop written
    in Python."""

    name = ""

    def __init__(self, learning_rate: float = 0.01, momentum: float = 0.0,
                 weight_decay: float = 0.0, schedule: str = "none", warmup_epochs: int = 0,
                 **extra):
        self.settings: dict[str, Any] = {"name": self.name, "lr": float(learning_rate),
                                         "momentum": float(momentum),
                                         "weight_decay": float(weight_decay),
                                         "schedule": schedule,
                                         "warmup_epochs": int(warmup_epochs), **extra}
        self._method = None

    @property
    def learning_rate(self) -> float:
        return self.settings["lr"]

    def step(self, model) -> None:
        """Updates the model's parameters from their gradients (after backward)."""
        if self._method is None:
            s = self.settings
            self._method = _core.make_method(s["name"], s["lr"], s["momentum"], s["weight_decay"])
        self._method.step(model.net.module)

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.settings.items() if k != "name")
        return f"{type(self).__name__}({args})"


class SGD(Optimizer):
    name = "sgd"


class Adam(Optimizer):
    name = "adam"

    def __init__(self, learning_rate: float = 0.001, **kw):
        super().__init__(learning_rate, **kw)


class AdamW(Optimizer):
    name = "adamw"

    def __init__(self, learning_rate: float = 0.001, weight_decay: float = 0.01, **kw):
        super().__init__(learning_rate, weight_decay=weight_decay, **kw)


class Adagrad(Optimizer):
    name = "adagrad"


class RMSprop(Optimizer):
    name = "rmsprop"

    def __init__(self, learning_rate: float = 0.001, **kw):
        super().__init__(learning_rate, **kw)


class LARS(Optimizer):
    name = "lars"

    def __init__(self, learning_rate: float = 0.1, momentum: float = 0.9,
                 trust_coefficient: float = 0.001, **kw):
        super().__init__(learning_rate, momentum=momentum, trust_coefficient=trust_coefficient,
                         **kw)


_BY_NAME = {c.name: c for c in (SGD, Adam, AdamW, Adagrad, RMSprop, LARS)}


def get(optimizer) -> Optimizer:
    if isinstance(optimizer, Optimizer):
        return optimizer
    if isinstance(optimizer, str) and optimizer.lower() in _BY_NAME:
        return _BY_NAME[optimizer.lower()]()
    raise ValueError(f"optimizer: {optimizer!r} is not one of {', '.join(_BY_NAME)} or a "
                     "bdl.optimizers.Optimizer")
