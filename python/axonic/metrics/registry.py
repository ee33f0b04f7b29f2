"""Keras-style short metric names for training loops: ``get_metric("f1")`` is
``f1_score``. ``METRICS`` lists the names."""

from __future__ import annotations

from typing import Callable

from .classification import accuracy_score, f1_score, log_loss, precision_score, recall_score
from .ranking import roc_auc_score, top_k_accuracy_score
from .regression import (
    mean_absolute_error,
    mean_squared_error,
    r2_score,
    root_mean_squared_error,
)

_REGISTRY: dict[str, Callable[..., object]] = {
    "accuracy": accuracy_score,
    "precision": precision_score,
    "recall": recall_score,
    "f1": f1_score,
    "roc_auc": roc_auc_score,
    "log_loss": log_loss,
    "top_k_accuracy": top_k_accuracy_score,
    "mae": mean_absolute_error,
    "mse": mean_squared_error,
    "rmse": root_mean_squared_error,
    "r2": r2_score,
}

METRICS: tuple[str, ...] = tuple(_REGISTRY)


def get_metric(name: str) -> Callable[..., object]:
    """The metric function registered under ``name`` (one of ``METRICS``); every one is
    called as ``fn(y_true, y_pred_or_score, **options)``."""
    if not isinstance(name, str) or name not in _REGISTRY:
        raise ValueError(f"Unknown metric {name!r}; known metrics are: {', '.join(METRICS)}")
    return _REGISTRY[name]
