"""2-D max / average pooling: axonic._cpu against the NumPy reference and PyTorch,
the autograd Functions through nn.functional and the nn modules, and bad input."""

from __future__ import annotations

import numpy as np
import pytest

import axonic
from axonic import nn
from axonic.backends import cpu, reference
from axonic.backends.reference_pooling import check_pool2d
from axonic.nn import functional as F
from conftest import assert_close, gradcheck

DTYPES = (np.float32, np.float64)
BACKENDS = (cpu, reference)

# (x shape, kernel_size, stride, padding, dilation, ceil_mode)
CASES = [
    ((1, 1, 1, 1), (1, 1), (1, 1), (0, 0), (1, 1), False),        # 1x1 image
    ((2, 3, 7, 9), (3, 3), (2, 2), (1, 1), (1, 1), False),        # odd sizes
    ((2, 3, 7, 9), (3, 3), (2, 2), (1, 1), (1, 1), True),
    ((1, 2, 8, 8), (2, 2), (3, 3), (0, 0), (1, 1), True),         # stride > kernel
    ((1, 2, 8, 8), (2, 2), (3, 3), (1, 1), (1, 1), False),
    ((2, 2, 11, 13), (3, 2), (2, 1), (1, 1), (2, 2), True),       # dilation 2
    ((2, 2, 10, 9), (2, 3), (1, 2), (1, 1), (2, 1), False),
    ((1, 3, 5, 5), (5, 5), (1, 1), (0, 0), (1, 1), False),        # kernel == input
    ((1, 3, 5, 6), (4, 4), (2, 2), (2, 2), (1, 1), True),         # padding = kernel / 2
    ((1, 3, 5, 6), (4, 4), (2, 2), (2, 2), (1, 1), False),
    ((3, 1, 1, 7), (1, 3), (1, 2), (0, 1), (1, 1), True),         # one-row images
    ((1, 1, 3, 3), (2, 2), (2, 2), (0, 0), (1, 1), True),         # last window half outside
    ((2, 1, 33, 31), (3, 3), (2, 2), (1, 1), (1, 1), False),
    ((2, 16, 33, 31), (3, 3), (1, 1), (1, 1), (1, 1), False),     # above the parallel threshold
    ((4, 6, 28, 28), (2, 2), (2, 2), (0, 0), (1, 1), False),      # LeNet, in parallel
    ((1, 3, 9, 11), (3, 3), (2, 2), (1, 1), (1, 1), True),        # ResNet stem, ceil windows
    ((2, 2, 9, 1), (3, 3), (1, 1), (1, 1), (1, 1), False),        # one-column images
]
CASE_IDS = [f"{s}-k{k}-s{st}-p{p}-d{d}-{'ceil' if c else 'floor'}" for s, k, st, p, d, c in CASES]
# Average pooling has no dilation: the same geometries with dilation 1.
AVG_CASES = [(s, k, st, p, c) for s, k, st, p, _, c in CASES]


def random_input(shape, dtype, seed=0) -> np.ndarray:
    """Distinct values (no ties for max), shuffled."""
    rng = np.random.default_rng(seed)
    size = int(np.prod(shape))
    return (rng.permutation(size) / max(size, 1) * 8 - 4).reshape(shape).astype(dtype)


def max_forward(backend, x, kernel, stride, padding, dilation, ceil_mode):
    out_h, out_w = check_pool2d("test", x.shape, kernel, stride, padding, dilation, ceil_mode)
    out = np.empty((*x.shape[:2], out_h, out_w), x.dtype)
    argmax = np.empty(out.shape, np.int64)
    backend.max_pool2d_forward(x, out, argmax, kernel, stride, padding, dilation, ceil_mode)
    return out, argmax


def max_backward(backend, grad_out, argmax, input_shape):
    grad_in = np.full(input_shape, np.nan, grad_out.dtype)  # the kernel must zero it
    backend.max_pool2d_backward(grad_out, argmax, grad_in)
    return grad_in


