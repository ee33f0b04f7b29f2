"""axonic._cuda's activation kernels (csrc/cuda/activations.cu) held against the NumPy
reference, through the ``cuda_kernels`` fixture: on the CPU emulator everywhere, and on
the GPU where CuPy and a device are there.

Sizes straddle the kernels' 16-byte vector groups (4 floats, 2 doubles), whose last
partial group goes element by element, and a block of 256 threads (1000, 4099);
``ElementOffsetView`` moves the data one element off 16-byte alignment, which takes the
element-by-element kernels.
"""

from __future__ import annotations

import re

import numpy as np
import pytest

from axonic.backends import reference
from axonic.backends.spec import ACTIVATIONS, BACKWARD_FROM_OUTPUT, DEFAULT_ALPHA
from conftest import assert_close

DTYPES = (np.float32, np.float64)
SIZES = (0, 1, 7, 31, 33, 1000, 4099)
EXTREMES = (-3e38, -1e30, -1e4, -100.0, -88.0, -20.0, -1.0, -1e-8, -1e-40, -0.0, 0.0, 1e-40,
            1e-8, 1.0, 9.0, 20.0, 88.0, 100.0, 1e4, 1e30, 3e38, np.inf, -np.inf, np.nan)


class ElementOffsetView:
    """Elements 1.. of a 1-D device array: C-contiguous, but its data pointer is one
    element past the allocation's start, so not 16-byte aligned. Works on any object
    with ``__cuda_array_interface__`` (the emulator's arrays and CuPy's)."""

    def __init__(self, base) -> None:
        self.base = base

    @property
    def __cuda_array_interface__(self) -> dict:
        interface = dict(self.base.__cuda_array_interface__)
        pointer, read_only = interface["data"]
        interface["data"] = (pointer + np.dtype(interface["typestr"]).itemsize, read_only)
        interface["shape"] = (interface["shape"][0] - 1,)
        return interface


def reference_forward(kind, x, alpha=None):
    out = np.empty_like(x)
    reference.activation_forward(kind, x, out, alpha)
    return out


def reference_backward(kind, saved, grad_out, alpha=None):
    grad_in = np.empty_like(saved)
    reference.activation_backward(kind, saved, grad_out, grad_in, alpha)
    return grad_in


def saved_input(kind, x, alpha=None):
    """What the backward reads: the forward output for sigmoid/tanh, else x itself."""
    return reference_forward(kind, x, alpha) if kind in BACKWARD_FROM_OUTPUT else x


def device_forward(K, kind, x, alpha=None):
    out = K.empty(x.shape, x.dtype)
    K.backend.activation_forward(kind, K.to_device(x), out, alpha)
    return K.to_host(out)


def device_backward(K, kind, saved, grad_out, alpha=None):
    grad_in = K.empty(saved.shape, saved.dtype)
    K.backend.activation_backward(kind, K.to_device(saved), K.to_device(grad_out), grad_in,
                                  alpha)
    return K.to_host(grad_in)


def check_against_reference(K, kind, x, alpha=None):
    assert_close(device_forward(K, kind, x, alpha), reference_forward(kind, x, alpha))
    saved = saved_input(kind, x, alpha)
    grad_out = np.random.default_rng(1).standard_normal(x.shape).astype(x.dtype)
    assert_close(device_backward(K, kind, saved, grad_out, alpha),
                 reference_backward(kind, saved, grad_out, alpha))


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("kind", ACTIVATIONS)
def test_matches_reference(cuda_kernels, kind, dtype, size):
    x = (3 * np.random.default_rng(size).standard_normal(size)).astype(dtype)
    check_against_reference(cuda_kernels, kind, x)


@pytest.mark.parametrize("shape", [(3, 4, 5), (2, 1, 7, 3), (33, 1), (0, 4)])
@pytest.mark.parametrize("kind", ("relu", "gelu", "silu"))
def test_multidimensional_shapes(cuda_kernels, kind, shape):
    x = np.random.default_rng(0).standard_normal(shape).astype(np.float32)
    check_against_reference(cuda_kernels, kind, x)


@pytest.mark.parametrize("size", (1, 7, 33, 1000))
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("kind", ("tanh", "leaky_relu", "gelu_tanh"))
def test_unaligned_arrays_take_the_element_path(cuda_kernels, kind, dtype, size):
    K = cuda_kernels
    x = (3 * np.random.default_rng(size).standard_normal(size + 1)).astype(dtype)
    out = K.empty((size + 1,), dtype)
    K.backend.activation_forward(kind, ElementOffsetView(K.to_device(x)),
                                 ElementOffsetView(out))
    assert_close(K.to_host(out)[1:], reference_forward(kind, x[1:]))
    saved = saved_input(kind, x)
    grad_out = np.random.default_rng(2).standard_normal(size + 1).astype(dtype)
    grad_in = K.empty((size + 1,), dtype)
    K.backend.activation_backward(kind, ElementOffsetView(K.to_device(saved)),
                                  ElementOffsetView(K.to_device(grad_out)),
                                  ElementOffsetView(grad_in))
    assert_close(K.to_host(grad_in)[1:], reference_backward(kind, saved[1:], grad_out[1:]))


