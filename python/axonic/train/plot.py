"""Train/validation curves of a ``History`` as a PNG (matplotlib, the "plot" extra)."""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .history import History


def _default_metrics(history: History) -> list[str]:
    keys = [k for k in history.history if k != "lr" and not k.startswith("val_")]
    keys += [k[4:] for k in history.history if k.startswith("val_") and k[4:] not in keys]
    return sorted(keys, key=lambda k: (k != "loss", keys.index(k)))


def plot_history(history: History, path: str | os.PathLike,
                 metrics: Sequence[str] | None = None) -> str:
    """Draws one subplot per metric (train and "val_" curve against the epoch, from 1)
    and saves the figure to ``path`` as a PNG. Returns ``path`` as a string."""
    try:
        from matplotlib.figure import Figure
    except ImportError as err:
        raise RuntimeError('History.plot needs matplotlib; install it with\n'
                           '    pip install "axonic[plot]"   (or: pip install matplotlib)'
                           ) from err
    if not history.epoch:
        raise ValueError("History.plot: the history is empty (no finished epoch)")
    if metrics is None:
        names = _default_metrics(history)
    else:
        names = [metrics] if isinstance(metrics, str) else list(metrics)
    unknown = [m for m in names if m not in history.history
               and f"val_{m}" not in history.history]
    if unknown or not names:
        raise ValueError(f"History.plot: no values for {unknown or names}; the history has "
                         f"{', '.join(history.history)}")
    columns = min(len(names), 3)
    rows = math.ceil(len(names) / columns)
    figure = Figure(figsize=(4.5 * columns, 3.5 * rows), layout="constrained")
    epochs = [e + 1 for e in history.epoch]
    for index, name in enumerate(names):
        axes = figure.add_subplot(rows, columns, index + 1)
        for key, label in ((name, "train"), (f"val_{name}", "validation")):
            if key in history.history:
                axes.plot(epochs, history.history[key], marker="o", markersize=3, label=label)
        axes.set_title(name)
        axes.set_xlabel("epoch")
        axes.grid(True, alpha=0.3)
        axes.legend()
    path = os.fspath(path)
    figure.savefig(path, format="png", dpi=100)
    return path