def avg_forward(backend, x, kernel, stride, padding, ceil_mode, count_include_pad):
    out_h, out_w = check_pool2d("test", x.shape, kernel, stride, padding, (1, 1), ceil_mode)
    out = np.empty((*x.shape[:2], out_h, out_w), x.dtype)
    backend.avg_pool2d_forward(x, out, kernel, stride, padding, ceil_mode, count_include_pad)
    return out


def avg_backward(backend, grad_out, input_shape, kernel, stride, padding, ceil_mode,
                 count_include_pad):
    grad_in = np.full(input_shape, np.nan, grad_out.dtype)
    backend.avg_pool2d_backward(grad_out, grad_in, kernel, stride, padding, ceil_mode,
                                count_include_pad)
    return grad_in


# ----- kernels against the reference -------------------------------------------------------

@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("case", CASES, ids=CASE_IDS)
def test_max_pool_matches_reference(case, dtype):
    shape, kernel, stride, padding, dilation, ceil_mode = case
    x = random_input(shape, dtype)
    out, argmax = max_forward(cpu, x, kernel, stride, padding, dilation, ceil_mode)
    ref_out, ref_argmax = max_forward(reference, x, kernel, stride, padding, dilation, ceil_mode)
    assert_close(out, ref_out)
    np.testing.assert_array_equal(argmax, ref_argmax)
    grad_out = np.random.default_rng(1).standard_normal(out.shape).astype(dtype)
    assert_close(max_backward(cpu, grad_out, argmax, shape),
                 max_backward(reference, grad_out, argmax, shape))


@pytest.mark.parametrize("count_include_pad", (True, False))
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("case", AVG_CASES, ids=CASE_IDS)
def test_avg_pool_matches_reference(case, dtype, count_include_pad):
    shape, kernel, stride, padding, ceil_mode = case
    x = random_input(shape, dtype)
    args = (kernel, stride, padding, ceil_mode, count_include_pad)
    out = avg_forward(cpu, x, *args)
    assert_close(out, avg_forward(reference, x, *args))
    grad_out = np.random.default_rng(1).standard_normal(out.shape).astype(dtype)
    assert_close(avg_backward(cpu, grad_out, shape, *args),
                 avg_backward(reference, grad_out, shape, *args))


@pytest.mark.parametrize("backend", BACKENDS, ids=lambda b: b.name)
def test_max_pool_nan_propagates_and_ties_keep_first(backend):
    x = np.array([[[[1.0, 5.0, 5.0, 2.0],
                    [np.nan, 0.0, 3.0, np.nan],
                    [7.0, 7.0, -np.inf, -np.inf],
                    [7.0, 1.0, -np.inf, -np.inf]]]])
    out, argmax = max_forward(backend, x, (2, 2), (2, 2), (0, 0), (1, 1), False)
    assert_close(out, [[[[np.nan, np.nan], [7.0, -np.inf]]]])
    np.testing.assert_array_equal(argmax, [[[[4, 7], [8, 10]]]])


@pytest.mark.parametrize("backend", BACKENDS, ids=lambda b: b.name)
def test_max_pool_window_entirely_in_padding(backend):
    # H = 1, kernel 2, padding 1, dilation 2: rows -1 and 1, neither inside the input.
    x = np.arange(3.0).reshape(1, 1, 1, 3)
    out, argmax = max_forward(backend, x, (2, 1), (1, 1), (1, 0), (2, 1), False)
    assert out.shape == (1, 1, 1, 3)
    assert np.all(out == -np.inf) and np.all(argmax == -1)
    grad_in = max_backward(backend, np.ones_like(out), argmax, x.shape)
    np.testing.assert_array_equal(grad_in, np.zeros_like(x))


