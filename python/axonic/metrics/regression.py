"""Regression metrics with scikit-learn's names, arguments and conventions: mean absolute
error, (root) mean squared error and the coefficient of determination R^2.

Targets have shape (n_samples,) or (n_samples, n_outputs) and may be NumPy arrays, lists
or Tensors; everything is computed in float64. ``multioutput`` says how per-output scores
combine: 'uniform_average' (mean, a float), 'raw_values' (an (n_outputs,) array) or an
array of n_outputs weights.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np

from ._checks import (
    UndefinedMetricWarning,
    check_consistent_length,
    check_finite_numeric,
    check_not_empty,
    check_option,
    check_sample_weight,
    to_numpy,
)


def _check_targets(y_true: Any, y_pred: Any, sample_weight: Any, multioutput: Any,
                   options: tuple[str, ...] = ("raw_values", "uniform_average")):
    """Validated float64 targets as (n, k), weights (n,) or None, and multioutput (a string
    or (k,) weights)."""
    arrays = {}
    for name, y in (("y_true", y_true), ("y_pred", y_pred)):
        y = to_numpy(y, name)
        if y.ndim == 0 or y.ndim > 2:
            raise ValueError(f"{name} must have shape (n_samples,) or (n_samples, n_outputs), "
                             f"got shape {y.shape}")
        arrays[name] = y
    check_consistent_length(**arrays)
    y_true, y_pred = arrays["y_true"], arrays["y_pred"]
    check_not_empty(y_true, "y_true")
    y_true = check_finite_numeric(y_true, "y_true").reshape(y_true.shape[0], -1)
    y_pred = check_finite_numeric(y_pred, "y_pred").reshape(y_pred.shape[0], -1)
    if y_true.shape[1] != y_pred.shape[1]:
        raise ValueError(f"y_true and y_pred have different number of output "
                         f"({y_true.shape[1]}!={y_pred.shape[1]})")
    n_outputs = y_true.shape[1]
    if isinstance(multioutput, str) or multioutput is None:
        check_option(multioutput, "multioutput", options)
    else:
        multioutput = check_finite_numeric(to_numpy(multioutput, "multioutput"), "multioutput")
        if multioutput.ndim != 1:
            raise ValueError(f"multioutput weights must be 1-d, got shape {multioutput.shape}")
        if n_outputs == 1:
            raise ValueError("Custom weights are useful only in multi-output cases.")
        if multioutput.shape[0] != n_outputs:
            raise ValueError(f"There must be equally many custom weights "
                             f"({multioutput.shape[0]}) as outputs ({n_outputs}).")
    weight = check_sample_weight(sample_weight, y_true.shape[0])
    return y_true, y_pred, weight, multioutput


def _combine(per_output: np.ndarray, multioutput: Any) -> float | np.ndarray:
    """Per-output scores (k,) combined as ``multioutput`` says."""
    if isinstance(multioutput, str):
        if multioutput == "raw_values":
            return per_output
        return float(np.average(per_output))
    return float(np.average(per_output, weights=multioutput))


def mean_absolute_error(y_true: Any, y_pred: Any, *, sample_weight: Any = None,
                        multioutput: Any = "uniform_average") -> float | np.ndarray:
    """Mean of |y_true - y_pred| over samples. Shapes: (n,) or (n, k), weights (n,)."""
    y_true, y_pred, weight, multioutput = _check_targets(y_true, y_pred, sample_weight,
                                                         multioutput)
    return _combine(np.average(np.abs(y_pred - y_true), axis=0, weights=weight), multioutput)


def mean_squared_error(y_true: Any, y_pred: Any, *, sample_weight: Any = None,
                       multioutput: Any = "uniform_average") -> float | np.ndarray:
    """Mean of (y_true - y_pred)^2 over samples. Shapes: (n,) or (n, k), weights (n,)."""
    y_true, y_pred, weight, multioutput = _check_targets(y_true, y_pred, sample_weight,
                                                         multioutput)
    return _combine(np.average((y_true - y_pred) ** 2, axis=0, weights=weight), multioutput)


def root_mean_squared_error(y_true: Any, y_pred: Any, *, sample_weight: Any = None,
                            multioutput: Any = "uniform_average") -> float | np.ndarray:
    """Square root of the mean squared error, per output before any averaging over outputs.
    Shapes: (n,) or (n, k), weights (n,)."""
    y_true, y_pred, weight, multioutput = _check_targets(y_true, y_pred, sample_weight,
                                                         multioutput)
    per_output = np.sqrt(np.average((y_true - y_pred) ** 2, axis=0, weights=weight))
    return _combine(per_output, multioutput)


def r2_score(y_true: Any, y_pred: Any, *, sample_weight: Any = None,
             multioutput: Any = "uniform_average",
             force_finite: bool = True) -> float | np.ndarray:
    """Coefficient of determination 1 - SS_res / SS_tot (1 is perfect; it can be negative).

    Shapes: (n,) or (n, k), weights (n,). Constant y_true makes SS_tot zero: with
    ``force_finite`` the score is 1.0 for perfect predictions and 0.0 otherwise (else NaN
    or -inf). Fewer than two samples give NaN with an ``UndefinedMetricWarning``.
    ``multioutput`` may also be 'variance_weighted' (weights SS_tot per output).
    """
    y_true, y_pred, weight, multioutput = _check_targets(
        y_true, y_pred, sample_weight, multioutput,
        ("raw_values", "uniform_average", "variance_weighted"))
    if y_pred.shape[0] < 2:
        warnings.warn("R^2 score is not well-defined with less than two samples.",
                      UndefinedMetricWarning, stacklevel=2)
        return float("nan")
    w = 1.0 if weight is None else weight[:, None]
    numerator = np.sum(w * (y_true - y_pred) ** 2, axis=0)
    denominator = np.sum(w * (y_true - np.average(y_true, axis=0, weights=weight)) ** 2,
                         axis=0)
    nonzero_denominator = denominator != 0
    if not force_finite:
        with np.errstate(divide="ignore", invalid="ignore"):
            scores = 1 - numerator / denominator
    else:
        nonzero_numerator = numerator != 0
        scores = np.ones(y_true.shape[1])
        valid = nonzero_denominator & nonzero_numerator
        scores[valid] = 1 - numerator[valid] / denominator[valid]
        scores[nonzero_numerator & ~nonzero_denominator] = 0.0
    if isinstance(multioutput, str) and multioutput == "variance_weighted":
        multioutput = denominator if nonzero_denominator.any() else "uniform_average"
    return _combine(scores, multioutput)
