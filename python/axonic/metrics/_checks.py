"""Input checks shared by the metrics: array conversion, label and weight validation,
option checks and scikit-learn's averaging helpers.

Every check raises ``ValueError`` with a message naming the argument and what was expected.
"""

from __future__ import annotations

import numbers
from collections.abc import Sequence
from typing import Any

import numpy as np

from ..tensor import Tensor


class UndefinedMetricWarning(UserWarning):
    """A metric is ill-defined for the given input (e.g. precision with no predicted
    positives) and was set to a conventional value. Mirrors scikit-learn's warning."""


def to_numpy(x: Any, name: str) -> np.ndarray:
    """``x`` as a NumPy array: Tensors through ``.numpy()``, CuPy arrays copied to the host,
    anything else through ``np.asarray``."""
    if x is None:
        raise ValueError(f"{name} is required, got None")
    if isinstance(x, Tensor):
        return x.numpy()
    if hasattr(x, "__cuda_array_interface__") and hasattr(x, "get"):
        return x.get()
    try:
        return np.asarray(x)
    except ValueError as error:  # ragged nested lists
        raise ValueError(f"{name} could not be converted to an array: {error}") from error


def num_samples(x: np.ndarray, name: str) -> int:
    """The length of the first axis (scalars are rejected)."""
    if x.ndim == 0:
        raise ValueError(f"{name} must be an array-like of samples, got the scalar {x!r}")
    return x.shape[0]


def check_consistent_length(**arrays: np.ndarray | None) -> None:
    """All non-None arrays have the same number of samples (first axis)."""
    lengths = {name: num_samples(a, name) for name, a in arrays.items() if a is not None}
    if len(set(lengths.values())) > 1:
        found = ", ".join(f"{name}={n}" for name, n in lengths.items())
        raise ValueError(f"Found input variables with inconsistent numbers of samples: {found}")


def check_not_empty(x: np.ndarray, name: str) -> None:
    if x.ndim == 0 or x.shape[0] == 0:
        raise ValueError(f"Found empty input array {name} with shape {x.shape} while a "
                         "minimum of 1 sample is required.")


def check_finite_numeric(x: np.ndarray, name: str) -> np.ndarray:
    """``x`` as a float64 array with no NaN or infinity (ints and bools are accepted)."""
    if x.dtype.kind not in "biuf":
        raise ValueError(f"{name} must hold numbers, got dtype {x.dtype}")
    x = x.astype(np.float64, copy=False)
    if np.isnan(x).any():
        raise ValueError(f"Input {name} contains NaN.")
    if np.isinf(x).any():
        raise ValueError(f"Input {name} contains infinity.")
    return x


def float_dtype(x: np.ndarray) -> np.dtype:
    """The floating dtype scikit-learn would compute ``x`` in (float64 for non-floats)."""
    return x.dtype if x.dtype.kind == "f" else np.dtype(np.float64)


def column_or_1d(x: np.ndarray, name: str) -> np.ndarray:
    """A (n,) or (n, 1) array as (n,)."""
    if x.ndim == 2 and x.shape[1] == 1:
        return x.ravel()
    if x.ndim != 1:
        raise ValueError(f"{name} must be a 1-d array of shape (n_samples,), got shape "
                         f"{x.shape}")
    return x


def check_label_array(y: Any, name: str) -> np.ndarray:
    """Class labels (ints, bools, integral floats or strings) of shape (n,) or (n, 1) as (n,).

    Multilabel indicator matrices, continuous values, NaN and infinity are rejected.
    """
    y = to_numpy(y, name)
    if y.ndim == 0:
        raise ValueError(f"{name} must be an array-like of labels, got the scalar {y!r}")
    if y.ndim == 2 and y.shape[1] == 1:
        y = y.ravel()
    if y.ndim != 1:
        raise ValueError(f"{name} must be a 1-d array of class labels of shape (n_samples,), "
                         f"got shape {y.shape}; multilabel and multioutput targets are not "
                         "supported")
    if y.dtype.kind == "c":
        raise ValueError(f"{name} must hold class labels, got complex values")
    if y.dtype.kind == "f":
        if np.isnan(y).any():
            raise ValueError(f"Input {name} contains NaN.")
        if np.isinf(y).any():
            raise ValueError(f"Input {name} contains infinity.")
        fractional = y[y != np.round(y)]
        if fractional.size:
            raise ValueError(f"{name} holds continuous values (e.g. {fractional[0].item()!r}) "
                             "but a classification metric needs class labels; threshold or "
                             "argmax scores and probabilities first")
    if y.dtype.kind == "O":
        for value in y:
            if isinstance(value, float) and not np.isfinite(value):
                raise ValueError(f"Input {name} contains NaN or infinity.")
    return y


