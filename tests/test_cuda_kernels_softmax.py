"""axonic._cuda's softmax, log-softmax and softmax-cross-entropy (csrc/cuda/softmax.cu)
held against the NumPy reference through the ``cuda_kernels`` fixture.

Row lengths pick the kernel's team (csrc/cuda/row_teams.cuh): 4, 8 or 16 lanes for rows
of up to 4, 8, 16 elements (several rows per warp), a warp up to 1024, a block of 256
threads beyond. The shapes cover each, with rows that leave a warp's last teams idle.
"""

from __future__ import annotations

import re

import numpy as np
import pytest

from axonic.backends import reference
from conftest import assert_close
from test_kernels_softmax import HUGE_LABELS, HUGE_LOGITS, HUGE_LOSSES

DTYPES = (np.float32, np.float64)
SOFTMAX_SHAPES = [(1, 1), (5,), (1, 7), (3, 4, 5), (2, 3, 1), (37, 3), (70, 5), (9, 16),
                  (7, 31), (7, 33), (65, 17), (3, 1024), (3, 1025), (2, 4099)]
CE_SHAPES = [(1, 1), (1, 10), (7, 1), (70, 5), (7, 33), (3, 1025)]


def random_logits(shape, dtype, seed=0, scale=4.0) -> np.ndarray:
    return (scale * np.random.default_rng(seed).standard_normal(shape)).astype(dtype)


def softmax(K, x, log):
    out = K.empty(x.shape, x.dtype)
    K.backend.softmax_forward(K.to_device(x), out, log)
    return K.to_host(out)


def softmax_grad(K, y, grad_out, log):
    grad_in = K.empty(y.shape, y.dtype)
    K.backend.softmax_backward(K.to_device(y), K.to_device(grad_out), grad_in, log)
    return K.to_host(grad_in)


def reference_softmax(x, log):
    out = np.empty_like(x)
    reference.softmax_forward(x, out, log)
    return out


def reference_softmax_grad(y, grad_out, log):
    grad_in = np.empty_like(y)
    reference.softmax_backward(y, grad_out, grad_in, log)
    return grad_in


def cross_entropy(K, logits, target, ignore_index=-100):
    loss = K.empty((logits.shape[0],), logits.dtype)
    probs = K.empty(logits.shape, logits.dtype)
    K.backend.softmax_cross_entropy_forward(K.to_device(logits), K.to_device(target), loss,
                                            probs, ignore_index)
    return K.to_host(loss), K.to_host(probs)


def cross_entropy_grad(K, probs, target, grad_loss, ignore_index=-100):
    grad_logits = K.empty(probs.shape, probs.dtype)
    K.backend.softmax_cross_entropy_backward(K.to_device(probs), K.to_device(target),
                                             K.to_device(grad_loss), grad_logits, ignore_index)
    return K.to_host(grad_logits)


def reference_cross_entropy(logits, target, ignore_index=-100):
    loss = np.empty(logits.shape[0], logits.dtype)
    probs = np.empty_like(logits)
    reference.softmax_cross_entropy_forward(logits, target, loss, probs, ignore_index)
    return loss, probs


def reference_cross_entropy_grad(probs, target, grad_loss, ignore_index=-100):
    grad_logits = np.empty_like(probs)
    reference.softmax_cross_entropy_backward(probs, target, grad_loss, grad_logits, ignore_index)
    return grad_logits


def check_cross_entropy(K, logits, target, ignore_index=-100):
    """Forward and backward against the reference; returns the device loss and gradient."""
    loss, probs = cross_entropy(K, logits, target, ignore_index)
    ref_loss, ref_probs = reference_cross_entropy(logits, target, ignore_index)
    assert_close(loss, ref_loss)
    assert_close(probs, ref_probs)
    grad_loss = np.random.default_rng(5).uniform(0.5, 2.0, logits.shape[0]).astype(logits.dtype)
    grad = cross_entropy_grad(K, ref_probs, target, grad_loss, ignore_index)
    assert_close(grad, reference_cross_entropy_grad(ref_probs, target, grad_loss, ignore_index))
    return loss, grad


# --- softmax / log-softmax ------------------------------------------------------------


@pytest.mark.parametrize("log", (False, True), ids=("softmax", "log_softmax"))
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", SOFTMAX_SHAPES, ids=str)
def test_softmax_matches_reference(cuda_kernels, shape, dtype, log):
    x = random_logits(shape, dtype)
    y_ref = reference_softmax(x, log)
    assert_close(softmax(cuda_kernels, x, log), y_ref)
    grad_out = np.random.default_rng(1).standard_normal(shape).astype(dtype)
    assert_close(softmax_grad(cuda_kernels, y_ref, grad_out, log),
                 reference_softmax_grad(y_ref, grad_out, log))


