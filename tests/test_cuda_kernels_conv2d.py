"""2-D convolution kernels of axonic._cuda (the ``cuda_kernels`` fixture: emulated on the
CPU, and on a GPU when there is one) against the NumPy reference: the CPU tests'
geometries, the implicit GEMM's tile and slice edges, every tile shape, the phases of the
strided backward input, split-K backward weight, and bad input."""

from __future__ import annotations

import numpy as np
import pytest

from axonic.backends import reference
from axonic.backends.reference_conv2d import check_conv2d
from conftest import assert_close
from test_kernels_conv2d import BAD, CASE_IDS, CASES, IMPLICIT_CASES, arrays, params, tolerance

DTYPES = (np.float32, np.float64)

# (x shape, weight shape, stride, padding, dilation, groups): edges of the CUDA kernels.
GPU_CASES = [
    ((2, 7, 9, 9), (33, 7, 3, 3), (1, 1), (1, 1), (1, 1), 1),       # 33 rows: a 64-row tile
    ((1, 33, 6, 7), (7, 33, 3, 3), (1, 1), (1, 1), (1, 1), 1),      # K = 297: 19 slices
    ((2, 3, 6, 6), (130, 3, 3, 3), (1, 1), (1, 1), (1, 1), 1),      # several row tiles
    ((1, 1, 12, 11), (3, 1, 4, 4), (1, 1), (0, 0), (1, 1), 1),      # K = 16: one whole slice
    ((1, 1, 12, 11), (3, 1, 1, 17), (1, 1), (0, 8), (1, 1), 1),     # K = 17
    ((2, 3, 13, 14), (4, 3, 3, 3), (3, 3), (2, 1), (2, 2), 1),      # backward phases, dilation
    ((2, 4, 7, 8), (5, 4, 1, 1), (2, 2), (0, 0), (1, 1), 1),        # phases with no tap
    ((2, 4, 9, 7), (5, 4, 2, 3), (3, 2), (1, 1), (1, 2), 1),        # stride > kernel, phases
    ((2, 6, 9, 9), (9, 2, 3, 3), (2, 2), (1, 1), (1, 1), 3),        # groups and phases
    ((2, 3, 23, 23), (8, 3, 7, 7), (2, 2), (3, 3), (1, 1), 1),      # 7x7 stride 2 stem
    ((2, 40, 8, 8), (40, 1, 3, 3), (1, 1), (1, 1), (1, 1), 40),     # depthwise, 40 groups
    ((16, 4, 20, 20), (8, 4, 3, 3), (1, 1), (1, 1), (1, 1), 1),     # split-K backward weight
    ((3, 16, 13, 13), (32, 16, 1, 1), (1, 1), (0, 0), (1, 1), 1),   # pointwise
    ((1, 3, 5, 129), (2, 3, 3, 3), (1, 1), (1, 1), (1, 1), 1),      # 129 pixels per row
    ((2, 3, 1, 5), (4, 3, 1, 3), (2, 2), (0, 1), (1, 1), 1),        # H < stride: empty phases
    ((2, 3, 9, 10), (4, 3, 3, 3), (2, 2), (2, 2), (2, 2), 1),       # stride = dilation
]
GPU_IDS = [f"{x}-w{w}-s{s}-p{p}-d{d}-g{g}" for x, w, s, p, d, g in GPU_CASES]

