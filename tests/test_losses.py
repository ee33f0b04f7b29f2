"""Losses: values against independent NumPy formulas, the seeds' worked examples,
float64 gradient checks, cross-entropy's target forms and extremes, bad input,
and the loss modules."""

from __future__ import annotations

import inspect
import math
import warnings
from typing import Callable, NamedTuple

import numpy as np
import pytest

import axonic
from axonic import nn
from axonic.nn import functional as F
from axonic.nn import loss as loss_modules
from axonic.nn.loss_functions import hinge_loss
from conftest import assert_close, gradcheck

DTYPES = [np.float32, np.float64]
REDUCTIONS = ["mean", "sum", "none"]


def T(array, dtype=None, requires_grad: bool = False) -> axonic.Tensor:  # noqa: N802
    return axonic.tensor(np.asarray(array), dtype=dtype, requires_grad=requires_grad)


# ----- independent NumPy formulas ---------------------------------------------------------
def np_log_softmax(z: np.ndarray, axis: int = -1) -> np.ndarray:
    shifted = z - z.max(axis=axis, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=axis, keepdims=True))


def np_pairwise_distance(x1: np.ndarray, x2: np.ndarray, p: float, eps: float) -> np.ndarray:
    v = np.abs(x1 - x2 + eps)
    return v.max(axis=-1) if p == math.inf else (v**p).sum(axis=-1) ** (1.0 / p)


def np_reduce(per_element: np.ndarray, reduction: str, total_weight: float | None = None):
    if reduction == "none":
        return per_element
    if reduction == "sum":
        return np.asarray(per_element.sum())
    return np.asarray(per_element.sum() / (per_element.size if total_weight is None
                                           else total_weight))


# ----- the table of cases -----------------------------------------------------------------
class Case(NamedTuple):
    """fn(*tensors, reduction=...) on tensors made from ``arrays`` (the differentiable
    inputs), the expected per-element loss in float64, and the 'mean' denominator when it
    is not the element count."""

    fn: Callable[..., axonic.Tensor]
    arrays: tuple[np.ndarray, ...]
    per_element: np.ndarray
    total_weight: float | None = None


def _probabilities(rng, shape, axis=-1):
    return np.exp(np_log_softmax(rng.standard_normal(shape) * 2, axis))


def case_mse(rng, dtype):
    x, t = rng.standard_normal((2, 6, 4)).astype(dtype)
    return Case(F.mse_loss, (x, t), (x.astype(float) - t) ** 2)


def case_l1(rng, dtype):
    x, t = rng.standard_normal((2, 6, 4)).astype(dtype)
    return Case(F.l1_loss, (x, t), np.abs(x.astype(float) - t))


def case_huber(rng, dtype):
    x, t = (rng.standard_normal((2, 6, 4)) * 1.5).astype(dtype)
    d = np.abs(x.astype(float) - t)
    expected = np.where(d <= 0.7, 0.5 * d**2, 0.7 * (d - 0.35))
    return Case(lambda a, b, **kw: F.huber_loss(a, b, delta=0.7, **kw), (x, t), expected)


def case_bce(rng, dtype):
    p = rng.uniform(0.02, 0.98, (6, 4)).astype(dtype)
    t = rng.uniform(0.05, 0.95, (6, 4)).astype(dtype)  # soft targets: differentiable too
    p64, t64 = p.astype(float), t.astype(float)
    return Case(F.binary_cross_entropy, (p, t), -(t64 * np.log(p64) + (1 - t64) * np.log1p(-p64)))


def case_bce_weighted(rng, dtype):
    p = rng.uniform(0.02, 0.98, (6, 4)).astype(dtype)
    t = (rng.random((6, 4)) < 0.5).astype(dtype)
    w = rng.uniform(0.5, 2.0, 4).astype(dtype)
    p64, t64 = p.astype(float), t.astype(float)
    expected = -w * (t64 * np.log(p64) + (1 - t64) * np.log1p(-p64))
    return Case(lambda a, **kw: F.binary_cross_entropy(a, T(t), weight=T(w), **kw), (p,),
                expected)


def case_bce_logits(rng, dtype):
    x = (rng.standard_normal((6, 4)) * 4).astype(dtype)
    t = rng.uniform(0, 1, (6, 4)).astype(dtype)
    x64, t64 = x.astype(float), t.astype(float)
    expected = (1 - t64) * x64 + np.logaddexp(0, -x64)
    return Case(F.binary_cross_entropy_with_logits, (x, t), expected)


def case_bce_logits_weights(rng, dtype):
    x = (rng.standard_normal((6, 4)) * 4).astype(dtype)
    t = rng.uniform(0, 1, (6, 4)).astype(dtype)
    w = rng.uniform(0.5, 2.0, (6, 1)).astype(dtype)
    pw = rng.uniform(0.5, 3.0, 4).astype(dtype)
    x64, t64 = x.astype(float), t.astype(float)
    # PyTorch's documented form: -w [pw t log sigmoid(x) + (1 - t) log(1 - sigmoid(x))]
    log_sig, log_one_minus_sig = -np.logaddexp(0, -x64), -np.logaddexp(0, x64)
    expected = -w * (pw * t64 * log_sig + (1 - t64) * log_one_minus_sig)
    return Case(lambda a, b, **kw: F.binary_cross_entropy_with_logits(
        a, b, weight=T(w), pos_weight=T(pw), **kw), (x, t), expected)


def _signs(rng, shape):
    return np.where(rng.random(shape) < 0.5, -1, 1)


def case_hinge_embedding(rng, dtype):
    x = (rng.standard_normal((6, 4)) * 2).astype(dtype)
    y = _signs(rng, (6, 4))
    expected = np.where(y == 1, x.astype(float), np.maximum(0.0, 0.5 - x.astype(float)))
    return Case(lambda a, **kw: F.hinge_embedding_loss(a, T(y), margin=0.5, **kw), (x,), expected)


