"""axonic._cuda's inverted dropout (csrc/cuda/dropout.cu) against the NumPy reference and
the CPU kernel, bit for bit, through the ``cuda_kernels`` fixture.

Every backend hashes (seed, offset + element index) with the SplitMix64 of
csrc/common/dropout_hash.h (reference_dropout.py in NumPy), so masks must be identical,
and outputs too (scaled in float64, rounded once). Sizes straddle the kernel's vector
groups (4 floats, 2 doubles) and blocks; ``ElementOffsetView`` moves the arrays off
alignment, which takes the element-by-element kernels.
"""

from __future__ import annotations

import numpy as np
import pytest

from axonic.backends import cpu, reference
from test_cuda_kernels_activations import ElementOffsetView
from test_kernels_dropout import backward, forward

DTYPES = (np.float32, np.float64)
SIZES = (0, 1, 7, 31, 33, 1000, 4099)


def device_forward(K, x, p, seed, offset=0):
    out = K.empty(x.shape, x.dtype)
    mask = K.empty(x.shape, np.uint8)
    K.backend.dropout_forward(K.to_device(x), out, mask, p, seed, offset)
    return K.to_host(out), K.to_host(mask)


def device_backward(K, grad_out, mask, p):
    grad_in = K.empty(grad_out.shape, grad_out.dtype)
    K.backend.dropout_backward(K.to_device(grad_out), K.to_device(mask), grad_in, p)
    return K.to_host(grad_in)


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("dtype", DTYPES)
def test_matches_reference_and_cpu_exactly(cuda_kernels, dtype, size):
    rng = np.random.default_rng(size)
    x = (3 * rng.standard_normal(size)).astype(dtype)
    grad_out = rng.standard_normal(size).astype(dtype)
    for p in (0.0, 0.1, 0.5, 0.9, 1.0):
        seed, offset = int(rng.integers(0, 2**63)), int(rng.integers(0, 1000))
        out, mask = device_forward(cuda_kernels, x, p, seed, offset)
        ref_out, ref_mask = forward(reference, x, p, seed, offset)
        assert mask.dtype == np.uint8 and set(np.unique(mask)) <= {0, 1}
        np.testing.assert_array_equal(mask, ref_mask)
        np.testing.assert_array_equal(out, ref_out)
        np.testing.assert_array_equal(mask, forward(cpu, x, p, seed, offset)[1])
        np.testing.assert_array_equal(device_backward(cuda_kernels, grad_out, mask, p),
                                      backward(reference, grad_out, mask, p))


@pytest.mark.parametrize("size", (1, 7, 33, 1000))
@pytest.mark.parametrize("dtype", DTYPES)
def test_unaligned_arrays_give_the_same_mask(cuda_kernels, dtype, size):
    K = cuda_kernels
    x = np.random.default_rng(size).standard_normal(size + 1).astype(dtype)
    out, mask = K.empty((size + 1,), dtype), K.empty((size + 1,), np.uint8)
    K.backend.dropout_forward(ElementOffsetView(K.to_device(x)), ElementOffsetView(out),
                              ElementOffsetView(mask), 0.3, 11, 5)
    ref_out, ref_mask = forward(reference, x[1:], 0.3, 11, 5)
    np.testing.assert_array_equal(K.to_host(mask)[1:], ref_mask)
    np.testing.assert_array_equal(K.to_host(out)[1:], ref_out)
    grad_in = K.empty((size + 1,), dtype)
    padded_mask = np.concatenate([[0], ref_mask]).astype(np.uint8)
    K.backend.dropout_backward(ElementOffsetView(K.to_device(x)),
                               ElementOffsetView(K.to_device(padded_mask)),
                               ElementOffsetView(grad_in), 0.3)
    np.testing.assert_array_equal(K.to_host(grad_in)[1:],
                                  backward(reference, x[1:], ref_mask, 0.3))


def test_multidimensional_and_wrapping_seed_and_offset(cuda_kernels):
    x = np.random.default_rng(0).standard_normal((2, 3, 7, 5))
    seed, offset = 2**64 - 1, 2**64 - 10  # the counter wraps mod 2^64 in every backend
    out, mask = device_forward(cuda_kernels, x, 0.3, seed, offset)
    ref_out, ref_mask = forward(reference, x, 0.3, seed, offset)
    np.testing.assert_array_equal(mask, ref_mask)
    np.testing.assert_array_equal(out, ref_out)


