"""axonic._cpu.gemm, gemm_raw and gemm_blocking against the NumPy reference, on every SIMD path.

Blocking (csrc/cpu/gemm_blocking.h): an MR x NR register tile (6 x 4 vectors on avx512, 6 x 2
vectors on avx2 and generic), KC = 512, MC = 32 * MR, NC = 4096. The driver also switches
paths on shape (gemm_arch.cpp): M <= 4 reads A in place (dot products when B is transposed,
8-vector tiles for M <= 2); N within 1, 2 or (avx512) 3 vectors reads A in place in one column
tile (dot products when B is transposed and N fills at most 3/4 of a vector); M <= 4 * MR reads
B in place, and threads share B's packing or each own a rectangle of C (gemm_blocked.h).
BLOCK_EDGES are computed from _cpu.gemm_blocking() of the kernel that runs, so they follow its
blocking, and include both sides of each path switch.
Strided operands (windows of larger arrays, transposed views, broadcast stacks) are read in
place, and nothing of out's base array outside out may change."""

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


def _view(rng, shape, dtype, kind: str = "contiguous") -> np.ndarray:
    """A random array of `shape`: contiguous, a window of a larger array (rows further apart
    than their length), its transpose (x.T, read with the trans flag flipped) or, for stacks,
    one matrix broadcast along the batch axis (batch stride 0)."""
    *batch, rows, cols = shape
    if kind == "contiguous":
        return _random(rng, shape, dtype)
    if kind == "window":
        return _random(rng, (*batch, rows + 4, cols + 7), dtype)[..., 2:2 + rows, 3:3 + cols]
    if kind == "transposed":
        stored = _random(rng, (*batch, cols + 5, rows + 3), dtype)[..., 1:1 + cols, 2:2 + rows]
        return np.swapaxes(stored, -1, -2)
    assert kind == "broadcast"
    return np.broadcast_to(_random(rng, (rows, cols), dtype), shape)


def _operands(rng, m, n, k, trans_a, trans_b, dtype, batch=(), views=("contiguous",) * 2):
    a = _view(rng, batch + ((k, m) if trans_a else (m, k)), dtype, views[0])
    b = _view(rng, batch + ((n, k) if trans_b else (k, n)), dtype, views[1])
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