def case_hinge(rng, dtype):
    x = (rng.standard_normal((6, 4)) * 2).astype(dtype)
    y = _signs(rng, (6, 4)).astype(dtype)
    expected = np.maximum(0.0, 1.0 - y * x.astype(float))
    return Case(lambda a, **kw: hinge_loss(a, T(y), **kw), (x,), expected)


def case_kl_div(rng, dtype):
    x = np_log_softmax(rng.standard_normal((5, 4))).astype(dtype)
    t = _probabilities(rng, (5, 4))
    t[0, 1] = t[3, 2] = 0.0  # zero target entries contribute 0
    t = t.astype(dtype)
    t64 = t.astype(float)
    expected = np.where(t64 > 0, t64 * (np.log(np.where(t64 > 0, t64, 1)) - x), 0.0)
    return Case(lambda a, **kw: F.kl_div(a, T(t), **kw), (x,), expected)


def case_kl_div_positive_target(rng, dtype):
    x = np_log_softmax(rng.standard_normal((5, 4))).astype(dtype)
    t = _probabilities(rng, (5, 4)).astype(dtype)
    return Case(F.kl_div, (x, t), t.astype(float) * (np.log(t.astype(float)) - x))


def case_kl_div_log_target(rng, dtype):
    x = np_log_softmax(rng.standard_normal((5, 4))).astype(dtype)
    t = np_log_softmax(rng.standard_normal((5, 4))).astype(dtype)
    expected = np.exp(t.astype(float)) * (t.astype(float) - x)
    return Case(lambda a, b, **kw: F.kl_div(a, b, log_target=True, **kw), (x, t), expected)


def case_cross_entropy_labels(rng, dtype):
    x = (rng.standard_normal((7, 5)) * 3).astype(dtype)
    y = rng.integers(0, 5, 7)
    expected = -np_log_softmax(x.astype(float))[np.arange(7), y]
    return Case(lambda a, **kw: F.cross_entropy(a, T(y), **kw), (x,), expected)


def case_cross_entropy_probabilities(rng, dtype):
    x = (rng.standard_normal((7, 5)) * 3).astype(dtype)
    t = _probabilities(rng, (7, 5)).astype(dtype)
    expected = -(t * np_log_softmax(x.astype(float))).sum(axis=1)
    return Case(lambda a, **kw: F.cross_entropy(a, T(t), **kw), (x,), expected)


def case_cross_entropy_one_hot(rng, dtype):
    x = (rng.standard_normal((7, 5)) * 3).astype(dtype)
    y = rng.integers(0, 5, 7)
    one_hot = np.eye(5, dtype=dtype)[y]
    expected = -np_log_softmax(x.astype(float))[np.arange(7), y]
    return Case(lambda a, **kw: F.cross_entropy(a, T(one_hot), **kw), (x,), expected)


def case_cross_entropy_spatial_labels(rng, dtype):
    x = rng.standard_normal((3, 4, 2, 5)).astype(dtype)  # (N, C, d1, d2)
    y = rng.integers(0, 4, (3, 2, 5))
    log_p = np_log_softmax(x.astype(float), axis=1)
    expected = -np.take_along_axis(log_p, y[:, None], axis=1)[:, 0]
    return Case(lambda a, **kw: F.cross_entropy(a, T(y), **kw), (x,), expected)


def case_cross_entropy_spatial_probabilities(rng, dtype):
    x = rng.standard_normal((3, 4, 2, 5)).astype(dtype)
    t = _probabilities(rng, (3, 4, 2, 5), axis=1).astype(dtype)
    expected = -(t * np_log_softmax(x.astype(float), axis=1)).sum(axis=1)
    return Case(lambda a, **kw: F.cross_entropy(a, T(t), **kw), (x,), expected)


def case_cross_entropy_unbatched(rng, dtype):
    x = (rng.standard_normal(6) * 2).astype(dtype)
    expected = np.asarray(-np_log_softmax(x.astype(float))[4])
    return Case(lambda a, **kw: F.cross_entropy(a, T(4), **kw), (x,), expected)


def case_cross_entropy_unbatched_probabilities(rng, dtype):
    x = (rng.standard_normal(6) * 2).astype(dtype)
    t = _probabilities(rng, 6).astype(dtype)
    expected = np.asarray(-(t * np_log_softmax(x.astype(float))).sum())
    return Case(lambda a, **kw: F.cross_entropy(a, T(t), **kw), (x,), expected)


def _weighted_labels(rng, dtype):
    x = (rng.standard_normal((9, 4)) * 2).astype(dtype)
    y = rng.integers(0, 4, 9)
    y[[1, 5]] = -100
    w = rng.uniform(0.2, 3.0, 4).astype(dtype)
    valid = y != -100
    return x, y, w, valid, np.where(valid, w[np.where(valid, y, 0)], 0.0)


def case_cross_entropy_weight_ignore(rng, dtype):
    x, y, w, valid, row_w = _weighted_labels(rng, dtype)
    nll = -np_log_softmax(x.astype(float))[np.arange(9), np.where(valid, y, 0)]
    return Case(lambda a, **kw: F.cross_entropy(a, T(y), weight=T(w), **kw), (x,),
                row_w * nll, row_w.sum())


def case_cross_entropy_label_smoothing(rng, dtype):
    # PyTorch's definition: (1 - eps) * weighted NLL + eps / C * sum_c w_c (-log p_c), ignored
    # rows 0, and both terms' 'mean' divided by the weight of the non-ignored labels.
    x, y, w, valid, row_w = _weighted_labels(rng, dtype)
    log_p, eps = np_log_softmax(x.astype(float)), 0.15
    nll = -log_p[np.arange(9), np.where(valid, y, 0)]
    smooth = -(w * log_p).sum(axis=1)
    expected = np.where(valid, (1 - eps) * row_w * nll + eps / 4 * smooth, 0.0)
    return Case(lambda a, **kw: F.cross_entropy(a, T(y), weight=T(w), label_smoothing=eps, **kw),
                (x,), expected, row_w.sum())


