"""Callbacks: hooks the fit loop calls at the start and end of training, of each epoch and
of each batch (Keras's names and semantics).

Epochs are numbered from 0 in the hooks, ``History.epoch`` and CSV files, as in Keras;
the "{epoch}" of a ``ModelCheckpoint`` path and progress lines count from 1. Epoch logs
hold "loss", each metric, "val_loss" and "val_<metric>" with validation data, and "lr".
Batch logs hold "loss" and "size" (the batch's sample count).
"""

from __future__ import annotations

import csv
import math
import os
import warnings
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, Callable

import numpy as np

from ._files import atomic_savez
from .epoch_metrics import SCORE_METRICS, VALUE_METRICS

if TYPE_CHECKING:
    from .trainer import Trainer

Logs = dict[str, Any]

_HIGHER_IS_BETTER = frozenset({"accuracy", "precision", "recall", "f1", "roc_auc",
                               "top_k_accuracy", "r2"})


class Callback:
    """Base class: override the hooks you need. ``self.trainer`` is the ``Trainer`` running
    the fit (``self.trainer.model``, ``.optimizer``); set ``self.trainer.stop_training =
    True`` to stop after the current batch (or epoch)."""

    trainer: Trainer | None = None

    def set_trainer(self, trainer: Trainer) -> None:
        self.trainer = trainer

    @property
    def model(self) -> Any:
        """The model being trained."""
        if self.trainer is None:
            raise RuntimeError(f"{type(self).__name__} is not attached to a Trainer yet")
        return self.trainer.model

    def on_train_begin(self, logs: Logs | None = None) -> None:
        """Called once before the first epoch."""

    def on_train_end(self, logs: Logs | None = None) -> None:
        """Called once after the last epoch (also when training stopped early)."""

    def on_epoch_begin(self, epoch: int, logs: Logs | None = None) -> None:
        """Called before epoch ``epoch`` (from 0) trains."""

    def on_epoch_end(self, epoch: int, logs: Logs | None = None) -> None:
        """Called after epoch ``epoch`` with its logs (loss, metrics, val_*, lr)."""

    def on_batch_begin(self, batch: int, logs: Logs | None = None) -> None:
        """Called before training batch ``batch`` (from 0 in each epoch)."""

    def on_batch_end(self, batch: int, logs: Logs | None = None) -> None:
        """Called after training batch ``batch`` with {"loss": float, "size": int}."""


class CallbackList:
    """Calls each hook on every callback in order."""

    def __init__(self, callbacks: Iterable[Callback], trainer: Trainer):
        self.callbacks = list(callbacks)
        for callback in self.callbacks:
            if not isinstance(callback, Callback):
                raise TypeError(f"callbacks must be axonic.train.Callback instances, got "
                                f"{type(callback).__name__}")
            callback.set_trainer(trainer)

    def __iter__(self):
        return iter(self.callbacks)

    def _call(self, hook: str, *args: Any) -> None:
        for callback in self.callbacks:
            getattr(callback, hook)(*args)

    def on_train_begin(self, logs: Logs | None = None) -> None:
        self._call("on_train_begin", logs)

    def on_train_end(self, logs: Logs | None = None) -> None:
        self._call("on_train_end", logs)

    def on_epoch_begin(self, epoch: int, logs: Logs | None = None) -> None:
        self._call("on_epoch_begin", epoch, logs)

    def on_epoch_end(self, epoch: int, logs: Logs | None = None) -> None:
        self._call("on_epoch_end", epoch, logs)

    def on_batch_begin(self, batch: int, logs: Logs | None = None) -> None:
        self._call("on_batch_begin", batch, logs)

    def on_batch_end(self, batch: int, logs: Logs | None = None) -> None:
        self._call("on_batch_end", batch, logs)


# ----------------------------------------------------------------------------- monitoring


def monitor_mode(who: str, monitor: str, mode: str) -> str:
    """"min" or "max" for ``monitor``; "auto" picks "max" for accuracy-like metrics and
    "min" for losses and errors, and raises ValueError when it cannot tell."""
    if mode in ("min", "max"):
        return mode
    if mode != "auto":
        raise ValueError(f"{who}: mode must be 'auto', 'min' or 'max', got {mode!r}")
    base = monitor[4:] if monitor.startswith("val_") else monitor
    if base in _HIGHER_IS_BETTER or base.endswith("accuracy") or base.endswith("acc"):
        return "max"
    if base.endswith("loss") or base in VALUE_METRICS or base in SCORE_METRICS - {"roc_auc"}:
        return "min"
    raise ValueError(f"{who}: cannot tell whether {monitor!r} should go up or down; pass "
                     "mode='min' or mode='max'")


def _monitored(who: str, monitor: str, logs: Logs | None) -> float | None:
    value = (logs or {}).get(monitor)
    if value is None:
        warnings.warn(f"{who}: {monitor!r} is not in the epoch logs (available: "
                      f"{', '.join(sorted(logs or {}))}); skipping this epoch. Pass val_data "
                      "to monitor a val_ quantity.", RuntimeWarning, stacklevel=3)
        return None
    return float(value)


