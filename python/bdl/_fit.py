"""fit and evaluate: arrays and callbacks to the C++ job (bdl._core.train)."""
from __future__ import annotations

import json
import os
import sys
from typing import Any

import numpy as np

from . import _arrays, _core
from . import callbacks as cbks


def _merge(into: dict, more: dict) -> None:
    for k, v in more.items():
        if isinstance(v, dict):
            _merge(into.setdefault(k, {}), v)
        else:
            into[k] = v


def _batches_to_arrays(data, name: str):
    """An iterable of (x, y) batches, gathered into two arrays."""
    xs, ys = [], []
    for i, item in enumerate(data):
        if not isinstance(item, (tuple, list)) or len(item) != 2:
            raise ValueError(f"{name}: batch {i} is not an (x, y) pair")
        xs.append(np.asarray(item[0]))
        ys.append(np.asarray(item[1]))
    if not xs:
        raise ValueError(f"{name}: no batches")
    return np.concatenate(xs), np.concatenate(ys)


def _xy(model, x, y, name: str, classes: bool):
    if y is None and x is not None and not isinstance(x, (str, np.ndarray)) and hasattr(x, "__iter__") \
            and not hasattr(x, "to_numpy"):
        x, y = _batches_to_arrays(x, name)
    if y is None:
        raise ValueError(f"{name}: y is missing (give x and y, or an iterable of (x, y) batches)")
    xs = _arrays.features(x, "x" if name == "fit" else f"{name} x")
    ys = _arrays.targets(y, "y" if name == "fit" else f"{name} y", classes)
    _arrays.check_samples(xs, ys, "x", "y")
    return xs, ys


def _takes_classes(loss: str) -> bool:
    return _core.make_criterion(loss).takes_class_indices


def _check_head(model, loss: str) -> None:
    module = model.net.module
    last = module
    while last.children():
        last = last.children()[-1]
    if loss == "cross_entropy" and last.type == "SoftMax":
        raise ValueError("loss cross_entropy takes logits, but the model ends with a softmax: "
                         "drop the softmax (predict() gives logits; softmax them after), or "
                         "end with LogSoftMax and use loss 'nll'")


def _class_weight_text(class_weight) -> str:
    """A class_weight dict (or "balanced") as the C++ core's CLASS:WEIGHT,... text."""
    if class_weight == "balanced":
        return "balanced"
    if not isinstance(class_weight, dict):
        raise TypeError("class_weight: a dict {class: weight} or \"balanced\"")
    items = []
    for c, weight in class_weight.items():
        if not isinstance(c, (int, np.integer)) or c < 0:
            raise ValueError(f"class_weight: key {c!r} is not a class index")
        items.append(f"{int(c)}:{float(weight)!r}")
    return ",".join(items)


def _sample_weights(class_weight, sample_weight, ys, classes: bool):
    w = _arrays.weights(sample_weight, "sample_weight", ys.shape[0])
    if class_weight is None:
        return w
    if not classes:
        raise ValueError("class_weight: needs a loss on class indices (cross_entropy, nll)")
    top = int(ys.max()) + 1 if ys.size else 0
    table = np.ones(max(top, 1), dtype=np.float32)
    for c, weight in class_weight.items():
        if not isinstance(c, (int, np.integer)) or c < 0:
            raise ValueError(f"class_weight: key {c!r} is not a class index")
        if c < top:
            table[c] = weight
    cw = table[ys]
    return cw if w is None else (w * cw).astype(np.float32)


class _Dispatch:
    """Calls the Python callbacks from the C++ loop's records."""

    def __init__(self, model, callbacks, labels: dict[str, str], rank: int):
        self.model, self.rank = model, rank
        self.callbacks = [c for c in callbacks if c.every_worker or rank == 0]
        self.labels = labels
        self.epoch = None
        self.history = {}

    def logs_of_epoch(self, record) -> dict[str, float]:
        logs = {"loss": record["train_loss"]}
        v = record.get("validation")
        if v:
            for key, value in v.items():
                if key == "samples":
                    continue
                logs["val_" + self.labels.get(key, key)] = value
        return logs

    def on_iteration(self, record) -> bool:
        epoch = record["epoch"] - 1
        if self.epoch != epoch:
            self.epoch = epoch
            for c in self.callbacks:
                c.on_epoch_begin(epoch, {})
        logs = {"loss": record["loss"], "learning_rate": record["learning_rate"],
                "batches": record["batches"], "samples_per_sec": record["samples_per_sec"]}
        if record["mean_loss"] is not None:
            logs["mean_loss"] = record["mean_loss"]
        for c in self.callbacks:
            c.on_train_batch_end(record["batch"] - 1, logs)
        return self.model.stop_training

    def on_epoch(self, record) -> bool:
        epoch = record["epoch"] - 1
        logs = self.logs_of_epoch(record)
        for key, value in logs.items():
            self.history.setdefault(key, []).append(value)
        for c in self.callbacks:
            c.on_epoch_end(epoch, logs)
        self.epoch = None
        return self.model.stop_training


