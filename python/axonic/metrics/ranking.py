"""Ranking metrics on scores or probabilities, with scikit-learn's names, arguments and
conventions: the ROC curve, the area under it (binary, and multiclass one-vs-rest or
one-vs-one) and top-k accuracy.

Scores may be probabilities or unthresholded decision values, given as NumPy arrays, lists
or Tensors. Scalars come back as Python floats, curves as float64 NumPy arrays.
"""

from __future__ import annotations

import numbers
import warnings
from itertools import combinations
from typing import Any

import numpy as np

from ._checks import (
    UndefinedMetricWarning,
    check_consistent_length,
    check_finite_numeric,
    check_label_array,
    check_not_empty,
    check_option,
    check_sample_weight,
    column_or_1d,
    index_in,
    to_numpy,
    unique_labels,
    weighted_average,
)


def _check_scores(y_score: Any) -> np.ndarray:
    """Scores of shape (n,) or (n, C) as finite float64."""
    score = to_numpy(y_score, "y_score")
    if score.ndim == 0 or score.ndim > 2:
        raise ValueError(f"y_score must have shape (n_samples,) or (n_samples, n_classes), "
                         f"got shape {score.shape}")
    check_not_empty(score, "y_score")
    return check_finite_numeric(score, "y_score")


def _pos_label(pos_label: Any, classes: np.ndarray) -> Any:
    """The positive label: as given, or 1 when y_true's classes are {0, 1} or {-1, 1}
    (or one of them alone)."""
    if pos_label is not None:
        return pos_label
    allowed = ([0, 1], [-1, 1], [0], [-1], [1])
    if classes.dtype.kind in "OUS" or not any(
            classes.size == len(a) and np.array_equal(classes, a) for a in allowed):
        shown = ", ".join(repr(c) for c in classes.tolist())
        raise ValueError(f"y_true takes value in {{{shown}}} and pos_label is not specified: "
                         "either make y_true take value in {0, 1} or {-1, 1} or pass "
                         "pos_label explicitly.")
    return 1


def _counts_at_thresholds(positive: np.ndarray, score: np.ndarray,
                          weight: np.ndarray | None):
    """Cumulative (weighted) false and true positives at each distinct score, descending.

    Shapes: positive (n,) bool, score (n,), weight (n,) or None -> fps (T,), tps (T,),
    thresholds (T,). Zero-weight samples are dropped first.
    """
    if weight is not None:
        nonzero = weight != 0
        positive, score, weight = positive[nonzero], score[nonzero], weight[nonzero]
    # Stable descending sort: ties keep their input order, as scikit-learn's.
    last = score.shape[0] - 1
    order = last - np.argsort(score[::-1], kind="stable")[::-1]
    score, positive = score[order], positive[order].astype(np.float64)
    threshold_index = np.concatenate([np.nonzero(np.diff(score))[0], [last]])
    if weight is None:
        tps = np.cumsum(positive)[threshold_index]
        fps = 1 + threshold_index.astype(np.float64) - tps
    else:
        weight = weight[order]
        tps = np.cumsum(positive * weight)[threshold_index]
        fps = np.cumsum((1 - positive) * weight)[threshold_index]
    return fps, tps, score[threshold_index]


def _roc(positive: np.ndarray, score: np.ndarray, weight: np.ndarray | None,
         drop_intermediate: bool = True):
    """(fpr, tpr, thresholds), each (T + 1,), from validated 1-d inputs."""
    fps, tps, thresholds = _counts_at_thresholds(positive, score, weight)
    if drop_intermediate and fps.shape[0] > 2:
        corner = np.logical_or(np.diff(fps, 2), np.diff(tps, 2))
        optimal = np.nonzero(np.concatenate([[True], corner, [True]]))[0]
        fps, tps, thresholds = fps[optimal], tps[optimal], thresholds[optimal]
    tps = np.concatenate([[0.0], tps])
    fps = np.concatenate([[0.0], fps])
    thresholds = np.concatenate([[np.inf], thresholds])
    if fps[-1] <= 0:
        warnings.warn("No negative samples in y_true, false positive value should be "
                      "meaningless", UndefinedMetricWarning, stacklevel=3)
        fpr = np.full(fps.shape, np.nan)
    else:
        fpr = fps / fps[-1]
    if tps[-1] <= 0:
        warnings.warn("No positive samples in y_true, true positive value should be "
                      "meaningless", UndefinedMetricWarning, stacklevel=3)
        tpr = np.full(tps.shape, np.nan)
    else:
        tpr = tps / tps[-1]
    return fpr, tpr, thresholds