# Problems large enough (a block per multiprocessor of an H200) for each wide tile shape
# (conv2d_tiles.cuh choose_tile) of each pass; float64 takes 64x64 and smaller only.
#   forward         M = C_out / G, N = batch x Ho x Wo: 15 x 34 x 34 pixels (a padded 1x1
#                   kernel: cheap to check) for 128x128, 64x128, 32x128; 9 x 32 x 32 for
#                   64x64
#   backward input  M = C_in / G, N = batch x H x W: the same with the channels swapped
#   backward weight M = C_out / G, N = C_in / G x kH x kW, 15 groups of 9 column tiles,
#                   one 16-pixel slice each
TILE_CASES = [
    ("forward", ((15, 3, 32, 32), (128, 3, 1, 1), (1, 1), (1, 1), (1, 1), 1), np.float32),
    ("forward", ((15, 3, 32, 32), (64, 3, 1, 1), (1, 1), (1, 1), (1, 1), 1), np.float32),
    ("forward", ((9, 1, 32, 32), (64, 1, 3, 3), (1, 1), (1, 1), (1, 1), 1), np.float32),
    ("forward", ((15, 3, 32, 32), (32, 3, 1, 1), (1, 1), (1, 1), (1, 1), 1), np.float32),
    ("forward", ((9, 1, 32, 32), (64, 1, 3, 3), (1, 1), (1, 1), (1, 1), 1), np.float64),
    ("forward", ((15, 3, 32, 32), (32, 3, 1, 1), (1, 1), (1, 1), (1, 1), 1), np.float64),
    ("input", ((17, 128, 32, 32), (2, 128, 1, 1), (1, 1), (0, 0), (1, 1), 1), np.float32),
    ("input", ((17, 64, 32, 32), (2, 64, 1, 1), (1, 1), (0, 0), (1, 1), 1), np.float32),
    ("input", ((9, 64, 32, 32), (2, 64, 3, 3), (1, 1), (1, 1), (1, 1), 1), np.float32),
    ("input", ((17, 32, 32, 32), (2, 32, 1, 1), (1, 1), (0, 0), (1, 1), 1), np.float32),
    ("input", ((9, 64, 32, 32), (2, 64, 3, 3), (1, 1), (1, 1), (1, 1), 1), np.float64),
    ("weight", ((1, 1920, 4, 4), (1440, 128, 3, 3), (1, 1), (1, 1), (1, 1), 15), np.float32),
    ("weight", ((1, 1920, 4, 4), (720, 128, 3, 3), (1, 1), (1, 1), (1, 1), 15), np.float32),
    ("weight", ((1, 1920, 4, 4), (720, 128, 3, 3), (1, 1), (1, 1), (1, 1), 15), np.float64),
]
TILE_IDS = ["forward-128x128", "forward-64x128", "forward-64x64", "forward-32x128",
            "forward-64x64-float64", "forward-32x128-float64", "input-128x128", "input-64x128",
            "input-64x64", "input-32x128", "input-64x64-float64", "weight-128x128",
            "weight-64x128", "weight-64x64-float64"]


def reduction_tolerance(dtype, terms):
    """float32 sums of `terms` products: absolute error grows with their number."""
    return tolerance(dtype, (1, terms))


def device(K, a):
    return None if a is None else K.to_device(a)


def out_shape(x_shape, w_shape, case):
    out_h, out_w = check_conv2d("test", x_shape, w_shape, *params(case))
    return (x_shape[0], w_shape[0], out_h, out_w)


def run_forward(K, backend, x, w, b, case):
    """conv2d_forward on `backend`: K (the CUDA kernels) or the reference."""
    if backend is reference:
        out = np.empty(out_shape(x.shape, w.shape, case), x.dtype)
        reference.conv2d_forward(x, w, b, out, *params(case))
        return out
    out = K.empty(out_shape(x.shape, w.shape, case), x.dtype)
    K.backend.conv2d_forward(K.to_device(x), K.to_device(w), device(K, b), out, *params(case))
    return K.to_host(out)


def expected_gradients(x, w, g, case):
    grads = {"in": np.empty(x.shape, g.dtype), "weight": np.empty(w.shape, g.dtype),
             "bias": g.astype(np.float64).sum(axis=(0, 2, 3)).astype(g.dtype)}
    reference.conv2d_backward_input(g, w, grads["in"], *params(case))
    reference.conv2d_backward_weight(g, x, grads["weight"], *params(case))
    return grads


