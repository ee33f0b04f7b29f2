"""axonic._cpu.gemm against the NumPy reference: every SIMD path, shapes across the blocking.

Blocking (csrc/cpu/gemm_arch.cpp): MR = 12 (avx512) or 6, NR = 2 vectors (32/16/8 float32
columns, half that for float64), KC = 256, MC = 16 * MR (192 or 96), NC = 4096 and a
4096-row chunk for packed A. The shapes below straddle each of those edges.
"""

from __future__ import annotations

import numpy as np
import pytest

from axonic import _cpu
from axonic.backends import cpu, reference
from conftest import AWKWARD_SIZES, assert_close

DTYPES = (np.float32, np.float64)
TRANSPOSES = [(False, False), (True, False), (False, True), (True, True)]

# (m, n, k): the awkward sizes, then sizes just below/at/above NR, MR, MC and KC.
SHAPES = [(s, s, s) for s in AWKWARD_SIZES] + [
    (5, 9, 1),        # k = 1
    (6, 8, 4),        # exactly one generic float32 tile
    (12, 32, 255),    # one avx512 float32 tile, k just below KC
    (11, 31, 256),    # k == KC
    (13, 33, 257),    # k just above KC
    (95, 15, 17),     # just below MC (avx2/generic)
    (97, 17, 513),    # just above MC, two KC blocks plus one
    (191, 16, 3),     # just below MC (avx512)
    (193, 47, 300),   # just above MC (avx512), k crosses KC
]



def _random(rng, shape, dtype) -> np.ndarray:
    return rng.standard_normal(shape).astype(dtype)


def _operands(rng, m, n, k, trans_a, trans_b, dtype, batch=()):
    a = _random(rng, batch + ((k, m) if trans_a else (m, k)), dtype)
    b = _random(rng, batch + ((n, k) if trans_b else (k, n)), dtype)
    return a, b


def _expected(a, b, out, **kwargs) -> np.ndarray:
    expected = out.copy()
    reference.gemm(a, b, expected, **kwargs)
    return expected


def _check(actual, expected, k: int) -> None:
    """float32 sums of k products carry rounding error that grows with k."""
    if actual.dtype == np.float32:
        assert_close(actual, expected, rtol=1e-4, atol=1e-5 * max(k, 1) ** 0.5 * 4)
    else:
        assert_close(actual, expected, rtol=1e-10, atol=1e-12 * max(k, 1))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("trans_a, trans_b", TRANSPOSES)
@pytest.mark.parametrize("m, n, k", SHAPES)
def test_gemm_matches_reference(simd_level, m, n, k, trans_a, trans_b, dtype):
    rng = np.random.default_rng(m * 7919 + n * 31 + k)
    a, b = _operands(rng, m, n, k, trans_a, trans_b, dtype)
    out = np.empty((m, n), dtype)
    _cpu.gemm(a, b, out, trans_a=trans_a, trans_b=trans_b)
    _check(out, _expected(a, b, out, trans_a=trans_a, trans_b=trans_b), k)


@pytest.mark.parametrize("m, n, k", [(4097, 5, 3), (3, 4097, 5), (2, 4100, 260)])
def test_gemm_crosses_row_chunk_and_nc(simd_level, m, n, k):
    rng = np.random.default_rng(1)
    a, b = _operands(rng, m, n, k, False, False, np.float32)
    out = np.empty((m, n), np.float32)
    _cpu.gemm(a, b, out)
    _check(out, _expected(a, b, out), k)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("trans_a, trans_b", TRANSPOSES)
def test_gemm_alpha_and_beta_accumulate(simd_level, trans_a, trans_b, dtype):
    rng = np.random.default_rng(2)
    m, n, k = 37, 41, 260
    a, b = _operands(rng, m, n, k, trans_a, trans_b, dtype)
    out = _random(rng, (m, n), dtype)
    kwargs = dict(trans_a=trans_a, trans_b=trans_b, alpha=-0.75, beta=0.5)
    expected = _expected(a, b, out, **kwargs)
    _cpu.gemm(a, b, out, **kwargs)
    _check(out, expected, k)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("m, n, k", [(7, 33, 257), (1, 1, 1), (193, 17, 5)])
