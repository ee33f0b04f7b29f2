"""axonic._cpu's activation kernels held against the NumPy reference backend."""

from __future__ import annotations

import re

import numpy as np
import pytest
from conftest import AWKWARD_SIZES, assert_close

from axonic.backends import cpu, reference
from axonic.backends.spec import ACTIVATIONS, BACKWARD_FROM_OUTPUT, DEFAULT_ALPHA

DTYPES = (np.float32, np.float64)
# activations.cpp splits arrays of 32768 elements or more over OpenMP threads.
ABOVE_PARALLEL_THRESHOLD = 40_000
EXTREMES = (-1e4, -100.0, -88.0, -20.0, -1.0, -1e-8, -0.0, 0.0, 1e-8, 1.0, 20.0, 88.0, 100.0, 1e4)


def forward(backend, kind: str, x: np.ndarray, alpha: float = 0.0) -> np.ndarray:
    out = np.empty_like(x)
    backend.activation_forward(kind=kind, x=x, out=out, alpha=alpha)
    return out


def saved_input(kind: str, x: np.ndarray, alpha: float) -> np.ndarray:
    """What the backward reads: the forward output for sigmoid/tanh, else x itself."""
    return forward(reference, kind, x, alpha) if kind in BACKWARD_FROM_OUTPUT else x


def backward(backend, kind: str, saved: np.ndarray, grad_out: np.ndarray, alpha: float = 0.0):
    grad_in = np.empty_like(saved)
    backend.activation_backward(kind=kind, saved=saved, grad_out=grad_out, grad_in=grad_in,
                                alpha=alpha)
    return grad_in


def check_against_reference(kind: str, x: np.ndarray, alpha: float) -> None:
    assert_close(forward(cpu, kind, x, alpha), forward(reference, kind, x, alpha))
    saved = saved_input(kind, x, alpha)
    grad_out = np.random.default_rng(1).standard_normal(x.shape).astype(x.dtype)
    assert_close(backward(cpu, kind, saved, grad_out, alpha),
                 backward(reference, kind, saved, grad_out, alpha))


@pytest.mark.parametrize("size", (*AWKWARD_SIZES, ABOVE_PARALLEL_THRESHOLD))
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("kind", ACTIVATIONS)
def test_matches_reference(kind, dtype, size):
    x = (3 * np.random.default_rng(size).standard_normal(size)).astype(dtype)
    check_against_reference(kind, x, DEFAULT_ALPHA.get(kind, 0.0))


@pytest.mark.parametrize("shape", [(3, 4, 5), (2, 1, 7, 3), (33, 1), (0, 4)])
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("kind", ACTIVATIONS)
def test_multidimensional_shapes(kind, dtype, shape):
    x = np.random.default_rng(0).standard_normal(shape).astype(dtype)
    check_against_reference(kind, x, DEFAULT_ALPHA.get(kind, 0.0))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("kind", ACTIVATIONS)
def test_extreme_values_stay_finite(kind, dtype):
    x = np.array(EXTREMES, dtype=dtype)
    alpha = DEFAULT_ALPHA.get(kind, 0.0)
    check_against_reference(kind, x, alpha)
    assert np.isfinite(forward(cpu, kind, x, alpha)).all()
    saved = saved_input(kind, x, alpha)
    assert np.isfinite(backward(cpu, kind, saved, np.ones_like(x), alpha)).all()


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("kind", ACTIVATIONS)
def test_nan_propagates_like_reference(kind, dtype):
    x = np.array([np.nan, -1.0, 0.5, np.nan], dtype=dtype)
    alpha = DEFAULT_ALPHA.get(kind, 0.0)
    out = forward(cpu, kind, x, alpha)
    assert np.isnan(out[[0, 3]]).all(), "every activation maps NaN to NaN"
    # The backward's NaN pattern differs per kind (relu's derivative at NaN is 0):
    # assert_close requires NaNs exactly where the reference has them.
    check_against_reference(kind, x, alpha)


@pytest.mark.parametrize("alpha", (0.0, 0.2, 1.7))
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("kind", ("leaky_relu", "elu"))
def test_alpha(kind, dtype, alpha):
    x = (3 * np.random.default_rng(2).standard_normal(257)).astype(dtype)
    check_against_reference(kind, x, alpha)


@pytest.mark.parametrize("kind", ACTIVATIONS)
def test_default_alpha_matches_reference(kind):
    x = np.random.default_rng(3).standard_normal(33)
    out_cpu, out_ref = np.empty_like(x), np.empty_like(x)
    cpu.activation_forward(kind, x, out_cpu)
    reference.activation_forward(kind, x, out_ref)
    assert_close(out_cpu, out_ref)
    grad_cpu, grad_ref = np.empty_like(x), np.empty_like(x)
    saved = saved_input(kind, x, 0.0)
    cpu.activation_backward(kind, saved, x, grad_cpu)
    reference.activation_backward(kind, saved, x, grad_ref)
    assert_close(grad_cpu, grad_ref)


