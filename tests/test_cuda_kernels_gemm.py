"""axonic._cuda.gemm against the NumPy reference, emulated on the CPU and on a GPU when one
is there (the ``cuda_kernels`` fixture).

Kernels (csrc/cuda/gemm.cu; ``gemm_using`` runs a named one whatever the shape):
simt_128x128 (128x128x8 block tiles, float32), simt_64x64 (64x64x16, float32 and float64)
and tf32_128x128 (TF32 tensor cores, 128x128x16, float32 with allow_tf32). Shapes straddle
the tiles (1, 7, 31, 33, 127, 129 and both sides of 64 and 128) and K slices (k = 1, 8, 16,
17); leading dimensions that are multiples of 4 floats take the 16-byte copy path, the
others element copies. Operands and the oracle come from test_gemm (the CPU kernel's
tests), so both bindings answer the same cases.
"""

from __future__ import annotations

import numpy as np
import pytest

from axonic import _cpu
from conftest import assert_close
from test_gemm import TRANSPOSES, _check, _expected, _operands, _random

KERNELS = ("simt_128x128", "simt_64x64", "tf32_128x128")
FLOAT32_ONLY = ("simt_128x128", "tf32_128x128")

# (m, n, k): the awkward sizes, then the tile and slice edges of the kernels.
SHAPES = [(s, s, s) for s in (1, 7, 31, 33, 127, 129)] + [
    (5, 9, 1),        # k = 1
    (64, 64, 16),     # one 64x64 tile, one slice: 16-byte copies (ld a multiple of 4)
    (65, 63, 17),     # just past / short of a 64 tile, one k past a slice
    (128, 128, 8),    # one 128x128 tile, one 8-deep slice
    (129, 96, 40),    # one row past a 128 tile; n, k multiples of 4 and 8
    (96, 129, 24),
    (1, 130, 33),     # a single row across two 128 tiles
    (130, 1, 12),     # a single column
]


def _gemm(K, kernel, a, b, out, **kwargs):
    """K's gemm: the backend's (automatic choice) or the named kernel's."""
    if kernel == "auto":
        K.backend.gemm(a, b, out, **kwargs)
    else:
        K.module.gemm_using(kernel, a, b, out, stream=0, **kwargs)


def _tf32(x: np.ndarray) -> np.ndarray:
    """float32 values rounded to TF32 as cvt.rna.tf32.f32 does: 10 mantissa bits, to
    nearest, ties away from zero (finite values; the tests use no Inf or NaN here)."""
    bits = np.asarray(x, np.float32).view(np.uint32)
    return ((bits + np.uint32(0x1000)) & np.uint32(0xFFFFE000)).view(np.float32)


def _check_tf32(actual, a, b, out_before, k, **kwargs) -> None:
    """TF32 results: exact to float32 accumulation against the product of TF32-rounded
    inputs (which pins the fragment indexing), and within TF32 rounding of the exact one."""
    rounded = _expected(_tf32(a), _tf32(b), out_before, **kwargs)
    assert_close(actual, rounded, rtol=1e-4, atol=1e-5 * max(k, 1))
    # Each input is off by up to 2^-11 relatively; k products of N(0, 1) values add
    # about 2^-10 sqrt(k) of error.
    assert_close(actual, _expected(a, b, out_before, **kwargs), rtol=1e-2,
                 atol=3e-3 * max(k, 1) ** 0.5)


def _run_case(K, kernel, dtype, m, n, k, trans_a, trans_b, alpha=1.0, beta=0.0, batch=(),
              views=("contiguous",) * 2):
    rng = np.random.default_rng(m * 7919 + n * 31 + k + len(batch))
    a, b = _operands(rng, m, n, k, trans_a, trans_b, dtype, batch=batch, views=views)
    out_before = _random(rng, (*batch, m, n), dtype)
    out = K.to_device(out_before) if beta != 0 else K.empty((*batch, m, n), dtype)
    kwargs = dict(trans_a=trans_a, trans_b=trans_b, alpha=alpha, beta=beta)
    _gemm(K, kernel, K.to_device(a, keep_layout=True), K.to_device(b, keep_layout=True), out,
          **kwargs)
    actual = K.to_host(out)
    if kernel == "tf32_128x128":
        _check_tf32(actual, a, b, out_before, k, **kwargs)
    else:
        _check(actual, _expected(a, b, out_before, **kwargs), k)


