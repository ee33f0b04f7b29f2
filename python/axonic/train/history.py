"""``History``: the per-epoch logs of one ``fit``, as lists, with CSV export and plots."""

from __future__ import annotations

import csv
import math
import numbers
import os
from collections.abc import Sequence
from typing import Any

from ._files import atomic_open
from .callbacks import Callback, Logs


class History(Callback):
    """What ``Trainer.fit`` returns: ``history[key]`` is the list of that key's value per
    epoch ("loss", each metric, "val_loss", "val_<metric>", "lr"), ``epoch`` the epoch
    numbers (from 0). Every list has one entry per finished epoch (NaN where an epoch had
    no value for a key)."""

    def __init__(self) -> None:
        self.history: dict[str, list[Any]] = {}
        self.epoch: list[int] = []

    def on_train_begin(self, logs: Logs | None = None) -> None:
        self.history = {}
        self.epoch = []

    def on_epoch_end(self, epoch: int, logs: Logs | None = None) -> None:
        logs = logs or {}
        for key in logs:
            if key not in self.history:
                self.history[key] = [math.nan] * len(self.epoch)
        self.epoch.append(epoch)
        for key, values in self.history.items():
            value = logs.get(key, math.nan)
            values.append(float(value) if isinstance(value, numbers.Real) else value)

    def __repr__(self) -> str:
        return f"History(epochs={len(self.epoch)}, keys={list(self.history)})"

    def to_csv(self, path: str | os.PathLike) -> None:
        """Writes "epoch" and every key, one row per epoch, to ``path`` (atomically)."""
        keys = list(self.history)
        with atomic_open(path, "w", newline="") as file:
            writer = csv.writer(file)
            writer.writerow(["epoch"] + keys)
            for row, epoch in enumerate(self.epoch):
                writer.writerow([epoch] + [repr(self.history[k][row]) for k in keys])

    def plot(self, path: str | os.PathLike, metrics: Sequence[str] | None = None) -> str:
        """Saves a PNG of the train and validation curves of "loss" and each metric (one
        subplot each; ``metrics`` chooses which, by base name, e.g. ["loss", "accuracy"]).
        Needs matplotlib: ``pip install "axonic[plot]"``. Returns the path."""
        from .plot import plot_history

        return plot_history(self, path, metrics)

    # Keras users sometimes index the History itself.
    def __getitem__(self, key: str) -> Any:
        return self.history[key]