def test_gemm_beta_zero_never_reads_out(simd_level, m, n, k, dtype):
    rng = np.random.default_rng(3)
    a, b = _operands(rng, m, n, k, False, False, dtype)
    out = np.full((m, n), np.nan, dtype)
    _cpu.gemm(a, b, out, alpha=2.0, beta=0.0)
    assert np.isfinite(out).all()
    _check(out, _expected(a, b, np.zeros_like(out), alpha=2.0), k)


@pytest.mark.parametrize("dtype", DTYPES)
def test_gemm_empty_inner_dimension_scales_out(simd_level, dtype):
    a, b = np.empty((3, 0), dtype), np.empty((0, 4), dtype)
    out = np.full((3, 4), np.nan, dtype)
    _cpu.gemm(a, b, out)
    assert_close(out, np.zeros((3, 4)))
    out = np.full((3, 4), 2.0, dtype)
    _cpu.gemm(a, b, out, beta=0.5)
    assert_close(out, np.ones((3, 4)))


@pytest.mark.parametrize("m, n", [(0, 4), (3, 0), (0, 0)])
def test_gemm_empty_output(m, n):
    a, b = np.ones((m, 5), np.float32), np.ones((5, n), np.float32)
    out = np.empty((m, n), np.float32)
    _cpu.gemm(a, b, out)
    assert out.shape == (m, n)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("trans_a, trans_b", TRANSPOSES)
@pytest.mark.parametrize("batch, m, n, k", [(3, 7, 33, 17), (1, 1, 9, 257), (4, 13, 1, 1),
                                            (1, 5, 6, 7)])
def test_gemm_batched(simd_level, batch, m, n, k, trans_a, trans_b, dtype):
    rng = np.random.default_rng(batch + m + n + k)
    a, b = _operands(rng, m, n, k, trans_a, trans_b, dtype, batch=(batch,))
    out = _random(rng, (batch, m, n), dtype)
    kwargs = dict(trans_a=trans_a, trans_b=trans_b, alpha=1.5, beta=-1.0)
    expected = _expected(a, b, out, **kwargs)
    _cpu.gemm(a, b, out, **kwargs)
    _check(out, expected, k)


def test_gemm_batch_items_are_independent():
    """Each batch item uses its own a, b and out (no stride mix-up between items)."""
    rng = np.random.default_rng(4)
    a, b = _random(rng, (3, 6, 5), np.float64), _random(rng, (3, 5, 4), np.float64)
    out = np.empty((3, 6, 4))
    _cpu.gemm(a, b, out)
    for i in range(3):
        assert_close(out[i], a[i] @ b[i])


def test_gemm_same_result_single_and_multi_threaded():
    import axonic

    rng = np.random.default_rng(5)
    a, b = _random(rng, (300, 270), np.float64), _random(rng, (270, 130), np.float64)
    threads = axonic.get_num_threads()
    try:
        axonic.set_num_threads(1)
        single = np.empty((300, 130))
        _cpu.gemm(a, b, single)
    finally:
        axonic.set_num_threads(threads)
    multi = np.empty((300, 130))
    _cpu.gemm(a, b, multi)
    assert_close(multi, single)


def test_backend_gemm_is_the_native_kernel():
    rng = np.random.default_rng(6)
    a, b = _random(rng, (33, 7), np.float32), _random(rng, (7, 127), np.float32)
    out = np.empty((33, 127), np.float32)
    cpu.gemm(a, b, out)
    _check(out, a.astype(np.float64) @ b.astype(np.float64), 7)


def test_set_simd_level_rejects_unknown_name():
    with pytest.raises(ValueError):
        _cpu.set_simd_level("sse9")


# ----- bad input ------------------------------------------------------------------------------

def _f32(*shape) -> np.ndarray:
    return np.ones(shape, np.float32)