# The reference overflows (x**3, casts of 1e30 or 3e38 into float32) and forms inf * 0.
@pytest.mark.filterwarnings("ignore::RuntimeWarning")
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("kind", ACTIVATIONS)
def test_extreme_values_infinities_and_nan(cuda_kernels, kind, dtype):
    x = np.array(EXTREMES, dtype=dtype)
    alpha = DEFAULT_ALPHA.get(kind, 0.0)
    y = device_forward(cuda_kernels, kind, x, alpha)
    assert_close(y, reference_forward(kind, x, alpha))
    assert np.isnan(y[-1]), "NaN maps to NaN"
    saved = saved_input(kind, x, alpha)
    derivative = device_backward(cuda_kernels, kind, saved, np.ones_like(x), alpha)
    expected = reference_backward(kind, saved, np.ones_like(x), alpha)
    if kind == "gelu_tanh":  # the kernel gives the limits where the reference forms inf * 0
        expected[x == np.inf], expected[x == -np.inf] = 1.0, 0.0
    assert_close(derivative, expected)
    finite = np.isfinite(x) & (np.abs(x) < 1e30)
    assert np.isfinite(y[finite]).all() and np.isfinite(derivative[finite]).all()


@pytest.mark.parametrize("alpha", (0.0, 0.2, 1.7))
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("kind", ("leaky_relu", "elu"))
def test_alpha(cuda_kernels, kind, dtype, alpha):
    x = (3 * np.random.default_rng(2).standard_normal(257)).astype(dtype)
    check_against_reference(cuda_kernels, kind, x, alpha)


@pytest.mark.parametrize("kind", ACTIVATIONS)
def test_alpha_none_is_the_kinds_default(cuda_kernels, kind):
    x = (3 * np.random.default_rng(3).standard_normal(33)).astype(np.float32)
    default = DEFAULT_ALPHA.get(kind, 0.0)
    np.testing.assert_array_equal(device_forward(cuda_kernels, kind, x),
                                  device_forward(cuda_kernels, kind, x, default))
    saved = saved_input(kind, x, default)
    np.testing.assert_array_equal(device_backward(cuda_kernels, kind, saved, x),
                                  device_backward(cuda_kernels, kind, saved, x, default))


# --- bad input ----------------------------------------------------------------------------


def test_unknown_kind_lists_the_valid_ones(cuda_kernels):
    K = cuda_kernels
    x = K.to_device(np.zeros(4, np.float32))
    expected = "unknown activation 'swish'; expected one of " + ", ".join(ACTIVATIONS)
    with pytest.raises(ValueError, match=re.escape(expected)):
        K.backend.activation_forward("swish", x, K.empty((4,), np.float32))
    with pytest.raises(ValueError, match="unknown activation 'swish'"):
        K.backend.activation_backward("swish", x, x, K.empty((4,), np.float32))


def test_host_arrays_are_a_type_error(cuda_kernels):
    K = cuda_kernels
    x = np.zeros(4, np.float32)
    with pytest.raises(TypeError, match="x must be a CUDA array"):
        K.backend.activation_forward("relu", x, K.empty((4,), np.float32))
    with pytest.raises(TypeError, match="out must be a CUDA array"):
        K.backend.activation_forward("relu", K.to_device(x), np.empty_like(x))
    with pytest.raises(TypeError, match="grad_out must be a CUDA array"):
        K.backend.activation_backward("relu", K.to_device(x), [0.0] * 4,
                                      K.empty((4,), np.float32))


def test_wrong_dtypes_are_a_type_error(cuda_kernels):
    K = cuda_kernels
    x32 = K.to_device(np.zeros(4, np.float32))
    with pytest.raises(TypeError, match="x must be float32 or float64, got int64"):
        K.backend.activation_forward("relu", K.to_device(np.zeros(4, np.int64)),
                                     K.empty((4,), np.float32))
    with pytest.raises(TypeError, match="out must have the dtype of x \\(float32\\), got float64"):
        K.backend.activation_forward("relu", x32, K.empty((4,), np.float64))
    with pytest.raises(TypeError, match="grad_in must have the dtype of saved"):
        K.backend.activation_backward("relu", x32, x32, K.empty((4,), np.float64))


def test_wrong_shapes_are_a_value_error(cuda_kernels):
    K = cuda_kernels
    x = K.to_device(np.zeros((4, 5), np.float32))
    expected = "out must have the shape of x (4, 5), got (5, 4)"
    with pytest.raises(ValueError, match=re.escape(expected)):
        K.backend.activation_forward("relu", x, K.empty((5, 4), np.float32))
    with pytest.raises(ValueError, match="grad_out must have the shape of saved"):
        K.backend.activation_backward("relu", x, K.to_device(np.zeros(20, np.float32)),
                                      K.empty((4, 5), np.float32))


def test_output_sharing_memory_with_an_input_is_refused(cuda_kernels):
    K = cuda_kernels
    x = K.to_device(np.zeros(8, np.float32))
    with pytest.raises(ValueError, match="out must not share memory with x"):
        K.backend.activation_forward("relu", x, x)
    with pytest.raises(ValueError, match="grad_in must not share memory with grad_out"):
        K.backend.activation_backward("relu", K.to_device(np.zeros(8, np.float32)), x, x)