def case_cross_entropy_smoothed_probabilities(rng, dtype):
    x = (rng.standard_normal((7, 5)) * 3).astype(dtype)
    t = _probabilities(rng, (7, 5)).astype(dtype)
    w = rng.uniform(0.2, 3.0, 5).astype(dtype)
    smoothed = t * 0.8 + 0.2 / 5
    expected = -(w * smoothed * np_log_softmax(x.astype(float))).sum(axis=1)
    return Case(lambda a, **kw: F.cross_entropy(a, T(t), weight=T(w), label_smoothing=0.2, **kw),
                (x,), expected)


def case_nll(rng, dtype):
    x = np_log_softmax(rng.standard_normal((7, 5))).astype(dtype)
    y = rng.integers(0, 5, 7)
    return Case(lambda a, **kw: F.nll_loss(a, T(y), **kw), (x,),
                -x.astype(float)[np.arange(7), y])


def case_nll_weight_ignore(rng, dtype):
    x, y, w, valid, row_w = _weighted_labels(rng, dtype)
    picked = x.astype(float)[np.arange(9), np.where(valid, y, 0)]
    return Case(lambda a, **kw: F.nll_loss(a, T(y), weight=T(w), **kw), (x,), -row_w * picked,
                row_w.sum())


def case_nll_spatial(rng, dtype):
    x = np_log_softmax(rng.standard_normal((2, 3, 4)), axis=1).astype(dtype)
    y = rng.integers(0, 3, (2, 4))
    expected = -np.take_along_axis(x.astype(float), y[:, None], axis=1)[:, 0]
    return Case(lambda a, **kw: F.nll_loss(a, T(y), **kw), (x,), expected)


def _triplet_case(p, swap=False, margin=1.0):
    def build(rng, dtype):
        a = rng.standard_normal((6, 5)).astype(dtype)
        pos = (a + rng.standard_normal((6, 5)) * 0.5).astype(dtype)
        neg = (a + rng.standard_normal((6, 5)) * 0.8).astype(dtype)
        a64, p64, n64 = (v.astype(float) for v in (a, pos, neg))
        d_an = np_pairwise_distance(a64, n64, p, 1e-6)
        if swap:
            d_an = np.minimum(d_an, np_pairwise_distance(p64, n64, p, 1e-6))
        expected = np.maximum(np_pairwise_distance(a64, p64, p, 1e-6) - d_an + margin, 0.0)
        return Case(lambda *ts, **kw: F.triplet_margin_loss(*ts, margin=margin, p=p, swap=swap,
                                                            **kw), (a, pos, neg), expected)
    return build


def case_contrastive(rng, dtype):
    x1 = rng.standard_normal((8, 3)).astype(dtype)
    x2 = rng.standard_normal((8, 3)).astype(dtype)
    y = np.array([1, 0, 0, 1, 0, 1, 0, 0])
    d = np.sqrt(((x1.astype(float) - x2) ** 2).sum(axis=1))
    expected = y * d**2 + (1 - y) * np.maximum(0.0, 3.0 - d) ** 2
    assert ((y == 0) & (d < 3.0)).any() and ((y == 0) & (d > 3.0)).any()  # both hinge sides
    return Case(lambda a, b, **kw: F.contrastive_loss(a, b, T(y), margin=3.0, **kw), (x1, x2),
                expected)


CASES = {
    "mse": case_mse,
    "l1": case_l1,
    "huber": case_huber,
    "bce": case_bce,
    "bce_weighted": case_bce_weighted,
    "bce_logits": case_bce_logits,
    "bce_logits_weights": case_bce_logits_weights,
    "hinge_embedding": case_hinge_embedding,
    "hinge": case_hinge,
    "kl_div": case_kl_div,
    "kl_div_positive_target": case_kl_div_positive_target,
    "kl_div_log_target": case_kl_div_log_target,
    "ce_labels": case_cross_entropy_labels,
    "ce_probabilities": case_cross_entropy_probabilities,
    "ce_one_hot": case_cross_entropy_one_hot,
    "ce_spatial_labels": case_cross_entropy_spatial_labels,
    "ce_spatial_probabilities": case_cross_entropy_spatial_probabilities,
    "ce_unbatched": case_cross_entropy_unbatched,
    "ce_unbatched_probabilities": case_cross_entropy_unbatched_probabilities,
    "ce_weight_ignore": case_cross_entropy_weight_ignore,
    "ce_label_smoothing": case_cross_entropy_label_smoothing,
    "ce_smoothed_probabilities": case_cross_entropy_smoothed_probabilities,
    "nll": case_nll,
    "nll_weight_ignore": case_nll_weight_ignore,
    "nll_spatial": case_nll_spatial,
    "triplet_p2": _triplet_case(2.0),
    "triplet_p1": _triplet_case(1.0),
    "triplet_p3": _triplet_case(3.0, margin=0.5),
    "triplet_pinf": _triplet_case(math.inf),
    "triplet_swap": _triplet_case(2.0, swap=True),
    "contrastive": case_contrastive,
}


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", CASES)
def test_loss_matches_numpy(name, dtype, reduction):
    case = CASES[name](np.random.default_rng(0), dtype)
    out = case.fn(*[T(a) for a in case.arrays], reduction=reduction)
    assert out.dtype == dtype
    assert_close(out, np_reduce(case.per_element, reduction, case.total_weight).astype(dtype))


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("name", CASES)
def test_loss_gradient(name, reduction):
    case = CASES[name](np.random.default_rng(1), np.float64)
    gradcheck(lambda *ts: case.fn(*ts, reduction=reduction), *case.arrays)