def _cases(kernels=("auto",) + KERNELS):
    """(kernel, dtype) pairs: float64 only where a kernel takes it."""
    return [(kernel, dtype) for kernel in kernels for dtype in (np.float32, np.float64)
            if not (dtype == np.float64 and kernel in FLOAT32_ONLY)]


@pytest.mark.parametrize("m, n, k", SHAPES)
@pytest.mark.parametrize("trans_a, trans_b", TRANSPOSES)
@pytest.mark.parametrize("kernel, dtype", _cases())
def test_gemm_matches_reference(cuda_kernels, kernel, dtype, trans_a, trans_b, m, n, k):
    _run_case(cuda_kernels, kernel, dtype, m, n, k, trans_a, trans_b)


@pytest.mark.parametrize("trans_a, trans_b", TRANSPOSES)
@pytest.mark.parametrize("kernel, dtype", _cases())
def test_gemm_alpha_and_beta_accumulate(cuda_kernels, kernel, dtype, trans_a, trans_b):
    _run_case(cuda_kernels, kernel, dtype, 37, 41, 60, trans_a, trans_b, alpha=-0.75, beta=0.5)


@pytest.mark.parametrize("kernel, dtype", _cases())
@pytest.mark.parametrize("m, n, k", [(7, 33, 57), (1, 1, 1), (130, 17, 5)])
def test_gemm_beta_zero_never_reads_out(cuda_kernels, kernel, dtype, m, n, k):
    """K.empty fills out with NaN bytes; beta = 0 must overwrite, never scale them."""
    K = cuda_kernels
    rng = np.random.default_rng(3)
    a, b = _operands(rng, m, n, k, False, False, dtype)
    out = K.empty((m, n), dtype)
    _gemm(K, kernel, K.to_device(a), K.to_device(b), out, alpha=2.0, beta=0.0)
    actual = K.to_host(out)
    assert np.isfinite(actual).all()
    if kernel == "tf32_128x128":
        _check_tf32(actual, a, b, np.zeros((m, n), dtype), k, alpha=2.0)
    else:
        _check(actual, _expected(a, b, np.zeros((m, n), dtype), alpha=2.0), k)


@pytest.mark.parametrize("kernel, dtype", _cases())
def test_gemm_empty_inner_dimension_scales_out(cuda_kernels, kernel, dtype):
    K = cuda_kernels
    a, b = K.to_device(np.empty((3, 0), dtype)), K.to_device(np.empty((0, 4), dtype))
    out = K.empty((3, 4), dtype)  # NaN bytes: beta = 0 gives zeros
    _gemm(K, kernel, a, b, out)
    assert_close(K.to_host(out), np.zeros((3, 4)))
    out = K.to_device(np.full((3, 4), 2.0, dtype))
    _gemm(K, kernel, a, b, out, beta=0.5)
    assert_close(K.to_host(out), np.ones((3, 4)))


@pytest.mark.parametrize("shape_a, shape_b", [((0, 5), (5, 4)), ((3, 5), (5, 0)),
                                              ((0, 5), (5, 0)), ((0, 2, 3), (0, 3, 4))])
def test_gemm_empty_output(cuda_kernels, shape_a, shape_b):
    K = cuda_kernels
    a, b = np.ones(shape_a, np.float32), np.ones(shape_b, np.float32)
    out = K.empty(shape_a[:-1] + shape_b[-1:], np.float32)
    K.backend.gemm(K.to_device(a), K.to_device(b), out)
    assert K.to_host(out).shape == shape_a[:-1] + shape_b[-1:]


@pytest.mark.parametrize("views", [("contiguous", "contiguous"), ("broadcast", "contiguous"),
                                   ("contiguous", "broadcast"), ("transposed", "window"),
                                   ("window", "transposed"), ("broadcast", "transposed")])
@pytest.mark.parametrize("trans_a, trans_b", TRANSPOSES)
@pytest.mark.parametrize("kernel, dtype", _cases())
def test_gemm_batched_and_strided_operands(cuda_kernels, kernel, dtype, trans_a, trans_b,
                                           views):
    """3-D stacks with windows of larger arrays, transposed views and broadcast operands
    (batch stride 0), read in place."""
    _run_case(cuda_kernels, kernel, dtype, 33, 20, 17, trans_a, trans_b, alpha=1.5, beta=-1.0,
              batch=(3,), views=views)


