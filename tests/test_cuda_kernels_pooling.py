"""2-D max / average pooling kernels of axonic._cuda (the ``cuda_kernels`` fixture:
emulated on the CPU, and on a GPU when there is one) against the NumPy reference and the
CPU kernels: the CPU tests' geometries, NaN / inf / tie rules, the gather backward of max
pooling for any argmax, and bad input (argmax checked on the device)."""

from __future__ import annotations

import numpy as np
import pytest

from axonic.backends import cpu, reference
from axonic.backends.reference_pooling import check_pool2d
from conftest import assert_close
from test_kernels_pooling import (
    AVG_CASES,
    BAD_GEOMETRIES,
    CASE_IDS,
    CASES,
    FIXED_IDS,
    FIXED_WINDOWS,
    random_input,
)

DTYPES = (np.float32, np.float64)


def output_shape(shape, kernel, stride, padding, dilation, ceil_mode):
    out_h, out_w = check_pool2d("test", shape, kernel, stride, padding, dilation, ceil_mode)
    return (*shape[:2], out_h, out_w)


def max_forward(K, x, kernel, stride, padding, dilation, ceil_mode):
    shape = output_shape(x.shape, kernel, stride, padding, dilation, ceil_mode)
    out, argmax = K.empty(shape, x.dtype), K.empty(shape, np.int64)
    K.backend.max_pool2d_forward(K.to_device(x), out, argmax, kernel, stride, padding, dilation,
                                 ceil_mode)
    return K.to_host(out), K.to_host(argmax)


def max_backward(K, grad_out, argmax, input_shape):
    grad_in = K.empty(input_shape, grad_out.dtype)
    K.backend.max_pool2d_backward(K.to_device(grad_out), K.to_device(argmax), grad_in)
    return K.to_host(grad_in)


def host_max(backend, x, *args):
    """(out, argmax) of a NumPy backend (reference or cpu)."""
    shape = output_shape(x.shape, *args)
    out, argmax = np.empty(shape, x.dtype), np.empty(shape, np.int64)
    backend.max_pool2d_forward(x, out, argmax, *args)
    return out, argmax


def host_max_backward(backend, grad_out, argmax, input_shape):
    grad_in = np.empty(input_shape, grad_out.dtype)
    backend.max_pool2d_backward(grad_out, argmax, grad_in)
    return grad_in


def check_max_pool(K, x, kernel, stride, padding, dilation, ceil_mode):
    """Forward values and exact argmax against the reference; backward against the
    reference and bit for bit against the CPU kernel (same order of additions)."""
    args = (kernel, stride, padding, dilation, ceil_mode)
    out, argmax = max_forward(K, x, *args)
    ref_out, ref_argmax = host_max(reference, x, *args)
    assert_close(out, ref_out)
    np.testing.assert_array_equal(argmax, ref_argmax, err_msg=f"input shape {x.shape}")
    grad_out = np.random.default_rng(1).standard_normal(out.shape).astype(x.dtype)
    grad_in = max_backward(K, grad_out, argmax, x.shape)
    assert_close(grad_in, host_max_backward(reference, grad_out, ref_argmax, x.shape))
    np.testing.assert_array_equal(grad_in, host_max_backward(cpu, grad_out, ref_argmax, x.shape))


def avg_forward(K, x, kernel, stride, padding, ceil_mode, count_include_pad):
    shape = output_shape(x.shape, kernel, stride, padding, (1, 1), ceil_mode)
    out = K.empty(shape, x.dtype)
    K.backend.avg_pool2d_forward(K.to_device(x), out, kernel, stride, padding, ceil_mode,
                                 count_include_pad)
    return K.to_host(out)


def avg_backward(K, grad_out, input_shape, *args):
    grad_in = K.empty(input_shape, grad_out.dtype)
    K.backend.avg_pool2d_backward(K.to_device(grad_out), grad_in, *args)
    return K.to_host(grad_in)


def check_avg_pool(K, x, kernel, stride, padding, ceil_mode, count_include_pad):
    args = (kernel, stride, padding, ceil_mode, count_include_pad)
    out = avg_forward(K, x, *args)
    expected = np.empty(out.shape, x.dtype)
    reference.avg_pool2d_forward(x, expected, *args)
    assert_close(out, expected)
    grad_out = np.random.default_rng(1).standard_normal(out.shape).astype(x.dtype)
    expected_in = np.empty(x.shape, x.dtype)
    reference.avg_pool2d_backward(grad_out, expected_in, *args)
    assert_close(avg_backward(K, grad_out, x.shape, *args), expected_in)


# ----- against the reference ----------------------------------------------------------------

@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("case", CASES, ids=CASE_IDS)
def test_max_pool_matches_reference(cuda_kernels, case, dtype):
    shape, *args = case
    check_max_pool(cuda_kernels, random_input(shape, dtype), *args)