def test_loss_gradient_reaches_the_input_in_float32():
    x = T(np.random.default_rng(2).standard_normal((4, 3)), "float32", requires_grad=True)
    F.cross_entropy(x, T([0, 2, 1, 2])).backward()
    assert x.grad.dtype == np.float32 and np.isfinite(x.grad.numpy()).all()


# ----- the seeds' worked examples ---------------------------------------------------------
def test_seed_example_mse():
    assert_close(F.mse_loss(T([2.5, 5.2]), T([3.0, 5.0])), np.float32(0.145))


def test_seed_example_binary_cross_entropy():
    # The seed writes -1/2 [log 0.9 + log 0.8] "= 0.216", but in nats that expression is
    # 0.1643 (0.2370 in bits, 0.0714 in base 10): the seed's arithmetic slipped.
    loss = F.binary_cross_entropy(T([0.9, 0.2]), T([1.0, 0.0]))
    assert_close(loss, np.float32(-(math.log(0.9) + math.log(0.8)) / 2))
    assert_close(loss, np.float32(0.16425), rtol=1e-4)


def test_seed_example_categorical_cross_entropy():
    # one-hot [0, 1, 0] against probabilities [0.1, 0.7, 0.2]: -log 0.7 = 0.357
    log_probs = T(np.log([[0.1, 0.7, 0.2]]))
    assert_close(F.nll_loss(log_probs, T([1])), np.asarray(0.35667494393873245))
    # the same through cross_entropy on logits whose softmax is those probabilities
    assert_close(F.cross_entropy(log_probs, T([[0.0, 1.0, 0.0]], dtype="float64")),
                 np.asarray(0.35667494393873245))


def test_seed_example_huber():
    assert_close(F.huber_loss(T([5.0]), T([3.0]), delta=1.0), np.float32(1.5))


def test_seed_example_kl_divergence():
    # KL(P || Q) for P = [0.5, 0.3, 0.2], Q = [0.4, 0.4, 0.2]:
    # 0.5 ln 1.25 + 0.3 ln 0.75 = 0.02527 nats (0.03645 bits, 0.01097 in base 10). The seed
    # prints 0.061, which matches no logarithm base; axonic (like PyTorch) uses nats.
    p, q = np.array([[0.5, 0.3, 0.2]]), np.array([[0.4, 0.4, 0.2]])
    kl = F.kl_div(T(np.log(q)), T(p), reduction="batchmean")
    assert_close(kl, np.asarray(0.5 * math.log(1.25) + 0.3 * math.log(0.75)))
    assert_close(kl, np.asarray(0.025267), rtol=1e-4)


# ----- cross-entropy specifics ------------------------------------------------------------
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("magnitude", [1e4, 1e30])
def test_cross_entropy_huge_logits_stay_finite_and_exact(dtype, magnitude):
    m = magnitude
    logits = T(np.array([[m, -m, 0.0], [0.0, m, -m], [-m, 0.0, m]], dtype=dtype),
               requires_grad=True)
    loss = F.cross_entropy(logits, T([1, 1, 0]), reduction="none")
    assert_close(loss, np.array([2 * m, 0.0, 2 * m], dtype=dtype))
    loss.sum().backward()
    assert_close(logits.grad, np.array([[1, -1, 0], [0, 0, 0], [-1, 0, 1]], dtype=dtype))

    soft = T(np.array([[0, 1, 0], [0.5, 0.5, 0], [0.25, 0.25, 0.5]], dtype=dtype))
    assert_close(F.cross_entropy(logits, soft, reduction="none"),
                 np.array([2 * m, 0.5 * m, 0.75 * m], dtype=dtype))
    smoothed = F.cross_entropy(logits, T([1, 1, 0]), label_smoothing=0.3, reduction="none")
    assert np.isfinite(smoothed.numpy()).all()
    assert_close(smoothed, np.array([(0.7 + 0.1) * 2 * m + 0.1 * m, 0.1 * m + 0.1 * 2 * m,
                                     0.8 * 2 * m + 0.1 * m], dtype=dtype))


def test_cross_entropy_equals_nll_of_log_softmax():
    rng = np.random.default_rng(3)
    x, y = T(rng.standard_normal((2, 5, 3)), dtype="float64"), T(rng.integers(0, 5, (2, 3)))
    w = T(rng.uniform(0.5, 2, 5), dtype="float64")
    for reduction in REDUCTIONS:
        assert_close(F.cross_entropy(x, y, weight=w, reduction=reduction),
                     F.nll_loss(F.log_softmax(x, dim=1), y, weight=w, reduction=reduction))


def test_cross_entropy_ignored_rows_get_no_gradient():
    x = T(np.random.default_rng(4).standard_normal((4, 3)), requires_grad=True)
    F.cross_entropy(x, T([0, -100, 2, -100]), label_smoothing=0.1).backward()
    assert_close(x.grad.numpy()[[1, 3]], np.zeros((2, 3), np.float32))
    assert np.abs(x.grad.numpy()[[0, 2]]).min() > 0


def test_cross_entropy_ignore_index_may_be_a_real_class():
    x = np.random.default_rng(5).standard_normal((5, 3))
    y = np.array([0, 2, 1, 2, 0])
    expected = -np_log_softmax(x)[np.arange(5), y][y != 2].mean()
    assert_close(F.cross_entropy(T(x), T(y), ignore_index=2), np.asarray(expected))


def test_cross_entropy_all_rows_ignored_gives_nan_like_pytorch():
    x = T(np.zeros((2, 3)), requires_grad=True)
    loss = F.cross_entropy(x, T([-100, -100]))
    assert np.isnan(loss.item())
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the 0 / 0 of the mean is expected, not warned about
        loss.backward()
    assert_close(x.grad, np.zeros((2, 3), np.float32))  # PyTorch's gradient too


