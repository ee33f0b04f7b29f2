"""axonic._cpu's activation kernels held against the NumPy reference backend.

The numeric tests run under every SIMD level this CPU supports (generic, avx2, avx512):
each level has its own vectorized exp/expm1/tanh/normal-tail code (csrc/cpu/vector_math.h).
"""

from __future__ import annotations

import re

import numpy as np
import pytest

from axonic.backends import cpu, reference
from axonic.backends.spec import ACTIVATIONS, BACKWARD_FROM_OUTPUT, DEFAULT_ALPHA
from conftest import AWKWARD_SIZES, assert_close

DTYPES = (np.float32, np.float64)
# The kinds evaluated with vector_math.h's exp, expm1, tanh or normal tail.
TRANSCENDENTAL = ("sigmoid", "tanh", "elu", "selu", "silu", "gelu_tanh", "gelu")
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
def test_matches_reference(simd_level, kind, dtype, size):
    x = (3 * np.random.default_rng(size).standard_normal(size)).astype(dtype)
    check_against_reference(kind, x, DEFAULT_ALPHA.get(kind, 0.0))


# Up to 6 axes a shape is held inline (csrc/common/dims.h); 7 and 9 spill to the heap.
@pytest.mark.parametrize("shape", [(3, 4, 5), (2, 1, 7, 3), (33, 1), (0, 4), (2, 1, 3, 2, 1, 2),
                                   (2, 1, 3, 2, 1, 2, 3), (1, 2, 1, 3, 1, 2, 1, 2, 2)])
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("kind", ACTIVATIONS)
def test_multidimensional_shapes(simd_level, kind, dtype, shape):
    x = np.random.default_rng(0).standard_normal(shape).astype(dtype)
    check_against_reference(kind, x, DEFAULT_ALPHA.get(kind, 0.0))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("kind", ACTIVATIONS)
def test_extreme_values_stay_finite(simd_level, kind, dtype):
    x = np.array(EXTREMES, dtype=dtype)
    alpha = DEFAULT_ALPHA.get(kind, 0.0)
    check_against_reference(kind, x, alpha)
    assert np.isfinite(forward(cpu, kind, x, alpha)).all()
    saved = saved_input(kind, x, alpha)
    assert np.isfinite(backward(cpu, kind, saved, np.ones_like(x), alpha)).all()


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("kind", ACTIVATIONS)
def test_nan_propagates_like_reference(simd_level, kind, dtype):
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
def test_alpha(simd_level, kind, dtype, alpha):
    x = (3 * np.random.default_rng(2).standard_normal(257)).astype(dtype)
    check_against_reference(kind, x, alpha)


@pytest.mark.parametrize("backend", (cpu, reference), ids=lambda b: b.name)
@pytest.mark.parametrize("kind", ACTIVATIONS)
def test_alpha_defaults_to_the_kinds_default(kind, backend):
    # Omitting alpha, or passing None, means spec.DEFAULT_ALPHA (leaky_relu 0.01, elu 1.0).
    x = np.random.default_rng(3).standard_normal(33)
    saved = saved_input(kind, x, DEFAULT_ALPHA.get(kind, 0.0))
    explicit_out, explicit_grad = np.empty_like(x), np.empty_like(x)
    backend.activation_forward(kind, x, explicit_out, DEFAULT_ALPHA.get(kind, 0.0))
    backend.activation_backward(kind, saved, x, explicit_grad, DEFAULT_ALPHA.get(kind, 0.0))
    for alpha_args in ({}, {"alpha": None}):
        out, grad = np.empty_like(x), np.empty_like(x)
        backend.activation_forward(kind, x, out, **alpha_args)
        backend.activation_backward(kind, saved, x, grad, **alpha_args)
        np.testing.assert_array_equal(out, explicit_out)
        np.testing.assert_array_equal(grad, explicit_grad)


