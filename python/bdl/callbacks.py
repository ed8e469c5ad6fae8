"""Callbacks of fit(), Keras's way. Most run in Python at the end of batches
and epochs; BackupAndRestore (checkpoints and resume), TensorBoard and
LearningRateScheduler set up the C++ job, which does the work."""
from __future__ import annotations

import csv
import math
import os
import sys
import time
from typing import Any, Callable


class Callback:
    """Override what you need; self.model is the model being trained. Set
    self.model.stop_training = True to stop (every worker stops together)."""

    model = None
    # Called on every worker when True, on rank 0 only when False (printing, files).
    every_worker = False

    def set_model(self, model) -> None:
        self.model = model

    def on_train_begin(self, logs: dict | None = None) -> None: ...
    def on_train_end(self, logs: dict | None = None) -> None: ...
    def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None: ...
    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None: ...
    def on_train_batch_end(self, batch: int, logs: dict | None = None) -> None: ...


class ProgressBar(Callback):
    """A bar per epoch with the loss, samples per second and the time left, the
    way Keras and tqdm show it (verbose=1), or one line per epoch (verbose=2)."""

    def __init__(self, verbose: int = 1, stream=None):
        self.verbose, self.stream = verbose, stream or sys.stdout
        self._last_draw = 0.0

    def on_epoch_begin(self, epoch, logs=None):
        self._start = time.monotonic()

    def on_train_batch_end(self, batch, logs=None):
        if self.verbose != 1:
            return
        now = time.monotonic()
        done, total = batch + 1, logs.get("batches", 0)
        if now - self._last_draw < 0.1 and done < total:
            return
        self._last_draw = now
        elapsed = now - self._start
        rate = logs.get("samples_per_sec") or 0.0
        left = elapsed / done * (total - done) if done else 0.0
        width = 28
        filled = int(width * done / total) if total else width
        bar = "=" * max(filled - 1, 0) + (">" if filled < width else "=") + "." * (width - filled)
        loss = logs.get("mean_loss", logs.get("loss"))
        line = (f"\r{done}/{total} [{bar}] - ETA {_duration(left)} - loss {loss:.4f}"
                + (f" - {rate:,.0f} samples/s" if rate else ""))
        self.stream.write(line)
        self.stream.flush()

    def on_epoch_end(self, epoch, logs=None):
        elapsed = time.monotonic() - self._start
        parts = [f"{k} {v:.4f}" for k, v in (logs or {}).items() if isinstance(v, float)]
        total = getattr(self, "params", {}).get("epochs")
        head = f"epoch {epoch + 1}" + (f"/{total}" if total else "")
        if self.verbose == 1:
            self.stream.write("\r" + " " * 100 + "\r")
        self.stream.write(f"{head} - {_duration(elapsed)} - " + " - ".join(parts) + "\n")
        self.stream.flush()


def _duration(seconds: float) -> str:
    seconds = int(round(seconds))
    if seconds >= 3600:
        return f"{seconds // 3600}:{seconds % 3600 // 60:02d}:{seconds % 60:02d}"
    return f"{seconds // 60}:{seconds % 60:02d}" if seconds >= 60 else f"{seconds}s"


class EarlyStopping(Callback):
    """Stops when `monitor` has not improved by min_delta for `patience` epochs;
    with restore_best_weights the model ends with its best epoch's weights."""

    every_worker = True  # every worker sees the same metrics and decides alike

    def __init__(self, monitor: str = "val_loss", min_delta: float = 0.0, patience: int = 0,
                 mode: str = "auto", baseline: float | None = None,
                 restore_best_weights: bool = False):
        if mode not in ("auto", "min", "max"):
            raise ValueError(f"EarlyStopping: mode must be auto, min or max, got {mode!r}")
        self.monitor, self.min_delta, self.patience = monitor, abs(min_delta), patience
        self.baseline, self.restore_best_weights = baseline, restore_best_weights
        if mode == "auto":
            mode = "max" if any(k in monitor for k in ("acc", "auc", "top", "precision",
                                                          "recall", "f1")) else "min"
        self.mode = mode
        self.stopped_epoch = 0

    def on_train_begin(self, logs=None):
        self.wait, self.best_weights = 0, None
        self.best = self.baseline if self.baseline is not None else (
            math.inf if self.mode == "min" else -math.inf)

    def _better(self, value: float) -> bool:
        if self.mode == "min":
            return value < self.best - self.min_delta
        return value > self.best + self.min_delta

    def on_epoch_end(self, epoch, logs=None):
        value = (logs or {}).get(self.monitor)
        if value is None:
            raise KeyError(f"EarlyStopping: no '{self.monitor}' in the logs (have: "
                           f"{', '.join(sorted(logs or {}))}); validation_data gives val_ names")
        if self._better(value):
            self.best, self.wait = value, 0
            if self.restore_best_weights:
                self.best_weights = self.model.get_weights()
            return
        self.wait += 1
        if self.wait > self.patience:
            self.stopped_epoch = epoch
            self.model.stop_training = True

    def on_train_end(self, logs=None):
        if self.restore_best_weights and self.best_weights is not None:
            self.model.set_weights(self.best_weights)