def test_max_pool_backward_accumulates_overlapping_windows():
    x = np.array([[[[0.0, 9.0, 0.0], [0.0, 0.0, 0.0], [0.0, 0.0, 0.0]]]])
    out, argmax = max_forward(cpu, x, (2, 2), (1, 1), (0, 0), (1, 1), False)
    grad_in = max_backward(cpu, np.ones_like(out), argmax, x.shape)
    assert grad_in[0, 0, 0, 1] == 2.0 and grad_in.sum() == 4.0


# ----- the fixed-window interior kernels (pooling_arch.cpp) and their edges ----------------

# (kernel_size, stride, padding, ceil_mode) of every shape with an interior kernel (2x2 and
# 3x3 windows, column stride 1 or 2, dilation 1), with padding and ceil_mode windows hanging
# off the edge, so that most rows also have border outputs on the general path.
FIXED_WINDOWS = [
    ((2, 2), (2, 2), (0, 0), False),
    ((2, 2), (2, 2), (0, 0), True),
    ((2, 2), (2, 2), (1, 1), False),
    ((2, 2), (1, 1), (0, 0), False),
    ((2, 2), (1, 2), (1, 0), True),
    ((3, 3), (2, 2), (1, 1), False),
    ((3, 3), (2, 2), (0, 0), True),
    ((3, 3), (1, 1), (1, 1), False),
    ((3, 3), (1, 1), (0, 0), True),
    ((3, 3), (3, 2), (1, 0), True),
]
FIXED_IDS = [f"k{k}-s{s}-p{p}-{'ceil' if c else 'floor'}" for k, s, p, c in FIXED_WINDOWS]
# Input widths giving output rows shorter than a SIMD vector (4, 8 or 16 lanes), exactly
# one, one more, two and more, and odd widths whose last window is clipped.
FIXED_WIDTHS = (*range(1, 40), 63, 64, 65, 66, 67)


def fixed_window_shapes(window, heights):
    """(1, 2, height, width) for every height and FIXED_WIDTHS width the window fits."""
    kernel, stride, padding, ceil_mode = window
    for height in heights:
        for width in FIXED_WIDTHS:
            shape = (1, 2, height, width)
            try:
                check_pool2d("test", shape, kernel, stride, padding, (1, 1), ceil_mode)
            except ValueError:
                continue
            yield shape


_REFERENCE_RESULTS: dict = {}


def reference_result(helper, *args):
    """helper(reference, *args), computed once: the fixed-window tests run once per SIMD
    level, against the same reference results."""
    key = (helper.__name__, *((a.dtype.str, a.shape, a.tobytes())
                              if isinstance(a, np.ndarray) else a for a in args))
    if key not in _REFERENCE_RESULTS:
        _REFERENCE_RESULTS[key] = helper(reference, *args)
    return _REFERENCE_RESULTS[key]


def check_max_pool_against_reference(x, window):
    """Forward values, exact argmax and backward of the cpu kernels against the reference."""
    kernel, stride, padding, ceil_mode = window
    args = (kernel, stride, padding, (1, 1), ceil_mode)
    out, argmax = max_forward(cpu, x, *args)
    ref_out, ref_argmax = reference_result(max_forward, x, *args)
    assert_close(out, ref_out)
    np.testing.assert_array_equal(argmax, ref_argmax, err_msg=f"input shape {x.shape}")
    grad_out = np.random.default_rng(1).standard_normal(out.shape).astype(x.dtype)
    assert_close(max_backward(cpu, grad_out, argmax, x.shape),
                 reference_result(max_backward, grad_out, ref_argmax, x.shape))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("window", FIXED_WINDOWS, ids=FIXED_IDS)
def test_fixed_window_max_pool_matches_reference(window, dtype, simd_level):
    for shape in fixed_window_shapes(window, heights=(1, 2, 5)):
        check_max_pool_against_reference(random_input(shape, dtype, seed=shape[3]), window)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("window", FIXED_WINDOWS, ids=FIXED_IDS)