@pytest.mark.parametrize("cols", (7, 1025))
def test_softmax_rows_sum_to_one(cuda_kernels, cols):
    y = softmax(cuda_kernels, random_logits((5, cols), np.float32), log=False)
    assert_close(y.sum(axis=-1), np.ones(5))


# The reference's float64 log-softmax of -3e38 is -6e38, which overflows a float32 cast.
@pytest.mark.filterwarnings("ignore:overflow encountered in cast:RuntimeWarning")
@pytest.mark.parametrize("cols", (4, 40, 1100), ids=("team4", "warp", "block"))
@pytest.mark.parametrize("log", (False, True), ids=("softmax", "log_softmax"))
@pytest.mark.parametrize("dtype", DTYPES)
def test_softmax_of_huge_logits(cuda_kernels, dtype, log, cols):
    rows = np.array([[1e4, -1e4, 0.0, 1e4 - 1.0],
                     [1e30, -1e30, 0.0, 1e30],
                     [-1e30, -1e30, -1e30, -1e30],
                     [3e38, -3e38, 1.0, 0.0],
                     [-88.0, 88.0, -100.0, 100.0]])
    x = np.tile(rows, (1, cols // 4)).astype(dtype)
    y = softmax(cuda_kernels, x, log)
    assert_close(y, reference_softmax(x, log))
    if not log:
        assert np.isfinite(y).all()


@pytest.mark.filterwarnings("ignore:invalid value encountered in subtract:RuntimeWarning")
@pytest.mark.parametrize("cols", (6, 1030), ids=("warp", "block"))
@pytest.mark.parametrize("dtype", DTYPES)
def test_softmax_nan_and_inf_spoil_only_their_row(cuda_kernels, dtype, cols):
    x = random_logits((5, cols), dtype)
    x[1, 3] = np.nan
    x[2, 0] = np.inf
    x[3] = -np.inf  # every logit -inf: 0/0, NaN as in the reference
    for log in (False, True):
        y = softmax(cuda_kernels, x, log)
        assert_close(y, reference_softmax(x, log))
        assert np.isnan(y[1:4]).all() and np.isfinite(y[[0, 4]]).all()


def test_softmax_of_zero_rows_is_a_no_op(cuda_kernels):
    K = cuda_kernels
    x = K.to_device(np.empty((0, 5), np.float32))
    K.backend.softmax_forward(x, K.empty((0, 5), np.float32))
    K.backend.softmax_backward(x, x, K.empty((0, 5), np.float32), log=True)


# --- softmax-cross-entropy --------------------------------------------------------------


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", CE_SHAPES, ids=str)
def test_cross_entropy_with_labels(cuda_kernels, shape, dtype):
    n, c = shape
    labels = np.random.default_rng(2).integers(0, c, n)
    loss, grad = check_cross_entropy(cuda_kernels, random_logits(shape, dtype), labels)
    np.testing.assert_allclose(grad.sum(axis=1), 0, atol=1e-5)
    assert np.isfinite(loss).all()


@pytest.mark.parametrize("cols", (5, 1030), ids=("warp", "block"))
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("ignore_index", (-100, -1, 2))
def test_cross_entropy_ignore_index(cuda_kernels, dtype, ignore_index, cols):
    logits = random_logits((9, cols), dtype)
    labels = np.array([0, ignore_index, 4, 1, ignore_index, 3, 2, 0, ignore_index])
    ignored = labels == ignore_index
    loss, grad = check_cross_entropy(cuda_kernels, logits, labels, ignore_index)
    assert (loss[ignored] == 0).all() and (loss[~ignored] > 0).all()
    assert (grad[ignored] == 0).all()


def test_ignored_rows_stay_zero_with_nan_upstream_gradient(cuda_kernels):
    probs = reference_softmax(random_logits((3, 4), np.float64), log=False)
    labels = np.array([1, -100, 2])
    grad_loss = np.array([1.0, np.nan, 1.0])
    grad = cross_entropy_grad(cuda_kernels, probs, labels, grad_loss)
    assert_close(grad, reference_cross_entropy_grad(probs, labels, grad_loss))
    assert (grad[1] == 0).all()


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", CE_SHAPES, ids=str)
def test_cross_entropy_with_probability_targets(cuda_kernels, shape, dtype):
    target = reference_softmax(random_logits(shape, np.float64, seed=3), log=False).astype(dtype)
    _, grad = check_cross_entropy(cuda_kernels, random_logits(shape, dtype), target)
    np.testing.assert_allclose(grad.sum(axis=1), 0, atol=1e-5)


@pytest.mark.parametrize("dtype", DTYPES)
def test_one_hot_targets_equal_labels(cuda_kernels, dtype):
    logits = random_logits((33, 7), dtype)
    labels = np.random.default_rng(4).integers(0, 7, 33)
    loss_hot, grad_hot = check_cross_entropy(cuda_kernels, logits, np.eye(7, dtype=dtype)[labels])
    loss_lab, grad_lab = check_cross_entropy(cuda_kernels, logits, labels)
    assert_close(loss_hot, loss_lab)
    assert_close(grad_hot, grad_lab)


# The reference forms 0 * -inf before np.where discards it.
@pytest.mark.filterwarnings("ignore:invalid value encountered in multiply:RuntimeWarning")
@pytest.mark.parametrize("dtype", DTYPES)
def test_zero_target_on_zero_probability_adds_nothing(cuda_kernels, dtype):
    logits = np.array([[0.0, 1.0, -np.inf], [1e4, 0.0, -np.inf]], dtype=dtype)
    target = np.array([[0.25, 0.75, 0.0], [1.0, 0.0, 0.0]], dtype=dtype)
    loss, grad = check_cross_entropy(cuda_kernels, logits, target)
    assert np.isfinite(loss).all() and np.isfinite(grad).all()


@pytest.mark.parametrize("dtype", DTYPES)
def test_cross_entropy_of_huge_logits(cuda_kernels, dtype):
    logits = HUGE_LOGITS.astype(dtype)
    loss, grad = check_cross_entropy(cuda_kernels, logits, HUGE_LABELS)
    assert np.isfinite(loss).all() and np.isfinite(grad).all()
    assert_close(loss, HUGE_LOSSES)
    target = np.array([[0.5, 0.5, 0.0]] * 4, dtype=dtype)
    loss, grad = check_cross_entropy(cuda_kernels, logits[:4], target)
    assert np.isfinite(loss).all() and np.isfinite(grad).all()


def test_nan_logit_spoils_only_its_row(cuda_kernels):
    logits = random_logits((3, 4), np.float64)
    logits[1, 2] = np.nan
    loss, _ = check_cross_entropy(cuda_kernels, logits, np.array([0, 1, 2]))
    assert np.isnan(loss[1]) and np.isfinite(loss[[0, 2]]).all()


@pytest.mark.parametrize("target", (np.empty(0, np.int64), np.empty((0, 3))),
                         ids=("labels", "probs"))
def test_cross_entropy_of_an_empty_batch(cuda_kernels, target):
    loss, grad = check_cross_entropy(cuda_kernels, np.empty((0, 3)), target)
    assert loss.shape == (0,) and grad.shape == (0, 3)


# --- bad labels: detected in the kernel, raised after it ------------------------------------


@pytest.mark.parametrize("cols", (5, 1030), ids=("warp", "block"))
@pytest.mark.parametrize("bad_label, row", [("C", 2), (-1, 0), (-101, 3), (2**40, 1)])
def test_label_out_of_range_names_label_row_and_range(cuda_kernels, bad_label, row, cols):
    bad_label = cols if bad_label == "C" else bad_label  # the first class past the end
    labels = np.array([1, 2, 3, 4])
    labels[row] = bad_label
    message = re.escape(f"label {bad_label} at row {row} is out of range: expected 0 <= label "
                        f"< {cols} (or ignore_index=-100)")
    with pytest.raises(ValueError, match=message):
        cross_entropy(cuda_kernels, np.zeros((4, cols), np.float32), labels)
    with pytest.raises(ValueError, match=message):
        cross_entropy_grad(cuda_kernels, np.full((4, cols), 0.2, np.float32), labels,
                           np.ones(4, np.float32))


def test_first_bad_label_in_row_order_is_reported(cuda_kernels):
    labels = np.zeros(70, np.int64)
    labels[[9, 40, 69]] = [7, 9, -3]  # several bad rows, in different warps and blocks
    with pytest.raises(ValueError, match="label 7 at row 9 "):
        cross_entropy(cuda_kernels, np.zeros((70, 3)), labels)
    with pytest.raises(ValueError, match="label 7 at row 9 "):
        cross_entropy_grad(cuda_kernels, np.zeros((70, 3)), labels, np.ones(70))


def test_valid_rows_are_written_despite_a_bad_label(cuda_kernels):
    # The kernel skips only the bad row; the call raises once it has run.
    K = cuda_kernels
    logits = random_logits((3, 4), np.float64)
    labels = np.array([0, 9, 2])
    loss, probs = K.empty((3,), np.float64), K.empty((3, 4), np.float64)
    with pytest.raises(ValueError, match="label 9 at row 1"):
        K.backend.softmax_cross_entropy_forward(K.to_device(logits), K.to_device(labels), loss,
                                                probs)
    ref_loss, ref_probs = reference_cross_entropy(logits[[0, 2]], labels[[0, 2]])
    assert_close(K.to_host(loss)[[0, 2]], ref_loss)
    assert_close(K.to_host(probs)[[0, 2]], ref_probs)


# --- bad input --------------------------------------------------------------------------


def test_softmax_argument_errors(cuda_kernels):
    K = cuda_kernels
    x = K.to_device(np.zeros((2, 3), np.float32))
    with pytest.raises(TypeError, match="x must be a CUDA array"):
        K.backend.softmax_forward(np.zeros((2, 3), np.float32), K.empty((2, 3), np.float32))
    with pytest.raises(TypeError, match="x must be float32 or float64, got int64"):
        K.backend.softmax_forward(K.to_device(np.zeros((2, 3), np.int64)),
                                  K.empty((2, 3), np.float32))
    with pytest.raises(TypeError, match="out must have the dtype of x"):
        K.backend.softmax_forward(x, K.empty((2, 3), np.float64))
    with pytest.raises(ValueError, match=re.escape("out must have the shape of x (2, 3), got "
                                                   "(3, 2)")):
        K.backend.softmax_forward(x, K.empty((3, 2), np.float32))
    with pytest.raises(ValueError, match="grad_out must have the shape of y"):
        K.backend.softmax_backward(x, K.to_device(np.zeros((2, 4), np.float32)),
                                   K.empty((2, 3), np.float32))
    with pytest.raises(ValueError, match=re.escape("non-empty last axis, got x of shape (3, 0)")):
        K.backend.softmax_forward(K.to_device(np.zeros((3, 0), np.float32)),
                                  K.empty((3, 0), np.float32))
    with pytest.raises(ValueError, match="out must not share memory with x"):
        K.backend.softmax_forward(x, x)


def test_cross_entropy_target_errors(cuda_kernels):
    K = cuda_kernels
    logits = np.zeros((3, 4), np.float32)
    for dtype in (np.int32, np.uint8, np.bool_):
        with pytest.raises(TypeError, match=f"target must be int64 class indices, got "
                                            f"{np.dtype(dtype)}"):
            cross_entropy(K, logits, np.zeros(3, dtype))
    with pytest.raises(ValueError, match=re.escape("target labels must have shape (3,) to match "
                                                   "logits (3, 4), got (4,)")):
        cross_entropy(K, logits, np.zeros(4, np.int64))
    with pytest.raises(ValueError, match=re.escape("got floating-point target of shape (3, 5)")):
        cross_entropy(K, logits, np.zeros((3, 5), np.float32))
    with pytest.raises(TypeError, match="target must have the dtype of logits"):
        cross_entropy(K, logits, np.zeros((3, 4), np.float64))
    with pytest.raises(TypeError, match="target must be a CUDA array"):
        K.backend.softmax_cross_entropy_forward(K.to_device(logits), np.zeros(3, np.int64),
                                                K.empty((3,), np.float32),
                                                K.empty((3, 4), np.float32))


def test_cross_entropy_shape_and_output_errors(cuda_kernels):
    K = cuda_kernels
    logits = K.to_device(np.zeros((3, 4), np.float32))
    target = K.to_device(np.array([0, 1, 2]))
    with pytest.raises(ValueError, match=re.escape("logits must be 2-D (N, C) with C >= 1, got "
                                                   "(12,)")):
        K.backend.softmax_cross_entropy_forward(K.to_device(np.zeros(12, np.float32)), target,
                                                K.empty((3,), np.float32),
                                                K.empty((3, 4), np.float32))
    expected = "loss_out must have shape (3,), one value per row of logits (3, 4), got (3, 1)"
    with pytest.raises(ValueError, match=re.escape(expected)):
        K.backend.softmax_cross_entropy_forward(logits, target, K.empty((3, 1), np.float32),
                                                K.empty((3, 4), np.float32))
    with pytest.raises(TypeError, match="loss_out must have the dtype of logits"):
        K.backend.softmax_cross_entropy_forward(logits, target, K.empty((3,), np.float64),
                                                K.empty((3, 4), np.float32))
    with pytest.raises(ValueError, match="probs_out must not share memory with logits"):
        K.backend.softmax_cross_entropy_forward(logits, target, K.empty((3,), np.float32),
                                                logits)
    with pytest.raises(ValueError, match=re.escape("grad_loss must have shape (3,)")):
        K.backend.softmax_cross_entropy_backward(logits, target, K.empty((4,), np.float32),
                                                 K.empty((3, 4), np.float32))
    with pytest.raises(ValueError, match="grad_logits must have the shape of probs"):
        K.backend.softmax_cross_entropy_backward(logits, target, K.empty((3,), np.float32),
                                                 K.empty((3, 5), np.float32))