def label_kind(y: np.ndarray) -> str:
    """'string', 'number' or 'mixed' for a label array."""
    if y.dtype.kind in "US":
        return "string"
    if y.dtype.kind != "O":
        return "number"
    kinds = {isinstance(v, (str, bytes)) for v in y}
    if len(kinds) > 1:
        return "mixed"
    return "string" if kinds == {True} else "number"


def unique_labels(**ys: np.ndarray) -> np.ndarray:
    """The sorted union of the labels in the named arrays; strings and numbers don't mix."""
    kinds = {name: label_kind(y) for name, y in ys.items() if y.size}
    if "mixed" in kinds.values() or len(set(kinds.values())) > 1:
        found = ", ".join(f"{name} holds {kind} labels" for name, kind in kinds.items())
        raise ValueError(f"Mix of label input types (string and number): {found}")
    return np.unique(np.concatenate([np.asarray(y).ravel() for y in ys.values()]))


def index_in(labels: np.ndarray, values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For each value, its position in ``labels`` (the last one for duplicates) and whether
    it was found at all. Shapes: labels (L,), values (n,) -> (n,), (n,)."""
    found = np.zeros(values.shape, dtype=bool)
    index = np.zeros(values.shape, dtype=np.int64)
    if labels.size == 0 or values.size == 0 or label_kind(labels) != label_kind(values):
        return index, found
    sorter = np.argsort(labels, kind="stable")
    sorted_labels = labels[sorter]
    position = np.searchsorted(sorted_labels, values, side="right") - 1
    clipped = np.clip(position, 0, labels.size - 1)
    found = (position >= 0) & (sorted_labels[clipped] == values)
    return sorter[clipped], found


def check_sample_weight(sample_weight: Any, n_samples: int, *,
                        keep_integer: bool = False) -> np.ndarray | None:
    """Sample weights of shape (n_samples,): finite numbers, not all zero.

    A scalar is broadcast. Returned as float64, or as int64 for integer/bool weights when
    ``keep_integer`` (so a weighted confusion matrix keeps counts as ints).
    """
    if sample_weight is None:
        return None
    if isinstance(sample_weight, numbers.Number):
        sample_weight = np.full(n_samples, sample_weight, dtype=np.float64)
    weight = to_numpy(sample_weight, "sample_weight")
    if weight.ndim != 1:
        raise ValueError(f"sample_weight must be a 1-d array of length {n_samples} or a "
                         f"scalar, got shape {weight.shape}")
    if weight.shape[0] != n_samples:
        raise ValueError(f"sample_weight has {weight.shape[0]} elements, expected one per "
                         f"sample ({n_samples})")
    if weight.dtype.kind not in "biuf":
        raise ValueError(f"sample_weight must hold numbers, got dtype {weight.dtype}")
    if keep_integer and weight.dtype.kind in "biu":
        weight = weight.astype(np.int64)
    else:
        weight = check_finite_numeric(weight, "sample_weight")
    if not weight.any():
        raise ValueError("Sample weights must contain at least one non-zero number.")
    return weight


def check_option(value: Any, name: str, options: Sequence[Any]) -> None:
    """``value`` is one of ``options`` (compared with ``==``, strings and None only)."""
    if not (value is None or isinstance(value, str)) or value not in options:
        raise ValueError(f"{name} must be one of {tuple(options)!r}, got {value!r}")


def weighted_average(values: np.ndarray, weights: np.ndarray | None = None,
                     normalize: bool = True) -> float:
    """The (weighted) mean of ``values`` (n,) or, with ``normalize=False``, their (weighted)
    sum, as scikit-learn's ``_average``."""
    if not normalize:
        if weights is None:
            return float(np.sum(values.astype(np.float64)))
        return float(np.dot(values, weights))
    if weights is not None and np.sum(weights) == 0:
        raise ValueError("sample_weight sums to zero, so the weighted average is undefined")
    return float(np.average(values, weights=weights))


def nan_average(values: np.ndarray, weights: np.ndarray | None = None) -> float:
    """The (weighted) mean of the non-NaN ``values`` (n,); NaN if there are none. All-zero
    weights fall back to the plain mean (scikit-learn's ``_nanaverage``)."""
    if values.shape[0] == 0:
        return float("nan")
    mask = np.isnan(values)
    if mask.all():
        return float("nan")
    if weights is None:
        return float(np.nanmean(values))
    kept, kept_weights = values[~mask], np.asarray(weights)[~mask]
    if np.sum(kept_weights) == 0:
        return float(np.average(kept))
    return float(np.average(kept, weights=kept_weights))