def roc_curve(y_true: Any, y_score: Any, *, pos_label: Any = None, sample_weight: Any = None,
              drop_intermediate: bool = True):
    """Receiver operating characteristic: false and true positive rates as the decision
    threshold falls through the distinct scores.

    Shapes: y_true (n,), y_score (n,) -> fpr (T,), tpr (T,), thresholds (T,), with
    thresholds decreasing and thresholds[0] = inf (so the curve starts at (0, 0)).
    ``drop_intermediate`` drops thresholds on straight segments. ``pos_label`` defaults to
    1 for {0, 1} or {-1, 1} labels; y_true may be multiclass when it is given.
    """
    y_true = check_label_array(y_true, "y_true")
    check_not_empty(y_true, "y_true")
    classes = unique_labels(y_true=y_true)
    if classes.size > 2 and pos_label is None:
        raise ValueError("multiclass format is not supported: y_true has "
                         f"{classes.size} classes; pass pos_label to score one against "
                         "the rest")
    pos_label = _pos_label(pos_label, classes)
    score = column_or_1d(_check_scores(y_score), "y_score")
    check_consistent_length(y_true=y_true, y_score=score)
    weight = check_sample_weight(sample_weight, y_true.shape[0])
    positive = index_in(np.asarray([pos_label]), y_true)[1]
    return _roc(positive, score, weight, drop_intermediate)


def _trapezoid(y: np.ndarray, x: np.ndarray) -> float:
    """The area under the piecewise-linear curve through (x, y), x increasing (n,)."""
    return float(np.sum(np.diff(x) * (y[1:] + y[:-1]) / 2.0))


def _binary_roc_auc(positive: np.ndarray, score: np.ndarray, weight: np.ndarray | None,
                    max_fpr: float | None = None) -> float:
    """ROC AUC of one positive-vs-rest column; NaN with a warning if one class is missing."""
    if np.unique(positive).size != 2:
        warnings.warn("Only one class is present in y_true. ROC AUC score is not defined in "
                      "that case.", UndefinedMetricWarning, stacklevel=3)
        return float("nan")
    fpr, tpr, _ = _roc(positive.astype(bool), score, weight)
    if max_fpr is None or max_fpr == 1:
        return _trapezoid(tpr, fpr)
    # Standardized partial AUC over [0, max_fpr] (McClish correction).
    stop = np.searchsorted(fpr, max_fpr, "right")
    y_end = np.interp(max_fpr, [fpr[stop - 1], fpr[stop]], [tpr[stop - 1], tpr[stop]])
    partial = _trapezoid(np.append(tpr[:stop], y_end), np.append(fpr[:stop], max_fpr))
    min_area, max_area = 0.5 * max_fpr ** 2, max_fpr
    return 0.5 * (1 + (partial - min_area) / (max_area - min_area))


def _check_class_labels(labels: Any, n_columns: int, y_true: np.ndarray) -> np.ndarray:
    """User-given class labels (C,) for the columns of y_score: unique, sorted, one per
    column, covering y_true."""
    given = check_label_array(labels, "labels")
    classes = unique_labels(labels=given)
    if classes.size != given.size:
        raise ValueError(f"Parameter 'labels' must be unique, got {given.tolist()}")
    if not np.array_equal(classes, given):
        raise ValueError(f"Parameter 'labels' must be ordered, got {given.tolist()}")
    if classes.size != n_columns:
        raise ValueError(f"Number of given labels ({classes.size}) not equal to the number "
                         f"of columns in 'y_score' ({n_columns})")
    found = index_in(classes, y_true)[1]
    if not found.all():
        raise ValueError(f"'y_true' contains labels not in parameter 'labels': "
                         f"{sorted(set(y_true[~found].tolist()))}")
    return classes