@pytest.mark.parametrize("count_include_pad", (True, False))
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("case", AVG_CASES, ids=CASE_IDS)
def test_avg_pool_matches_reference(cuda_kernels, case, dtype, count_include_pad):
    shape, *args = case
    check_avg_pool(cuda_kernels, random_input(shape, dtype), *args, count_include_pad)


# Widths around the block size and the CPU's vector widths, with windows that hang off.
WIDTHS = (1, 2, 3, 7, 16, 33, 65)


def shapes_that_fit(window, batch, channels, height):
    """(batch, channels, height, width) for each of WIDTHS the window fits."""
    kernel, stride, padding, ceil_mode = window
    for width in WIDTHS:
        shape = (batch, channels, height, width)
        try:
            check_pool2d("test", shape, kernel, stride, padding, (1, 1), ceil_mode)
        except ValueError:
            continue
        yield shape


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("window", FIXED_WINDOWS, ids=FIXED_IDS)
def test_max_pool_nan_inf_and_ties(cuda_kernels, window, dtype):
    """Few distinct values: many ties (the first wins), NaNs (the last one wins) and all
    -inf windows (their first element)."""
    kernel, stride, padding, ceil_mode = window
    values = np.array([np.nan, -np.inf, np.inf, -1.0, 0.0, 1.0, 1.0, 1.0])
    rng = np.random.default_rng(4)
    for shape in shapes_that_fit(window, 1, 2, 6):
        x = rng.choice(values, size=shape).astype(dtype)
        x[0, 1, :3] = -np.inf
        check_max_pool(cuda_kernels, x, kernel, stride, padding, (1, 1), ceil_mode)


@pytest.mark.parametrize("count_include_pad", (True, False))
@pytest.mark.parametrize("window", FIXED_WINDOWS, ids=FIXED_IDS)
def test_avg_pool_windows_off_the_edges(cuda_kernels, window, count_include_pad):
    for shape in shapes_that_fit(window, 2, 3, 5):
        check_avg_pool(cuda_kernels, random_input(shape, np.float32, seed=shape[3]), *window,
                       count_include_pad)


def test_max_pool_window_entirely_in_padding(cuda_kernels):
    """H = 1, kernel 2, padding 1, dilation 2: rows -1 and 1, neither inside the input, so
    every window gives -inf and argmax -1, and backward skips them."""
    x = np.arange(6.0).reshape(1, 2, 1, 3)
    check_max_pool(cuda_kernels, x, (2, 1), (1, 1), (1, 0), (2, 1), False)
    out, argmax = max_forward(cuda_kernels, x, (2, 1), (1, 1), (1, 0), (2, 1), False)
    assert np.all(out == -np.inf) and np.all(argmax == -1)


def test_max_pool_backward_accumulates_overlapping_windows(cuda_kernels):
    x = np.array([[[[0.0, 9.0, 0.0], [0.0, 0.0, 0.0], [0.0, 0.0, 0.0]]]])
    out, argmax = max_forward(cuda_kernels, x, (2, 2), (1, 1), (0, 0), (1, 1), False)
    grad_in = max_backward(cuda_kernels, np.ones_like(out), argmax, x.shape)
    assert grad_in[0, 0, 0, 1] == 2.0 and grad_in.sum() == 4.0


@pytest.mark.parametrize("dtype", DTYPES)
def test_max_pool_backward_of_any_argmax(cuda_kernels, dtype):
    """argmax need not come from a forward: every entry naming one input, entries naming
    inputs far from their output, and -1 entries. The gather must still find them all, and
    add them in the CPU's order."""
    rng = np.random.default_rng(7)
    in_shape, out_shape = (2, 3, 9, 11), (2, 3, 4, 5)
    grad_out = rng.standard_normal(out_shape).astype(dtype)
    for argmax in (np.zeros(out_shape, np.int64),
                   rng.integers(-1, 9 * 11, size=out_shape),
                   np.full(out_shape, 9 * 11 - 1, np.int64),
                   np.full(out_shape, -1, np.int64)):
        grad_in = max_backward(cuda_kernels, grad_out, argmax, in_shape)
        assert_close(grad_in, host_max_backward(reference, grad_out, argmax, in_shape))
        np.testing.assert_array_equal(grad_in, host_max_backward(cpu, grad_out, argmax, in_shape))


def test_max_pool_backward_with_many_planes_and_lines(cuda_kernels):
    """Planes split over several blocks of the argmax scan, long rows of outputs."""
    x = random_input((3, 40, 6, 70), np.float32)
    check_max_pool(cuda_kernels, x, (3, 2), (1, 2), (1, 1), (1, 1), True)


# ----- bad input ------------------------------------------------------------------------------