def _arrays_of(model, x, y, loss, classes, validation_data, validation_split, class_weight,
               sample_weight):
    xs, ys = _xy(model, x, y, "fit", classes)
    w = _sample_weights(class_weight, sample_weight, ys, classes)
    model.build(xs.shape[1:])
    _check_head(model, loss)
    vx = vy = vw = None
    if validation_data is not None:
        if not isinstance(validation_data, (tuple, list)) or len(validation_data) not in (2, 3):
            raise ValueError("validation_data: give (x, y) or (x, y, sample_weight)")
        vx, vy = _xy(model, validation_data[0], validation_data[1], "validation_data", classes)
        if len(validation_data) == 3:
            vw = _arrays.weights(validation_data[2], "validation_data sample_weight", vy.shape[0])
    elif validation_split:
        if not 0 < validation_split < 1:
            raise ValueError(f"validation_split: must be in (0, 1), got {validation_split!r}")
        cut = int(len(xs) * (1 - validation_split))
        if cut < 1 or cut >= len(xs):
            raise ValueError(f"validation_split {validation_split} of {len(xs)} samples leaves "
                             "one side empty")
        xs, vx, ys, vy = xs[:cut], xs[cut:], ys[:cut], ys[cut:]
        if w is not None:
            w, vw = w[:cut], w[cut:]
    return xs, ys, w, vx, vy, vw


def _say(line: str) -> None:
    """The job's lines for the user (what it trains, checkpoints written), without
    the command line's prefix."""
    print(line[len("bdl train: "):] if line.startswith("bdl train: ") else line, flush=True)


def fit(model, x, y, *, batch_size, epochs, verbose, callbacks, validation_split,
        validation_data, shuffle, class_weight, sample_weight, seed, threads, sync,
        max_iterations, precision, worker_data=False):
    from .models import History
    compiled = model._needs_compile("fit")
    if not shuffle:
        raise ValueError("shuffle: bdl shuffles every epoch (seeded by seed=); shuffle=False "
                         "is not supported")
    if not isinstance(epochs, int) or epochs < 1:
        raise ValueError(f"epochs: must be a positive integer, got {epochs!r}")
    loss = compiled["loss"]
    classes = _takes_classes(loss)
    settings: dict[str, Any] = {
        "epochs": epochs, "batch_size": 32 if batch_size is None else batch_size,
        "loss": loss, "metrics": compiled["metrics"], "seed": seed, "threads": threads,
        "precision": precision, "max_iterations": max_iterations,
        "optimizer": dict(compiled["optimizer"].settings), "sync": dict(sync)}
    if worker_data:
        settings["worker_data"] = True
    for c in callbacks:
        if not isinstance(c, cbks.Callback):
            raise TypeError(f"callbacks: {c!r} is not a bdl.callbacks.Callback")
        if hasattr(c, "job_settings"):
            _merge(settings, c.job_settings())
    from .datasets import Source
    if isinstance(x, (str, os.PathLike)):
        x = Source(x)
    if isinstance(x, Source):
        if y is not None or validation_data is not None or validation_split:
            raise ValueError("x: a data source brings its own targets and test split; give "
                             "no y, validation_data or validation_split")
        if sample_weight is not None:
            raise ValueError("x: sample_weight with a data source is not supported; give "
                             "arrays, or weights in the source (a weights file, a record's "
                             "\"weight\")")
        model.build()
        _check_head(model, loss)
        settings["data"] = x.settings()
        if class_weight is not None:
            settings["data"]["class_weight"] = _class_weight_text(class_weight)
        xs = ys = w = vx = vy = vw = None
    else:
        xs, ys, w, vx, vy, vw = _arrays_of(model, x, y, loss, classes, validation_data,
                                           validation_split, class_weight, sample_weight)
    rank, _ = _core.world()
    if verbose == "auto":
        verbose = 1 if sys.stdout.isatty() else 2
    everything = list(callbacks)
    if verbose:
        everything.insert(0, cbks.ProgressBar(verbose))
    labels = dict(zip(compiled["metrics"], compiled["metric_labels"]))
    dispatch = _Dispatch(model, everything, labels, rank)
    model.stop_training = False
    for c in everything:
        c.set_model(model)
        c.params = {"epochs": epochs}
    for c in dispatch.callbacks:
        c.on_train_begin({})
    report_text = _core.train(model.net, settings, xs, ys, w, vx, vy, vw,
                              dispatch.on_iteration, dispatch.on_epoch,
                              _say if verbose and rank == 0 else None)
    report = json.loads(report_text)
    for c in dispatch.callbacks:
        c.on_train_end({})
    history = History()
    history.history = dispatch.history
    history.epoch = list(range(len(next(iter(dispatch.history.values()), []))))
    history.report = report
    model.history = history
    return history


def evaluate(model, x, y, *, batch_size, sample_weight, return_dict):
    compiled = model._needs_compile("evaluate")
    loss = compiled["loss"]
    xs, ys = _xy(model, x, y, "evaluate", _takes_classes(loss))
    w = _arrays.weights(sample_weight, "sample_weight", ys.shape[0])
    result = _core.evaluate(model.net, xs, ys, w, loss, compiled["metrics"], batch_size or 256)
    labels = dict(zip(compiled["metrics"], compiled["metric_labels"]))
    named = {"loss": result["loss"]}
    for key, value in result.items():
        if key not in ("loss", "samples"):
            named[labels.get(key, key)] = value
    if return_dict:
        return named
    if len(named) == 1:
        return named["loss"]
    return list(named.values())