def _multiclass_roc_auc(y_true: np.ndarray, score: np.ndarray, labels: Any, multi_class: str,
                        average: str | None, weight: np.ndarray | None) -> float | np.ndarray:
    """One-vs-rest or one-vs-one (Hand & Till) AUC of y_true (n,) against y_score (n, C)."""
    if score.ndim != 2:
        raise ValueError("`y_score` needs to be of shape `(n_samples, n_classes)`, since "
                         f"`y_true` contains multiple classes. Got `y_score.shape="
                         f"{score.shape}`.")
    if not np.allclose(1, score.sum(axis=1)):
        raise ValueError("Target scores need to be probabilities for multiclass roc_auc, i.e. "
                         "they should sum up to 1.0 over classes")
    options = ("micro", "macro", "weighted", None) if multi_class == "ovr" else (
        "macro", "weighted", None)
    if average not in options:
        raise ValueError(f"average must be one of {options} for multiclass problems with "
                         f"multi_class={multi_class!r}, got {average!r}")
    if average is None and multi_class == "ovo":
        raise NotImplementedError("average=None is not implemented for multi_class='ovo'.")
    if labels is None:
        classes = unique_labels(y_true=y_true)
        if classes.size != score.shape[1]:
            raise ValueError(f"Number of classes in y_true ({classes.size}) not equal to the "
                             f"number of columns in 'y_score' ({score.shape[1]})")
    else:
        classes = _check_class_labels(labels, score.shape[1], y_true)
    encoded = index_in(classes, y_true)[0]

    if multi_class == "ovo":
        if weight is not None:
            raise ValueError("sample_weight is not supported for multiclass one-vs-one ROC "
                             "AUC, 'sample_weight' must be None in this case.")
        present = np.unique(encoded)
        if present.size < 2:
            only = classes.tolist()[present[0]]
            raise ValueError(f"Only one class ({only!r}) is present in y_true. One-vs-one ROC "
                             "AUC is not defined in that case.")
        pairs = list(combinations(present, 2))
        pair_scores, prevalence = np.empty(len(pairs)), np.empty(len(pairs))
        for i, (a, b) in enumerate(pairs):
            in_pair = (encoded == a) | (encoded == b)
            prevalence[i] = np.average(in_pair)
            is_a = encoded[in_pair] == a
            pair_scores[i] = (_binary_roc_auc(is_a, score[in_pair, a], None)
                              + _binary_roc_auc(~is_a, score[in_pair, b], None)) / 2
        return float(np.average(pair_scores,
                                weights=prevalence if average == "weighted" else None))

    one_hot = (encoded[:, None] == np.arange(classes.size)[None, :]).astype(np.int64)
    if average == "micro":
        repeated = None if weight is None else np.repeat(weight, classes.size)
        return _binary_roc_auc(one_hot.ravel(), score.ravel(), repeated)
    average_weight = None
    if average == "weighted":
        average_weight = (one_hot.sum(axis=0) if weight is None
                          else (one_hot * weight[:, None]).sum(axis=0))
        if np.isclose(average_weight.sum(), 0):
            return 0.0
    per_class = np.array([_binary_roc_auc(one_hot[:, c], score[:, c], weight)
                          for c in range(classes.size)])
    if average is None:
        return per_class
    if average_weight is not None:
        per_class[average_weight == 0] = 0
    return float(np.average(per_class, weights=average_weight))