class CSVLogger(Callback):
    """One row per epoch (epoch and every log) in a CSV file."""

    def __init__(self, filename: str, separator: str = ",", append: bool = False):
        self.filename, self.separator, self.append = os.fspath(filename), separator, append
        self._keys: list[str] | None = None

    def on_train_begin(self, logs=None):
        exists = self.append and os.path.exists(self.filename)
        self._file = open(self.filename, "a" if self.append else "w", newline="")
        self._writer = None
        self._header = not exists

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        if self._writer is None:
            self._keys = sorted(logs)
            self._writer = csv.writer(self._file, delimiter=self.separator)
            if self._header:
                self._writer.writerow(["epoch", *self._keys])
        self._writer.writerow([epoch, *(logs.get(k, "") for k in self._keys)])
        self._file.flush()

    def on_train_end(self, logs=None):
        self._file.close()


class LambdaCallback(Callback):
    def __init__(self, on_epoch_end: Callable | None = None,
                 on_train_batch_end: Callable | None = None,
                 on_train_begin: Callable | None = None, on_train_end: Callable | None = None):
        self._fns = {"on_epoch_end": on_epoch_end, "on_train_batch_end": on_train_batch_end,
                     "on_train_begin": on_train_begin, "on_train_end": on_train_end}

    def on_epoch_end(self, epoch, logs=None):
        if self._fns["on_epoch_end"]:
            self._fns["on_epoch_end"](epoch, logs)

    def on_train_batch_end(self, batch, logs=None):
        if self._fns["on_train_batch_end"]:
            self._fns["on_train_batch_end"](batch, logs)

    def on_train_begin(self, logs=None):
        if self._fns["on_train_begin"]:
            self._fns["on_train_begin"](logs)

    def on_train_end(self, logs=None):
        if self._fns["on_train_end"]:
            self._fns["on_train_end"](logs)


class ModelCheckpoint(Callback):
    """Saves the model (bdl's format, or ONNX for .onnx) at the end of epochs:
    filepath may hold {epoch} and log names ({val_loss:.3f}). With
    save_best_only, only when `monitor` improves."""

    def __init__(self, filepath: str, monitor: str = "val_loss", save_best_only: bool = False,
                 mode: str = "auto"):
        self.filepath, self.monitor, self.save_best_only = os.fspath(filepath), monitor, save_best_only
        if mode == "auto":
            mode = "max" if "acc" in monitor or "top" in monitor else "min"
        self.mode = mode
        self.best = math.inf if mode == "min" else -math.inf

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        if self.save_best_only:
            value = logs.get(self.monitor)
            if value is None:
                raise KeyError(f"ModelCheckpoint: no '{self.monitor}' in the logs")
            better = value < self.best if self.mode == "min" else value > self.best
            if not better:
                return
            self.best = value
        self.model.save(self.filepath.format(epoch=epoch + 1, **logs))


# ---- callbacks the C++ job carries out ------------------------------------------


class BackupAndRestore(Callback):
    """Checkpoints in backup_dir (every epoch, or every save_freq iterations)
    and, when fit starts, resumes from the newest one there that loads: a job
    killed and started again continues where it stopped, bit for bit. keep: the
    newest checkpoints kept."""

    def __init__(self, backup_dir: str, save_freq="epoch", keep: int = 2):
        self.backup_dir, self.keep = os.fspath(backup_dir), keep
        if save_freq != "epoch" and (not isinstance(save_freq, int) or save_freq < 1):
            raise ValueError(f"BackupAndRestore: save_freq must be 'epoch' or a positive "
                             f"number of iterations, got {save_freq!r}")
        self.save_freq = save_freq

    def job_settings(self) -> dict[str, Any]:
        return {"checkpoint": {"dir": self.backup_dir, "keep": self.keep, "resume": True,
                               "every": 0 if self.save_freq == "epoch" else self.save_freq}}


class TensorBoard(Callback):
    """TensorBoard summaries written by the C++ job into log_dir/train and
    log_dir/validation: loss, learning rate and throughput per iteration (every
    update_freq iterations when it is a number), epoch scalars, every validation
    metric, and with histogram_freq > 0 histograms of weights and gradients."""

    def __init__(self, log_dir: str = "logs", histogram_freq: int = 0, update_freq="epoch"):
        self.log_dir = os.fspath(log_dir)
        self.histogram_freq = histogram_freq
        if update_freq not in ("epoch", "batch") and (
                not isinstance(update_freq, int) or update_freq < 1):
            raise ValueError(f"TensorBoard: update_freq must be 'epoch', 'batch' or a positive "
                             f"integer, got {update_freq!r}")
        self.update_freq = update_freq

    def job_settings(self) -> dict[str, Any]:
        every = self.update_freq if isinstance(self.update_freq, int) else (
            1 if self.update_freq == "batch" else 100)
        return {"summary": {"dir": self.log_dir, "every": every,
                            "histograms": self.histogram_freq > 0}}


class LearningRateScheduler(Callback):
    """schedule(epoch, lr) -> the learning rate of that epoch (epoch from 0, lr
    the base rate), asked once per epoch on every worker."""

    def __init__(self, schedule: Callable[[int, float], float]):
        if not callable(schedule):
            raise TypeError("LearningRateScheduler: schedule must be callable")
        self.schedule = schedule

    def job_settings(self) -> dict[str, Any]:
        return {"optimizer": {"schedule_function": self.schedule}}