@pytest.mark.parametrize("bad", BAD_GEOMETRIES, ids=[b[-1] for b in BAD_GEOMETRIES])
def test_bad_geometry_raises(cuda_kernels, bad):
    K = cuda_kernels
    shape, kernel, stride, padding, message = bad
    x = K.to_device(np.zeros(shape))
    out, argmax = K.empty((1, 1, 1, 1), np.float64), K.empty((1, 1, 1, 1), np.int64)
    with pytest.raises(ValueError, match=message):
        K.backend.max_pool2d_forward(x, out, argmax, kernel, stride, padding, (1, 1), False)
    with pytest.raises(ValueError, match=message):
        K.backend.avg_pool2d_forward(x, out, kernel, stride, padding, False, True)
    with pytest.raises(ValueError, match=message):
        K.backend.avg_pool2d_backward(out, x, kernel, stride, padding, False, True)


def test_bad_shapes_raise(cuda_kernels):
    K = cuda_kernels
    x = K.to_device(np.zeros((1, 2, 4, 4)))
    out, argmax = K.empty((1, 2, 2, 2), np.float64), K.empty((1, 2, 2, 2), np.int64)
    pair = (2, 2)
    with pytest.raises(ValueError, match="4-D"):
        K.backend.max_pool2d_forward(K.to_device(np.zeros((2, 4, 4))),
                                     K.empty((2, 2, 2), np.float64),
                                     K.empty((2, 2, 2), np.int64), pair, pair, (0, 0), (1, 1),
                                     False)
    with pytest.raises(ValueError, match=r"out must have shape \(1, 2, 2, 2\)"):
        K.backend.max_pool2d_forward(x, K.empty((1, 2, 3, 2), np.float64), argmax, pair, pair,
                                     (0, 0), (1, 1), False)
    with pytest.raises(ValueError, match="argmax must have shape"):
        K.backend.max_pool2d_forward(x, out, K.empty((1, 2, 2, 3), np.int64), pair, pair,
                                     (0, 0), (1, 1), False)
    with pytest.raises(ValueError, match="out must have shape"):
        K.backend.avg_pool2d_forward(x, K.empty((2, 2, 2, 2), np.float64), pair, pair, (0, 0),
                                     False, True)
    with pytest.raises(ValueError, match="grad_out must have shape"):
        K.backend.avg_pool2d_backward(K.empty((1, 2, 3, 3), np.float64), x, pair, pair, (0, 0),
                                      False, True)
    with pytest.raises(ValueError, match="argmax must have the shape of grad_out"):
        K.backend.max_pool2d_backward(out, K.empty((1, 2, 2, 3), np.int64), x)
    with pytest.raises(ValueError, match="must agree in N and C"):
        K.backend.max_pool2d_backward(out, argmax, K.empty((1, 3, 4, 4), np.float64))


@pytest.mark.parametrize("value,position", [(16, 0), (-2, 5), (1 << 40, 6)])
def test_bad_argmax_raises_and_writes_nothing(cuda_kernels, value, position):
    """The device-side check names the first entry out of range, as the CPU does, and
    grad_in is left as it was."""
    K = cuda_kernels
    argmax = np.zeros((1, 2, 2, 2), np.int64)
    argmax.flat[position] = value
    argmax.flat[-1] = -7  # a later bad entry: not the one named
    grad_in = K.empty((1, 2, 4, 4), np.float64)
    message = (f"argmax {value} at flat position {position} is out of range: "
               r"expected -1 <= argmax < 16 \(the input plane's 4 x 4 elements\)")
    with pytest.raises(ValueError, match=message):
        K.backend.max_pool2d_backward(K.to_device(np.ones((1, 2, 2, 2))), K.to_device(argmax),
                                      grad_in)
    assert np.all(np.isnan(K.to_host(grad_in)))  # K.empty's 0xff bytes, untouched


def test_bad_dtypes_arrays_and_overlap_raise(cuda_kernels):
    K = cuda_kernels
    x = K.to_device(np.zeros((1, 2, 4, 4), np.float32))
    pair = (2, 2)
    with pytest.raises(TypeError, match="int64"):
        K.backend.max_pool2d_forward(x, K.empty((1, 2, 2, 2), np.float32),
                                     K.empty((1, 2, 2, 2), np.float32), pair, pair, (0, 0),
                                     (1, 1), False)
    with pytest.raises(TypeError, match="dtype"):
        K.backend.avg_pool2d_forward(x, K.empty((1, 2, 2, 2), np.float64), pair, pair, (0, 0),
                                     False, True)
    with pytest.raises(TypeError, match="CUDA array"):  # host memory is refused
        K.backend.avg_pool2d_forward(np.zeros((1, 2, 4, 4), np.float32),
                                     K.empty((1, 2, 2, 2), np.float32), pair, pair, (0, 0),
                                     False, True)
    with pytest.raises(TypeError, match="CUDA array"):
        K.backend.max_pool2d_backward(K.empty((1, 2, 2, 2), np.float32),
                                      np.zeros((1, 2, 2, 2), np.int64), x)
    with pytest.raises(ValueError, match="share memory"):
        K.backend.avg_pool2d_forward(x, x, (1, 1), (1, 1), (0, 0), False, True)