def test_offset_shifts_the_counter(cuda_kernels):
    x = np.ones(40, np.float32)
    _, whole = device_forward(cuda_kernels, x, 0.5, 9)
    _, tail = device_forward(cuda_kernels, x[:35], 0.5, 9, offset=5)
    np.testing.assert_array_equal(tail, whole[5:])


@pytest.mark.parametrize("dtype", DTYPES)
def test_p_zero_is_identity_and_p_one_zeros(cuda_kernels, dtype):
    x = np.array([1.5, -2.0, np.inf, np.nan, 0.0, 1e30, -np.inf], dtype)
    out, mask = device_forward(cuda_kernels, x, 0.0, 3)
    assert np.all(mask == 1)
    np.testing.assert_array_equal(out, x)
    np.testing.assert_array_equal(device_backward(cuda_kernels, x, mask, 0.0), x)
    out, mask = device_forward(cuda_kernels, x, 1.0, 3)
    assert np.all(mask == 0)
    assert np.all(out == 0) and not np.any(np.isnan(out))
    assert np.all(device_backward(cuda_kernels, x, mask, 1.0) == 0)


def test_kept_fraction_and_scaling(cuda_kernels):
    x = np.full(4099, 2.0, np.float32)
    out, mask = device_forward(cuda_kernels, x, 0.25, seed=7)
    assert abs(mask.mean() - 0.75) < 6 * np.sqrt(0.25 * 0.75 / x.size)
    np.testing.assert_array_equal(out[mask == 1], np.float32(2.0 / 0.75))
    assert np.all(out[mask == 0] == 0)


def test_empty_array(cuda_kernels):
    out, mask = device_forward(cuda_kernels, np.empty((0, 3), np.float32), 0.5, 1)
    assert out.shape == mask.shape == (0, 3)


# --- bad input --------------------------------------------------------------------------


@pytest.mark.parametrize("p", (-0.1, 1.5, float("nan"), float("inf")))
def test_bad_probability_raises(cuda_kernels, p):
    K = cuda_kernels
    x = K.to_device(np.ones(4, np.float32))
    with pytest.raises(ValueError, match="between 0 and 1"):
        K.backend.dropout_forward(x, K.empty((4,), np.float32), K.empty((4,), np.uint8), p, 0)
    with pytest.raises(ValueError, match="between 0 and 1"):
        K.backend.dropout_backward(x, K.to_device(np.ones(4, np.uint8)),
                                   K.empty((4,), np.float32), p)


def test_bad_arrays_raise(cuda_kernels):
    K = cuda_kernels
    x = K.to_device(np.ones((3, 4), np.float32))
    out = K.empty((3, 4), np.float32)
    mask = K.empty((3, 4), np.uint8)
    with pytest.raises(TypeError, match="x must be a CUDA array"):
        K.backend.dropout_forward(np.ones((3, 4), np.float32), out, mask, 0.5, 0)
    with pytest.raises(TypeError, match="mask must be a CUDA array"):
        K.backend.dropout_forward(x, out, np.empty((3, 4), np.uint8), 0.5, 0)
    with pytest.raises(TypeError, match="x must be float32 or float64, got int64"):
        K.backend.dropout_forward(K.to_device(np.ones((3, 4), np.int64)), out, mask, 0.5, 0)
    with pytest.raises(TypeError, match="out must have the dtype of x"):
        K.backend.dropout_forward(x, K.empty((3, 4), np.float64), mask, 0.5, 0)
    for dtype in (np.float32, np.bool_):
        with pytest.raises(TypeError, match="mask must be a uint8 array"):
            K.backend.dropout_forward(x, out, K.empty((3, 4), dtype), 0.5, 0)
    with pytest.raises(ValueError, match="out must have the shape of x"):
        K.backend.dropout_forward(x, K.empty((4, 3), np.float32), mask, 0.5, 0)
    with pytest.raises(ValueError, match=r"mask must have the shape of x \(3, 4\), got \(12,\)"):
        K.backend.dropout_forward(x, out, K.empty((12,), np.uint8), 0.5, 0)
    with pytest.raises(ValueError, match="mask must have the shape of grad_out"):
        K.backend.dropout_backward(x, K.empty((3, 5), np.uint8), out, 0.5)
    with pytest.raises(TypeError, match="grad_in must have the dtype of grad_out"):
        K.backend.dropout_backward(x, mask, K.empty((3, 4), np.float64), 0.5)
    with pytest.raises(ValueError, match="out must not share memory with x"):
        K.backend.dropout_forward(x, x, mask, 0.5, 0)
    with pytest.raises(TypeError):  # negative seed: no unsigned 64-bit conversion
        K.backend.dropout_forward(x, out, mask, 0.5, -1)