@pytest.mark.parametrize("kind", sorted(set(ACTIVATIONS) - {"leaky_relu", "elu"}))
def test_alpha_is_ignored_by_other_kinds(kind):
    x = np.random.default_rng(4).standard_normal(33)
    assert_close(forward(cpu, kind, x, alpha=0.7), forward(cpu, kind, x, alpha=0.0))


# --- bad input --------------------------------------------------------------------------


def test_unknown_kind_lists_the_valid_ones():
    x = np.zeros(4, np.float32)
    expected = "unknown activation 'swish'; expected one of " + ", ".join(ACTIVATIONS)
    with pytest.raises(ValueError, match=re.escape(expected)):
        cpu.activation_forward("swish", x, np.empty_like(x))
    with pytest.raises(ValueError, match="unknown activation 'swish'"):
        cpu.activation_backward("swish", x, x.copy(), np.empty_like(x))


@pytest.mark.parametrize("dtype", (np.int32, np.float16, np.int64))
def test_wrong_dtype_is_a_type_error(dtype):
    x = np.zeros(4, dtype)
    with pytest.raises(TypeError, match=f"x must be float32 or float64, got {np.dtype(dtype)}"):
        cpu.activation_forward("relu", x, np.empty(4, np.float32))
    with pytest.raises(TypeError, match="saved must be float32 or float64"):
        cpu.activation_backward("relu", x, np.zeros(4, np.float32), np.empty(4, np.float32))


def test_mixed_float_dtypes_are_a_type_error():
    x32, x64 = np.zeros(4, np.float32), np.zeros(4, np.float64)
    with pytest.raises(TypeError, match="out must have the dtype of x \\(float32\\), got float64"):
        cpu.activation_forward("relu", x32, np.empty_like(x64))
    with pytest.raises(TypeError, match="grad_out must have the dtype of saved"):
        cpu.activation_backward("relu", x32, x64, np.empty_like(x32))
    with pytest.raises(TypeError, match="grad_in must have the dtype of saved"):
        cpu.activation_backward("relu", x32, x32.copy(), np.empty_like(x64))


@pytest.mark.parametrize("view", ("strided", "transposed"))
def test_non_contiguous_input_is_refused(view):
    base = np.zeros((6, 8), np.float32)
    x = base[:, ::2] if view == "strided" else base.T
    with pytest.raises(ValueError, match="x must be C-contiguous"):
        cpu.activation_forward("tanh", x, np.empty(x.shape, np.float32))
    with pytest.raises(ValueError, match="out must be C-contiguous"):
        cpu.activation_forward("tanh", np.zeros(x.shape, np.float32), x)
    with pytest.raises(ValueError, match="grad_out must be C-contiguous"):
        cpu.activation_backward("tanh", np.zeros(x.shape, np.float32), x,
                                np.empty(x.shape, np.float32))


def test_wrong_output_shape_is_refused():
    x = np.zeros((4, 5), np.float32)
    expected = "out must have the shape of x (4, 5), got "
    with pytest.raises(ValueError, match=re.escape(expected + "(5, 4)")):
        cpu.activation_forward("relu", x, np.empty((5, 4), np.float32))
    with pytest.raises(ValueError, match=re.escape(expected + "(20,)")):
        cpu.activation_forward("relu", x, np.empty(20, np.float32))
    with pytest.raises(ValueError, match="grad_out must have the shape of saved"):
        cpu.activation_backward("relu", x, np.zeros((4, 4), np.float32), np.empty_like(x))
    with pytest.raises(ValueError, match="grad_in must have the shape of saved"):
        cpu.activation_backward("relu", x, x.copy(), np.empty((4, 6), np.float32))


def test_not_an_ndarray_is_a_type_error():
    with pytest.raises(TypeError, match="x must be a numpy.ndarray, got list"):
        cpu.activation_forward("relu", [1.0, 2.0], np.empty(2))
    with pytest.raises(TypeError, match="grad_out must be a numpy.ndarray, got float"):
        cpu.activation_backward("relu", np.zeros(2), 1.0, np.empty(2))


def test_read_only_output_is_refused():
    out = np.empty(4)
    out.flags.writeable = False
    with pytest.raises(ValueError, match="out is an output and must be writable"):
        cpu.activation_forward("relu", np.zeros(4), out)


def test_output_sharing_memory_with_an_input_is_refused():
    x = np.zeros(8)
    with pytest.raises(ValueError, match="out must not share memory with x"):
        cpu.activation_forward("relu", x, x)
    with pytest.raises(ValueError, match="grad_in must not share memory with grad_out"):
        cpu.activation_backward("relu", np.zeros(4), x[:4], x[2:6])