def test_cross_entropy_with_zero_total_weight_is_nan_like_pytorch():
    x = T(np.zeros((2, 3)), requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        loss = F.cross_entropy(x, T([1, 2]), weight=T([1.0, 0.0, 0.0]))
        loss.backward()
    assert np.isnan(loss.item()) and np.isnan(x.grad.numpy()).all()
    assert F.cross_entropy(T(np.zeros((2, 3))), T([-100, -100]), reduction="sum").item() == 0


def test_cross_entropy_accepts_int32_labels():
    x = T(np.random.default_rng(6).standard_normal((4, 3)))
    labels = [2, 0, 1, 1]
    assert_close(F.cross_entropy(x, T(labels, dtype="int32")), F.cross_entropy(x, T(labels)))


def test_cross_entropy_unbatched_none_is_a_scalar():
    assert F.cross_entropy(T([1.0, 2.0, 3.0]), T(0), reduction="none").shape == ()


def test_cross_entropy_spatial_none_keeps_the_batch_shape():
    out = F.cross_entropy(T(np.zeros((2, 4, 3, 5))), T(np.zeros((2, 3, 5), np.int64)),
                          reduction="none")
    assert out.shape == (2, 3, 5)


# ----- binary cross-entropy extremes ------------------------------------------------------
def test_binary_cross_entropy_clamps_log_at_minus_100():
    p = T([0.0, 1.0, 0.0, 1.0], requires_grad=True)
    loss = F.binary_cross_entropy(p, T([0.0, 1.0, 1.0, 0.0]), reduction="none")
    assert_close(loss, np.array([0.0, 0.0, 100.0, 100.0], np.float32))
    loss.sum().backward()
    assert np.isfinite(p.grad.numpy()).all()


@pytest.mark.parametrize("dtype", DTYPES)
def test_bce_with_logits_huge_logits(dtype):
    x = T(np.array([1e30, -1e30, 1e4, -1e4, 0.0, 50.0], dtype=dtype), requires_grad=True)
    t = T(np.array([0.0, 1.0, 1.0, 0.0, 0.5, 0.0], dtype=dtype))
    loss = F.binary_cross_entropy_with_logits(x, t, reduction="none")
    assert_close(loss, np.array([1e30, 1e30, 0.0, 0.0, math.log(2), 50.0], dtype=dtype))
    loss.sum().backward()
    assert_close(x.grad, np.array([1.0, -1.0, 0.0, 0.0, 0.0, 1.0], dtype=dtype))


def test_bce_with_logits_gradient_is_exact_at_zero_logits():
    # d/dx = sigmoid(x) - t = 0.5 - t at x = 0 (e.g. a zero-initialized output layer)
    x = T(np.zeros(3), dtype="float64", requires_grad=True)
    F.binary_cross_entropy_with_logits(x, T([0.0, 1.0, 0.3]), reduction="sum").backward()
    assert_close(x.grad, np.array([0.5, -0.5, 0.2]))
    x = T(np.zeros(2), dtype="float64", requires_grad=True)
    F.binary_cross_entropy_with_logits(x, T([1.0, 0.0]), pos_weight=T([3.0, 3.0]),
                                       reduction="sum").backward()
    assert_close(x.grad, np.array([-1.5, 0.5]))  # (1 + (pw - 1) t) sigmoid(x) - pw t


# ----- kl_div, distance losses ------------------------------------------------------------
def test_kl_div_batchmean_divides_by_the_batch_size():
    rng = np.random.default_rng(7)
    x, t = np_log_softmax(rng.standard_normal((4, 6))), _probabilities(rng, (4, 6))
    total = (t * (np.log(t) - x)).sum()
    assert_close(F.kl_div(T(x), T(t), reduction="batchmean"), np.asarray(total / 4))
    assert_close(F.kl_div(T(x), T(np.log(t)), reduction="batchmean", log_target=True),
                 np.asarray(total / 4))


def test_contrastive_gradient_is_finite_when_the_pair_coincides():
    same = np.array([[0.5, -1.0, 2.0], [0.5, -1.0, 2.0]])
    x1, x2 = T(same, requires_grad=True), T(same, requires_grad=True)
    loss = F.contrastive_loss(x1, x2, T([1, 0]), margin=2.0, reduction="none")
    assert_close(loss, np.array([0.0, 4.0]))
    loss.sum().backward()
    assert_close(x1.grad, np.zeros((2, 3)))
    assert_close(x2.grad, np.zeros((2, 3)))


def test_triplet_unbatched_gives_a_scalar():
    a, p, n = T([0.0, 0.0]), T([3.0, 4.0]), T([1.0, 0.0])
    out = F.triplet_margin_loss(a, p, n, eps=0.0, reduction="none")
    assert out.shape == ()
    assert_close(out, np.float32(5.0 - 1.0 + 1.0))


# ----- bad input --------------------------------------------------------------------------
def _x(*shape):
    return np.random.default_rng(8).uniform(0.1, 0.9, shape)


# name -> (call(input, target, **kw), input array, target array); target is the argument
# checked against the input's shape.
BAD_INPUT_CALLS = {
    "mse_loss": (F.mse_loss, _x(4, 3), _x(4, 3)),
    "l1_loss": (F.l1_loss, _x(4, 3), _x(4, 3)),
    "huber_loss": (F.huber_loss, _x(4, 3), _x(4, 3)),
    "binary_cross_entropy": (F.binary_cross_entropy, _x(4, 3), _x(4, 3)),
    "binary_cross_entropy_with_logits": (F.binary_cross_entropy_with_logits, _x(4, 3),
                                         _x(4, 3)),
    "cross_entropy": (F.cross_entropy, _x(4, 3), np.array([0, 2, 1, 1])),
    "cross_entropy_probabilities": (F.cross_entropy, _x(4, 3), _x(4, 3)),
    "nll_loss": (F.nll_loss, _x(4, 3), np.array([0, 2, 1, 1])),
    "hinge_embedding_loss": (F.hinge_embedding_loss, _x(4, 3), np.ones((4, 3))),
    "hinge_loss": (hinge_loss, _x(4, 3), -np.ones((4, 3))),
    "kl_div": (F.kl_div, _x(4, 3), _x(4, 3)),
    "triplet_margin_loss": (lambda a, b, **kw: F.triplet_margin_loss(a, b, b, **kw), _x(4, 3),
                            _x(4, 3)),
    "contrastive_loss": (lambda a, y, **kw: F.contrastive_loss(a, a, y, **kw), _x(4, 3),
                         np.array([0, 1, 1, 0])),
}
NAN_CHECKED = [n for n in BAD_INPUT_CALLS
               if n not in ("cross_entropy", "nll_loss", "triplet_margin_loss")]


@pytest.mark.parametrize("name", BAD_INPUT_CALLS)
def test_bad_input_is_rejected(name):
    fn, x, t = BAD_INPUT_CALLS[name]
    fn(T(x), T(t))  # the good call works
    with pytest.raises(TypeError, match="must be a Tensor"):
        fn(x, T(t))
    with pytest.raises(TypeError, match="must be a Tensor"):
        fn(T(x), t.tolist())
    with pytest.raises(TypeError, match="float32 or float64"):
        fn(T(np.ones((4, 3), np.int64)), T(t))
    longer = np.concatenate([t, t[:1]])
    with pytest.raises(ValueError) as excinfo:
        fn(T(x), T(longer))
    assert str(t.shape) in str(excinfo.value) and str(longer.shape) in str(excinfo.value)
    with pytest.raises(ValueError, match="empty"):
        fn(T(x[:0]), T(t[:0]))
    with pytest.raises(ValueError, match="'mean', .*'sum', 'none'"):
        fn(T(x), T(t), reduction="avg")


@pytest.mark.parametrize("name", NAN_CHECKED)
def test_nan_target_is_rejected(name):
    fn, x, t = BAD_INPUT_CALLS[name]
    t = t.astype(np.float64)
    t[1] = np.nan
    with pytest.raises(ValueError, match="target contains NaN"):
        fn(T(x), T(t))


def test_probabilities_outside_unit_interval_are_rejected():
    with pytest.raises(ValueError, match=r"input must lie in \[0, 1\].*with_logits"):
        F.binary_cross_entropy(T([0.5, 1.5]), T([0.0, 1.0]))
    with pytest.raises(ValueError, match=r"target must lie in \[0, 1\]"):
        F.binary_cross_entropy(T([0.5, 0.5]), T([0.0, -1.0]))
    with pytest.raises(ValueError, match="must be >= 0"):
        F.kl_div(T([-1.0, -1.0]), T([0.5, -0.5]))


@pytest.mark.parametrize("fn", [F.hinge_embedding_loss, hinge_loss])
def test_sign_labels_must_be_plus_or_minus_one(fn):
    with pytest.raises(ValueError, match=r"must be 1 or -1, found \[0\]"):
        fn(T([0.5, 0.5]), T([1.0, 0.0]))


def test_contrastive_labels_must_be_zero_or_one():
    with pytest.raises(ValueError, match=r"must be 0 or 1, found \[-1, 2\]"):
        F.contrastive_loss(T(_x(3, 2)), T(_x(3, 2)), T([2, -1, 1]))
    with pytest.raises(ValueError, match=r"\(3, 2\).*\(3, 4\)"):
        F.contrastive_loss(T(_x(3, 2)), T(_x(3, 4)), T([0, 1, 1]))


@pytest.mark.parametrize("fn", [F.cross_entropy, F.nll_loss])
def test_labels_out_of_range_are_named(fn):
    with pytest.raises(ValueError, match="label 3 at position"):
        fn(T(_x(4, 3)), T([0, 3, 1, 1]))
    with pytest.raises(ValueError, match="label -1 at position"):
        fn(T(_x(4, 3)), T([0, 1, -1, 1]))
    with pytest.raises(ValueError, match=r"label 7 at position \(1, 0\)"):
        fn(T(_x(2, 3, 2)), T([[0, 1], [7, 1]]))


def test_cross_entropy_target_errors():
    with pytest.raises(ValueError, match=r"\(4, 3\).*float target has shape \(4,\)"):
        F.cross_entropy(T(_x(4, 3)), T([0.0, 2.0, 1.0, 1.0]))
    with pytest.raises(TypeError, match="Tensor of integer class labels"):
        F.nll_loss(T(_x(4, 3)), T(_x(4, 3)))
    with pytest.raises(ValueError, match=r"weight must have shape \(3,\)"):
        F.cross_entropy(T(_x(4, 3)), T([0, 2, 1, 1]), weight=T([1.0, 2.0]))
    with pytest.raises(ValueError, match="label_smoothing"):
        F.cross_entropy(T(_x(4, 3)), T([0, 2, 1, 1]), label_smoothing=1.5)
    with pytest.raises(ValueError, match="class dimension"):
        F.cross_entropy(T(1.0), T(0))


def test_option_errors():
    with pytest.raises(ValueError, match=r"weight of shape \(5,\) does not broadcast"):
        F.binary_cross_entropy(T(_x(4, 3)), T(_x(4, 3)), weight=T(_x(5)))
    with pytest.raises(ValueError, match="pos_weight"):
        F.binary_cross_entropy_with_logits(T(_x(4, 3)), T(_x(4, 3)), pos_weight=T(_x(4, 3, 2)))
    with pytest.raises(ValueError, match="delta must be positive"):
        F.huber_loss(T(_x(2)), T(_x(2)), delta=0.0)
    with pytest.raises(ValueError, match="p must be positive"):
        F.triplet_margin_loss(T(_x(2)), T(_x(2)), T(_x(2)), p=0)
    with pytest.raises(ValueError, match=r"anchor has shape \(4, 3\) but negative"):
        F.triplet_margin_loss(T(_x(4, 3)), T(_x(4, 3)), T(_x(4, 2)))
    with pytest.raises(ValueError, match="'batchmean'"):
        F.kl_div(T(_x(2)), T(_x(2)), reduction="batch")


# ----- modules ----------------------------------------------------------------------------
# PyTorch's constructor parameters (without the deprecated size_average / reduce).
MODULE_SIGNATURES = {
    "MSELoss": [("reduction", "mean")],
    "L1Loss": [("reduction", "mean")],
    "HuberLoss": [("reduction", "mean"), ("delta", 1.0)],
    "BCELoss": [("weight", None), ("reduction", "mean")],
    "BCEWithLogitsLoss": [("weight", None), ("reduction", "mean"), ("pos_weight", None)],
    "CrossEntropyLoss": [("weight", None), ("ignore_index", -100), ("reduction", "mean"),
                         ("label_smoothing", 0.0)],
    "NLLLoss": [("weight", None), ("ignore_index", -100), ("reduction", "mean")],
    "HingeEmbeddingLoss": [("margin", 1.0), ("reduction", "mean")],
    "HingeLoss": [("margin", 1.0), ("reduction", "mean")],
    "KLDivLoss": [("reduction", "mean"), ("log_target", False)],
    "TripletMarginLoss": [("margin", 1.0), ("p", 2.0), ("eps", 1e-6), ("swap", False),
                          ("reduction", "mean")],
    "ContrastiveLoss": [("margin", 1.0), ("reduction", "mean")],
}


@pytest.mark.parametrize("name", MODULE_SIGNATURES)
def test_module_signature_options_and_repr(name):
    cls = getattr(loss_modules, name)
    assert issubclass(cls, nn.Module)
    params = list(inspect.signature(cls.__init__).parameters.values())[1:]
    assert [(p.name, p.default) for p in params] == MODULE_SIGNATURES[name]
    module = cls(reduction="sum")
    assert module.reduction == "sum"
    text = repr(module)
    assert text.startswith(f"{name}(") and "reduction='sum'" in text
    for option, default in MODULE_SIGNATURES[name]:
        assert getattr(module, option) == (default if option != "reduction" else "sum")
        if default is not None:
            assert f"{option}=" in text
    with pytest.raises(ValueError, match="reduction must be one of"):
        cls(reduction="average")


def test_public_module_names():
    for name in MODULE_SIGNATURES:
        assert getattr(nn, name) is getattr(loss_modules, name)


def test_modules_call_their_functions_with_their_options():
    rng = np.random.default_rng(9)
    x, t = T(rng.uniform(0.1, 0.9, (5, 3))), T(rng.uniform(0.1, 0.9, (5, 3)))
    labels, signs = T([0, 2, 1, 2, 0]), T(np.where(rng.random((5, 3)) < 0.5, -1.0, 1.0))
    w, lw = T([0.5, 1.0, 2.0]), T(np.log(rng.uniform(0.1, 0.9, (5, 3))))
    pairs = [
        (nn.MSELoss("sum")(x, t), F.mse_loss(x, t, "sum")),
        (nn.L1Loss("none")(x, t), F.l1_loss(x, t, "none")),
        (nn.HuberLoss(delta=0.1)(x, t), F.huber_loss(x, t, delta=0.1)),
        (nn.BCELoss(w)(x, t), F.binary_cross_entropy(x, t, w)),
        (nn.BCEWithLogitsLoss(w, "sum", pos_weight=w)(x, t),
         F.binary_cross_entropy_with_logits(x, t, w, "sum", w)),
        (nn.CrossEntropyLoss(w, 2, "sum", 0.2)(x, labels),
         F.cross_entropy(x, labels, w, 2, "sum", 0.2)),
        (nn.NLLLoss(w, 1)(lw, labels), F.nll_loss(lw, labels, w, 1)),
        (nn.HingeEmbeddingLoss(0.3)(x, signs), F.hinge_embedding_loss(x, signs, 0.3)),
        (loss_modules.HingeLoss(2.0)(x, signs), hinge_loss(x, signs, 2.0)),
        (nn.KLDivLoss("batchmean", True)(lw, lw * 2), F.kl_div(lw, lw * 2, "batchmean", True)),
        (nn.TripletMarginLoss(0.5, 1.0, 0.0, True)(x, t, lw),
         F.triplet_margin_loss(x, t, lw, 0.5, 1.0, 0.0, True)),
        (nn.ContrastiveLoss(0.2)(x, t, labels.clip(max=1)),
         F.contrastive_loss(x, t, labels.clip(max=1), 0.2)),
    ]
    for got, expected in pairs:
        assert_close(got, expected)


def test_loss_weights_are_buffers():
    module = nn.CrossEntropyLoss(weight=T([1.0, 2.0]))
    assert "weight" in module.state_dict()
    module.double()
    assert module.weight.dtype == np.float64
    assert list(nn.BCEWithLogitsLoss(pos_weight=T([2.0])).state_dict()) == ["pos_weight"]
    with pytest.raises(TypeError, match="weight must be a Tensor"):
        nn.BCELoss(weight=[1.0, 2.0])


# ----- against PyTorch, when it is installed ----------------------------------------------
@pytest.mark.filterwarnings("ignore:reduction. 'mean' divides:UserWarning")  # torch's kl_div
def test_matches_pytorch():
    torch = pytest.importorskip("torch")
    tf = torch.nn.functional
    rng = np.random.default_rng(10)
    x, t = rng.standard_normal((6, 4)), rng.uniform(0, 1, (6, 4))
    p, w4 = rng.uniform(0.05, 0.95, (6, 4)), rng.uniform(0.5, 2, 4)
    y = rng.integers(0, 4, 6)
    y[2] = -100
    signs = np.where(rng.random((6, 4)) < 0.5, -1.0, 1.0)
    log_p = np_log_softmax(x)
    spatial, spatial_y = rng.standard_normal((2, 4, 3)), rng.integers(0, 4, (2, 3))
    a, pos, neg = rng.standard_normal((3, 6, 5))
    tt = torch.from_numpy
    for reduction in REDUCTIONS:
        r = {"reduction": reduction}
        pairs = [
            (F.mse_loss(T(x), T(t), **r), tf.mse_loss(tt(x), tt(t), **r)),
            (F.l1_loss(T(x), T(t), **r), tf.l1_loss(tt(x), tt(t), **r)),
            (F.huber_loss(T(x), T(t), delta=0.5, **r),
             tf.huber_loss(tt(x), tt(t), delta=0.5, **r)),
            (F.binary_cross_entropy(T(p), T(t), weight=T(w4), **r),
             tf.binary_cross_entropy(tt(p), tt(t), weight=tt(w4), **r)),
            (F.binary_cross_entropy_with_logits(T(x * 5), T(t), weight=T(w4), pos_weight=T(w4),
                                                **r),
             tf.binary_cross_entropy_with_logits(tt(x * 5), tt(t), weight=tt(w4),
                                                 pos_weight=tt(w4), **r)),
            (F.cross_entropy(T(x), T(y), weight=T(w4), label_smoothing=0.1, **r),
             tf.cross_entropy(tt(x), tt(y), weight=tt(w4), label_smoothing=0.1, **r)),
            (F.cross_entropy(T(x), T(np.exp(log_p)), weight=T(w4), label_smoothing=0.1, **r),
             tf.cross_entropy(tt(x), tt(np.exp(log_p)), weight=tt(w4), label_smoothing=0.1,
                              **r)),
            (F.cross_entropy(T(spatial), T(spatial_y), **r),
             tf.cross_entropy(tt(spatial), tt(spatial_y), **r)),
            (F.nll_loss(T(log_p), T(y), weight=T(w4), **r),
             tf.nll_loss(tt(log_p), tt(y), weight=tt(w4), **r)),
            (F.hinge_embedding_loss(T(x), T(signs), margin=0.5, **r),
             tf.hinge_embedding_loss(tt(x), tt(signs), margin=0.5, **r)),
            (F.kl_div(T(log_p), T(p), **r), tf.kl_div(tt(log_p), tt(p), **r)),
            (F.triplet_margin_loss(T(a), T(pos), T(neg), p=3.0, swap=True, **r),
             tf.triplet_margin_loss(tt(a), tt(pos), tt(neg), p=3.0, swap=True, **r)),
        ]
        for ours, theirs in pairs:
            assert_close(ours, theirs.numpy())
    assert_close(F.kl_div(T(log_p), T(p), reduction="batchmean"),
                 tf.kl_div(tt(log_p), tt(p), reduction="batchmean").numpy())


def test_gradients_match_pytorch():
    torch = pytest.importorskip("torch")
    tf = torch.nn.functional
    rng = np.random.default_rng(11)
    x, t = rng.standard_normal((6, 4)), rng.uniform(0, 1, (6, 4))
    x[0] = 0.0  # the kinks of max(x, 0) and |x| in the logits form
    p, w4 = rng.uniform(0.05, 0.95, (6, 4)), rng.uniform(0.5, 2, 4)
    y = rng.integers(0, 4, 6)
    y[2] = -100
    log_p, probs = np_log_softmax(x), np.exp(np_log_softmax(rng.standard_normal((6, 4))))
    a, pos, neg = rng.standard_normal((3, 6, 5))
    cases = [  # (ours, theirs, differentiable arrays); both called with the same argument order
        (F.mse_loss, tf.mse_loss, (x, t)),
        (lambda u, v: F.huber_loss(u, v, delta=0.5), lambda u, v: tf.huber_loss(u, v, delta=0.5),
         (x, t)),
        (lambda u: F.binary_cross_entropy(u, T(t), weight=T(w4)),
         lambda u: tf.binary_cross_entropy(u, torch.from_numpy(t), torch.from_numpy(w4)), (p,)),
        (lambda u, v: F.binary_cross_entropy_with_logits(u, v, pos_weight=T(w4)),
         lambda u, v: tf.binary_cross_entropy_with_logits(u, v, pos_weight=torch.from_numpy(w4)),
         (x, t)),
        (lambda u: F.cross_entropy(u, T(y), weight=T(w4), label_smoothing=0.2),
         lambda u: tf.cross_entropy(u, torch.from_numpy(y), weight=torch.from_numpy(w4),
                                    label_smoothing=0.2), (x,)),
        (lambda u: F.cross_entropy(u, T(probs), weight=T(w4)),
         lambda u: tf.cross_entropy(u, torch.from_numpy(probs), weight=torch.from_numpy(w4)),
         (x,)),
        (lambda u: F.nll_loss(u, T(y), weight=T(w4)),
         lambda u: tf.nll_loss(u, torch.from_numpy(y), weight=torch.from_numpy(w4)), (log_p,)),
        (lambda u, v: F.kl_div(u, v, reduction="batchmean"),
         lambda u, v: tf.kl_div(u, v, reduction="batchmean"), (log_p, probs)),
        (F.triplet_margin_loss, tf.triplet_margin_loss, (a, pos, neg)),
    ]
    for ours, theirs, arrays in cases:
        mine = [T(v, requires_grad=True) for v in arrays]
        ref = [torch.tensor(v, requires_grad=True) for v in arrays]
        ours(*mine).backward()
        theirs(*ref).backward()
        for m, r in zip(mine, ref):
            assert_close(m.grad, r.grad.numpy())
