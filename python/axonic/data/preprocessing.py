"""Array preprocessing: ``one_hot``, ``encode_labels``, ``StandardScaler``, ``standardize``.

Inputs may be NumPy arrays, array-likes or CPU tensors; results are NumPy arrays (wrap
them with ``axonic.tensor`` or hand them to a ``TensorDataset``).
"""

from __future__ import annotations

import numbers
from typing import Any

import numpy as np

from ..tensor import Tensor


def as_numpy(data: Any) -> np.ndarray:
    """``data`` as a NumPy array: a tensor's values (no copy on the CPU), anything else
    through ``numpy.asarray``."""
    return data.numpy() if isinstance(data, Tensor) else np.asarray(data)


def one_hot(labels: Any, num_classes: int | None = None) -> np.ndarray:
    """One-hot rows for integer class labels.

    Shapes: labels (*) -> (*, C) float32, C = ``num_classes`` or ``max(labels) + 1`` when
    None; (N,) gives (N, C). Labels must be integers in 0..C-1 (``ValueError`` otherwise).
    """
    labels = as_numpy(labels)
    if labels.dtype.kind not in "iu":
        raise TypeError(f"one_hot needs integer labels, got {labels.dtype}; cast class "
                        f"indices with .astype(np.int64)")
    if num_classes is None:
        if labels.size == 0:
            raise ValueError("one_hot cannot infer num_classes from empty labels; pass "
                             "num_classes")
        num_classes = int(labels.max()) + 1
    elif isinstance(num_classes, bool) or not isinstance(num_classes, numbers.Integral) \
            or num_classes < 1:
        raise ValueError(f"one_hot num_classes must be a positive integer, got "
                         f"{num_classes!r}")
    bad = labels[(labels < 0) | (labels >= num_classes)]
    if bad.size:
        raise ValueError(f"one_hot label {int(bad.flat[0])} is outside 0..{num_classes - 1} "
                         f"(num_classes={num_classes})")
    out = np.zeros(labels.shape + (int(num_classes),), dtype=np.float32)
    np.put_along_axis(out, labels[..., None].astype(np.intp), np.float32(1.0), axis=-1)
    return out


def encode_labels(labels: Any) -> tuple[np.ndarray, list]:
    """Class indices for arbitrary labels (strings, numbers): ``(codes, classes)`` with
    ``classes`` the sorted distinct labels and ``classes[codes[i]] == labels[i]``.

    Shapes: labels (N,) -> codes (N,) int64.
    """
    labels = as_numpy(labels)
    if labels.ndim != 1:
        raise ValueError(f"encode_labels needs a 1-d array of labels, got shape {labels.shape}")
    classes, codes = np.unique(labels, return_inverse=True)
    return codes.reshape(-1).astype(np.int64), classes.tolist()


def _check_matrix(x: Any, who: str) -> np.ndarray:
    """``x`` as a 2-d (N, F) NumPy array of numbers."""
    x = as_numpy(x)
    if x.ndim != 2:
        hint = "; reshape a single feature with x.reshape(-1, 1)" if x.ndim == 1 else ""
        raise ValueError(f"{who} expects a 2-d array (N, F), got shape {x.shape}{hint}")
    if x.dtype.kind not in "biuf":
        raise TypeError(f"{who} expects numbers, got dtype {x.dtype}")
    return x


def _output_dtype(x: np.ndarray) -> np.dtype:
    """Float inputs keep their dtype; integers and bools become float32."""
    return x.dtype if x.dtype.kind == "f" else np.dtype(np.float32)


def _constant_columns(var: np.ndarray, mean: np.ndarray, n: int) -> np.ndarray:
    """Columns whose variance is zero up to float64 rounding (scikit-learn's test)."""
    eps = np.finfo(np.float64).eps
    return var <= n * eps * var + (n * mean * eps) ** 2