def step_scheduler(scheduler: Any, logs: Logs, monitor: str | None = None) -> None:
    """One epoch step of an axonic lr scheduler. ``ReduceLROnPlateau`` is given
    ``logs[monitor]``, by default "val_loss" when present, else "loss"."""
    from ..optim.lr_scheduler import ReduceLROnPlateau

    if isinstance(scheduler, ReduceLROnPlateau):
        key = monitor or ("val_loss" if "val_loss" in logs else "loss")
        if key not in logs:
            raise KeyError(f"ReduceLROnPlateau monitors {key!r}, which is not in the epoch "
                           f"logs ({', '.join(sorted(logs))})")
        if not math.isnan(logs[key]):  # a NaN epoch says nothing about a plateau
            scheduler.step(logs[key])
    else:
        scheduler.step()


# ----------------------------------------------------------------------------- callbacks


class EarlyStopping(Callback):
    """Stops training when ``monitor`` has not improved for ``patience`` epochs.

    An epoch improves on the best so far when it beats it by more than ``min_delta``.
    After ``patience`` epochs in a row without improvement training stops (with
    ``patience=0``, at the first epoch that does not improve). With a ``baseline``, the
    wait only resets on epochs that also beat the baseline. ``restore_best_weights``
    copies the model's ``state_dict`` at the best epoch and loads it when training ends
    (as in Keras 3: also when training ran all its epochs). ``stopped_epoch`` is the epoch
    (from 0) training stopped at, 0 when it did not stop early; ``best_epoch`` the best one.
    """

    def __init__(self, monitor: str = "val_loss", min_delta: float = 0.0, patience: int = 0,
                 mode: str = "auto", restore_best_weights: bool = False,
                 baseline: float | None = None):
        if isinstance(patience, bool) or not isinstance(patience, int) or patience < 0:
            raise ValueError(f"EarlyStopping: patience must be an integer >= 0, got {patience!r}")
        self.monitor = monitor
        self.mode = monitor_mode("EarlyStopping", monitor, mode)
        self.min_delta = abs(float(min_delta))
        self.patience = patience
        self.restore_best_weights = bool(restore_best_weights)
        self.baseline = None if baseline is None else float(baseline)
        self._reset()

    def _reset(self) -> None:
        self.wait = 0
        self.stopped_epoch = 0
        self.best: float | None = None
        self.best_epoch = 0
        self.best_weights: dict[str, np.ndarray] | None = None

    def _is_improvement(self, value: float, reference: float | None) -> bool:
        if reference is None:
            return True
        if self.mode == "min":
            return value + self.min_delta < reference
        return value - self.min_delta > reference

    def on_train_begin(self, logs: Logs | None = None) -> None:
        self._reset()

    def on_epoch_end(self, epoch: int, logs: Logs | None = None) -> None:
        current = _monitored("EarlyStopping", self.monitor, logs)
        if current is None:
            return
        if self.restore_best_weights and self.best_weights is None:
            self.best_weights = self.model.state_dict()
        self.wait += 1
        if self._is_improvement(current, self.best):
            self.best, self.best_epoch = current, epoch
            if self.restore_best_weights:
                self.best_weights = self.model.state_dict()
            if self.baseline is None or self._is_improvement(current, self.baseline):
                self.wait = 0
            return
        if self.wait >= self.patience and epoch > 0:
            self.stopped_epoch = epoch
            self.trainer.stop_training = True

    def on_train_end(self, logs: Logs | None = None) -> None:
        if self.restore_best_weights and self.best_weights is not None:
            self.model.load_state_dict(self.best_weights)


class ModelCheckpoint(Callback):
    """Saves the model's ``state_dict`` after each epoch with ``np.savez`` (no pickle).

    ``path`` may hold ``str.format`` fields: "{epoch}" (counted from 1) and any epoch log
    ("ckpt-{epoch:03d}-{val_loss:.3f}.npz"). Each file is written to a temporary file in
    the same directory and moved into place with ``os.replace``, so a reader (or a crash)
    never sees a partial file. With ``save_best_only`` a file is written only when
    ``monitor`` improves on the best so far. Load with
    ``model.load_state_dict(dict(np.load(path)))``. ``saved`` lists the paths written.
    """

    def __init__(self, path: str | os.PathLike, monitor: str = "val_loss",
                 save_best_only: bool = False, mode: str = "auto"):
        self.path = os.fspath(path)
        self.monitor = monitor
        self.save_best_only = bool(save_best_only)
        if self.save_best_only:
            self.mode = monitor_mode("ModelCheckpoint", monitor, mode)
        elif mode not in ("auto", "min", "max"):
            raise ValueError(f"ModelCheckpoint: mode must be 'auto', 'min' or 'max', got "
                             f"{mode!r}")
        else:
            self.mode = mode
        self.best: float | None = None
        self.saved: list[str] = []

    def on_train_begin(self, logs: Logs | None = None) -> None:
        self.best = None

    def _improved(self, value: float) -> bool:
        if self.best is None:
            return not math.isnan(value)
        return value < self.best if self.mode == "min" else value > self.best

    def on_epoch_end(self, epoch: int, logs: Logs | None = None) -> None:
        logs = dict(logs or {})
        if self.save_best_only:
            current = _monitored("ModelCheckpoint", self.monitor, logs)
            if current is None or not self._improved(current):
                return
            self.best = current
        try:
            path = self.path.format(epoch=epoch + 1, **{k: v for k, v in logs.items()
                                                        if k != "epoch"})
        except (KeyError, IndexError, ValueError) as err:
            raise ValueError(f"ModelCheckpoint: cannot format the path {self.path!r} with "
                             f"epoch and the logs {sorted(logs)}: {err}") from err
        atomic_savez(path, self.model.state_dict())
        self.saved.append(path)