def test_fixed_window_max_pool_nan_inf_and_ties(window, dtype, simd_level):
    # Few distinct values: many ties, NaNs (the last one wins), all -inf windows.
    values = np.array([np.nan, -np.inf, np.inf, -1.0, 0.0, 1.0, 1.0, 1.0])
    rng = np.random.default_rng(4)
    for shape in fixed_window_shapes(window, heights=(6,)):
        x = rng.choice(values, size=shape).astype(dtype)
        x[0, 1, :3] = -np.inf
        check_max_pool_against_reference(x, window)


@pytest.mark.parametrize("count_include_pad", (True, False))
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("window", FIXED_WINDOWS, ids=FIXED_IDS)
def test_fixed_window_avg_pool_matches_reference(window, dtype, count_include_pad, simd_level):
    for shape in fixed_window_shapes(window, heights=(1, 5)):
        x = random_input(shape, dtype, seed=shape[3])
        args = (*window, count_include_pad)
        out = avg_forward(cpu, x, *args)
        assert_close(out, reference_result(avg_forward, x, *args))
        grad_out = np.random.default_rng(1).standard_normal(out.shape).astype(dtype)
        assert_close(avg_backward(cpu, grad_out, shape, *args),
                     reference_result(avg_backward, grad_out, shape, *args))


# ----- against PyTorch -----------------------------------------------------------------------

@pytest.mark.parametrize("case", CASES, ids=CASE_IDS)
def test_max_pool_matches_torch(case):
    torch = pytest.importorskip("torch")
    shape, kernel, stride, padding, dilation, ceil_mode = case
    x = random_input(shape, np.float64)
    xt = torch.tensor(x, requires_grad=True)
    expected, indices = torch.nn.functional.max_pool2d(
        xt, kernel, stride, padding, dilation, ceil_mode=ceil_mode, return_indices=True)
    weight = np.random.default_rng(2).standard_normal(tuple(expected.shape))
    (expected * torch.tensor(weight)).sum().backward()

    xa = axonic.tensor(x, requires_grad=True)
    out, argmax = F.max_pool2d(xa, kernel, stride, padding, dilation, ceil_mode=ceil_mode,
                               return_indices=True)
    out.backward(axonic.tensor(weight))
    assert_close(out, expected.detach().numpy())
    np.testing.assert_array_equal(argmax.numpy(), indices.numpy())
    assert_close(xa.grad, xt.grad.numpy())


@pytest.mark.parametrize("count_include_pad", (True, False))
@pytest.mark.parametrize("case", AVG_CASES, ids=CASE_IDS)
def test_avg_pool_matches_torch(case, count_include_pad):
    torch = pytest.importorskip("torch")
    shape, kernel, stride, padding, ceil_mode = case
    x = random_input(shape, np.float64)
    xt = torch.tensor(x, requires_grad=True)
    expected = torch.nn.functional.avg_pool2d(xt, kernel, stride, padding, ceil_mode,
                                              count_include_pad)
    weight = np.random.default_rng(2).standard_normal(tuple(expected.shape))
    (expected * torch.tensor(weight)).sum().backward()

    xa = axonic.tensor(x, requires_grad=True)
    out = F.avg_pool2d(xa, kernel, stride, padding, ceil_mode, count_include_pad)
    out.backward(axonic.tensor(weight))
    assert_close(out, expected.detach().numpy())
    assert_close(xa.grad, xt.grad.numpy())


def test_max_pool_nan_matches_torch():
    torch = pytest.importorskip("torch")
    x = random_input((2, 3, 6, 7), np.float64)
    x[0, 1, 2, 3] = x[1, 2, 0, 0] = x[1, 2, 1, 1] = np.nan
    expected, indices = torch.nn.functional.max_pool2d(torch.tensor(x), 3, 2, 1,
                                                       return_indices=True)
    out, argmax = F.max_pool2d(axonic.tensor(x), 3, 2, 1, return_indices=True)
    assert_close(out, expected.numpy())
    np.testing.assert_array_equal(argmax.numpy(), indices.numpy())