@pytest.mark.parametrize("kind", ACTIVATIONS)
def test_default_alpha_matches_reference(kind):
    x = np.random.default_rng(3).standard_normal(33)
    out_cpu, out_ref = np.empty_like(x), np.empty_like(x)
    cpu.activation_forward(kind, x, out_cpu)
    reference.activation_forward(kind, x, out_ref)
    assert_close(out_cpu, out_ref)
    grad_cpu, grad_ref = np.empty_like(x), np.empty_like(x)
    saved = saved_input(kind, x, DEFAULT_ALPHA.get(kind, 0.0))
    cpu.activation_backward(kind, saved, x, grad_cpu)
    reference.activation_backward(kind, saved, x, grad_ref)
    assert_close(grad_cpu, grad_ref)


@pytest.mark.parametrize("kind", sorted(set(ACTIVATIONS) - {"leaky_relu", "elu"}))
def test_alpha_is_ignored_by_other_kinds(kind):
    x = np.random.default_rng(4).standard_normal(33)
    assert_close(forward(cpu, kind, x, alpha=0.7), forward(cpu, kind, x, alpha=0.0))


# --- accuracy of the vector math over the whole range ------------------------------------

# Inputs where vector_math.h changes regime or meets its limits: exp's float32 overflow
# (88.72) and clamp (89), the subnormal results from -87.3 down to -103.97 and the clamp at
# -104, expm1's clamp at -20, tanh's saturation near 9, the normal tail's cutoff at 14.5;
# then huge, tiny and subnormal inputs, infinities and NaN.
SPECIAL_INPUTS = (0.0, -0.0, 1e-45, -1e-45, 1e-40, -1e-40, 1e-30, -1e-30, 0.35, -0.35, 9.0, -9.0,
                  14.5, -14.5, 17.3, -17.3, 20.0, -20.0, 87.3, -87.3, 88.7, -88.7, 88.72, -88.72,
                  89.0, -89.0, 95.0, -95.0, 103.9, -103.9, 104.0, -104.0, 110.0, -110.0, 1e4, -1e4,
                  3e38, -3e38, np.inf, -np.inf, np.nan)


def dense_grid(dtype) -> np.ndarray:
    """Every 0.0005 over [-30, 30], every 0.01 out to +-110, log-spaced magnitudes."""
    magnitudes = np.geomspace(1e-38, 1e4, 4001)
    return np.concatenate([np.linspace(-30, 30, 120001), np.linspace(-110, 110, 22001),
                           magnitudes, -magnitudes, SPECIAL_INPUTS]).astype(dtype)


def reference_in_float64(kind: str, x: np.ndarray, saved_is_output: bool = False):
    """The reference's forward and derivative, kept in float64 (not rounded to x's dtype)."""
    alpha = DEFAULT_ALPHA.get(kind, 0.0)
    x64 = x.astype(np.float64)
    y = np.empty_like(x64)
    reference.activation_forward(kind, x64, y, alpha)
    saved = y.astype(x.dtype).astype(np.float64) if kind in BACKWARD_FROM_OUTPUT else x64
    derivative = np.empty_like(x64)
    reference.activation_backward(kind, saved, np.ones_like(x64), derivative, alpha)
    return y, saved.astype(x.dtype), derivative


