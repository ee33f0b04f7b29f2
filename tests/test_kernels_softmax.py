"""axonic._cpu's softmax, log-softmax and softmax-cross-entropy held against the reference.

The numeric tests run under every SIMD level this CPU supports: each level has its own row
kernels (csrc/cpu/softmax_arch.cpp) and vector exp (csrc/cpu/vector_math.h).
"""

from __future__ import annotations

import re

import numpy as np
import pytest

from axonic.backends import cpu, reference
from conftest import assert_close

DTYPES = (np.float32, np.float64)
BACKENDS = (cpu, reference)
# (300, 130) has 39000 elements: softmax.cpp splits rows over threads from 32768.
# Rows of 1025 and 4099 cross softmax_arch.cpp's 64-vector summation blocks with a
# partial last vector at every width.
SOFTMAX_SHAPES = [(1, 1), (5,), (1, 7), (7, 33), (127, 257), (3, 4, 5), (2, 3, 1), (300, 130),
                  (2, 1025), (3, 4099)]
CE_SHAPES = [(1, 1), (1, 10), (7, 1), (7, 33), (127, 257), (300, 130)]



def softmax(backend, x: np.ndarray, log: bool) -> np.ndarray:
    out = np.empty_like(x)
    backend.softmax_forward(x=x, out=out, log=log)
    return out


def softmax_grad(backend, y: np.ndarray, grad_out: np.ndarray, log: bool) -> np.ndarray:
    grad_in = np.empty_like(y)
    backend.softmax_backward(y=y, grad_out=grad_out, grad_in=grad_in, log=log)
    return grad_in


def cross_entropy(backend, logits, target, ignore_index=-100):
    loss = np.empty(logits.shape[0], logits.dtype)
    probs = np.empty_like(logits)
    backend.softmax_cross_entropy_forward(logits=logits, target=target, loss_out=loss,
                                          probs_out=probs, ignore_index=ignore_index)
    return loss, probs


def cross_entropy_grad(backend, probs, target, grad_loss, ignore_index=-100):
    grad_logits = np.empty_like(probs)
    backend.softmax_cross_entropy_backward(probs=probs, target=target, grad_loss=grad_loss,
                                           grad_logits=grad_logits, ignore_index=ignore_index)
    return grad_logits


def check_cross_entropy(logits, target, ignore_index=-100) -> tuple[np.ndarray, np.ndarray]:
    """Forward and backward of cpu against the reference; returns cpu's loss and gradient."""
    loss, probs = cross_entropy(cpu, logits, target, ignore_index)
    ref_loss, ref_probs = cross_entropy(reference, logits, target, ignore_index)
    assert_close(loss, ref_loss)
    assert_close(probs, ref_probs)
    grad_loss = np.random.default_rng(5).uniform(0.5, 2.0, logits.shape[0]).astype(logits.dtype)
    grad = cross_entropy_grad(cpu, ref_probs, target, grad_loss, ignore_index)
    assert_close(grad, cross_entropy_grad(reference, ref_probs, target, grad_loss, ignore_index))
    return loss, grad


def random_logits(shape, dtype, seed=0, scale=4.0) -> np.ndarray:
    return (scale * np.random.default_rng(seed).standard_normal(shape)).astype(dtype)


# --- softmax / log-softmax ------------------------------------------------------------


@pytest.mark.parametrize("log", (False, True), ids=("softmax", "log_softmax"))
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", SOFTMAX_SHAPES, ids=str)
def test_softmax_matches_reference(simd_level, shape, dtype, log):
    x = random_logits(shape, dtype)
    y = softmax(cpu, x, log)
    y_ref = softmax(reference, x, log)
    assert_close(y, y_ref)
    grad_out = np.random.default_rng(1).standard_normal(shape).astype(dtype)
    assert_close(softmax_grad(cpu, y_ref, grad_out, log),
                 softmax_grad(reference, y_ref, grad_out, log))


@pytest.mark.parametrize("dtype", DTYPES)
def test_softmax_rows_sum_to_one(simd_level, dtype):
    y = softmax(cpu, random_logits((127, 257), dtype), log=False)
    assert_close(y.sum(axis=-1), np.ones(127))