@pytest.mark.parametrize("output_size", (1, (1, 1), (2, 3), (3, 3), (4, 5), (7, 2), (None, 2)))
@pytest.mark.parametrize("shape", ((2, 3, 7, 9), (1, 2, 8, 6), (3, 5, 5)))
def test_adaptive_avg_pool_matches_torch(shape, output_size):
    torch = pytest.importorskip("torch")
    x = random_input(shape, np.float64)
    xt = torch.tensor(x, requires_grad=True)
    expected = torch.nn.functional.adaptive_avg_pool2d(xt, output_size)
    weight = np.random.default_rng(3).standard_normal(tuple(expected.shape))
    (expected * torch.tensor(weight)).sum().backward()
    xa = axonic.tensor(x, requires_grad=True)
    out = F.adaptive_avg_pool2d(xa, output_size)
    out.backward(axonic.tensor(weight))
    assert_close(out, expected.detach().numpy())
    assert_close(xa.grad, xt.grad.numpy())


def test_modules_match_torch_defaults():
    torch = pytest.importorskip("torch")
    x = random_input((2, 3, 9, 8), np.float32)
    pairs = [
        (nn.MaxPool2d(3), torch.nn.MaxPool2d(3)),
        (nn.MaxPool2d((3, 2), stride=1, padding=1, dilation=(1, 2), ceil_mode=True),
         torch.nn.MaxPool2d((3, 2), stride=1, padding=1, dilation=(1, 2), ceil_mode=True)),
        (nn.AvgPool2d(2), torch.nn.AvgPool2d(2)),
        (nn.AvgPool2d(3, stride=2, padding=1, ceil_mode=True, count_include_pad=False),
         torch.nn.AvgPool2d(3, stride=2, padding=1, ceil_mode=True, count_include_pad=False)),
        (nn.AdaptiveAvgPool2d(1), torch.nn.AdaptiveAvgPool2d(1)),
        (nn.AdaptiveAvgPool2d((2, 3)), torch.nn.AdaptiveAvgPool2d((2, 3))),
    ]
    for ours, theirs in pairs:
        assert_close(ours(axonic.tensor(x)), theirs(torch.tensor(x)).numpy())
        assert_close(ours(axonic.tensor(x[0])), theirs(torch.tensor(x[0])).numpy())  # unbatched


# ----- autograd --------------------------------------------------------------------------------

@pytest.mark.parametrize("case", [c for c in CASES if np.prod(c[0]) <= 200],
                         ids=[i for c, i in zip(CASES, CASE_IDS) if np.prod(c[0]) <= 200])
def test_max_pool_gradcheck(case):
    shape, kernel, stride, padding, dilation, ceil_mode = case
    gradcheck(lambda x: F.max_pool2d(x, kernel, stride, padding, dilation, ceil_mode),
              random_input(shape, np.float64))


@pytest.mark.parametrize("count_include_pad", (True, False))
@pytest.mark.parametrize("case", [c for c in AVG_CASES if np.prod(c[0]) <= 200],
                         ids=[i for c, i in zip(CASES, CASE_IDS) if np.prod(c[0]) <= 200])
def test_avg_pool_gradcheck(case, count_include_pad):
    shape, kernel, stride, padding, ceil_mode = case
    gradcheck(lambda x: F.avg_pool2d(x, kernel, stride, padding, ceil_mode, count_include_pad),
              random_input(shape, np.float64))


@pytest.mark.parametrize("output_size", (1, (2, 3), (3, 2)))
def test_adaptive_avg_pool_gradcheck(output_size):
    gradcheck(lambda x: F.adaptive_avg_pool2d(x, output_size),
              random_input((2, 2, 6, 5), np.float64))