def roc_auc_score(y_true: Any, y_score: Any, *, average: str | None = "macro",
                  sample_weight: Any = None, max_fpr: float | None = None,
                  multi_class: str = "raise", labels: Any = None) -> float | np.ndarray:
    """Area under the ROC curve: the probability that a random positive is scored above a
    random negative (ties count half).

    Binary: y_true (n,) with two classes, y_score (n,) the score of the greater label.
    Multiclass: y_score (n, C) probabilities (rows sum to 1) with columns in the sorted
    order of ``labels`` (default: the labels in y_true), and ``multi_class`` 'ovr'
    (one-vs-rest; average 'macro', 'weighted', 'micro' or None for per-class (C,)) or
    'ovo' (Hand & Till one-vs-one; 'macro' or 'weighted'). ``max_fpr`` gives the
    standardized partial AUC over [0, max_fpr] (binary only).
    """
    check_option(average, "average", (None, "micro", "macro", "samples", "weighted"))
    check_option(multi_class, "multi_class", ("raise", "ovr", "ovo"))
    if max_fpr is not None and (not isinstance(max_fpr, numbers.Real)
                                or not 0 < max_fpr <= 1):
        raise ValueError(f"Expected max_fpr in range (0, 1], got: {max_fpr!r}")
    y_true = check_label_array(y_true, "y_true")
    check_not_empty(y_true, "y_true")
    score = _check_scores(y_score)
    check_consistent_length(y_true=y_true, y_score=score)
    weight = check_sample_weight(sample_weight, y_true.shape[0])
    classes = unique_labels(y_true=y_true)

    if classes.size > 2 or (score.ndim == 2 and score.shape[1] > 2):
        if max_fpr is not None and max_fpr != 1:
            raise ValueError("Partial AUC computation not available in multiclass setting, "
                             f"'max_fpr' must be set to `None`, received `max_fpr={max_fpr}` "
                             "instead")
        if multi_class == "raise":
            raise ValueError("y_true is multiclass (or y_score has more than two columns): "
                             "multi_class must be 'ovr' or 'ovo', got 'raise'")
        return _multiclass_roc_auc(y_true, score, labels, multi_class, average, weight)
    if score.ndim == 2 and score.shape[1] != 1:
        raise ValueError(f"y_score must have shape (n_samples,) for binary y_true, got shape "
                         f"{score.shape}; pass the score of the greater label, e.g. "
                         "y_score[:, 1]")
    # One class only: NaN and a warning, as scikit-learn (a validation epoch of a training
    # loop may hold a single class; that must not stop the training).
    positive = y_true == classes[1] if classes.size == 2 else np.zeros(len(y_true), bool)
    return _binary_roc_auc(positive, score.ravel(), weight, max_fpr)


def top_k_accuracy_score(y_true: Any, y_score: Any, *, k: int = 2, normalize: bool = True,
                         sample_weight: Any = None, labels: Any = None) -> float:
    """The fraction (or weighted count) of samples whose true class is among the ``k``
    highest-scored classes (ties broken towards the later column).

    Shapes: y_true (n,); y_score (n, C) with columns in the sorted order of ``labels``
    (default: the labels in y_true), or (n,) for binary targets (the score of the greater
    label; with k=1 it is thresholded at 0.5 for probabilities, else at 0).
    """
    if not isinstance(k, numbers.Integral) or isinstance(k, bool) or k < 1:
        raise ValueError(f"k must be an int >= 1, got {k!r}")
    y_true = check_label_array(y_true, "y_true")
    check_not_empty(y_true, "y_true")
    n_true_classes = unique_labels(y_true=y_true).size
    multiclass = n_true_classes > 2 or (labels is not None
                                        and to_numpy(labels, "labels").size > 2)
    score = _check_scores(y_score)
    if not multiclass:
        if score.ndim == 2 and score.shape[1] != 1:
            raise ValueError(f"`y_true` is binary while y_score is 2d with {score.shape[1]} "
                             "classes. If `y_true` does not contain all the labels, `labels` "
                             "must be provided.")
        score = score.ravel()
    elif score.ndim != 2:
        raise ValueError("`y_score` needs to be of shape `(n_samples, n_classes)`, since "
                         f"`y_true` contains multiple classes. Got `y_score.shape="
                         f"{score.shape}`.")
    check_consistent_length(y_true=y_true, y_score=score)
    weight = check_sample_weight(sample_weight, y_true.shape[0])
    n_columns = score.shape[1] if score.ndim == 2 else 2
    if labels is None:
        classes = unique_labels(y_true=y_true)
        if classes.size != n_columns:
            raise ValueError(f"Number of classes in 'y_true' ({classes.size}) not equal to "
                             f"the number of classes in 'y_score' ({n_columns}). You can "
                             "provide a list of all known classes by assigning it to the "
                             "`labels` parameter.")
    else:
        classes = _check_class_labels(labels, n_columns, y_true)
    if k >= classes.size:
        warnings.warn(f"'k' ({k}) greater than or equal to 'n_classes' ({classes.size}) will "
                      "result in a perfect score and is therefore meaningless.",
                      UndefinedMetricWarning, stacklevel=2)
    encoded = index_in(classes, y_true)[0]
    if not multiclass:
        if k == 1:
            threshold = 0.5 if score.min() >= 0 and score.max() <= 1 else 0
            hits = (score > threshold).astype(np.int64) == encoded
        else:
            hits = np.ones(score.shape, dtype=bool)
    else:
        ranked = np.argsort(score, axis=1, kind="mergesort")[:, ::-1]
        hits = (ranked[:, :k] == encoded[:, None]).any(axis=1)
    return weighted_average(hits, weight, normalize)