# The reference's float64 log-softmax of -3e38 is -6e38, which NumPy warns about when
# casting it into a float32 out.
@pytest.mark.filterwarnings("ignore:overflow encountered in cast:RuntimeWarning")
@pytest.mark.parametrize("log", (False, True), ids=("softmax", "log_softmax"))
@pytest.mark.parametrize("dtype", DTYPES)
def test_softmax_of_huge_logits(simd_level, dtype, log):
    x = np.array([[1e4, -1e4, 0.0, 1e4 - 1.0],
                  [1e30, -1e30, 0.0, 1e30],
                  [-1e30, -1e30, -1e30, -1e30],
                  [3e38, -3e38, 1.0, 0.0],
                  [-88.0, 88.0, -100.0, 100.0]], dtype=dtype)
    y = softmax(cpu, x, log)
    assert_close(y, softmax(reference, x, log))
    if not log:  # log-softmax of -3e38 next to 3e38 is -6e38: -inf in float32, as the reference
        assert np.isfinite(y).all()


@pytest.mark.filterwarnings("ignore:invalid value encountered in subtract:RuntimeWarning")
@pytest.mark.parametrize("dtype", DTYPES)
def test_softmax_nan_spoils_only_its_row(simd_level, dtype):
    x = random_logits((4, 6), dtype)
    x[1, 3] = np.nan
    x[2, 0] = np.inf
    for log in (False, True):
        y = softmax(cpu, x, log)
        assert_close(y, softmax(reference, x, log))
        assert np.isnan(y[1:3]).all() and np.isfinite(y[[0, 3]]).all()


@pytest.mark.parametrize("dtype", DTYPES)
def test_softmax_exp_is_accurate_over_its_whole_range(simd_level, dtype):
    # Rows (0, -t): p_1 = exp(-t) / (1 + exp(-t)) sweeps exp's whole non-positive range,
    # through float32's subnormal results (t > 87.3) to 0 (t > 103.97), and far beyond.
    t = np.concatenate([np.linspace(0, 120, 24001), [745.0, 760.0, 1e4, np.inf]])
    x = np.stack([np.zeros_like(t), -t], axis=1).astype(dtype)
    p = softmax(cpu, x, log=False)
    p_ref = softmax(reference, x.astype(np.float64), log=False)
    rtol = 2e-6 if dtype == np.float32 else 1e-14
    np.testing.assert_allclose(p, p_ref, rtol=rtol, atol=np.finfo(dtype).smallest_subnormal)
    # log p_0 = -log(1 + exp(-t)) inherits the double rounding of the sum 1 + exp(-t)
    # (as the reference's does): an absolute error of an ulp of 1 where log p_0 is tiny.
    log_p = softmax(cpu, x, log=True)
    np.testing.assert_allclose(log_p, softmax(reference, x.astype(np.float64), log=True),
                               rtol=rtol, atol=2 * np.finfo(np.float64).eps)


@pytest.mark.filterwarnings("ignore:overflow encountered:RuntimeWarning")
@pytest.mark.parametrize("dtype", DTYPES)
def test_log_softmax_backward_exp_over_its_whole_range(simd_level, dtype):
    # The backward's exp(y) meets whatever y the caller passes: overflow to inf, subnormal
    # and zero results, infinities and NaN, as the reference's np.exp.
    y = np.array([[0.0, -1.0, 1.0, 88.5, 89.0, 710.0, 1e4, -87.5, -95.0, -103.9, -104.5, -746.0,
                   -1e4, -np.inf, np.nan, 50.0, -50.0]], dtype=dtype)
    grad_out = np.zeros_like(y)
    grad_out[0, 0] = 1.0  # sum(grad_out) = 1, so grad_in = grad_out - exp(y)
    assert_close(softmax_grad(cpu, y, grad_out, log=True),
                 softmax_grad(reference, y, grad_out, log=True), rtol=1e-6 if dtype == np.float32
                 else 1e-14, atol=0)


def test_softmax_of_zero_rows_is_a_no_op():
    x = np.empty((0, 5), np.float32)
    out = np.empty_like(x)
    cpu.softmax_forward(x, out)
    cpu.softmax_backward(x, x.copy(), np.empty_like(x), log=True)


# --- softmax-cross-entropy --------------------------------------------------------------


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", CE_SHAPES, ids=str)
def test_cross_entropy_with_labels(simd_level, shape, dtype):
    n, c = shape
    logits = random_logits(shape, dtype)
    labels = np.random.default_rng(2).integers(0, c, n)
    loss, grad = check_cross_entropy(logits, labels)
    # Each gradient row is g (p - one_hot), which sums to 0.
    np.testing.assert_allclose(grad.sum(axis=1), 0, atol=1e-5)
    assert np.isfinite(loss).all()


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("ignore_index", (-100, -1, 2))
def test_cross_entropy_ignore_index(simd_level, dtype, ignore_index):
    logits = random_logits((9, 5), dtype)
    labels = np.array([0, ignore_index, 4, 1, ignore_index, 3, 2, 0, ignore_index])
    ignored = labels == ignore_index
    loss, grad = check_cross_entropy(logits, labels, ignore_index)
    assert (loss[ignored] == 0).all() and (loss[~ignored] > 0).all()
    assert (grad[ignored] == 0).all()