def test_unbatched_and_non_contiguous_inputs():
    x = random_input((2, 3, 8, 10), np.float64)
    batched = F.max_pool2d(axonic.tensor(x), 2).numpy()
    assert_close(F.max_pool2d(axonic.tensor(x[1]), 2), batched[1])
    transposed = np.ascontiguousarray(x.transpose(0, 1, 3, 2)).transpose(0, 1, 3, 2)
    assert not transposed.flags.c_contiguous
    assert_close(F.avg_pool2d(axonic.tensor(transposed), 3, 1, 1),
                 F.avg_pool2d(axonic.tensor(x), 3, 1, 1))
    gradcheck(lambda t: F.max_pool2d(t, 2, 1), random_input((2, 4, 5), np.float64))
    gradcheck(lambda t: F.avg_pool2d(t, 3, 2, 1, ceil_mode=True), random_input((2, 4, 5),
                                                                                 np.float64))


def test_return_indices_and_module_repr():
    x = axonic.tensor(random_input((1, 2, 4, 4), np.float32))
    out, indices = nn.MaxPool2d(2, return_indices=True)(x)
    assert out.shape == (1, 2, 2, 2) and indices.dtype == np.int64
    flat = x.numpy().reshape(1, 2, 16)
    np.testing.assert_array_equal(np.take_along_axis(flat, indices.numpy().reshape(1, 2, 4), 2),
                                  out.numpy().reshape(1, 2, 4))
    assert "kernel_size=2" in repr(nn.MaxPool2d(2))
    assert nn.AvgPool2d(3).stride == 3 and nn.MaxPool2d(3, 1).stride == 1


# ----- bad input ---------------------------------------------------------------------------------

BAD_GEOMETRIES = [
    # (x shape, kernel, stride, padding, what the message says)
    ((1, 1, 3, 3), (4, 4), (1, 1), (0, 0), "too small"),       # kernel larger than input
    ((1, 1, 3, 3), (2, 2), (0, 1), (0, 0), "stride"),
    ((1, 1, 3, 3), (2, 2), (1, -1), (0, 0), "stride"),
    ((1, 1, 3, 3), (3, 3), (1, 1), (2, 0), "half of kernel"),
    ((1, 1, 3, 3), (2, 2), (1, 1), (0, -1), "padding"),
    ((1, 1, 3, 3), (0, 2), (1, 1), (0, 0), "kernel_size"),
    ((1, 1, 0, 3), (1, 1), (1, 1), (0, 0), "non-empty"),
]


@pytest.mark.parametrize("backend", BACKENDS, ids=lambda b: b.name)
@pytest.mark.parametrize("bad", BAD_GEOMETRIES, ids=[b[-1] for b in BAD_GEOMETRIES])
def test_bad_geometry_raises(backend, bad):
    shape, kernel, stride, padding, message = bad
    x = np.zeros(shape)
    out = np.zeros((1, 1, 1, 1))
    argmax = np.zeros((1, 1, 1, 1), np.int64)
    with pytest.raises(ValueError, match=message):
        backend.max_pool2d_forward(x, out, argmax, kernel, stride, padding, (1, 1), False)
    with pytest.raises(ValueError, match=message):
        backend.avg_pool2d_forward(x, out, kernel, stride, padding, False, True)
    with pytest.raises(ValueError, match=message):
        backend.avg_pool2d_backward(out, x, kernel, stride, padding, False, True)
    if shape[2] > 0:
        with pytest.raises(ValueError, match=message):
            F.max_pool2d(axonic.tensor(x), kernel, stride, padding)
        with pytest.raises(ValueError, match=message):
            F.avg_pool2d(axonic.tensor(x), kernel, stride, padding)