class StandardScaler:
    """Standardizes features: ``(x - mean_) / scale_`` per column, as scikit-learn's.

    ``fit(x)`` with x (N, F) sets ``mean_`` (F,), ``var_`` (F,) (population variance) and
    ``scale_`` (F,) = sqrt(var_), with zero-variance columns given scale 1 so they are
    centred but not divided. ``with_mean`` / ``with_std`` turn either step off (as in
    scikit-learn, ``mean_`` is still set when only ``with_std``; ``var_`` and ``scale_`` are
    None without ``with_std``). Statistics are float64; outputs keep a float input's dtype
    (integers give float32).
    """

    def __init__(self, with_mean: bool = True, with_std: bool = True):
        self.with_mean = bool(with_mean)
        self.with_std = bool(with_std)
        self.mean_: np.ndarray | None = None
        self.var_: np.ndarray | None = None
        self.scale_: np.ndarray | None = None
        self.n_features_in_: int | None = None
        self.n_samples_seen_: int | None = None

    def fit(self, x: Any) -> StandardScaler:
        """Learns the column statistics of x (N, F), N >= 1, all values finite."""
        x = _check_matrix(x, "StandardScaler.fit")
        if x.shape[0] == 0:
            raise ValueError("StandardScaler.fit needs at least one sample, got shape "
                             f"{x.shape}")
        x64 = x.astype(np.float64)
        finite = np.isfinite(x64)
        if not finite.all():
            row, col = (int(i) for i in np.argwhere(~finite)[0])
            raise ValueError(f"StandardScaler.fit got a non-finite value {x64[row, col]} at "
                             f"row {row}, column {col}")
        mean = x64.mean(axis=0)
        var = x64.var(axis=0)
        scale = np.sqrt(var)
        scale[_constant_columns(var, mean, x.shape[0])] = 1.0
        self.mean_ = mean if self.with_mean or self.with_std else None
        self.var_ = var if self.with_std else None
        self.scale_ = scale if self.with_std else None
        self.n_features_in_ = int(x.shape[1])
        self.n_samples_seen_ = int(x.shape[0])
        return self

    def _checked(self, x: Any, who: str) -> np.ndarray:
        if self.n_features_in_ is None:
            raise RuntimeError(f"StandardScaler.{who} called before fit; call fit(x_train) "
                               f"first")
        x = _check_matrix(x, f"StandardScaler.{who}")
        if x.shape[1] != self.n_features_in_:
            raise ValueError(f"StandardScaler.{who} got {x.shape[1]} features, but the scaler "
                             f"was fitted on {self.n_features_in_}")
        return x

    def transform(self, x: Any) -> np.ndarray:
        """x (M, F) -> (x - mean_) / scale_, shape (M, F)."""
        x = self._checked(x, "transform")
        out = x.astype(np.float64)
        if self.with_mean:
            out -= self.mean_
        if self.with_std:
            out /= self.scale_
        return out.astype(_output_dtype(x), copy=False)

    def fit_transform(self, x: Any) -> np.ndarray:
        """``fit(x)`` then ``transform(x)``: shape (N, F)."""
        return self.fit(x).transform(x)

    def inverse_transform(self, x: Any) -> np.ndarray:
        """Undoes ``transform``: x (M, F) -> x * scale_ + mean_, shape (M, F)."""
        x = self._checked(x, "inverse_transform")
        out = x.astype(np.float64)
        if self.with_std:
            out *= self.scale_
        if self.with_mean:
            out += self.mean_
        return out.astype(_output_dtype(x), copy=False)


def standardize(train: Any, *others: Any) -> tuple[np.ndarray, ...]:
    """``train`` (N, F) and each of ``others`` (M, F) standardized with the mean and
    standard deviation of ``train`` alone (so no test statistics leak into training).

    Returns a tuple of the scaled arrays in the order given:
    ``x_train, x_test = standardize(x_train, x_test)``; ``(x,) = standardize(x)``.
    """
    scaler = StandardScaler().fit(train)
    return (scaler.transform(train),) + tuple(scaler.transform(o) for o in others)
