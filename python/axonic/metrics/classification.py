"""Classification metrics on predicted labels or probabilities, with scikit-learn's names,
arguments and conventions: accuracy, confusion matrix, precision / recall / F-beta and
log loss.

Labels may be ints, bools, integral floats or strings, given as NumPy arrays, lists or
Tensors, of shape (n_samples,) (a column (n_samples, 1) is accepted). Scalars come back as
Python floats, per-label results as NumPy arrays.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np

from ._checks import (
    UndefinedMetricWarning,
    check_consistent_length,
    check_label_array,
    check_not_empty,
    check_option,
    check_sample_weight,
    float_dtype,
    index_in,
    nan_average,
    to_numpy,
    unique_labels,
    weighted_average,
)

_AVERAGES = (None, "micro", "macro", "weighted", "binary")


def _check_targets(y_true: Any, y_pred: Any, sample_weight: Any = None, *,
                  keep_integer_weights: bool = False):
    """Validates a pair of label arrays for one binary or multiclass task.

    Returns ``(y_type, labels, y_true, y_pred, sample_weight)``: y_type is 'binary' (at
    most two distinct labels over both arrays) or 'multiclass', labels the sorted union
    (L,), the arrays as (n,), the weights as (n,) or None.
    """
    y_true = check_label_array(y_true, "y_true")
    y_pred = check_label_array(y_pred, "y_pred")
    check_consistent_length(y_true=y_true, y_pred=y_pred)
    check_not_empty(y_true, "y_true")
    labels = unique_labels(y_true=y_true, y_pred=y_pred)
    sample_weight = check_sample_weight(sample_weight, y_true.shape[0],
                                        keep_integer=keep_integer_weights)
    y_type = "binary" if labels.size <= 2 else "multiclass"
    return y_type, labels, y_true, y_pred, sample_weight


def accuracy_score(y_true: Any, y_pred: Any, *, normalize: bool = True,
                   sample_weight: Any = None) -> float:
    """The fraction (or with ``normalize=False`` the weighted count) of correct predictions.

    Shapes: y_true (n,), y_pred (n,), sample_weight (n,).
    """
    _, _, y_true, y_pred, sample_weight = _check_targets(y_true, y_pred, sample_weight)
    return weighted_average(y_true == y_pred, sample_weight, normalize)


def confusion_matrix(y_true: Any, y_pred: Any, *, labels: Any = None, sample_weight: Any = None,
                     normalize: str | None = None) -> np.ndarray:
    """C[i, j] counts the samples of true class ``labels[i]`` predicted as ``labels[j]``.

    Shapes: y_true (n,), y_pred (n,) -> (L, L), L = len(labels) (default: the sorted labels
    seen in either array). Samples whose labels are not in ``labels`` are ignored.
    ``normalize`` divides by the row sums ('true'), column sums ('pred') or the total
    ('all'), with 0/0 set to 0. int64 counts unless weights are floats or it is normalized.
    """
    check_option(normalize, "normalize", (None, "true", "pred", "all"))
    _, present, y_true, y_pred, sample_weight = _check_targets(
        y_true, y_pred, sample_weight, keep_integer_weights=True)
    if labels is None:
        labels = present
    else:
        labels = check_label_array(labels, "labels")
        if labels.size == 0:
            raise ValueError("'labels' should contain at least one label.")
        if not index_in(labels, y_true)[1].any():
            raise ValueError(f"At least one label specified must be in y_true; labels="
                             f"{labels.tolist()}, y_true holds {present.tolist()}")
    n_labels = labels.size
    true_index, true_found = index_in(labels, y_true)
    pred_index, pred_found = index_in(labels, y_pred)
    kept = true_found & pred_found
    cells = true_index[kept] * n_labels + pred_index[kept]
    if sample_weight is None:
        matrix = np.bincount(cells, minlength=n_labels * n_labels).astype(np.int64)
    elif sample_weight.dtype.kind == "i":
        matrix = np.zeros(n_labels * n_labels, dtype=np.int64)
        np.add.at(matrix, cells, sample_weight[kept])
    else:
        matrix = np.bincount(cells, weights=sample_weight[kept],
                             minlength=n_labels * n_labels).astype(np.float64)
    matrix = matrix.reshape(n_labels, n_labels)
    if normalize is not None:
        with np.errstate(all="ignore"):
            if normalize == "true":
                matrix = matrix / matrix.sum(axis=1, keepdims=True)
            elif normalize == "pred":
                matrix = matrix / matrix.sum(axis=0, keepdims=True)
            else:
                matrix = matrix / matrix.sum()
        matrix = np.nan_to_num(matrix)
    if matrix.shape == (1, 1):
        warnings.warn("A single label was found in 'y_true' and 'y_pred'. For the confusion "
                      "matrix to have the correct shape, use the 'labels' parameter to pass "
                      "all known labels.", UserWarning, stacklevel=2)
    return matrix


def _check_zero_division(zero_division: Any) -> float:
    """The value an ill-defined ratio takes: 0 for 'warn', else 0, 1 or NaN."""
    if isinstance(zero_division, str):
        if zero_division == "warn":
            return 0.0
    elif isinstance(zero_division, (int, float, np.number)) and not isinstance(
            zero_division, bool):
        if zero_division in (0, 1):
            return float(zero_division)
        if np.isnan(zero_division):
            return float("nan")
    raise ValueError(f"zero_division must be 'warn', 0, 1 or np.nan, got {zero_division!r}")


def _set_wise_labels(y_type: str, present: np.ndarray, average: str | None, labels: Any,
                     pos_label: Any) -> Any:
    """The labels to score: [pos_label] for average='binary', else ``labels``."""
    if average == "samples":
        raise ValueError("average='samples' is only meaningful for multilabel targets, "
                         "which axonic.metrics does not support; use accuracy_score instead")
    check_option(average, "average", _AVERAGES)
    if average == "binary":
        if y_type != "binary":
            raise ValueError(f"Target is {y_type} but average='binary'. Please choose "
                             "another average setting, one of [None, 'micro', 'macro', "
                             "'weighted'].")
        if not index_in(present, np.asarray([pos_label]))[1][0] and present.size >= 2:
            raise ValueError(f"pos_label={pos_label!r} is not a valid label. It should be "
                             f"one of {present.tolist()}")
        return np.asarray([pos_label])
    if pos_label not in (None, 1):
        warnings.warn(f"Note that pos_label (set to {pos_label!r}) is ignored when average != "
                      f"'binary' (got {average!r}). You may use labels=[pos_label] to "
                      "specify a single positive class.", UserWarning, stacklevel=3)
    return labels


def _label_sums(y_true: np.ndarray, y_pred: np.ndarray, labels: np.ndarray,
                sample_weight: np.ndarray | None):
    """Per-label (weighted) true positives, predicted and true counts, each (L,)."""
    true_index, true_found = index_in(labels, y_true)
    pred_index, pred_found = index_in(labels, y_pred)
    hit = (y_true == y_pred) & true_found
    n_labels = labels.size

    def count(index: np.ndarray, mask: np.ndarray) -> np.ndarray:
        weights = None if sample_weight is None else sample_weight[mask]
        return np.bincount(index[mask], weights=weights, minlength=n_labels)

    return (count(true_index, hit), count(pred_index, pred_found),
            count(true_index, true_found))


def _divide(numerator: np.ndarray, denominator: np.ndarray, metric: str, modifier: str,
            warn_for: Sequence[str], zero_division: Any) -> np.ndarray:
    """numerator / denominator (L,), with 0/0 set by ``zero_division`` (and a warning for
    'warn' when ``metric`` is in ``warn_for``)."""
    mask = denominator == 0
    denominator = np.asarray(denominator, dtype=np.float64).copy()
    denominator[mask] = 1
    result = np.asarray(numerator, dtype=np.float64) / denominator
    if not mask.any():
        return result
    result[mask] = _check_zero_division(zero_division)
    if isinstance(zero_division, str) and metric in warn_for:
        where = "due to" if result.shape[0] == 1 else "in labels with"
        warnings.warn(f"{metric.capitalize()} is ill-defined and being set to 0.0 {where} no "
                      f"{modifier} samples. Use `zero_division` parameter to control this "
                      "behavior.", UndefinedMetricWarning, stacklevel=4)
    return result


def precision_recall_fscore_support(
    y_true: Any, y_pred: Any, *, beta: float = 1.0, labels: Any = None, pos_label: Any = 1,
    average: str | None = None, warn_for: Sequence[str] = ("precision", "recall", "f-score"),
    sample_weight: Any = None, zero_division: Any = "warn",
):
    """Precision tp/(tp+fp), recall tp/(tp+fn), F-beta and support (tp+fn) per label.

    Shapes: y_true (n,), y_pred (n,). With ``average=None`` returns four (L,) arrays for
    ``labels`` (default: every label seen); otherwise three floats and None:
    'binary' scores ``pos_label`` only, 'micro' pools the counts of all labels, 'macro' is
    the unweighted mean over labels and 'weighted' the mean weighted by support.
    Ratios with a zero denominator take ``zero_division`` ('warn' means 0 plus an
    ``UndefinedMetricWarning``; np.nan values are left out of the averages).
    """
    _check_zero_division(zero_division)
    if not np.isscalar(beta) or not beta >= 0:
        raise ValueError(f"beta must be a number >= 0, got {beta!r}")
    y_type, present, y_true, y_pred, sample_weight = _check_targets(y_true, y_pred,
                                                                   sample_weight)
    labels = _set_wise_labels(y_type, present, average, labels, pos_label)
    labels = present if labels is None else check_label_array(labels, "labels")
    tp_sum, pred_sum, true_sum = _label_sums(y_true, y_pred, labels, sample_weight)
    if average == "micro":
        tp_sum, pred_sum, true_sum = (np.array([s.sum()]) for s in (tp_sum, pred_sum, true_sum))

    precision = _divide(tp_sum, pred_sum, "precision", "predicted", warn_for, zero_division)
    recall = _divide(tp_sum, true_sum, "recall", "true", warn_for, zero_division)
    if np.isposinf(beta):
        f_score = recall
    elif beta == 0:
        f_score = precision
    else:
        beta2 = beta ** 2
        denominator = beta2 * true_sum.astype(np.float64) + pred_sum.astype(np.float64)
        f_score = _divide((1 + beta2) * tp_sum.astype(np.float64), denominator, "f-score",
                          "true nor predicted", warn_for, zero_division)
    if average is None:
        return precision, recall, f_score, true_sum
    weights = true_sum if average == "weighted" else None
    return (nan_average(precision, weights), nan_average(recall, weights),
            nan_average(f_score, weights), None)


def fbeta_score(y_true: Any, y_pred: Any, *, beta: float, labels: Any = None,
                pos_label: Any = 1, average: str | None = "binary", sample_weight: Any = None,
                zero_division: Any = "warn") -> float | np.ndarray:
    """F-beta = (1 + beta^2) tp / ((1 + beta^2) tp + beta^2 fn + fp): recall weighs beta
    times as much as precision. Shapes: (n,), (n,) -> float, or (L,) for average=None."""
    _, _, f, _ = precision_recall_fscore_support(
        y_true, y_pred, beta=beta, labels=labels, pos_label=pos_label, average=average,
        warn_for=("f-score",), sample_weight=sample_weight, zero_division=zero_division)
    return f


def f1_score(y_true: Any, y_pred: Any, *, labels: Any = None, pos_label: Any = 1,
             average: str | None = "binary", sample_weight: Any = None,
             zero_division: Any = "warn") -> float | np.ndarray:
    """F1, the harmonic mean of precision and recall: 2 tp / (2 tp + fp + fn).
    Shapes: (n,), (n,) -> float, or (L,) for average=None."""
    return fbeta_score(y_true, y_pred, beta=1, labels=labels, pos_label=pos_label,
                       average=average, sample_weight=sample_weight,
                       zero_division=zero_division)


def precision_score(y_true: Any, y_pred: Any, *, labels: Any = None, pos_label: Any = 1,
                    average: str | None = "binary", sample_weight: Any = None,
                    zero_division: Any = "warn") -> float | np.ndarray:
    """Precision tp / (tp + fp): of the samples predicted positive, the fraction that are.
    Shapes: (n,), (n,) -> float, or (L,) for average=None."""
    p, _, _, _ = precision_recall_fscore_support(
        y_true, y_pred, labels=labels, pos_label=pos_label, average=average,
        warn_for=("precision",), sample_weight=sample_weight, zero_division=zero_division)
    return p


def recall_score(y_true: Any, y_pred: Any, *, labels: Any = None, pos_label: Any = 1,
                 average: str | None = "binary", sample_weight: Any = None,
                 zero_division: Any = "warn") -> float | np.ndarray:
    """Recall tp / (tp + fn): of the positive samples, the fraction found.
    Shapes: (n,), (n,) -> float, or (L,) for average=None."""
    _, r, _, _ = precision_recall_fscore_support(
        y_true, y_pred, labels=labels, pos_label=pos_label, average=average,
        warn_for=("recall",), sample_weight=sample_weight, zero_division=zero_division)
    return r


def _one_hot(y_true: np.ndarray, labels: Any) -> np.ndarray:
    """y_true (n,) as one-hot (n, C) over the sorted classes (labels, or those in y_true);
    two classes give two columns."""
    if labels is None:
        classes = unique_labels(y_true=y_true)
        if classes.size == 1:
            raise ValueError(f"y_true contains only one label ({classes.tolist()[0]!r}). Please "
                             "provide the list of all expected class labels explicitly through the "
                             "labels argument.")
    else:
        given = check_label_array(labels, "labels")
        classes = unique_labels(labels=given)
        if not np.array_equal(classes, given):
            warnings.warn(f"Labels passed were {given.tolist()}. But this function assumes "
                          "labels are ordered lexicographically. Pass the ordered labels="
                          f"{classes.tolist()} and ensure that the columns of y_proba "
                          "correspond to this ordering.", UserWarning, stacklevel=3)
        if classes.size < 2:
            raise ValueError("The labels array needs to contain at least two labels, got "
                             f"{classes.tolist()}.")
    index, found = index_in(classes, y_true)
    if not found.all():
        raise ValueError(f"y_true contains values {sorted(set(y_true[~found].tolist()))} not "
                         f"belonging to the passed labels {classes.tolist()}.")
    one_hot = np.zeros((y_true.shape[0], classes.size))
    one_hot[np.arange(y_true.shape[0]), index] = 1
    return one_hot


def log_loss(y_true: Any, y_proba: Any = None, *, eps: float | str = "auto",
             normalize: bool = True, sample_weight: Any = None, labels: Any = None,
             y_pred: Any = None) -> float:
    """Cross-entropy -sum_c [y == c] log p_c, averaged (or summed) over samples.

    Shapes: y_true (n,); y_proba (n,) (probability of the greater label), (n, 1) or (n, C)
    with columns in the sorted order of ``labels`` (default: the labels in y_true).
    Probabilities are clipped to [eps, 1 - eps]; eps='auto' is the machine epsilon of
    y_proba's dtype. ``y_pred`` is an alias of ``y_proba`` (scikit-learn < 1.9's name).
    """
    if y_pred is not None:
        if y_proba is not None:
            raise ValueError("Pass the probabilities as y_proba or as y_pred, not both")
        y_proba = y_pred
    y_true = check_label_array(y_true, "y_true")
    proba = to_numpy(y_proba, "y_proba")
    if proba.dtype.kind not in "biuf":
        raise ValueError(f"y_proba must hold probabilities, got dtype {proba.dtype}")
    if proba.ndim > 2 or proba.ndim == 0:
        raise ValueError(f"y_proba must have shape (n_samples,) or (n_samples, n_classes), "
                         f"got shape {proba.shape}")
    dtype = float_dtype(proba)
    proba = proba.astype(np.float64)
    check_not_empty(proba, "y_proba")
    if np.isnan(proba).any():
        raise ValueError("Input y_proba contains NaN.")
    if proba.max() > 1:
        raise ValueError(f"y_proba contains values greater than 1: {proba.max()}")
    if proba.min() < 0:
        raise ValueError(f"y_proba contains values lower than 0: {proba.min()}")
    check_consistent_length(y_proba=proba, y_true=y_true)
    check_not_empty(y_true, "y_true")
    sample_weight = check_sample_weight(sample_weight, y_true.shape[0])
    one_hot = _one_hot(y_true, labels)

    if proba.ndim == 1:
        proba = proba[:, None]
    if proba.shape[1] == 1:
        proba = np.concatenate([1 - proba, proba], axis=1)
    row_sums = proba.sum(axis=1)
    if not np.isclose(row_sums, 1, rtol=np.sqrt(np.finfo(dtype).eps), atol=1e-8).all():
        warnings.warn("The y_proba values do not sum to one. Make sure to pass probabilities.",
                      UserWarning, stacklevel=2)
    if one_hot.shape[1] != proba.shape[1]:
        if labels is None:
            raise ValueError(f"y_true and y_proba contain different number of classes: "
                             f"{one_hot.shape[1]} vs {proba.shape[1]}. Please provide the "
                             "true labels explicitly through the labels argument.")
        raise ValueError(f"The number of classes in labels ({one_hot.shape[1]}) is different "
                         f"from that in y_proba ({proba.shape[1]}).")

    if isinstance(eps, str):
        if eps != "auto":
            raise ValueError(f"eps must be 'auto' or a float, got {eps!r}")
        eps = float(np.finfo(dtype).eps)
    proba = np.clip(proba, eps, 1 - eps)
    loss = -np.sum(one_hot * np.log(proba), axis=1)
    return weighted_average(loss, sample_weight, normalize)
