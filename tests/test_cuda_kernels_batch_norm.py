"""Batch normalization kernels of axonic._cuda against the NumPy ``reference``, through
the ``cuda_kernels`` fixture (the CPU emulator everywhere, the GPU where there is one).

The CPU tests' shapes (N = 1, C = 1, 1x1 images, (N, C), odd sizes) plus shapes whose
channels batch_norm.cu splits into several parts (few channels, many values; part
boundaries inside a run of S values, S = 1 and S = 3 with a block's step wrapping
several samples), with and without weight/bias and running buffers, in float32 and
float64; channels with a mean of 1e4; NaN; determinism; and bad input.
"""

from __future__ import annotations

import numpy as np
import pytest

from axonic.backends import reference
from conftest import assert_close
from test_kernels_batch_norm import DTYPES, SHAPES, TOL, channel_arrays, numpy_batch_norm, random

# (N, C, S...) that batch_norm.cu cuts into 2 to 6 parts per channel.
SPLIT_SHAPES = [(3, 2, 77, 101), (9000, 2), (2000, 2, 3), (2, 33, 70, 70)]


def _device(K, a):
    return None if a is None else K.to_device(a)


def _host(K, a):
    return None if a is None else K.to_host(a)


def cuda_forward_train(K, x, weight, bias, running_mean, running_var, momentum=0.1, eps=1e-5):
    """The CUDA training forward on device copies; returns out, save_mean, save_invstd,
    running_mean, running_var as NumPy arrays (None where not given)."""
    c = x.shape[1]
    out, save_mean, save_invstd = K.empty(x.shape, x.dtype), K.empty(c, x.dtype), K.empty(
        c, x.dtype)
    rm, rv = _device(K, running_mean), _device(K, running_var)
    K.backend.batch_norm_forward_train(x=K.to_device(x), weight=_device(K, weight),
                                       bias=_device(K, bias), running_mean=rm, running_var=rv,
                                       out=out, save_mean=save_mean, save_invstd=save_invstd,
                                       momentum=momentum, eps=eps)
    return tuple(_host(K, a) for a in (out, save_mean, save_invstd, rm, rv))


def reference_forward_train(x, weight, bias, running_mean, running_var, momentum=0.1, eps=1e-5):
    c = x.shape[1]
    out, save_mean, save_invstd = np.empty_like(x), np.empty(c, x.dtype), np.empty(c, x.dtype)
    rm = None if running_mean is None else running_mean.copy()
    rv = None if running_var is None else running_var.copy()
    reference.batch_norm_forward_train(x, weight, bias, rm, rv, out, save_mean, save_invstd,
                                       momentum=momentum, eps=eps)
    return out, save_mean, save_invstd, rm, rv


def cuda_backward(K, grad_out, x, weight, save_mean, save_invstd, with_grad_in=True,
                  with_params=True):
    c = x.shape[1]
    grad_in = K.empty(x.shape, x.dtype) if with_grad_in else None
    grad_weight = K.empty(c, x.dtype) if with_params else None
    grad_bias = K.empty(c, x.dtype) if with_params else None
    K.backend.batch_norm_backward(grad_out=K.to_device(grad_out), x=K.to_device(x),
                                  weight=_device(K, weight), save_mean=K.to_device(save_mean),
                                  save_invstd=K.to_device(save_invstd), grad_in=grad_in,
                                  grad_weight=grad_weight, grad_bias=grad_bias)
    return tuple(_host(K, a) for a in (grad_in, grad_weight, grad_bias))


def _assert_all_close(got, want, **tolerance):
    for g, w in zip(got, want):
        if w is None:
            assert g is None
        else:
            assert_close(g, w, **tolerance)


# --- kernels against the reference --------------------------------------------------------
@pytest.mark.parametrize("affine", (True, False), ids=("affine", "no_affine"))
@pytest.mark.parametrize("track", (True, False), ids=("running", "no_running"))
@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize("shape", SHAPES + SPLIT_SHAPES, ids=str)
def test_forward_train_matches_reference(cuda_kernels, shape, dtype, track, affine):
    x = random(shape, dtype, scale=3.0, offset=0.5)
    weight, bias, running_mean, running_var = channel_arrays(shape[1], dtype)
    if not affine:
        weight = bias = None
    if not track:
        running_mean = running_var = None
    got = cuda_forward_train(cuda_kernels, x, weight, bias, running_mean, running_var, 0.3)
    want = reference_forward_train(x, weight, bias, running_mean, running_var, 0.3)
    _assert_all_close(got, want, **TOL[dtype])


@pytest.mark.parametrize("affine", (True, False), ids=("affine", "no_affine"))
@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize("shape", SHAPES + SPLIT_SHAPES + [(1, 4), (1, 3, 1, 1), (0, 3, 2, 2)],
                         ids=str)
def test_forward_eval_matches_reference(cuda_kernels, shape, dtype, affine):
    K = cuda_kernels
    x = random(shape, dtype, scale=2.0)
    weight, bias, running_mean, running_var = channel_arrays(shape[1], dtype)
    if not affine:
        weight = bias = None
    out = K.empty(shape, dtype)
    K.backend.batch_norm_forward_eval(K.to_device(x), _device(K, weight), _device(K, bias),
                                      K.to_device(running_mean), K.to_device(running_var), out,
                                      eps=1e-3)
    want = np.empty_like(x)
    reference.batch_norm_forward_eval(x, weight, bias, running_mean, running_var, want, eps=1e-3)
    assert_close(K.to_host(out), want, **TOL[dtype])