class DeviceWindow:
    """A view into a device array given by its NumPy twin: ``DeviceWindow(K.to_device(big),
    big, big[index])`` exposes big[index]'s strides at its offset in the device copy, so a
    test can write through the window and read the whole array back."""

    def __init__(self, device_base, host_base: np.ndarray, host_view: np.ndarray) -> None:
        self._base = device_base  # keeps the memory alive
        base = device_base.__cuda_array_interface__["data"][0]
        offset = (host_view.__array_interface__["data"][0]
                  - host_base.__array_interface__["data"][0])
        self.__cuda_array_interface__ = {"version": 3, "shape": host_view.shape,
                                         "typestr": host_view.dtype.str,
                                         "data": (base + offset, False),
                                         "strides": host_view.strides}


# (first column, row length past the window's rounded up to 4) of an operand window in a
# larger device array: 16-byte aligned rows (the 16-byte copy path), a pointer one element
# off, an odd row length.
WINDOW_LAYOUTS = {"aligned": (4, 4), "pointer off": (1, 4), "odd ld": (4, 5)}


@pytest.mark.parametrize("layout", WINDOW_LAYOUTS)
@pytest.mark.parametrize("kernel", ["auto", "simt_128x128", "tf32_128x128"])
@pytest.mark.parametrize("trans_a, trans_b", TRANSPOSES)
def test_gemm_operand_windows(cuda_kernels, trans_a, trans_b, kernel, layout):
    """Operands read in place from windows of larger device arrays, aligned for 16-byte
    copies or not; m, n, k leave partial 4-element chunks at the tile edges."""
    K = cuda_kernels
    m, n, k = 70, 66, 38
    first, extra = WINDOW_LAYOUTS[layout]
    rng = np.random.default_rng(17)
    windows = []
    for rows, cols in ((k, m) if trans_a else (m, k), (n, k) if trans_b else (k, n)):
        big = _random(rng, (rows, -(-cols // 4) * 4 + extra), np.float32)
        windows.append((K.to_device(big), big, big[:, first:first + cols]))
    (dev_a, big_a, a), (dev_b, big_b, b) = windows
    out = K.empty((m, n), np.float32)
    kwargs = dict(trans_a=trans_a, trans_b=trans_b)
    _gemm(K, kernel, DeviceWindow(dev_a, big_a, a), DeviceWindow(dev_b, big_b, b), out, **kwargs)
    zeros = np.zeros((m, n), np.float32)
    if kernel == "tf32_128x128":
        _check_tf32(K.to_host(out), a, b, zeros, k, **kwargs)
    else:
        _check(K.to_host(out), _expected(a, b, zeros, **kwargs), k)


@pytest.mark.parametrize("alpha, beta", [(1.0, 0.0), (-0.75, 0.5)])
@pytest.mark.parametrize("kernel", ["auto", "simt_128x128", "tf32_128x128"])
@pytest.mark.parametrize("batch", [(), (2,)])
def test_gemm_out_window_leaves_the_rest_alone(cuda_kernels, kernel, batch, alpha, beta):
    """out is a window of a larger array (its rows further apart than their length): the
    window gets the product, every other element keeps its value."""
    K = cuda_kernels
    m, n, k = 37, 41, 26
    rng = np.random.default_rng(21)
    a, b = _operands(rng, m, n, k, False, True, np.float32, batch=batch)
    big = _random(rng, (*batch, m + 3, n + 5), np.float32)
    index = (..., slice(1, 1 + m), slice(2, 2 + n))
    device_big = K.to_device(big)
    out = DeviceWindow(device_big, big, big[index])
    kwargs = dict(trans_b=True, alpha=alpha, beta=beta)
    _gemm(K, kernel, K.to_device(a), K.to_device(b), out, **kwargs)
    result = K.to_host(device_big)
    outside = np.ones(big.shape, bool)
    outside[index] = False
    np.testing.assert_array_equal(result[outside], big[outside])
    if kernel == "tf32_128x128":
        _check_tf32(result[index], a, b, big[index], k, **kwargs)
    else:
        _check(result[index], _expected(a, b, big[index], **kwargs), k)


def test_gemm_out_and_input_may_share_a_buffer_without_sharing_elements(cuda_kernels):
    """a and out are the left and right columns of one device buffer: their byte ranges
    interleave, yet no element is shared; overlapping columns are refused."""
    K = cuda_kernels
    rng = np.random.default_rng(10)
    buffer = _random(rng, (6, 8), np.float64)
    b = _random(rng, (4, 4), np.float64)
    device = K.to_device(buffer)
    a, out = DeviceWindow(device, buffer, buffer[:, :4]), DeviceWindow(device, buffer,
                                                                       buffer[:, 4:])
    K.backend.gemm(a, K.to_device(b), out)
    assert_close(K.to_host(device)[:, 4:], buffer[:, :4] @ b)
    with pytest.raises(ValueError, match="share memory"):
        K.backend.gemm(DeviceWindow(device, buffer, buffer[:, :4]), K.to_device(b),
                       DeviceWindow(device, buffer, buffer[:, 3:7]))


# ----- TF32 ----------------------------------------------------------------------------------

@pytest.mark.parametrize("sign", [1.0, -1.0])
def test_tf32_rounds_inputs_to_nearest_ties_away(cuda_kernels, sign):
    """1 + 2^-11 lies halfway between two TF32 values: cvt.rna rounds it away from zero to
    1 + 2^-10 (round-to-even or truncation would give 1); the FMA kernels keep it."""
    K = cuda_kernels
    a = np.array([[sign * (1 + 2.0**-11)]], np.float32)
    b = np.ones((1, 1), np.float32)
    out = K.empty((1, 1), np.float32)
    K.module.gemm_using("tf32_128x128", K.to_device(a), K.to_device(b), out, stream=0)
    assert K.to_host(out)[0, 0] == np.float32(sign * (1 + 2.0**-10))
    K.module.gemm_using("simt_128x128", K.to_device(a), K.to_device(b), out, stream=0)
    assert K.to_host(out)[0, 0] == a[0, 0]


@pytest.mark.parametrize("trans_a, trans_b", TRANSPOSES)
def test_allow_tf32_switches_float32_to_the_tensor_cores(cuda_kernels, trans_a, trans_b):
    """allow_tf32=True rounds float32 inputs to TF32 (the result differs from float32's by
    TF32 rounding); float64 ignores it and stays exact."""
    K = cuda_kernels
    m, n, k = 20, 24, 40
    rng = np.random.default_rng(5)
    kwargs = dict(trans_a=trans_a, trans_b=trans_b)
    for dtype in (np.float32, np.float64):
        a, b = _operands(rng, m, n, k, trans_a, trans_b, dtype)
        out = K.empty((m, n), dtype)
        K.module.gemm(K.to_device(a), K.to_device(b), out, allow_tf32=True, stream=0, **kwargs)
        zeros = np.zeros((m, n), dtype)
        if dtype == np.float32:
            _check_tf32(K.to_host(out), a, b, zeros, k, **kwargs)
            assert not np.allclose(K.to_host(out), _expected(a, b, zeros, **kwargs), rtol=1e-6,
                                   atol=1e-6)
        else:
            _check(K.to_host(out), _expected(a, b, zeros, **kwargs), k)


@pytest.mark.parametrize("kernel", ["auto", "simt_128x128", "tf32_128x128"])
def test_gemm_propagates_nan_and_inf(cuda_kernels, kernel):
    """A NaN in a row of A poisons that row of out; an Inf gives Inf (or NaN against zeros)."""
    K = cuda_kernels
    rng = np.random.default_rng(8)
    a, b = _random(rng, (9, 12), np.float32), np.abs(_random(rng, (12, 10), np.float32)) + 0.5
    a[2, 5], a[6, :] = np.nan, np.abs(a[6, :])
    a[6, 3] = np.inf
    out = K.empty((9, 10), np.float32)
    _gemm(K, kernel, K.to_device(a), K.to_device(b), out)
    actual = K.to_host(out)
    assert np.isnan(actual[2]).all() and np.isposinf(actual[6]).all()
    assert np.isfinite(np.delete(actual, [2, 6], axis=0)).all()


# ----- bad input -----------------------------------------------------------------------------

def _f32(*shape) -> np.ndarray:
    return np.ones(shape, np.float32)


# id: (a, b, out, kwargs, error, message): host arrays; the CUDA binding gets device copies
# (views kept) and must refuse them as the CPU binding refuses the host arrays.
BAD_INPUT = {
    "inner dimensions": (_f32(3, 4), _f32(5, 6), _f32(3, 6), {}, ValueError, "inner dimensions"),
    "inner dimensions (trans_a)": (_f32(3, 4), _f32(4, 6), _f32(3, 6), {"trans_a": True},
                                   ValueError, "inner dimensions"),
    "out shape": (_f32(3, 4), _f32(4, 6), _f32(6, 3), {}, ValueError, "out must be 3x6"),
    "ndim": (_f32(3, 4), _f32(1, 4, 6), _f32(3, 6), {}, ValueError, "same ndim"),
    "1-D": (_f32(4), _f32(4), _f32(1), {}, ValueError, "same ndim"),
    "batch": (_f32(2, 3, 4), _f32(3, 4, 6), _f32(2, 3, 6), {}, ValueError, "batch sizes differ"),
    "mixed dtypes": (_f32(3, 4), np.ones((4, 6)), _f32(3, 6), {}, TypeError, "dtype"),
    "mixed out dtype": (_f32(3, 4), _f32(4, 6), np.ones((3, 6)), {}, TypeError, "dtype"),
    "int64 operand": (np.ones((3, 4), np.int64), _f32(4, 6), _f32(3, 6), {}, TypeError,
                      "float32 or float64"),
    "negative stride": (_f32(4, 3)[::-1], _f32(3, 6), _f32(4, 6), {}, ValueError,
                        "negative stride"),
    "no unit stride": (_f32(3, 8)[:, ::2], _f32(4, 6), _f32(3, 6), {}, ValueError,
                       "unit stride"),
    "broadcast out": (_f32(2, 3, 4), _f32(2, 4, 6),
                      np.lib.stride_tricks.as_strided(_f32(3, 6), (2, 3, 6), (0, 24, 4)), {},
                      ValueError, "overlap itself"),
    "transposed out": (_f32(3, 4), _f32(4, 6), _f32(6, 3).T, {}, ValueError,
                       "unit stride along its last axis"),
}


@pytest.mark.parametrize("case", BAD_INPUT)
def test_gemm_rejects_bad_input_as_the_cpu_binding_does(cuda_kernels, case):
    K = cuda_kernels
    a, b, out, kwargs, error, message = BAD_INPUT[case]
    with pytest.raises(error, match=message) as cpu_error:
        _cpu.gemm(a, b, out, **kwargs)
    device = [K.to_device(x, keep_layout=True) for x in (a, b, out)]
    with pytest.raises(error, match=message) as cuda_error:
        K.backend.gemm(*device, **kwargs)
    if error is ValueError:  # the same words, CuPy's remedies for NumPy's
        assert str(cuda_error.value) == str(cpu_error.value).replace("numpy.", "cupy.")


def test_gemm_rejects_host_arrays(cuda_kernels):
    K = cuda_kernels
    with pytest.raises(TypeError, match="a must be a CUDA array"):
        K.backend.gemm(_f32(3, 4), K.to_device(_f32(4, 6)), K.empty((3, 6), np.float32))
    with pytest.raises(TypeError, match="out must be a CUDA array"):
        K.backend.gemm(K.to_device(_f32(3, 4)), K.to_device(_f32(4, 6)), _f32(3, 6))


def test_gemm_rejects_other_element_types(cuda_kernels):
    K = cuda_kernels
    with pytest.raises(TypeError):
        K.backend.gemm(K.to_device(np.ones((3, 4), np.int32)), K.to_device(_f32(4, 6)),
                       K.empty((3, 6), np.float32))


def test_gemm_using_names_its_kernels(cuda_kernels):
    K = cuda_kernels
    assert K.module.gemm_kernels() == KERNELS
    a, b, out = K.to_device(_f32(3, 4)), K.to_device(_f32(4, 6)), K.empty((3, 6), np.float32)
    with pytest.raises(ValueError, match="unknown gemm kernel 'fast'; the kernels are simt"):
        K.module.gemm_using("fast", a, b, out, stream=0)
    a64, b64 = K.to_device(np.ones((3, 4))), K.to_device(np.ones((4, 6)))
    for kernel in FLOAT32_ONLY:
        with pytest.raises(ValueError, match="takes float32 only"):
            K.module.gemm_using(kernel, a64, b64, K.empty((3, 6), np.float64), stream=0)