class LearningRateScheduler(Callback):
    """Sets the learning rate each epoch.

    ``schedule`` is either a function ``schedule(epoch, lr) -> new_lr`` (epoch from 0, lr
    the current rate of the first parameter group), applied to every parameter group
    before the epoch trains, or an axonic lr scheduler (``optim.lr_scheduler.StepLR``...),
    stepped after each epoch (``ReduceLROnPlateau`` is given ``logs[monitor]``; by default
    "val_loss" when there is validation data, else "loss").
    """

    def __init__(self, schedule: Callable[[int, float], float] | Any,
                 monitor: str | None = None):
        self._is_object = hasattr(schedule, "step") and hasattr(schedule, "optimizer")
        if not self._is_object and not callable(schedule):
            raise TypeError(f"LearningRateScheduler: schedule must be a function (epoch, lr) -> "
                            f"lr or an axonic lr scheduler, got {type(schedule).__name__}")
        self.schedule = schedule
        self.monitor = monitor

    def on_epoch_begin(self, epoch: int, logs: Logs | None = None) -> None:
        if self._is_object:
            return
        groups = self.trainer.optimizer.param_groups
        lr = self.schedule(epoch, float(groups[0]["lr"]))
        if isinstance(lr, bool) or not isinstance(lr, (int, float, np.floating)) \
                or not math.isfinite(lr):
            raise ValueError(f"LearningRateScheduler: schedule({epoch}, lr) must return a finite "
                             f"number, got {lr!r}")
        for group in groups:
            group["lr"] = float(lr)

    def on_epoch_end(self, epoch: int, logs: Logs | None = None) -> None:
        if self._is_object and not self.trainer.stop_training:
            step_scheduler(self.schedule, logs or {}, self.monitor)


class CSVLogger(Callback):
    """Appends one row per epoch to a CSV file: "epoch" (from 0) then the logs' keys in
    sorted order (fixed by the first epoch; a key missing later is written as "NA").

    ``append=False`` starts a fresh file; ``append=True`` adds to an existing one (no new
    header when it already has content). Each row is flushed as it is written.
    """

    def __init__(self, path: str | os.PathLike, append: bool = False, separator: str = ","):
        self.path = os.fspath(path)
        self.append = bool(append)
        self.separator = separator
        self._file = None
        self._writer: Any = None
        self._keys: list[str] | None = None

    def on_train_begin(self, logs: Logs | None = None) -> None:
        has_content = self.append and os.path.exists(self.path) and \
            os.path.getsize(self.path) > 0
        self._file = open(self.path, "a" if self.append else "w", newline="")  # noqa: SIM115
        self._keys = None
        self._write_header = not has_content

    def on_epoch_end(self, epoch: int, logs: Logs | None = None) -> None:
        logs = logs or {}
        if self._keys is None:
            self._keys = sorted(logs)
            self._writer = csv.DictWriter(self._file, fieldnames=["epoch"] + self._keys,
                                          delimiter=self.separator, extrasaction="ignore")
            if self._write_header:
                self._writer.writeheader()
        row = {"epoch": epoch, **{k: logs.get(k, "NA") for k in self._keys}}
        self._writer.writerow(row)
        self._file.flush()

    def on_train_end(self, logs: Logs | None = None) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None


class TerminateOnNaN(Callback):
    """Stops training gracefully at the first batch whose loss is NaN or infinite.

    The Trainer skips the update of that batch (the weights stay finite), this callback
    sets ``trainer.stop_training``, warns with the epoch and batch, and keeps the message
    in ``self.message``. Its presence also turns off the Trainer's ``nan_guard`` error.
    """

    handles_non_finite_loss = True

    def __init__(self) -> None:
        self.message: str | None = None
        self._epoch = 0

    def on_train_begin(self, logs: Logs | None = None) -> None:
        self.message = None

    def on_epoch_begin(self, epoch: int, logs: Logs | None = None) -> None:
        self._epoch = epoch

    def on_batch_end(self, batch: int, logs: Logs | None = None) -> None:
        loss = (logs or {}).get("loss")
        if loss is not None and not math.isfinite(loss):
            self.message = (f"TerminateOnNaN: the loss is {loss} at epoch {self._epoch} "
                            f"(from 0), batch {batch}; training stopped")
            warnings.warn(self.message, RuntimeWarning, stacklevel=2)
            self.trainer.stop_training = True