@pytest.mark.parametrize("outputs", ("all", "no_params", "no_grad_in"))
@pytest.mark.parametrize("affine", (True, False), ids=("affine", "no_affine"))
@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize("shape", SHAPES + SPLIT_SHAPES, ids=str)
def test_backward_matches_reference(cuda_kernels, shape, dtype, affine, outputs):
    x = random(shape, dtype, scale=2.0, offset=-1.0)
    weight = channel_arrays(shape[1], dtype)[0] if affine else None
    _, save_mean, save_invstd, _, _ = reference_forward_train(x, weight, None, None, None)
    grad_out = random(shape, dtype, seed=7)
    with_grad_in, with_params = outputs != "no_grad_in", outputs != "no_params"
    got = cuda_backward(cuda_kernels, grad_out, x, weight, save_mean, save_invstd,
                        with_grad_in, with_params)
    c = shape[1]
    per_channel = (np.empty(c, dtype), np.empty(c, dtype)) if with_params else (None, None)
    want = (np.empty_like(x) if with_grad_in else None, *per_channel)
    reference.batch_norm_backward(grad_out, x, weight, save_mean, save_invstd, *want)
    # grad_in's sums cancel to ~0 per channel: compare against the gradient's scale.
    if with_grad_in:
        scale = float(np.abs(want[0]).max()) + 1.0
        assert_close(got[0], want[0], atol=TOL[dtype]["atol"] * scale * 10)
    else:
        assert got[0] is None
    _assert_all_close(got[1:], want[1:], atol=TOL[dtype]["atol"] * np.sqrt(x.size))


@pytest.mark.parametrize("shape", [(64, 4, 33), (4, 2, 3000)], ids=str)
@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
def test_large_offset_is_accurate(cuda_kernels, shape, dtype):
    """Two passes in double: a mean of 1e4 does not swamp a unit variance."""
    x = random(shape, dtype, scale=1.0, offset=1e4)
    out, mean, invstd, _, _ = cuda_forward_train(cuda_kernels, x, None, None, None, None)
    expected, want_mean, var, _ = numpy_batch_norm(x, None, None)
    assert_close(mean, want_mean, **TOL[dtype])
    assert_close(invstd, 1.0 / np.sqrt(var + 1e-5), rtol=1e-4 if dtype == np.float32 else 1e-9)
    assert_close(out, expected, rtol=1e-3, atol=1e-3 if dtype == np.float32 else 1e-9)


def test_nan_stays_in_its_channel(cuda_kernels):
    x = random((4, 3, 5), np.float32)
    x[1, 1, 2] = np.nan
    out, mean, _, _, _ = cuda_forward_train(cuda_kernels, x, None, None, None, None)
    assert np.isnan(out[:, 1]).all() and np.isnan(mean[1])
    assert np.isfinite(out[:, [0, 2]]).all()


def test_split_channels_are_deterministic(cuda_kernels):
    # Per-part partial sums added in a fixed order: the same bits on every run.
    x = random((3, 2, 77, 101), np.float32, scale=5.0, offset=3.0)
    first = cuda_forward_train(cuda_kernels, x, None, None, None, None)
    second = cuda_forward_train(cuda_kernels, x, None, None, None, None)
    for a, b in zip(first[:3], second[:3]):
        np.testing.assert_array_equal(a, b)


# --- bad input ------------------------------------------------------------------------------
def test_kernel_rejects_bad_arrays(cuda_kernels):
    K = cuda_kernels
    f32 = np.float32
    x = K.to_device(random((4, 3, 5), f32))
    c3 = K.to_device(np.ones(3, f32))
    out, sm, si = K.empty((4, 3, 5), f32), K.empty(3, f32), K.empty(3, f32)
    train, evaluate = K.backend.batch_norm_forward_train, K.backend.batch_norm_forward_eval
    with pytest.raises(TypeError, match="x must be a CUDA array"):
        train(random((4, 3, 5), f32), None, None, None, None, out, sm, si)
    with pytest.raises(TypeError, match="save_mean must be a CUDA array"):
        train(x, None, None, None, None, out, np.empty(3, f32), si)
    with pytest.raises(ValueError, match="ndim >= 2"):
        evaluate(c3, None, None, c3, c3, K.empty(3, f32))
    with pytest.raises(ValueError, match=r"weight must have shape \(3,\)"):
        train(x, K.to_device(np.ones(4, f32)), None, None, None, out, sm, si)
    with pytest.raises(ValueError, match=r"running_var must have shape \(3,\)"):
        evaluate(x, None, None, c3, K.to_device(np.ones((3, 1), f32)), out)
    with pytest.raises(TypeError, match="float64"):
        train(x, K.to_device(np.ones(3)), None, None, None, out, sm, si)
    with pytest.raises(ValueError, match="shape"):
        train(x, None, None, None, None, K.empty((4, 3, 4), f32), sm, si)
    with pytest.raises(ValueError, match="running_mean must be an array"):
        evaluate(x, None, None, None, c3, out)
    with pytest.raises(ValueError, match="must not share memory"):
        train(x, None, None, None, None, x, sm, si)
    with pytest.raises(ValueError, match="eps"):
        evaluate(x, None, None, c3, c3, out, eps=-1.0)
    with pytest.raises(ValueError, match="Expected more than 1 value per channel when training"):
        train(K.to_device(np.zeros((1, 3), f32)), None, None, None, None, K.empty((1, 3), f32),
              sm, si)
    with pytest.raises(ValueError, match="Expected more than 1 value per channel when training"):
        K.backend.batch_norm_backward(K.to_device(np.zeros((1, 3, 1, 1), f32)),
                                      K.to_device(np.zeros((1, 3, 1, 1), f32)), None, c3, c3,
                                      None, None, None)
    with pytest.raises(ValueError, match="grad_out must have the shape of x"):
        K.backend.batch_norm_backward(K.to_device(np.zeros((4, 3, 4), f32)), x, None, c3, c3,
                                      None, None, None)