def test_cross_entropy_ignored_rows_stay_zero_with_nan_upstream_gradient():
    probs = softmax(reference, random_logits((3, 4), np.float64), log=False)
    labels = np.array([1, -100, 2])
    grad_loss = np.array([1.0, np.nan, 1.0])
    grad = cross_entropy_grad(cpu, probs, labels, grad_loss)
    assert_close(grad, cross_entropy_grad(reference, probs, labels, grad_loss))
    assert (grad[1] == 0).all()


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", CE_SHAPES, ids=str)
def test_cross_entropy_with_probability_targets(simd_level, shape, dtype):
    target = softmax(reference, random_logits(shape, np.float64, seed=3), log=False).astype(dtype)
    _, grad = check_cross_entropy(random_logits(shape, dtype), target)
    # grad = g (p sum(t) - t) and both p and t sum to 1 per row.
    np.testing.assert_allclose(grad.sum(axis=1), 0, atol=1e-5)


@pytest.mark.parametrize("dtype", DTYPES)
def test_cross_entropy_with_one_hot_targets_equals_labels(simd_level, dtype):
    logits = random_logits((33, 7), dtype)
    labels = np.random.default_rng(4).integers(0, 7, 33)
    one_hot = np.eye(7, dtype=dtype)[labels]
    loss_hot, grad_hot = check_cross_entropy(logits, one_hot)
    loss_lab, grad_lab = check_cross_entropy(logits, labels)
    assert_close(loss_hot, loss_lab)
    assert_close(grad_hot, grad_lab)


# The reference forms 0 * -inf before np.where discards it, and NumPy warns.
@pytest.mark.filterwarnings("ignore:invalid value encountered in multiply:RuntimeWarning")
@pytest.mark.parametrize("dtype", DTYPES)
def test_cross_entropy_zero_target_on_zero_probability_adds_nothing(simd_level, dtype):
    # A masked class (logit -inf) has p = 0 and log p = -inf; its target is 0, so the
    # term is skipped instead of giving 0 * -inf = NaN.
    logits = np.array([[0.0, 1.0, -np.inf], [1e4, 0.0, -np.inf]], dtype=dtype)
    target = np.array([[0.25, 0.75, 0.0], [1.0, 0.0, 0.0]], dtype=dtype)
    loss, grad = check_cross_entropy(logits, target)
    assert np.isfinite(loss).all() and np.isfinite(grad).all()


# Logits near float32's limits, their labels and the true losses (0, 1e30 - 1e4, 0, log 2,
# 0, 3e38): all finite in float32 too. Shared with test_cuda_kernels_softmax.py.
HUGE_LOGITS = np.array([[1e4, -1e4, 0.0],
                        [1e30, -1e30, 1e4],
                        [-1e30, 1e30, -1e30],
                        [1e30, 1e30, -1e30],
                        [3e38, -3e38, 0.0],
                        [3e38, -3e38, 0.0]])
HUGE_LABELS = np.array([0, 2, 1, 0, 0, 2])
HUGE_LOSSES = np.array([0.0, 1e30, 0.0, np.log(2.0), 0.0, 3e38])


@pytest.mark.parametrize("dtype", DTYPES)
def test_cross_entropy_of_huge_logits(simd_level, dtype):
    logits = HUGE_LOGITS.astype(dtype)
    loss, grad = check_cross_entropy(logits, HUGE_LABELS)
    assert np.isfinite(loss).all() and np.isfinite(grad).all()
    assert_close(loss, HUGE_LOSSES)
    target = np.array([[0.5, 0.5, 0.0]] * 6, dtype=dtype)
    loss, grad = check_cross_entropy(logits[:4], target[:4])
    assert np.isfinite(loss).all() and np.isfinite(grad).all()


def test_cross_entropy_single_class_has_zero_loss_and_gradient():
    logits = np.array([[3.0]], np.float32)
    loss, grad = check_cross_entropy(logits, np.array([0]))
    assert loss[0] == 0 and grad[0, 0] == 0


@pytest.mark.parametrize("target", (np.empty(0, np.int64), np.empty((0, 3))),
                         ids=("labels", "probs"))
def test_cross_entropy_of_an_empty_batch(target):
    loss, grad = check_cross_entropy(np.empty((0, 3)), target)
    assert loss.shape == (0,) and grad.shape == (0, 3)


