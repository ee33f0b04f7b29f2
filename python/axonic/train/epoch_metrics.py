"""Metrics over a whole epoch's predictions: which metrics, and what each one is given.

A metric is a registry name (``axonic.metrics.get_metric``: "accuracy", "f1", "roc_auc",
"mae"...) or a callable ``fn(y_true, y_pred) -> float`` logged under ``fn.__name__``. The
model's outputs (N, ...) are converted for each metric by its kind:

- "labels" (accuracy, precision, recall, f1): outputs (N, C > 1) -> argmax over C;
  outputs (N,) or (N, 1) -> 1 where the output exceeds 0.5, or 0 for a with-logits loss
  (``BCEWithLogitsLoss``: sigmoid(x) > 0.5 is x > 0). Targets become labels too: one-hot
  or soft (N, C) targets -> argmax, float 0/1 targets -> int64.
- "scores" (roc_auc, log_loss, top_k_accuracy): probabilities: softmax of the logits for
  ``CrossEntropyLoss``, exp of the log-probabilities for ``NLLLoss``, sigmoid for
  ``BCEWithLogitsLoss``, the outputs as they are otherwise; (N, 1) -> (N,); roc_auc of
  two-class probabilities (N, 2) gets the positive column (N,).
- "values" (mae, mse, rmse, r2): the outputs as they are, reshaped to the targets' shape
  when the sizes agree ((N, 1) against (N,)).

Registry metrics are called with options that suit a training loop, from the number of
classes C (the outputs' second dimension, 2 for single outputs): precision, recall and
f1 use ``average="binary"`` for C = 2 and ``"macro"`` above, with ``zero_division=0``;
roc_auc uses ``multi_class="ovr"`` for C > 2; log_loss, top_k_accuracy and multiclass
roc_auc get ``labels=range(C)`` so an epoch that misses a class still scores.

A callable gets "labels" when the loss is a classification loss (cross-entropy, NLL,
binary cross-entropy) and "values" otherwise; set ``fn.input_kind = "scores"`` (or
"labels"/"values") to choose.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..nn import functional as F
from ..nn.loss import BCELoss, BCEWithLogitsLoss, CrossEntropyLoss, NLLLoss

KINDS = ("labels", "scores", "values")
SCORE_METRICS = frozenset({"roc_auc", "log_loss", "top_k_accuracy"})
VALUE_METRICS = frozenset({"mae", "mse", "rmse", "r2"})
RESERVED_NAMES = frozenset({"loss", "lr", "epoch"})


def _probability_transform(loss: Any) -> str | None:
    """How the loss turns outputs into probabilities: "softmax", "exp", "sigmoid",
    "identity" (already probabilities), or None (not a classification loss)."""
    if isinstance(loss, CrossEntropyLoss) or loss is F.cross_entropy:
        return "softmax"
    if isinstance(loss, NLLLoss) or loss is F.nll_loss:
        return "exp"
    if isinstance(loss, BCEWithLogitsLoss) or loss is F.binary_cross_entropy_with_logits:
        return "sigmoid"
    if isinstance(loss, BCELoss) or loss is F.binary_cross_entropy:
        return "identity"
    return None


@dataclass(frozen=True)
class MetricSpec:
    """One metric: the name it is logged under, the function, and what it is given."""

    name: str
    fn: Callable[..., float]
    kind: str
    from_registry: bool = False

    def options(self, classes: int) -> dict[str, Any]:
        """Keyword options for a registry metric over C = ``classes`` classes."""
        if not self.from_registry:
            return {}
        labels = np.arange(classes)
        if self.name in ("precision", "recall", "f1"):
            return {"average": "binary" if classes == 2 else "macro", "zero_division": 0}
        if self.name == "roc_auc" and classes > 2:
            return {"multi_class": "ovr", "labels": labels}
        if self.name in ("log_loss", "top_k_accuracy"):
            return {"labels": labels}
        return {}


def _from_name(name: str) -> MetricSpec:
    from .. import metrics  # imported late: the metrics package sits beside this one

    fn = metrics.get_metric(name)  # ValueError for an unknown name
    kind = "scores" if name in SCORE_METRICS else "values" if name in VALUE_METRICS \
        else "labels"
    return MetricSpec(name, fn, kind, from_registry=True)


def _from_callable(fn: Callable, classification: bool) -> MetricSpec:
    name = getattr(fn, "__name__", None)
    if not isinstance(name, str) or not name or name == "<lambda>":
        raise ValueError(f"a metric callable needs a __name__ to be logged under, got {fn!r}; "
                         "use a def, or set fn.__name__")
    kind = getattr(fn, "input_kind", "labels" if classification else "values")
    if kind not in KINDS:
        raise ValueError(f"metric {name!r}: input_kind must be one of {KINDS}, got {kind!r}")
    return MetricSpec(name, fn, kind)


def resolve_metrics(metrics: str | Callable | Sequence[str | Callable],
                    loss: Any) -> list[MetricSpec]:
    """The metric specs for ``metrics`` (a name, a callable, or a sequence of them).

    Raises ValueError for an unknown name, a duplicate or reserved name ("loss", "lr",
    "epoch") and a name starting with "val_"; TypeError for an entry of another type.
    """
    if isinstance(metrics, str) or callable(metrics):
        metrics = [metrics]
    classification = _probability_transform(loss) is not None
    specs: list[MetricSpec] = []
    for entry in metrics:
        if isinstance(entry, str):
            spec = _from_name(entry)
        elif callable(entry):
            spec = _from_callable(entry, classification)
        else:
            raise TypeError(f"a metric is a name or a callable (y_true, y_pred) -> float, got "
                            f"{type(entry).__name__}")
        if spec.name in RESERVED_NAMES or spec.name.startswith("val_"):
            raise ValueError(f"metric name {spec.name!r} is reserved for the training logs")
        if any(s.name == spec.name for s in specs):
            raise ValueError(f"metric {spec.name!r} is listed twice")
        specs.append(spec)
    return specs


def _softmax(x: np.ndarray, axis: int) -> np.ndarray:
    shifted = np.exp(x - x.max(axis=axis, keepdims=True))
    return shifted / shifted.sum(axis=axis, keepdims=True)


def _sigmoid(x: np.ndarray) -> np.ndarray:
    out = np.empty_like(x, dtype=np.float64)
    positive = x >= 0
    out[positive] = 1.0 / (1.0 + np.exp(-x[positive]))
    exp_x = np.exp(x[~positive])
    out[~positive] = exp_x / (1.0 + exp_x)
    return out


def _is_multiclass(x: np.ndarray) -> bool:
    return x.ndim >= 2 and x.shape[1] > 1


def target_labels(y: np.ndarray) -> np.ndarray:
    """Targets as 1-d int64 labels: (N, C > 1) float targets -> argmax over C, integral
    floats -> int64, other floats -> 1 where above 0.5."""
    if y.dtype.kind == "f" and _is_multiclass(y):
        return np.moveaxis(y, 1, -1).argmax(axis=-1).reshape(-1)
    flat = y.reshape(-1)
    if flat.dtype.kind == "f":
        if np.all(flat == np.round(flat)):
            return flat.astype(np.int64)
        return (flat > 0.5).astype(np.int64)
    return flat


class PredictionConverter:
    """Turns an epoch's outputs into what each metric kind takes, for one loss."""

    def __init__(self, loss: Any):
        self.transform = _probability_transform(loss)

    def probabilities(self, outputs: np.ndarray) -> np.ndarray:
        """Outputs as probabilities (see the module docstring); float64."""
        x = outputs.astype(np.float64, copy=False)
        if self.transform == "softmax" and _is_multiclass(x):
            return _softmax(x, axis=1)
        if self.transform == "exp":
            return np.exp(x)
        if self.transform == "sigmoid":
            return _sigmoid(x)
        return x

    def labels(self, outputs: np.ndarray) -> np.ndarray:
        """Outputs as 1-d int64 labels: argmax over C, or a threshold of single outputs."""
        if _is_multiclass(outputs):
            return np.moveaxis(outputs, 1, -1).argmax(axis=-1).reshape(-1)
        threshold = 0.0 if self.transform == "sigmoid" else 0.5
        return (outputs.reshape(-1) > threshold).astype(np.int64)

    def metric_inputs(self, spec: MetricSpec, outputs: np.ndarray,
                      targets: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(y_true, y_pred) for ``spec`` from outputs (N, ...) and targets (N, ...)."""
        if spec.kind == "labels":
            return target_labels(targets), self.labels(outputs)
        if spec.kind == "scores":
            scores = self.probabilities(outputs)
            if scores.ndim == 2 and scores.shape[1] == 1:
                scores = scores[:, 0]
            if spec.name == "roc_auc" and scores.ndim == 2 and scores.shape[1] == 2:
                scores = scores[:, 1]
            return target_labels(targets), scores
        if outputs.shape != targets.shape and outputs.size == targets.size:
            outputs = outputs.reshape(targets.shape)
        return targets, outputs

    def compute(self, specs: Sequence[MetricSpec], outputs: np.ndarray,
                targets: np.ndarray) -> dict[str, float]:
        """Each metric of ``specs`` over the epoch's outputs and targets, by name."""
        values: dict[str, float] = {}
        classes = outputs.shape[1] if _is_multiclass(outputs) else 2
        for spec in specs:
            y_true, y_pred = self.metric_inputs(spec, outputs, targets)
            try:
                values[spec.name] = float(spec.fn(y_true, y_pred, **spec.options(classes)))
            except (TypeError, ValueError) as err:
                raise type(err)(f"metric {spec.name!r} failed on y_true of shape "
                                f"{y_true.shape} and y_pred of shape {y_pred.shape}: "
                                f"{err}") from err
        return values
