"""axonic.metrics against scikit-learn: every function on seeded random binary and
multiclass data (sizes down to 1, tied scores, int and string labels), every average mode,
sample weights, zero_division, Tensors as input, the short-name registry, and bad input
(each answered by a ValueError that names what was expected)."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import axonic
from axonic import metrics as M
from axonic.metrics import UndefinedMetricWarning
from conftest import assert_close

sk = pytest.importorskip("sklearn.metrics")

SIZES = (1, 2, 9, 64)
NAMES = np.array(["ant", "bee", "cat", "dog", "eel"])  # strings sort like their index
AVERAGES = (None, "micro", "macro", "weighted", "binary")
ZERO_DIVISIONS = ("warn", 0, 1, np.nan)


def same(actual, expected) -> None:
    """Equal to scikit-learn's to 1e-12 (NaN where it has NaN); scalars are Python floats."""
    if np.ndim(expected) == 0:
        assert type(actual) is float, f"expected a Python float, got {type(actual)}"
    assert_close(np.asarray(actual, dtype=np.float64), np.asarray(expected, dtype=np.float64),
                 rtol=0, atol=1e-12)


def quiet(fn, *args, **kwargs):
    """fn(*args, **kwargs) with warnings silenced, or the exception type it raised."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            return fn(*args, **kwargs)
        except (ValueError, NotImplementedError) as error:
            return type(error)


def same_outcome(ours, theirs, *args, **kwargs) -> None:
    """Both return equal results, or both raise the same kind of error."""
    actual, expected = quiet(ours, *args, **kwargs), quiet(theirs, *args, **kwargs)
    if isinstance(expected, type) or isinstance(actual, type):
        assert actual is expected, f"axonic gave {actual!r}, scikit-learn {expected!r}"
    elif isinstance(expected, tuple):
        for a, e in zip(actual, expected):
            if e is None:
                assert a is None
            else:
                same(a, e)
    else:
        same(actual, expected)


def labels_for(rng, n: int, n_classes: int, strings: bool) -> np.ndarray:
    ints = rng.integers(0, n_classes, n)
    return NAMES[ints] if strings else ints


def probabilities(rng, n: int, n_classes: int) -> np.ndarray:
    """(n, C) rows summing to one, rounded so that many scores tie."""
    p = np.round(rng.random((n, n_classes)), 1) + 0.05
    return p / p.sum(axis=1, keepdims=True)


# ----- accuracy and confusion matrix -------------------------------------------------------
@pytest.mark.parametrize("n", SIZES)
@pytest.mark.parametrize("n_classes", [2, 4])
@pytest.mark.parametrize("strings", [False, True])
def test_accuracy_and_confusion_matrix_match_sklearn(n, n_classes, strings):
    rng = np.random.default_rng(n * 10 + n_classes)
    y_true, y_pred = (labels_for(rng, n, n_classes, strings) for _ in range(2))
    float_weight, int_weight = rng.random(n) + 0.1, rng.integers(1, 4, n)
    for weight in (None, float_weight, int_weight):
        for normalize in (True, False):
            same(M.accuracy_score(y_true, y_pred, normalize=normalize, sample_weight=weight),
                 sk.accuracy_score(y_true, y_pred, normalize=normalize, sample_weight=weight))
        subset = NAMES[[2, 0]] if strings else np.array([2, 0])
        for labels in (None, subset):
            if labels is not None and not np.isin(labels, y_true).any():
                continue
            for normalize in (None, "true", "pred", "all"):
                kwargs = dict(labels=labels, sample_weight=weight, normalize=normalize)
                ours = quiet(M.confusion_matrix, y_true, y_pred, **kwargs)
                theirs = quiet(sk.confusion_matrix, y_true, y_pred, **kwargs)
                assert ours.dtype == theirs.dtype
                np.testing.assert_array_equal(ours, theirs)


def test_confusion_matrix_of_one_label_warns_like_sklearn():
    with pytest.warns(UserWarning, match="single label"):
        np.testing.assert_array_equal(M.confusion_matrix([1, 1], [1, 1]), [[2]])


# ----- precision, recall, F-beta -----------------------------------------------------------
@pytest.mark.parametrize("n", SIZES)
@pytest.mark.parametrize("n_classes", [2, 3])
@pytest.mark.parametrize("strings", [False, True])
def test_precision_recall_fscore_match_sklearn(n, n_classes, strings):
    rng = np.random.default_rng(100 + n * 10 + n_classes)
    y_true, y_pred = (labels_for(rng, n, n_classes, strings) for _ in range(2))
    weight = rng.random(n) + 0.1
    pos_label = NAMES[1] if strings else 1
    extra = NAMES[[4, 0]] if strings else np.array([4, 0])  # one absent label, one maybe
    for average in AVERAGES:
        for labels in (None, extra):
            for i, zero_division in enumerate(ZERO_DIVISIONS):  # weighted every other time
                same_outcome(M.precision_recall_fscore_support,
                             sk.precision_recall_fscore_support, y_true, y_pred,
                             average=average, sample_weight=weight if i % 2 else None,
                             labels=labels, zero_division=zero_division, pos_label=pos_label)
            for name in ("precision_score", "recall_score", "f1_score"):
                same_outcome(getattr(M, name), getattr(sk, name), y_true, y_pred,
                             average=average, labels=labels, pos_label=pos_label)
        for beta in (0, 0.5, 2, np.inf):
            same_outcome(M.fbeta_score, sk.fbeta_score, y_true, y_pred, beta=beta,
                         average=average, pos_label=pos_label, sample_weight=weight)


def test_prfs_support_is_int_counts_per_label():
    p, r, f, support = M.precision_recall_fscore_support([0, 1, 2, 2], [0, 2, 2, 2],
                                                         zero_division=0)
    np.testing.assert_array_equal(support, [1, 1, 2])
    assert support.dtype == np.int64 and p.shape == r.shape == f.shape == (3,)


def test_zero_division_warns_with_our_class_and_sets_the_value():
    y_true, y_pred = [0, 1, 1, 0], [0, 0, 0, 0]  # nothing predicted positive
    assert issubclass(UndefinedMetricWarning, UserWarning)
    with pytest.warns(UndefinedMetricWarning, match="Precision is ill-defined"):
        assert M.precision_score(y_true, y_pred) == 0.0
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert M.precision_score(y_true, y_pred, zero_division=1) == 1.0
        assert np.isnan(M.precision_score(y_true, y_pred, zero_division=np.nan))
        assert M.recall_score(y_true, y_pred) == 0.0  # recall is defined: tp + fn = 2
    # NaN scores are left out of the macro average, as in scikit-learn
    for zero_division in ZERO_DIVISIONS:
        same_outcome(M.precision_score, sk.precision_score, [0, 1, 2], [0, 0, 1],
                     average="macro", zero_division=zero_division)
    with pytest.warns(UndefinedMetricWarning, match="F-score is ill-defined"):
        assert M.f1_score([0, 0], [0, 0]) == 0.0


def test_pos_label_is_ignored_with_a_warning_outside_binary():
    with pytest.warns(UserWarning, match="pos_label"):
        same(M.recall_score([0, 1, 2], [0, 1, 1], average="macro", pos_label=2),
             quiet(sk.recall_score, [0, 1, 2], [0, 1, 1], average="macro", pos_label=2))


# ----- ROC ---------------------------------------------------------------------------------
BINARY_TARGETS = {
    "01": (np.array([0, 1]), None),
    "-11": (np.array([-1, 1]), None),
    "bool": (np.array([False, True]), None),
    "strings": (NAMES[[0, 1]], NAMES[1]),
    "2vs_rest": (np.array([0, 1, 2]), 2),
}


@pytest.mark.parametrize("n", SIZES)
@pytest.mark.parametrize("target", list(BINARY_TARGETS))
@pytest.mark.parametrize("ties", [False, True])
def test_roc_curve_matches_sklearn_exactly(n, target, ties):
    rng = np.random.default_rng(200 + n)
    values, pos_label = BINARY_TARGETS[target]
    y_true = values[rng.integers(0, values.size, n)]
    y_score = rng.random(n)
    y_score = np.round(y_score, 1) if ties else y_score
    weight = rng.random(n) * (rng.random(n) > 0.2)  # some zero weights
    weight[0] = 1.0
    for sample_weight in (None, weight):
        for drop in (True, False):
            kw = dict(pos_label=pos_label, sample_weight=sample_weight, drop_intermediate=drop)
            ours, theirs = quiet(M.roc_curve, y_true, y_score, **kw), quiet(
                sk.roc_curve, y_true, y_score, **kw)
            for a, e in zip(ours, theirs):
                assert a.dtype == e.dtype == np.float64
                np.testing.assert_array_equal(a, e)
    assert M.roc_curve(np.array([0, 1]), np.array([0.2, 0.7]))[2][0] == np.inf


def test_roc_curve_without_negatives_warns_and_gives_nan_fpr():
    with pytest.warns(UndefinedMetricWarning, match="No negative samples"):
        fpr, tpr, _ = M.roc_curve([1, 1, 1], [0.2, 0.5, 0.9])
    assert np.isnan(fpr).all() and tpr[-1] == 1


@pytest.mark.parametrize("n", [2, 9, 64])
@pytest.mark.parametrize("strings", [False, True])
@pytest.mark.parametrize("ties", [False, True])
def test_binary_roc_auc_matches_sklearn(n, strings, ties):
    rng = np.random.default_rng(300 + n)
    y_true = labels_for(rng, n, 2, strings)
    y_true[:2] = NAMES[:2] if strings else [0, 1]
    y_score = rng.normal(size=n)
    y_score = np.round(y_score) if ties else y_score
    weight = rng.random(n) + 0.1
    for sample_weight in (None, weight):
        for max_fpr in (None, 0.3, 1.0):
            for average in ("macro", "weighted", None):
                same_outcome(M.roc_auc_score, sk.roc_auc_score, y_true, y_score,
                             sample_weight=sample_weight, max_fpr=max_fpr, average=average)
    same_outcome(M.roc_auc_score, sk.roc_auc_score, y_true, y_score[:, None])


@pytest.mark.parametrize("n", [3, 9, 64])
@pytest.mark.parametrize("strings", [False, True])
def test_multiclass_roc_auc_matches_sklearn(n, strings):
    rng = np.random.default_rng(400 + n)
    y_true = labels_for(rng, n, 3, strings)
    y_true[:3] = NAMES[:3] if strings else [0, 1, 2]
    y_score = probabilities(rng, n, 3)
    weight = rng.random(n) + 0.1
    for multi_class in ("ovr", "ovo"):
        for average in ("macro", "weighted", "micro", None):
            for sample_weight in (None, weight):
                same_outcome(M.roc_auc_score, sk.roc_auc_score, y_true, y_score,
                             multi_class=multi_class, average=average,
                             sample_weight=sample_weight)
    # labels name y_score's columns; a class absent from y_true gives NaN in its column
    four = probabilities(rng, n, 4)
    labels = NAMES[:4] if strings else [0, 1, 2, 3]
    for average in ("macro", "weighted", None):
        same_outcome(M.roc_auc_score, sk.roc_auc_score, y_true, four, multi_class="ovr",
                     average=average, labels=labels)
    same_outcome(M.roc_auc_score, sk.roc_auc_score, y_true, four, multi_class="ovo",
                 labels=labels)


# ----- top-k accuracy ----------------------------------------------------------------------
@pytest.mark.parametrize("n", SIZES)
@pytest.mark.parametrize("strings", [False, True])
def test_top_k_accuracy_matches_sklearn(n, strings):
    rng = np.random.default_rng(500 + n)
    y_true = labels_for(rng, n, 4, strings)
    y_score = probabilities(rng, n, 4)  # ties broken like scikit-learn's mergesort
    labels = NAMES[:4] if strings else [0, 1, 2, 3]
    weight = rng.random(n) + 0.1
    for k in (1, 2, 3, 4):
        for normalize in (True, False):
            for sample_weight in (None, weight):
                same_outcome(M.top_k_accuracy_score, sk.top_k_accuracy_score, y_true, y_score,
                             k=k, normalize=normalize, sample_weight=sample_weight,
                             labels=labels)
    binary = labels_for(rng, n, 2, strings)
    for scores in (rng.random(n), rng.normal(size=n)):  # probabilities, decision values
        for k in (1, 2):
            same_outcome(M.top_k_accuracy_score, sk.top_k_accuracy_score, binary, scores,
                         k=k, labels=NAMES[:2] if strings else [0, 1])


# ----- log loss ----------------------------------------------------------------------------
@pytest.mark.parametrize("n", SIZES)
@pytest.mark.parametrize("strings", [False, True])
def test_log_loss_matches_sklearn(n, strings):
    rng = np.random.default_rng(600 + n)
    weight = rng.random(n) + 0.1
    y_binary = labels_for(rng, n, 2, strings)
    p = np.round(rng.random(n), 1)  # includes exact 0 and 1, clipped to [eps, 1 - eps]
    y_multi = labels_for(rng, n, 3, strings)
    P = probabilities(rng, n, 3)
    for labels2, labels3 in ((NAMES[:2], NAMES[:3]),) if strings else (([0, 1], [0, 1, 2]),):
        for normalize in (True, False):
            for sample_weight in (None, weight):
                kw = dict(normalize=normalize, sample_weight=sample_weight)
                for y_proba in (p, p[:, None], np.stack([1 - p, p], axis=1)):
                    same_outcome(M.log_loss, sk.log_loss, y_binary, y_proba, labels=labels2,
                                 **kw)
                same_outcome(M.log_loss, sk.log_loss, y_multi, P, labels=labels3, **kw)
    if np.unique(y_multi).size == 3:
        same_outcome(M.log_loss, sk.log_loss, y_multi, P)


def test_log_loss_eps_and_float32_probabilities():
    p32 = np.array([0.0, 1.0, 0.25], dtype=np.float32)
    # eps='auto' is float32's epsilon for float32 probabilities, as scikit-learn's
    assert_close(M.log_loss([0, 1, 1], p32), sk.log_loss([0, 1, 1], p32), rtol=1e-6)
    expected = -np.mean(np.log([1 - 1e-3, 1 - 1e-3, 0.25]))
    same(M.log_loss([0, 1, 1], p32.astype(np.float64), eps=1e-3), expected)
    same(M.log_loss([0, 1], y_pred=[0.2, 0.6]), M.log_loss([0, 1], [0.2, 0.6]))


def test_log_loss_warns_on_rows_not_summing_to_one_and_on_unsorted_labels():
    with pytest.warns(UserWarning, match="do not sum to one"):
        M.log_loss([0, 1, 2], [[0.2, 0.7, 0.9]] * 3)
    with pytest.warns(UserWarning, match="ordered lexicographically"):
        M.log_loss([0, 1, 2], [[0.2, 0.7, 0.1]] * 3, labels=[2, 1, 0])


# ----- regression --------------------------------------------------------------------------
REGRESSION = ("mean_absolute_error", "mean_squared_error", "root_mean_squared_error",
              "r2_score")


@pytest.mark.parametrize("n", SIZES)
@pytest.mark.parametrize("n_outputs", [0, 1, 3])  # 0: 1-d targets
def test_regression_matches_sklearn(n, n_outputs):
    rng = np.random.default_rng(700 + n)
    shape = (n,) if n_outputs == 0 else (n, n_outputs)
    y_true, y_pred = rng.normal(size=shape), rng.normal(size=shape)
    weight = rng.random(n) + 0.1
    modes = ["raw_values", "uniform_average"]
    if n_outputs > 1:
        modes.append(rng.random(n_outputs))
    for name in REGRESSION:
        for multioutput in modes + (["variance_weighted"] if name == "r2_score" else []):
            for sample_weight in (None, weight):
                same_outcome(getattr(M, name), getattr(sk, name), y_true, y_pred,
                             sample_weight=sample_weight, multioutput=multioutput)


def test_r2_conventions_for_constant_targets_and_one_sample():
    for y_pred in ([3.0, 3.0, 3.0], [3.0, 2.0, 3.0]):  # perfect -> 1, imperfect -> 0
        for force_finite in (True, False):
            same_outcome(M.r2_score, sk.r2_score, [3.0, 3.0, 3.0], y_pred,
                         force_finite=force_finite)
    assert M.r2_score([3.0, 3.0], [3.0, 2.0]) == 0.0
    assert M.r2_score([3.0, 3.0], [3.0, 2.0], force_finite=False) == -np.inf
    columns = np.array([[1.0, 1.0], [1.0, 2.0], [1.0, 3.0]])
    for multioutput in ("raw_values", "uniform_average", "variance_weighted"):
        same_outcome(M.r2_score, sk.r2_score, columns, columns[::-1], multioutput=multioutput)
    with pytest.warns(UndefinedMetricWarning, match="less than two samples"):
        assert np.isnan(M.r2_score([1.0], [2.0]))


# ----- Tensors in --------------------------------------------------------------------------
def test_tensors_are_accepted_everywhere():
    rng = np.random.default_rng(800)
    y = rng.integers(0, 3, 40)
    y[:3] = [0, 1, 2]
    y_hat = rng.integers(0, 3, 40)
    P = probabilities(rng, 40, 3).astype(np.float32)
    b, s = (y > 0).astype(np.int64), rng.random(40).astype(np.float32)
    r, q = rng.normal(size=40).astype(np.float32), rng.normal(size=40).astype(np.float32)

    def t(a):
        return axonic.tensor(a)

    cases = [
        ("accuracy_score", (y, y_hat), {}),
        ("f1_score", (y, y_hat), {"average": "macro"}),
        ("precision_recall_fscore_support", (y, y_hat), {"sample_weight": s}),
        ("roc_auc_score", (b, s), {}),
        ("roc_auc_score", (y, P), {"multi_class": "ovr"}),
        ("log_loss", (y, P), {}),
        ("top_k_accuracy_score", (y, P), {"k": 2}),
        ("mean_absolute_error", (r, q), {}),
        ("r2_score", (r, q), {"sample_weight": s}),
    ]
    for name, args, kwargs in cases:
        # float32 Tensors are scored in float64: compare with scikit-learn on float64 copies
        expected = quiet(getattr(sk, name), *(a.astype(np.float64) if a.dtype == np.float32
                                              else a for a in args), **kwargs)
        actual = getattr(M, name)(*(t(a) for a in args),
                                  **{k: t(v) if isinstance(v, np.ndarray) else v
                                     for k, v in kwargs.items()})
        if isinstance(expected, tuple):
            for a, e in zip(actual, expected):
                same(a, e)
        else:
            same(actual, expected)
    np.testing.assert_array_equal(M.confusion_matrix(t(y), t(y_hat)),
                                  sk.confusion_matrix(y, y_hat))
    for a, e in zip(M.roc_curve(t(b), t(s)), sk.roc_curve(b, s)):
        np.testing.assert_array_equal(a, e)


# ----- registry ----------------------------------------------------------------------------
def test_registry_maps_short_names_to_the_functions():
    expected = {"accuracy": M.accuracy_score, "precision": M.precision_score,
                "recall": M.recall_score, "f1": M.f1_score, "roc_auc": M.roc_auc_score,
                "log_loss": M.log_loss, "top_k_accuracy": M.top_k_accuracy_score,
                "mae": M.mean_absolute_error, "mse": M.mean_squared_error,
                "rmse": M.root_mean_squared_error, "r2": M.r2_score}
    assert set(M.METRICS) == set(expected)
    for name, fn in expected.items():
        assert M.get_metric(name) is fn
    assert M.get_metric("f1")([0, 1, 1], [0, 1, 0]) == sk.f1_score([0, 1, 1], [0, 1, 0])
    with pytest.raises(ValueError, match="Unknown metric 'auc'.*roc_auc.*r2"):
        M.get_metric("auc")
    assert axonic.metrics is M and "metrics" in axonic.__all__


# ----- bad input ---------------------------------------------------------------------------
P3 = [[0.2, 0.3, 0.5], [0.1, 0.8, 0.1], [0.6, 0.2, 0.2]]
BAD_INPUT = [
    # (function name, args, kwargs, message pattern, scikit-learn raises too)
    ("accuracy_score", ([0, 1], [0, 1, 1]), {}, "inconsistent numbers of samples", True),
    ("f1_score", ([0, 1, 1], [0, 1]), {}, "inconsistent numbers of samples", True),
    ("confusion_matrix", ([0], [0, 1]), {}, "inconsistent numbers of samples", True),
    ("roc_curve", ([0, 1], [0.1, 0.9, 0.3]), {}, "inconsistent numbers of samples", True),
    ("roc_auc_score", ([0, 1], [0.1]), {}, "inconsistent numbers of samples", True),
    ("log_loss", ([0, 1], [0.1, 0.2, 0.3]), {}, "inconsistent numbers of samples", True),
    ("top_k_accuracy_score", ([0, 1, 2], P3[:2]), {}, "inconsistent numbers", True),
    ("mean_squared_error", ([0.0, 1.0], [0.0]), {}, "inconsistent numbers of samples", True),
    ("accuracy_score", ([], []), {}, "empty", True),
    ("precision_score", ([], []), {}, "empty", True),
    ("confusion_matrix", ([], []), {}, "empty", True),
    ("roc_curve", ([], []), {}, "empty", True),
    ("roc_auc_score", ([], []), {}, "empty", True),
    ("log_loss", ([], []), {}, "empty", True),
    ("top_k_accuracy_score", ([], []), {}, "empty", True),
    ("mean_absolute_error", ([], []), {}, "empty", True),
    ("r2_score", ([], []), {}, "empty", True),
    ("accuracy_score", ([0, np.nan], [0, 1]), {}, "y_true contains NaN", True),
    ("recall_score", ([0, 1], [0, np.nan]), {}, "y_pred contains NaN", True),
    ("confusion_matrix", ([0, np.inf], [0, 1]), {}, "y_true contains infinity", True),
    ("roc_curve", ([0, 1], [0.1, np.nan]), {}, "y_score contains NaN", True),
    ("roc_auc_score", ([0, 1], [np.nan, 0.1]), {}, "y_score contains NaN", True),
    ("log_loss", ([0, 1], [0.1, np.nan]), {}, "y_proba contains NaN", True),
    ("top_k_accuracy_score", ([0, 1, 2], [[np.nan, 0.5, 0.5]] * 3), {}, "NaN", True),
    ("mean_absolute_error", ([0.0, np.nan], [0.0, 1.0]), {}, "y_true contains NaN", True),
    ("r2_score", ([0.0, 1.0], [np.inf, 1.0]), {}, "y_pred contains infinity", True),
    ("accuracy_score", ([0, 1], [0.0, 0.7]), {}, "continuous values", True),
    ("accuracy_score", (["a", "b"], [0, 1]), {}, "Mix of label input types", True),
    ("accuracy_score", (np.eye(3, dtype=int), np.eye(3, dtype=int)), {}, "multilabel", False),
    ("roc_curve", ([0, 1], [[0.1, 0.9], [0.3, 0.7]]), {}, r"shape \(n_samples,\)", True),
    ("roc_curve", (["a", "b"], [0.1, 0.9]), {}, "pos_label", True),
    ("roc_curve", ([0, 1, 2], [0.1, 0.9, 0.3]), {}, "multiclass format is not supported",
     True),
    ("roc_auc_score", ([0, 1, 1], [[0.2, 0.8]] * 3), {}, r"y_score\[:, 1\]", True),
    ("roc_auc_score", ([0, 1, 2], [0.2, 0.3, 0.5]), {"multi_class": "ovr"},
     r"`y_score` needs to be of shape `\(n_samples, n_classes\)`", True),
    ("roc_auc_score", ([0, 1, 2], P3), {"multi_class": "ovr"}, None, False),  # control: fine
    ("roc_auc_score", ([0, 1, 2], [[0.2, 0.3, 0.6]] * 3), {"multi_class": "ovr"},
     "sum up to 1.0", True),
    ("roc_auc_score", ([0, 1, 2], P3), {}, "multi_class must be 'ovr' or 'ovo'", True),
    ("roc_auc_score", ([0, 1, 2], P3), {"multi_class": "bad"}, "multi_class must be one of",
     True),
    ("roc_auc_score", ([0, 0, 0], P3), {"multi_class": "ovo", "labels": [0, 1, 2]},
     "Only one class", False),
    ("roc_auc_score", ([0, 1, 2], P3), {"multi_class": "ovr", "labels": [0, 2, 1]},
     "must be ordered", True),
    ("roc_auc_score", ([0, 1], [0.1, 0.9]), {"max_fpr": 0}, "max_fpr", True),
    ("top_k_accuracy_score", ([0, 1, 2], [0.2, 0.3, 0.5]), {}, r"\(n_samples, n_classes\)",
     True),
    ("top_k_accuracy_score", ([0, 1, 1], P3), {}, "binary while y_score is 2d", True),
    ("top_k_accuracy_score", ([0, 1, 2], [[0.25] * 4] * 3), {}, "Number of classes", True),
    ("top_k_accuracy_score", ([0, 1, 2], P3), {"k": 0}, "k must be an int >= 1", True),
    ("log_loss", ([0, 1, 1], [[0.5] * 2] * 3), {"labels": [0, 1, 2]}, "number of classes",
     True),
    ("log_loss", ([0, 1, 2], [0.2, 0.7, 0.9]), {}, "different number of classes", True),
    ("log_loss", ([0, 1], np.full((2, 2, 2), 0.5)), {}, r"shape \(n_samples,\)", True),
    ("log_loss", ([0, 1], [0.2, 1.5]), {}, "greater than 1", True),
    ("log_loss", ([0, 1], [-0.2, 0.5]), {}, "lower than 0", True),
    ("log_loss", ([1, 1], [0.2, 0.5]), {}, "only one label", True),
    ("log_loss", ([0, 1, 3], P3), {"labels": [0, 1, 2]}, "not belonging to the passed", True),
    ("precision_score", ([0, 1], [0, 1]), {"average": "mean"}, "average must be one of",
     True),
    ("recall_score", ([0, 1, 2], [0, 1, 1]), {}, "Target is multiclass but average='binary'",
     True),
    ("f1_score", ([0, 1, 2], [0, 1, 1]), {"average": "samples"}, "multilabel", True),
    ("fbeta_score", ([0, 1], [0, 1]), {"beta": -1}, "beta must be a number >= 0", True),
    ("precision_score", ([0, 1], [0, 1]), {"pos_label": 2}, "pos_label=2 is not a valid",
     True),
    ("precision_score", ([0, 1], [0, 1]), {"zero_division": 2}, "zero_division must be",
     True),
    ("roc_auc_score", ([0, 1], [0.1, 0.9]), {"average": "mean"}, "average must be one of",
     True),
    ("roc_auc_score", ([0, 1, 2], P3), {"multi_class": "ovo", "average": "micro"},
     "average must be one of", True),
    ("confusion_matrix", ([0, 1], [0, 1]), {"normalize": "rows"}, "normalize must be one of",
     True),
    ("confusion_matrix", ([0, 1], [0, 1]), {"labels": [5, 6]}, "At least one label", True),
    ("confusion_matrix", ([0, 1], [0, 1]), {"labels": []}, "at least one label", True),
    ("accuracy_score", ([0, 1], [0, 1]), {"sample_weight": [1.0]}, "sample_weight has 1",
     True),
    ("accuracy_score", ([0, 1], [0, 1]), {"sample_weight": [1.0, np.nan]},
     "sample_weight contains NaN", True),
    ("f1_score", ([0, 1], [0, 1]), {"sample_weight": [0, 0]}, "at least one non-zero", True),
    ("roc_curve", ([0, 1], [0.1, 0.2]), {"sample_weight": [[1.0, 1.0]]}, "1-d array", True),
    ("mean_squared_error", ([0.0, 1.0], [0.0, 1.0]), {"multioutput": "mean"},
     "multioutput must be one of", True),
    ("mean_absolute_error", ([[0.0, 1.0]], [[0.0, 1.0, 2.0]]), {},
     "different number of output", True),
    ("r2_score", ([0.0, 1.0], [0.0, 1.0]), {"multioutput": [0.5, 0.5]},
     "only in multi-output", True),
    ("root_mean_squared_error", (np.ones((2, 2)), np.ones((2, 2))), {"multioutput": [1.0]},
     "equally many custom weights", True),
    ("mean_absolute_error", (np.ones((2, 2, 2)), np.ones((2, 2, 2))), {},
     r"shape \(n_samples,\) or \(n_samples, n_outputs\)", True),
    ("mean_absolute_error", (["a"], [1.0]), {}, "must hold numbers", True),
]


@pytest.mark.parametrize("name, args, kwargs, match, sklearn_raises", BAD_INPUT,
                         ids=[f"{case[0]}-{i}" for i, case in enumerate(BAD_INPUT)])
def test_bad_input_raises_a_clear_value_error(name, args, kwargs, match, sklearn_raises):
    if match is None:
        getattr(M, name)(*args, **kwargs)
        return
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(ValueError, match=match):
            getattr(M, name)(*args, **kwargs)
        if sklearn_raises:
            with pytest.raises((ValueError, TypeError)):
                getattr(sk, name)(*args, **kwargs)


def test_roc_auc_of_a_single_class_is_nan_with_a_warning_like_sklearn():
    with pytest.warns(M.UndefinedMetricWarning, match="Only one class"):
        assert np.isnan(M.roc_auc_score([1, 1, 1], [0.1, 0.2, 0.3]))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert np.isnan(sk.roc_auc_score([1, 1, 1], [0.1, 0.2, 0.3]))


def test_ovo_average_none_is_not_implemented_like_sklearn():
    with pytest.raises(NotImplementedError, match="average=None"):
        M.roc_auc_score([0, 1, 2], P3, multi_class="ovo", average=None)