def test_cross_entropy_nan_logit_spoils_only_its_row(simd_level):
    logits = random_logits((3, 4), np.float64)
    logits[1, 2] = np.nan
    loss, _ = check_cross_entropy(logits, np.array([0, 1, 2]))
    assert np.isnan(loss[1]) and np.isfinite(loss[[0, 2]]).all()


# --- bad input --------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", (np.int32, np.float16))
def test_softmax_wrong_dtype_is_a_type_error(dtype):
    x = np.zeros((2, 3), dtype)
    with pytest.raises(TypeError, match=f"x must be float32 or float64, got {np.dtype(dtype)}"):
        cpu.softmax_forward(x, np.empty((2, 3), np.float32))
    with pytest.raises(TypeError, match="grad_out must be float32 or float64"):
        cpu.softmax_backward(np.zeros((2, 3), np.float32), x, np.empty((2, 3), np.float32))


def test_softmax_mixed_float_dtypes_are_a_type_error():
    with pytest.raises(TypeError, match="out must have the dtype of x"):
        cpu.softmax_forward(np.zeros((2, 3), np.float32), np.empty((2, 3), np.float64))
    with pytest.raises(TypeError, match="grad_in must have the dtype of y"):
        cpu.softmax_backward(np.zeros((2, 3)), np.zeros((2, 3)), np.empty((2, 3), np.float32))


@pytest.mark.parametrize("view", ("strided", "transposed"))
def test_softmax_non_contiguous_input_is_refused(view):
    base = np.zeros((6, 8))
    x = base[:, ::2] if view == "strided" else base.T
    with pytest.raises(ValueError, match="x must be C-contiguous"):
        cpu.softmax_forward(x, np.empty(x.shape))
    with pytest.raises(ValueError, match="y must be C-contiguous"):
        cpu.softmax_backward(x, np.zeros(x.shape), np.empty(x.shape))


def test_softmax_shape_errors():
    expected = "out must have the shape of x (2, 3), got (3, 2)"
    with pytest.raises(ValueError, match=re.escape(expected)):
        cpu.softmax_forward(np.zeros((2, 3)), np.empty((3, 2)))
    with pytest.raises(ValueError, match="grad_out must have the shape of y"):
        cpu.softmax_backward(np.zeros((2, 3)), np.zeros((2, 4)), np.empty((2, 3)))
    with pytest.raises(ValueError, match=re.escape("needs ndim >= 1, got shape ()")):
        cpu.softmax_forward(np.zeros(()), np.empty(()))
    with pytest.raises(ValueError, match=re.escape("non-empty last axis, got x of shape (3, 0)")):
        cpu.softmax_forward(np.zeros((3, 0)), np.empty((3, 0)))


def test_softmax_not_an_ndarray_is_a_type_error():
    with pytest.raises(TypeError, match="x must be a numpy.ndarray, got list"):
        cpu.softmax_forward([[1.0, 2.0]], np.empty((1, 2)))


def test_softmax_output_sharing_memory_is_refused():
    x = np.zeros((2, 3))
    with pytest.raises(ValueError, match="out must not share memory with x"):
        cpu.softmax_forward(x, x)


@pytest.mark.parametrize("bad_label, row", [(5, 2), (-1, 0), (-101, 3)])
@pytest.mark.parametrize("backend", BACKENDS, ids=lambda b: b.name)
def test_label_out_of_range_names_label_row_and_range(backend, bad_label, row):
    logits = np.zeros((4, 5), np.float32)
    labels = np.array([1, 2, 3, 4])
    labels[row] = bad_label
    message = re.escape(f"label {bad_label} at row {row} is out of range: expected 0 <= label < 5 "
                        "(or ignore_index=-100)")
    with pytest.raises(ValueError, match=message):
        cross_entropy(backend, logits, labels)
    with pytest.raises(ValueError, match=message):
        cross_entropy_grad(backend, np.full((4, 5), 0.2, np.float32), labels,
                           np.ones(4, np.float32))


def test_first_bad_label_is_reported():
    labels = np.array([0, 9, 7, 1])
    with pytest.raises(ValueError, match="label 9 at row 1 "):
        cross_entropy(cpu, np.zeros((4, 3)), labels)


def test_bad_label_writes_nothing():
    loss, probs = np.full(2, 7.0), np.full((2, 3), 7.0)
    with pytest.raises(ValueError, match="label 3 at row 1"):
        cpu.softmax_cross_entropy_forward(np.zeros((2, 3)), np.array([0, 3]), loss, probs)
    assert (loss == 7).all() and (probs == 7).all()