def gradient_tolerances(x, w, g, case):
    groups = case[5]
    return {"in": reduction_tolerance(g.dtype, w.shape[0] // groups * w.shape[2] * w.shape[3]),
            "weight": reduction_tolerance(g.dtype, g.shape[0] * g.shape[2] * g.shape[3]),
            "bias": reduction_tolerance(g.dtype, g.shape[0] * g.shape[2] * g.shape[3])}


def check_against_reference(K, case, dtype, forward_only=False):
    x, w, b, g = arrays(case, dtype)
    for bias in (b, None):
        assert_close(run_forward(K, K, x, w, bias, case),
                     run_forward(K, reference, x, w, bias, case), **tolerance(dtype, w.shape))
    if forward_only:
        return
    expected = expected_gradients(x, w, g, case)
    tols = gradient_tolerances(x, w, g, case)
    gd, xd, wd = K.to_device(g), K.to_device(x), K.to_device(w)
    grads = {"in": K.empty(x.shape, dtype), "weight": K.empty(w.shape, dtype),
             "bias": K.empty((w.shape[0],), dtype)}
    K.backend.conv2d_backward_input(gd, wd, grads["in"], *params(case))
    K.backend.conv2d_backward_weight(gd, xd, grads["weight"], *params(case))
    K.backend.conv2d_backward_bias(gd, grads["bias"])
    for name, grad in grads.items():
        assert_close(K.to_host(grad), expected[name], **tols[name])
    # All three in one call, and subsets (the others None).
    for wanted in (("in", "weight", "bias"), ("weight",), ("in", "bias")):
        outs = {name: (K.empty(a.shape, dtype) if name in wanted else None)
                for name, a in expected.items()}
        K.backend.conv2d_backward(gd, xd, wd, outs["in"], outs["weight"], outs["bias"],
                                  *params(case))
        for name in wanted:
            assert_close(K.to_host(outs[name]), expected[name], **tols[name])


# ----- against the reference ----------------------------------------------------------------

@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("case", CASES, ids=CASE_IDS)
def test_kernels_match_reference(cuda_kernels, case, dtype):
    check_against_reference(cuda_kernels, case, dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("case", IMPLICIT_CASES)
def test_cpu_implicit_gemm_edges(cuda_kernels, case, dtype):
    check_against_reference(cuda_kernels, case, dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("case", GPU_CASES, ids=GPU_IDS)
def test_tile_slice_and_phase_edges(cuda_kernels, case, dtype):
    check_against_reference(cuda_kernels, case, dtype)


@pytest.mark.parametrize("kernel,case,dtype", TILE_CASES, ids=TILE_IDS)
def test_every_tile_shape(cuda_kernels, kernel, case, dtype):
    K = cuda_kernels
    x, w, b, g = arrays(case, dtype)
    if kernel == "forward":
        assert_close(run_forward(K, K, x, w, b, case), run_forward(K, reference, x, w, b, case),
                     **tolerance(dtype, w.shape))
        return
    expected = np.empty(x.shape if kernel == "input" else w.shape, dtype)
    got = K.empty(expected.shape, dtype)
    if kernel == "input":
        reference.conv2d_backward_input(g, w, expected, *params(case))
        K.backend.conv2d_backward_input(K.to_device(g), K.to_device(w), got, *params(case))
    else:
        reference.conv2d_backward_weight(g, x, expected, *params(case))
        K.backend.conv2d_backward_weight(K.to_device(g), K.to_device(x), got, *params(case))
    tolerances = gradient_tolerances(x, w, g, case)
    assert_close(K.to_host(got), expected, **tolerances["in" if kernel == "input" else "weight"])


def test_batch_of_zero_images(cuda_kernels):
    """Nothing to convolve; the weight and bias gradients are empty sums: zeros."""
    K = cuda_kernels
    case = ((0, 3, 5, 5), (4, 3, 3, 3), (1, 1), (1, 1), (1, 1), 1)
    x, w = np.zeros(case[0], np.float32), np.ones(case[1], np.float32)
    g = np.zeros((0, 4, 5, 5), np.float32)
    out = K.empty(g.shape, np.float32)
    K.backend.conv2d_forward(K.to_device(x), K.to_device(w), None, out, *params(case))
    grad_w, grad_b = K.empty(w.shape, np.float32), K.empty((4,), np.float32)
    K.backend.conv2d_backward(K.to_device(g), K.to_device(x), K.to_device(w),
                              K.empty(x.shape, np.float32), grad_w, grad_b, *params(case))
    np.testing.assert_array_equal(K.to_host(grad_w), np.zeros(w.shape, np.float32))
    np.testing.assert_array_equal(K.to_host(grad_b), np.zeros(4, np.float32))


def test_extreme_values_propagate(cuda_kernels):
    case = CASES[1]
    x, w, b, _ = arrays(case, np.float32)
    x[0, 1, 3, 4] = np.nan
    x[1, 0, 0, 0] = np.inf
    assert_close(run_forward(cuda_kernels, cuda_kernels, x, w, b, case),
                 run_forward(cuda_kernels, reference, x, w, b, case))


def test_backward_is_deterministic(cuda_kernels):
    """Split-K partial sums are added in a fixed order: two runs give the same bits."""
    K = cuda_kernels
    case = GPU_CASES[11]
    x, w, _, g = arrays(case, np.float32)
    runs = []
    for _ in range(2):
        grads = [K.empty(a.shape, np.float32) for a in (x, w, w[:, 0, 0, 0])]
        K.backend.conv2d_backward(K.to_device(g), K.to_device(x), K.to_device(w), *grads,
                                  *params(case))
        runs.append([K.to_host(a) for a in grads])
    for first, second in zip(*runs):
        np.testing.assert_array_equal(first, second)


# ----- bad input ------------------------------------------------------------------------------

@pytest.mark.parametrize("bad", BAD, ids=[b[-1] + str(i) for i, b in enumerate(BAD)])
def test_bad_geometry_raises(cuda_kernels, bad):
    K = cuda_kernels
    x_shape, w_shape, stride, padding, dilation, groups, message = bad
    x = K.to_device(np.ones(x_shape, np.float32))
    w = K.to_device(np.ones(w_shape, np.float32))
    out = K.empty((2, 4, 3, 3), np.float32)
    p = (stride, padding, dilation, groups)
    with pytest.raises(ValueError, match=message):
        K.backend.conv2d_forward(x, w, None, out, *p)
    with pytest.raises(ValueError, match=message):
        K.backend.conv2d_backward_input(out, w, x, *p)
    with pytest.raises(ValueError, match=message):
        K.backend.conv2d_backward_weight(out, x, w, *p)
    with pytest.raises(ValueError, match=message):
        K.backend.conv2d_backward(out, x, w, None, K.empty(w_shape, np.float32), None, *p)


def test_bad_shapes_dtypes_and_arrays_raise(cuda_kernels):
    K = cuda_kernels
    x = K.to_device(np.ones((2, 3, 5, 5), np.float32))
    w = K.to_device(np.ones((4, 3, 3, 3), np.float32))
    g = K.to_device(np.ones((2, 4, 3, 3), np.float32))
    p = ((1, 1), (0, 0), (1, 1), 1)
    with pytest.raises(ValueError, match="x must be 4-D"):
        K.backend.conv2d_forward(K.to_device(np.ones((3, 5, 5), np.float32)), w, None,
                                 K.empty((4, 3, 3), np.float32), *p)
    with pytest.raises(ValueError, match=r"out must have shape \(2, 4, 3, 3\)"):
        K.backend.conv2d_forward(x, w, None, K.empty((2, 4, 3, 4), np.float32), *p)
    with pytest.raises(ValueError, match=r"bias must have shape \(4,\)"):
        K.backend.conv2d_forward(x, w, K.to_device(np.ones(3, np.float32)),
                                 K.empty((2, 4, 3, 3), np.float32), *p)
    with pytest.raises(ValueError, match=r"grad_bias must have shape \(4,\)"):
        K.backend.conv2d_backward_bias(g, K.empty((3,), np.float32))
    with pytest.raises(ValueError, match=r"grad_weight must have shape \(4, 3, 3, 3\)"):
        K.backend.conv2d_backward(g, x, w, None, K.empty((4, 3, 3, 2), np.float32), None, *p)
    with pytest.raises(ValueError, match=r"grad_in must have shape \(2, 3, 5, 5\)"):
        K.backend.conv2d_backward(g, x, w, K.empty((2, 3, 5, 4), np.float32), None, None, *p)
    with pytest.raises(TypeError, match="dtype"):
        K.backend.conv2d_forward(x, K.to_device(np.ones((4, 3, 3, 3))), None,
                                 K.empty((2, 4, 3, 3), np.float32), *p)
    with pytest.raises(TypeError, match="dtype"):
        K.backend.conv2d_backward(g, x, w, None, K.empty((4, 3, 3, 3), np.float64), None, *p)
    with pytest.raises(TypeError, match="float32 or float64"):
        K.backend.conv2d_forward(K.to_device(np.ones((2, 3, 5, 5), np.int64)), w, None,
                                 K.empty((2, 4, 3, 3), np.float32), *p)
    with pytest.raises(TypeError, match="CUDA array"):  # host memory is refused
        K.backend.conv2d_forward(np.ones((2, 3, 5, 5), np.float32), w, None,
                                 K.empty((2, 4, 3, 3), np.float32), *p)
    with pytest.raises(TypeError, match="CUDA array"):
        K.backend.conv2d_backward(g, x, w, None, np.empty((4, 3, 3, 3), np.float32), None, *p)
    with pytest.raises(ValueError, match="must not share memory"):
        K.backend.conv2d_backward(g, x, w, x, None, None, *p)  # grad_in written over x