# Measured maxima (every SIMD level) are about 2e-6 / 5e-6 for float32 and 1.3e-13 / 3e-13
# for float64 (the latter the reference's own cancellation in 1 + erf and 1 + tanh). The
# bounds leave ~2x room and are 20x (float32) to 100x (float64) tighter than assert_close's.
# Forward: relative error where |f| is not tiny. Derivative: relative to max(|f'|, 0.01),
# since silu', gelu' and gelu_tanh' cross zero, where only the absolute error means much.
ACCURACY = {
    np.dtype(np.float32): {"floor": 1e-6, "forward": 5e-6, "derivative": 1e-5},
    np.dtype(np.float64): {"floor": 1e-3, "forward": 1e-12, "derivative": 1e-12},
}


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # the reference's inf * 0 and overflow
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("kind", TRANSCENDENTAL)
def test_accuracy_on_a_dense_grid(simd_level, kind, dtype):
    x = dense_grid(dtype)
    alpha = DEFAULT_ALPHA.get(kind, 0.0)
    y_ref, saved, derivative_ref = reference_in_float64(kind, x)
    if kind == "gelu_tanh":  # the kernel gives the limits where the reference forms inf * 0
        derivative_ref[x == np.inf], derivative_ref[x == -np.inf] = 1.0, 0.0
    y = forward(cpu, kind, x, alpha)
    derivative = backward(cpu, kind, saved, np.ones_like(x), alpha)
    # Everywhere, including inf and NaN: the usual tolerance, NaN exactly where the
    # reference has it.
    assert_close(y, y_ref.astype(dtype))
    assert_close(derivative, derivative_ref.astype(dtype))
    bounds = ACCURACY[np.dtype(dtype)]
    finite = np.isfinite(y_ref) & np.isfinite(derivative_ref)
    y_err = np.abs(y.astype(np.float64) - y_ref)
    not_tiny = finite & (np.abs(y_ref) >= bounds["floor"])
    worst = np.max(y_err[not_tiny] / np.abs(y_ref[not_tiny]))
    assert worst <= bounds["forward"], f"forward relative error {worst:.2e}"
    d_err = np.abs(derivative.astype(np.float64) - derivative_ref)[finite]
    worst = np.max(d_err / np.maximum(np.abs(derivative_ref[finite]), 0.01))
    assert worst <= bounds["derivative"], f"derivative error {worst:.2e}"


@pytest.mark.parametrize("kind", ("sigmoid", "elu"))
def test_float32_subnormal_results_are_not_flushed(simd_level, kind):
    # sigmoid(x) and elu'(x) are exp(x) to float32 precision for x in (-103.97, -87.3),
    # where the result is subnormal: it must round to within one subnormal step.
    x = np.linspace(-103.9, -87.4, 20001).astype(np.float32)
    values = (forward(cpu, kind, x) if kind == "sigmoid"
              else backward(cpu, kind, x, np.ones_like(x), alpha=1.0))
    expected = np.exp(x.astype(np.float64))
    assert (values > 0).all()
    np.testing.assert_allclose(values, expected, rtol=1e-6, atol=2.0**-149)


@pytest.mark.parametrize("dtype", DTYPES)
def test_tanh_is_odd_and_saturates(simd_level, dtype):
    x = np.concatenate([np.geomspace(1e-30, 30, 10001), [np.inf]]).astype(dtype)
    y = forward(cpu, "tanh", x)
    np.testing.assert_array_equal(forward(cpu, "tanh", -x), -y)
    assert (y[x >= 20] == 1).all() and (np.abs(y) <= 1).all()
    tiny = x < 1e-10  # tanh(x) = x to working precision, within an ulp
    np.testing.assert_allclose(y[tiny], x[tiny], rtol=np.finfo(dtype).eps, atol=0)
    signs = np.signbit(forward(cpu, "tanh", np.array([0.0, -0.0], dtype)))
    assert not signs[0] and signs[1]


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


def test_shapes_of_many_axes_are_compared_and_named_in_full():
    # 8 axes: past the 6 held inline (csrc/common/dims.h), so these shapes live on the heap.
    x = np.zeros((1, 2, 1, 2, 1, 2, 1, 3), np.float32)
    out = np.empty((1, 2, 1, 2, 1, 2, 1, 4), np.float32)
    expected = ("out must have the shape of x (1, 2, 1, 2, 1, 2, 1, 3), got "
                "(1, 2, 1, 2, 1, 2, 1, 4)")
    with pytest.raises(ValueError, match=re.escape(expected)):
        cpu.activation_forward("relu", x, out)
    cpu.activation_forward("relu", x, np.empty_like(x))  # equal 8-axis shapes pass


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