@pytest.mark.parametrize("dtype", (np.int32, np.uint8, np.bool_))
def test_labels_that_are_not_int64_are_a_type_error(dtype):
    labels = np.zeros(3, dtype)
    match = f"target must be int64 class indices, got {np.dtype(dtype)}"
    with pytest.raises(TypeError, match=match):
        cross_entropy(cpu, np.zeros((3, 4)), labels)
    with pytest.raises(TypeError, match=match):
        cross_entropy_grad(cpu, np.zeros((3, 4)), labels, np.ones(3))


def test_cross_entropy_target_errors():
    logits = np.zeros((3, 4), np.float32)
    with pytest.raises(ValueError, match=re.escape("target labels must have shape (3,) to match "
                                                   "logits (3, 4), got (4,)")):
        cross_entropy(cpu, logits, np.zeros(4, np.int64))
    with pytest.raises(ValueError, match=re.escape("got (3, 1)")):
        cross_entropy(cpu, logits, np.zeros((3, 1), np.int64))
    with pytest.raises(ValueError, match=re.escape("or probabilities of the shape of logits "
                                                   "(3, 4), got floating-point target of shape "
                                                   "(3, 5)")):
        cross_entropy(cpu, logits, np.zeros((3, 5), np.float32))
    with pytest.raises(ValueError, match=re.escape("got floating-point target of shape (3,)")):
        cross_entropy(cpu, logits, np.zeros(3, np.float32))
    with pytest.raises(TypeError, match="target must have the dtype of logits"):
        cross_entropy(cpu, logits, np.zeros((3, 4), np.float64))
    with pytest.raises(TypeError, match="target must be float32 or float64, got float16"):
        cross_entropy(cpu, logits, np.zeros((3, 4), np.float16))
    with pytest.raises(TypeError, match="target must be a numpy.ndarray, got list"):
        cross_entropy(cpu, logits, [0, 1, 2])
    with pytest.raises(ValueError, match="target must be C-contiguous"):
        cross_entropy(cpu, logits, np.zeros(6, np.int64)[::2])


def test_cross_entropy_logits_and_output_errors():
    logits = np.zeros((3, 4))
    target = np.array([0, 1, 2])
    expected = "logits must be 2-D (N, C) with C >= 1, got (12,)"
    with pytest.raises(ValueError, match=re.escape(expected)):
        cross_entropy(cpu, logits.ravel(), target)
    with pytest.raises(ValueError, match=re.escape("with C >= 1, got (3, 0)")):
        cross_entropy(cpu, np.zeros((3, 0)), target)
    with pytest.raises(TypeError, match="logits must be float32 or float64, got int32"):
        cross_entropy(cpu, np.zeros((3, 4), np.int32), target)
    with pytest.raises(ValueError, match="logits must be C-contiguous"):
        cross_entropy(cpu, np.zeros((4, 3)).T, target)
    expected = "loss_out must have shape (3,), one value per row of logits (3, 4), got (3, 1)"
    with pytest.raises(ValueError, match=re.escape(expected)):
        cpu.softmax_cross_entropy_forward(logits, target, np.empty((3, 1)), np.empty((3, 4)))
    with pytest.raises(ValueError, match="probs_out must have the shape of logits"):
        cpu.softmax_cross_entropy_forward(logits, target, np.empty(3), np.empty((4, 3)))
    with pytest.raises(TypeError, match="loss_out must have the dtype of logits"):
        cpu.softmax_cross_entropy_forward(logits, target, np.empty(3, np.float32),
                                          np.empty((3, 4)))
    read_only = np.empty((3, 4))
    read_only.flags.writeable = False
    with pytest.raises(ValueError, match="probs_out is an output and must be writable"):
        cpu.softmax_cross_entropy_forward(logits, target, np.empty(3), read_only)
    with pytest.raises(ValueError, match="probs_out must not share memory with logits"):
        cpu.softmax_cross_entropy_forward(logits, target, np.empty(3), logits)


def test_cross_entropy_backward_shape_errors():
    probs = np.full((3, 4), 0.25)
    target = np.array([0, 1, 2])
    with pytest.raises(ValueError, match=re.escape("grad_loss must have shape (3,)")):
        cross_entropy_grad(cpu, probs, target, np.ones(4))
    with pytest.raises(ValueError, match="grad_logits must have the shape of probs"):
        cpu.softmax_cross_entropy_backward(probs, target, np.ones(3), np.empty((3, 5)))
    with pytest.raises(ValueError, match=re.escape("probs must be 2-D (N, C)")):
        cross_entropy_grad(cpu, probs.ravel(), target, np.ones(3))
    with pytest.raises(TypeError, match="grad_loss must have the dtype of probs"):
        cross_entropy_grad(cpu, probs, target, np.ones(3, np.float32))