# (m, n, k) from the active kernel's blocking {mr, nr, kc, mc, nc, lanes}: one edge at a time.
BLOCK_EDGES = {
    "m=mr-1": lambda b: (b["mr"] - 1, b["nr"], 17),
    "m=mr": lambda b: (b["mr"], b["nr"], 17),
    "m=mr+1": lambda b: (b["mr"] + 1, b["nr"], 17),
    "n=nr-1": lambda b: (b["mr"], b["nr"] - 1, 17),
    "n=nr+1": lambda b: (b["mr"], b["nr"] + 1, 17),
    "k=1": lambda b: (b["mr"] + 1, b["nr"] + 1, 1),
    "k=kc-1": lambda b: (b["mr"] + 1, b["nr"] - 1, b["kc"] - 1),
    "k=kc": lambda b: (b["mr"] - 1, b["nr"] + 1, b["kc"]),
    "k=kc+1": lambda b: (b["mr"] + 1, b["nr"] + 1, b["kc"] + 1),
    "k=2kc+1": lambda b: (3, 5, 2 * b["kc"] + 1),
    "m=mc-1": lambda b: (b["mc"] - 1, b["nr"] + 1, 5),
    "m=mc": lambda b: (b["mc"], b["nr"] - 1, 5),
    "m=mc+1": lambda b: (b["mc"] + 1, b["nr"] + 1, b["kc"] + 1),
    "n=nc+1": lambda b: (3, b["nc"] + 1, 5),
    "m=nc+1": lambda b: (b["nc"] + 1, 3, 5),
    "m=1": lambda b: (1, b["nr"] + 1, 7),
    "n=1": lambda b: (b["mr"] + 1, 1, 7),
    "ones": lambda b: (1, 1, 1),
    "primes": lambda b: (31, 37, 41),
    # Path switches (gemm_any): few rows, wide few-row tiles, one vector of columns, B in place.
    "m=2 wide": lambda b: (2, 4 * b["nr"] + 3, 19),
    "m=3": lambda b: (3, 2 * b["nr"] + 5, 19),
    "m=4": lambda b: (4, 2 * b["nr"] + 5, 19),
    "m=5": lambda b: (5, 2 * b["nr"] + 5, 19),
    "n=one vector": lambda b: (2 * b["mr"] + 5, b["lanes"], 23),
    # One vector of columns takes 2 * mr rows per tile, then 4, 2 and 1.
    "n=one vector, m=4mr+7": lambda b: (4 * b["mr"] + 7, max(1, b["lanes"] - 3), 23),
    # A few vectors of columns read A in place too (gemm_arch.cpp: gemm_narrow): 2 vectors,
    # 3 on AVX-512, and with op(A) = Aᵀ only up to k = 1024 (deeper, the blocked path).
    "n=2 vectors-3": lambda b: (4 * b["mr"] + 7, max(b["lanes"] + 1, 2 * b["lanes"] - 3), 23),
    "n=3 vectors-5": lambda b: (2 * b["mr"] + 5, max(2 * b["lanes"] + 1, 3 * b["lanes"] - 5), 23),
    "n=2 vectors, k=1025": lambda b: (13, 2 * b["lanes"] - 1, 1025),
    # ... and only while B's k x N strip stays in L2 (AVX-512 and AVX2: blocked here).
    "n=2 vectors, k=25000": lambda b: (13, 2 * b["lanes"] - 1, 25000),
    # With op(B) = Bᵀ and k >= 8 lanes, 3/4 of a vector of columns runs as dot products
    # (gemm_arch.cpp: narrow_as_dots) in tiles of up to 4 x 4, and a masked k tail.
    "n=3/4 vector, deep k": lambda b: (11, max(1, 3 * b["lanes"] // 4 - 1), 8 * b["lanes"] + 3),
    "n=one vector+1": lambda b: (2 * b["mr"] + 5, b["lanes"] + 1, 23),
    # The last panel narrower than nr runs only the vectors it needs.
    "n=nr+one vector": lambda b: (2 * b["mr"] + 1, b["nr"] + b["lanes"], 31),
    "n=nr+one vector+1": lambda b: (2 * b["mr"] + 1, b["nr"] + b["lanes"] + 1, 31),
    "n=2nr-1": lambda b: (2 * b["mr"] + 1, 2 * b["nr"] - 1, 31),
    "m=4mr": lambda b: (4 * b["mr"], b["nr"] + 3, 29),
    "m=4mr+1": lambda b: (4 * b["mr"] + 1, b["nr"] + 3, 29),
}


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("trans_a, trans_b", TRANSPOSES)
@pytest.mark.parametrize("edge", BLOCK_EDGES)
def test_gemm_at_block_edges(simd_level, edge, trans_a, trans_b, dtype):
    m, n, k = BLOCK_EDGES[edge](_cpu.gemm_blocking(dtype))
    rng = np.random.default_rng(m * 7919 + n * 31 + k)
    a, b = _operands(rng, m, n, k, trans_a, trans_b, dtype)
    out = _random(rng, (m, n), dtype)
    kwargs = dict(trans_a=trans_a, trans_b=trans_b, alpha=0.5, beta=-2.0)
    expected = _expected(a, b, out, **kwargs)
    _cpu.gemm(a, b, out, **kwargs)
    _check(out, expected, k)


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


# How threads split C (gemm_blocked.h: threads_own_blocks, owned_grid): every shape is
# past the parallel threshold. With few row blocks each thread owns a rectangle of C, in
# column groups (130x300, 20x517 with B in place, 150x2000 on 4 threads), row groups
# (700x70; 300x300 on 2 threads, a tie; 64x100, whose column groups would be narrower than
# a tile) or a 2 x 2 grid (300x300 on 4 threads); 7 threads on 300x300 or (AVX-512)
# 130x300 share B's packing instead; 5x40 leaves some of 7 threads without columns.
# Shallow products (k <= 32) split by whole rows when every thread gets 8 tiles of them:
# 1000x1000 (k = 3) on every count, 250x300 (k = 1) on 2-4 threads, 150x2000 (k = 9) on
# 2-3 and 100x200 (k = 32) on 2; with fewer tiles each, they take the grid above. With
# op(B) = Bᵀ, 203x11 (AVX-512) and 3x300 run as dot products, split by rows and columns,
# and 150x14 (AVX-512) and 150x7 (AVX2) read A in place, every thread packing Bᵀ, as does
# 150x40 in 3-vector tiles (AVX-512) and 150x14 in 2-vector tiles (AVX2). 900x70 with
# k = 600 gives each thread several row blocks and two K blocks, the second partial: with
# op(B) = B each K block of B is packed row by row (pack_row_panels), shared or owned.
THREADED_SHAPES = [(130, 300, 520), (20, 517, 300), (150, 2000, 9), (700, 70, 130),
                   (300, 300, 200), (1000, 1000, 3), (5, 40, 12000), (203, 11, 300),
                   (3, 300, 700), (150, 14, 90), (150, 7, 90), (150, 40, 90), (64, 100, 64),
                   (250, 300, 1), (100, 200, 32), (900, 70, 600)]


@pytest.fixture
def restore_threads():
    import axonic

    threads = axonic.get_num_threads()
    yield axonic.set_num_threads
    axonic.set_num_threads(threads)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("trans_a, trans_b", TRANSPOSES)
@pytest.mark.parametrize("m, n, k", THREADED_SHAPES)
@pytest.mark.parametrize("threads", [1, 2, 3, 4, 7])
def test_gemm_any_thread_count(simd_level, restore_threads, threads, m, n, k, trans_a, trans_b,
                               dtype):
    restore_threads(threads)
    rng = np.random.default_rng(m + 3 * n + 7 * k)
    a, b = _operands(rng, m, n, k, trans_a, trans_b, dtype)
    out = _random(rng, (m, n), dtype)
    kwargs = dict(trans_a=trans_a, trans_b=trans_b, alpha=1.5, beta=0.25)
    expected = _expected(a, b, out, **kwargs)
    _cpu.gemm(a, b, out, **kwargs)
    _check(out, expected, k)


def test_backend_gemm_is_the_native_kernel():
    rng = np.random.default_rng(6)
    a, b = _random(rng, (33, 7), np.float32), _random(rng, (7, 127), np.float32)
    out = np.empty((33, 127), np.float32)
    cpu.gemm(a, b, out)
    _check(out, a.astype(np.float64) @ b.astype(np.float64), 7)


def test_set_simd_level_rejects_unknown_name():
    with pytest.raises(ValueError):
        _cpu.set_simd_level("sse9")


# ----- strided views, read in place -----------------------------------------------------------

def _out_window(rng, shape, dtype):
    """out as a window of a larger random array: (big, index) with out = big[index]."""
    *batch, rows, cols = shape
    big = _random(rng, (*batch, rows + 3, cols + 5), dtype)
    return big, (..., slice(1, 1 + rows), slice(2, 2 + cols))


def _assert_only_window_changed(big, before, index) -> None:
    outside = np.ones(big.shape, bool)
    outside[index] = False
    np.testing.assert_array_equal(big[outside], before[outside])


# 37x41 takes the blocked path, or 3-vector narrow tiles on AVX-512; 37x11 narrow tiles or,
# with op(B) = Bᵀ on AVX-512, dot products.
@pytest.mark.parametrize("m, n, k", [(37, 41, 260), (37, 11, 260)])
@pytest.mark.parametrize("alpha, beta", [(1.0, 0.0), (-0.75, 0.5)])
@pytest.mark.parametrize("b_view", ["window", "transposed"])
@pytest.mark.parametrize("a_view", ["window", "transposed"])
@pytest.mark.parametrize("trans_a, trans_b", TRANSPOSES)
@pytest.mark.parametrize("dtype", DTYPES)
def test_gemm_strided_views(simd_level, dtype, trans_a, trans_b, a_view, b_view, alpha, beta,
                            m, n, k):
    rng = np.random.default_rng(7)
    a, b = _operands(rng, m, n, k, trans_a, trans_b, dtype, views=(a_view, b_view))
    big, index = _out_window(rng, (m, n), dtype)
    before = big.copy()
    kwargs = dict(trans_a=trans_a, trans_b=trans_b, alpha=alpha, beta=beta)
    expected = big.copy()
    reference.gemm(a, b, expected[index], **kwargs)  # the oracle takes the same views
    _cpu.gemm(a, b, big[index], **kwargs)
    _check(big[index], expected[index], k)
    _assert_only_window_changed(big, before, index)


@pytest.mark.parametrize("b_view", ["window", "transposed", "broadcast"])
@pytest.mark.parametrize("a_view", ["window", "transposed", "broadcast"])
@pytest.mark.parametrize("trans_a, trans_b", TRANSPOSES)
@pytest.mark.parametrize("dtype", DTYPES)
def test_gemm_batched_strided_views(simd_level, dtype, trans_a, trans_b, a_view, b_view):
    rng = np.random.default_rng(8)
    batch, m, n, k = 3, 7, 33, 17
    a, b = _operands(rng, m, n, k, trans_a, trans_b, dtype, (batch,), views=(a_view, b_view))
    big, index = _out_window(rng, (batch, m, n), dtype)
    before = big.copy()
    kwargs = dict(trans_a=trans_a, trans_b=trans_b, alpha=1.5, beta=-1.0)
    expected = big.copy()
    reference.gemm(a, b, expected[index], **kwargs)
    _cpu.gemm(a, b, big[index], **kwargs)
    _check(big[index], expected[index], k)
    _assert_only_window_changed(big, before, index)


def test_gemm_batched_out_may_interleave(simd_level):
    """Heads split along the columns of one (m, heads * n) buffer: matrix i of out starts n
    elements after matrix i - 1, inside its extent, yet no element is shared."""
    rng = np.random.default_rng(9)
    heads, m, n, k = 3, 5, 4, 6
    a, b = _random(rng, (heads, m, k), np.float64), _random(rng, (heads, k, n), np.float64)
    buffer = np.full((m, heads * n), np.nan)
    out = buffer.reshape(m, heads, n).transpose(1, 0, 2)
    _cpu.gemm(a, b, out)
    assert_close(buffer, np.concatenate(list(a @ b), axis=1))


def test_gemm_out_and_input_may_share_a_buffer_without_sharing_elements(simd_level):
    """a and out are the left and right columns of one buffer: their byte ranges interleave."""
    rng = np.random.default_rng(10)
    buffer = _random(rng, (6, 8), np.float64)
    a, out, b = buffer[:, :4], buffer[:, 4:], _random(rng, (4, 4), np.float64)
    expected = a @ b
    _cpu.gemm(a, b, out)
    assert_close(out, expected)
    with pytest.raises(ValueError, match="share memory"):
        _cpu.gemm(buffer[:, :4], b, buffer[:, 3:7])


def test_gemm_ignores_strides_of_length_one_axes():
    """NumPy may report any stride along an axis of length 1 (negative after [::-1], or a row
    vector taken with a step); the kernel never steps along it, so the view is fine."""
    rng = np.random.default_rng(11)
    x = _random(rng, (5, 12), np.float64)
    row = x[:1, ::3]                        # 1 x 4, column stride 3: read as a transposed column
    flipped = x[:1, :4][::-1]               # 1 x 4, negative row stride
    column = x[:, :1]                       # 5 x 1 with a 12-element row stride
    b = _random(rng, (4, 5), np.float64)
    for a in (row, flipped):
        out = np.empty((1, 5))[::-1]
        _cpu.gemm(a, b, out)
        assert_close(out, a @ b)
    out = np.empty((5, 5))
    _cpu.gemm(column, x[:1, 2:7], out)
    assert_close(out, column @ x[:1, 2:7])


# ----- gemm_raw: BLAS sgemm/dgemm on flat buffers ---------------------------------------------

def _raw_matrix(rng, rows, cols, pad, dtype):
    """A rows x cols matrix with leading dimension cols + pad inside a flat buffer exactly as
    long as BLAS requires ((rows - 1) * ld + cols): (buffer, ld, the matrix as a view of it)."""
    ld = cols + pad
    full = _random(rng, (rows, ld), dtype)
    buffer = full.reshape(-1)[:max(rows - 1, 0) * ld + cols]
    return buffer, ld, full[:, :cols]


def _raw_args(rng, m, n, k, trans_a=False, trans_b=False, dtype=np.float32, pads=(2, 3, 4)):
    """gemm_raw keyword arguments with leading dimensions `pads` longer than a row and buffers
    no longer than needed, and the three matrices as views (for the reference)."""
    a, lda, a_matrix = _raw_matrix(rng, *((k, m) if trans_a else (m, k)), pads[0], dtype)
    b, ldb, b_matrix = _raw_matrix(rng, *((n, k) if trans_b else (k, n)), pads[1], dtype)
    c, ldc, c_matrix = _raw_matrix(rng, m, n, pads[2], dtype)
    kwargs = dict(trans_a=trans_a, trans_b=trans_b, m=m, n=n, k=k, alpha=-0.75, a=a, lda=lda,
                  b=b, ldb=ldb, beta=0.5, c=c, ldc=ldc)
    return kwargs, (a_matrix, b_matrix, c_matrix)


@pytest.mark.parametrize("m, n, k", [(1, 1, 1), (7, 33, 17), (37, 41, 260)])
@pytest.mark.parametrize("trans_a, trans_b", TRANSPOSES)
@pytest.mark.parametrize("dtype", DTYPES)
def test_gemm_raw_matches_reference(simd_level, dtype, trans_a, trans_b, m, n, k):
    rng = np.random.default_rng(m + n + k)
    kwargs, (a, b, c) = _raw_args(rng, m, n, k, trans_a, trans_b, dtype)
    full_c = c.base.copy()  # c's rows with the padding between them
    expected = _expected(a, b, c, trans_a=trans_a, trans_b=trans_b, alpha=-0.75, beta=0.5)
    _cpu.gemm_raw(**kwargs)
    _check(c, expected, k)
    np.testing.assert_array_equal(c.base[:, n:], full_c[:, n:])


@pytest.mark.parametrize("m, n, k", [(0, 4, 5), (3, 0, 5), (3, 4, 0), (0, 0, 0)])
def test_gemm_raw_empty_sizes_need_no_elements(m, n, k):
    """A matrix with a zero dimension needs an empty buffer; k = 0 leaves C = beta * C."""
    rng = np.random.default_rng(12)
    kwargs, (_, _, c) = _raw_args(rng, m, n, k, dtype=np.float64)
    expected = 0.5 * c
    _cpu.gemm_raw(**kwargs)
    assert_close(c, expected)


def _overlapping_c(kwargs, name):
    """c placed in one buffer with `name` (a or b), starting at that buffer's last element."""
    shared = np.ones(kwargs[name].size + kwargs["c"].size - 1, kwargs["c"].dtype)
    return {name: shared[:kwargs[name].size], "c": shared[kwargs[name].size - 1:]}


def _read_only(x):
    x = x.copy()
    x.setflags(write=False)
    return x


# id: (trans_a, trans_b, changes(kwargs) -> kwargs to replace, exception, message)
RAW_BAD_INPUT = {
    "m<0": (False, False, lambda kw: {"m": -1}, ValueError, "non-negative"),
    "n<0": (False, False, lambda kw: {"n": -1}, ValueError, "non-negative"),
    "k<0": (False, False, lambda kw: {"k": -1}, ValueError, "non-negative"),
    "lda<k": (False, False, lambda kw: {"lda": kw["k"] - 1}, ValueError, "lda"),
    "lda<m (trans_a)": (True, False, lambda kw: {"lda": kw["m"] - 1}, ValueError, "lda"),
    "ldb<n": (False, False, lambda kw: {"ldb": kw["n"] - 1}, ValueError, "ldb"),
    "ldb<k (trans_b)": (False, True, lambda kw: {"ldb": kw["k"] - 1}, ValueError, "ldb"),
    "ldc<n": (False, False, lambda kw: {"ldc": kw["n"] - 1}, ValueError, "ldc"),
    "a short": (False, False, lambda kw: {"a": kw["a"][:-1]}, ValueError, "a holds"),
    "a short (trans_a)": (True, False, lambda kw: {"a": kw["a"][:-1]}, ValueError, "a holds"),
    "b short": (False, False, lambda kw: {"b": kw["b"][:-1]}, ValueError, "b holds"),
    "b short (trans_b)": (False, True, lambda kw: {"b": kw["b"][:-1]}, ValueError, "b holds"),
    "c short": (False, False, lambda kw: {"c": kw["c"][:-1]}, ValueError, "c holds"),
    "lda too long": (False, False, lambda kw: {"lda": kw["lda"] + 1}, ValueError, "a holds"),
    "size overflows int64": (False, False, lambda kw: {"m": 2**62, "lda": 2**62}, ValueError,
                             "a holds .* more than int64 can count"),
    "size beyond int64": (False, False, lambda kw: {"m": 2**70}, TypeError, "incompatible"),
    "int32 a": (False, False, lambda kw: {"a": kw["a"].astype(np.int32)}, TypeError,
                "float32 or float64"),
    "float16 c": (False, False, lambda kw: {"c": kw["c"].astype(np.float16)}, TypeError,
                  "float32 or float64"),
    "mixed dtypes": (False, False, lambda kw: {"b": kw["b"].astype(np.float64)}, TypeError,
                     "dtype"),
    "c overlaps a": (False, False, lambda kw: _overlapping_c(kw, "a"), ValueError,
                     "share memory"),
    "c overlaps b": (False, False, lambda kw: _overlapping_c(kw, "b"), ValueError,
                     "share memory"),
    "read-only c": (False, False, lambda kw: {"c": _read_only(kw["c"])}, ValueError, "writable"),
    "2-D a": (False, False, lambda kw: {"a": kw["a"][None]}, ValueError, "1-D"),
    "non-contiguous b": (False, False, lambda kw: {"b": np.repeat(kw["b"], 2)[::2]}, ValueError,
                         "contiguous"),
    "list c": (False, False, lambda kw: {"c": kw["c"].tolist()}, TypeError, "numpy.ndarray"),
}


@pytest.mark.parametrize("case", RAW_BAD_INPUT)
def test_gemm_raw_rejects_bad_input(case):
    trans_a, trans_b, changes, error, message = RAW_BAD_INPUT[case]
    kwargs, (_, _, c) = _raw_args(np.random.default_rng(13), 5, 6, 7, trans_a, trans_b)
    before = c.base.copy()
    kwargs.update(changes(kwargs))
    with pytest.raises(error, match=message):
        _cpu.gemm_raw(**kwargs)
    np.testing.assert_array_equal(c.base, before)


# ----- gemm_blocking ---------------------------------------------------------------------------

@pytest.mark.parametrize("dtype", [np.float32, np.dtype(np.float64), "float32", "float64"])
def test_gemm_blocking_is_sane(simd_level, dtype):
    blocking = _cpu.gemm_blocking(dtype)
    assert set(blocking) == {"mr", "nr", "kc", "mc", "nc", "lanes"}
    assert all(isinstance(v, int) and v > 0 for v in blocking.values())
    assert blocking["mc"] % blocking["mr"] == 0 and blocking["nc"] >= blocking["nr"]
    assert blocking["nr"] % blocking["lanes"] == 0
    assert blocking == _cpu.gemm_blocking(np.dtype(dtype).name)


@pytest.mark.parametrize("dtype", [None, "int32", np.int64, np.float16, "floaty", 3, [1]])
def test_gemm_blocking_rejects_other_dtypes(dtype):
    with pytest.raises(TypeError, match="float32 or float64"):
        _cpu.gemm_blocking(dtype)


# ----- gemm: bad input ------------------------------------------------------------------------

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


def _strided(shape, strides, dtype=np.float32) -> np.ndarray:
    """A writable view of a fresh buffer with the given byte strides (non-negative)."""
    itemsize = np.dtype(dtype).itemsize
    span = sum((n - 1) * s for n, s in zip(shape, strides)) + itemsize
    buffer = np.ones(-(-span // itemsize), dtype)
    return np.lib.stride_tricks.as_strided(buffer, shape, strides)


def _misaligned(*shape) -> np.ndarray:
    """A float32 array one byte past an aligned address."""
    raw = np.ones(np.prod(shape) * 4 + 4, np.uint8)
    return raw[1:1 + np.prod(shape) * 4].view(np.float32).reshape(shape)


# One operand at a time is a bad 4x4 (or 2x4x4) layout; the others are fine.
BAD_LAYOUTS = {
    "negative-row-stride": (["a", "b", "out"], lambda: _f32(4, 4)[::-1], "negative stride"),
    "negative-column-stride": (["a", "b", "out"], lambda: _f32(4, 4)[:, ::-1], "negative"),
    "negative-batch-stride": (["a", "b", "out"], lambda: _f32(2, 4, 4)[::-1], "negative"),
    "step-2-columns": (["a", "b", "out"], lambda: _f32(4, 8)[:, ::2], "contiguous"),
    "step-2-both": (["a", "b", "out"], lambda: _f32(8, 8)[::2, ::2], "contiguous"),
    "part-elements": (["a", "b", "out"], lambda: _strided((4, 4), (18, 4)), "whole 4-byte"),
    "misaligned": (["a", "b", "out"], lambda: _misaligned(4, 4), "aligned"),
    "rows-overlap": (["a", "b", "out"], lambda: _strided((4, 4), (4, 4)), "row between rows"),
    "broadcast-rows": (["a", "b"], lambda: np.broadcast_to(_f32(4), (4, 4)), "unit stride"),
    "transposed-out": (["out"], lambda: _f32(4, 4).T, "unit stride along its last axis"),
    "out-batch-stride-0": (["out"], lambda: _strided((2, 4, 4), (0, 16, 4)), "overlap itself"),
    "out-broadcast": (["out"], lambda: np.broadcast_to(_f32(4, 4), (2, 4, 4)), "writable"),
}


@pytest.mark.parametrize("which, layout", [(w, name) for name, (operands, _, _) in
                                           BAD_LAYOUTS.items() for w in operands])
def test_gemm_rejects_unreadable_layouts(which, layout):
    _, make, message = BAD_LAYOUTS[layout]
    bad = make()
    shape = bad.shape
    args = {"a": _f32(*shape), "b": _f32(*shape), "out": _f32(*shape)}
    args[which] = bad
    before = args["out"].copy()
    with pytest.raises(ValueError, match=message):
        _cpu.gemm(args["a"], args["b"], args["out"])
    np.testing.assert_array_equal(args["out"], before)


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