@pytest.mark.parametrize("backend", BACKENDS, ids=lambda b: b.name)
def test_bad_shapes_raise(backend):
    x = np.zeros((1, 2, 4, 4))
    out, argmax = np.zeros((1, 2, 2, 2)), np.zeros((1, 2, 2, 2), np.int64)
    pair = (2, 2)
    with pytest.raises(ValueError, match="4-D"):
        backend.max_pool2d_forward(x[0], out[0], argmax[0], pair, pair, (0, 0), (1, 1), False)
    with pytest.raises(ValueError, match="out must have shape"):
        backend.max_pool2d_forward(x, np.zeros((1, 2, 3, 2)), argmax, pair, pair, (0, 0),
                                   (1, 1), False)
    with pytest.raises(ValueError, match="argmax must have shape"):
        backend.max_pool2d_forward(x, out, np.zeros((1, 2, 2, 3), np.int64), pair, pair,
                                   (0, 0), (1, 1), False)
    with pytest.raises(ValueError, match="out must have shape"):
        backend.avg_pool2d_forward(x, np.zeros((2, 2, 2, 2)), pair, pair, (0, 0), False, True)
    with pytest.raises(ValueError, match="grad_out must have shape"):
        backend.avg_pool2d_backward(np.zeros((1, 2, 3, 3)), x, pair, pair, (0, 0), False, True)
    with pytest.raises(ValueError, match="argmax"):
        backend.max_pool2d_backward(out, np.zeros((1, 2, 2, 3), np.int64), x)
    with pytest.raises(ValueError, match="out of range"):
        backend.max_pool2d_backward(out, np.full((1, 2, 2, 2), 16, np.int64), x.copy())
    with pytest.raises(ValueError, match="out of range"):
        backend.max_pool2d_backward(out, np.full((1, 2, 2, 2), -2, np.int64), x.copy())


def test_cpu_bad_dtypes_and_overlap_raise():
    x = np.zeros((1, 2, 4, 4), np.float32)
    pair = (2, 2)
    with pytest.raises(TypeError):
        cpu.max_pool2d_forward(x, np.zeros((1, 2, 2, 2), np.float32),
                               np.zeros((1, 2, 2, 2), np.int32), pair, pair, (0, 0), (1, 1),
                               False)
    with pytest.raises(TypeError):
        cpu.avg_pool2d_forward(x, np.zeros((1, 2, 2, 2), np.float64), pair, pair, (0, 0), False,
                               True)
    with pytest.raises(ValueError, match="writable"):
        argmax = np.zeros((1, 2, 2, 2), np.int64)
        argmax.flags.writeable = False
        cpu.max_pool2d_forward(x, np.zeros((1, 2, 2, 2), np.float32), argmax, pair, pair,
                               (0, 0), (1, 1), False)
    with pytest.raises(ValueError, match="share memory"):
        buffer = np.zeros(40, np.float32)
        cpu.avg_pool2d_forward(buffer[:32].reshape(1, 2, 4, 4), buffer[24:32].reshape(1, 2, 2, 2),
                               pair, pair, (0, 0), False, True)


def test_functional_bad_input_raises():
    with pytest.raises(ValueError, match="3-D"):
        F.max_pool2d(axonic.tensor(np.zeros((4, 4))), 2)
    with pytest.raises(ValueError, match="3-D"):
        F.avg_pool2d(axonic.tensor(np.zeros((1, 1, 1, 4, 4))), 2)
    with pytest.raises(ValueError, match="3-D"):
        F.adaptive_avg_pool2d(axonic.tensor(np.zeros((4, 4))), 1)
    with pytest.raises(TypeError, match="float32 or float64"):
        F.max_pool2d(axonic.tensor(np.zeros((1, 1, 4, 4), np.int64)), 2)
    with pytest.raises(TypeError, match="kernel_size"):
        F.max_pool2d(axonic.tensor(np.zeros((1, 1, 4, 4))), (2, 2, 2))
    with pytest.raises(ValueError, match="output_size"):
        F.adaptive_avg_pool2d(axonic.tensor(np.zeros((1, 1, 4, 4))), 0)
    with pytest.raises(NotImplementedError, match="divisor_override"):
        nn.AvgPool2d(2, divisor_override=3)