def test_gemm_rejects_mismatched_inner_dimensions():
    with pytest.raises(ValueError, match="inner dimensions"):
        _cpu.gemm(_f32(3, 4), _f32(5, 6), _f32(3, 6))
    with pytest.raises(ValueError, match="inner dimensions"):
        _cpu.gemm(_f32(3, 4), _f32(4, 6), _f32(3, 6), trans_a=True)


def test_gemm_rejects_wrong_out_shape():
    with pytest.raises(ValueError, match=r"out must be 3x6"):
        _cpu.gemm(_f32(3, 4), _f32(4, 6), _f32(6, 3))


@pytest.mark.parametrize("bad", [np.int32, np.float16, np.int64])
def test_gemm_rejects_non_float_dtypes(bad):
    a = np.ones((3, 4), bad)
    with pytest.raises(TypeError, match="float32 or float64"):
        _cpu.gemm(a, _f32(4, 6), _f32(3, 6))


def test_gemm_rejects_mixed_dtypes():
    with pytest.raises(TypeError, match="dtype"):
        _cpu.gemm(_f32(3, 4), np.ones((4, 6)), _f32(3, 6))
    with pytest.raises(TypeError, match="dtype"):
        _cpu.gemm(_f32(3, 4), _f32(4, 6), np.ones((3, 6)))


@pytest.mark.parametrize("which", ["a", "b", "out"])
@pytest.mark.parametrize("view", ["T", "step2"])
def test_gemm_rejects_non_contiguous(view, which):
    """One operand at a time is a strided 4x4 view; the others are contiguous 4x4."""
    args = {"a": _f32(4, 4), "b": _f32(4, 4), "out": _f32(4, 4)}
    args[which] = _f32(4, 4).T if view == "T" else _f32(4, 8)[:, ::2]
    assert args[which].shape == (4, 4) and not args[which].flags.c_contiguous
    with pytest.raises(ValueError, match="contiguous"):
        _cpu.gemm(args["a"], args["b"], args["out"])


@pytest.mark.parametrize("shapes", [((4,), (4, 3), (3,)), ((2, 2, 3, 4), (2, 2, 4, 5),
                                                            (2, 2, 3, 5))],
                         ids=["1-D", "4-D"])
def test_gemm_rejects_wrong_ndim(shapes):
    with pytest.raises(ValueError, match="2-D matrices or 3-D stacks"):
        _cpu.gemm(*[_f32(*s) for s in shapes])


def test_gemm_rejects_mixed_ndim():
    with pytest.raises(ValueError, match="same ndim"):
        _cpu.gemm(_f32(2, 3, 4), _f32(4, 5), _f32(2, 3, 5))


def test_gemm_rejects_batch_mismatch():
    with pytest.raises(ValueError, match="batch"):
        _cpu.gemm(_f32(2, 3, 4), _f32(3, 4, 5), _f32(2, 3, 5))
    with pytest.raises(ValueError, match="batch"):
        _cpu.gemm(_f32(2, 3, 4), _f32(2, 4, 5), _f32(1, 3, 5))


def test_gemm_rejects_out_overlapping_an_input():
    square = _f32(4, 4)
    with pytest.raises(ValueError, match="share memory"):
        _cpu.gemm(square, _f32(4, 4), square)
    with pytest.raises(ValueError, match="share memory"):
        _cpu.gemm(_f32(4, 4), square, square)
    buffer = np.ones(32, np.float32)
    with pytest.raises(ValueError, match="share memory"):
        _cpu.gemm(buffer[:16].reshape(4, 4), _f32(4, 4), buffer[8:24].reshape(4, 4))


def test_gemm_rejects_read_only_out():
    out = _f32(3, 6)
    out.setflags(write=False)
    with pytest.raises(ValueError, match="writable"):
        _cpu.gemm(_f32(3, 4), _f32(4, 6), out)


@pytest.mark.parametrize("position", range(3))
def test_gemm_rejects_lists(position):
    args = [_f32(2, 2), _f32(2, 2), _f32(2, 2)]
    args[position] = args[position].tolist()
    with pytest.raises(TypeError, match="numpy.ndarray"):
        _cpu.gemm(*args)
