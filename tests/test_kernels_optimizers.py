"""Fused optimizer kernels: ``axonic.backends.cpu`` against the NumPy ``reference``.

Every update kernel runs on lists of tensors whose sizes straddle the vector widths
(1, 7, 33, 127, 257 elements, shapes of every ndim, an empty one) and, in a second
list, the chunk (16384 elements) and threading (32768 in total) thresholds, in
float32 and float64, at each SIMD level, for every combination of the options that
change the formula, from random but valid state, several steps in a row. The
reference computes in float64 and casts back, so float32 kernels agree to a few
float32 ulps and float64 ones to a few float64 ulps. Then extreme values (NaN, zero
and huge gradients), and bad input to the ``axonic._cpu`` bindings, to
``parallel_copy`` and to ``accumulate`` (backward's dst += src).
"""

from __future__ import annotations

import numpy as np
import pytest

from axonic import _cpu
from axonic.backends import cpu, reference
from conftest import assert_close
from optimizer_cases import (
    KERNELS,
    OPTION_GRID,
    TOLERANCES,
    arrays_written,
    assert_calls_close,
    copy_call,
    full_options,
    grid_id,
    make_call,
    next_step,
)

SMALL_SHAPES = ((), (7,), (3, 11), (127,), (1, 257), (0, 3), (2, 1, 3, 1))
# 33005 elements in total (>= 32768: threaded); 20000 is a chunk of 16384 and a short one.
LARGE_SHAPES = ((100, 200), (5,), (13000,))
SHAPE_SETS = {"awkward": SMALL_SHAPES, "threaded": LARGE_SHAPES}
DTYPES = (np.float32, np.float64)
STEPS = 3


# ----- cpu against reference --------------------------------------------------------------
@pytest.mark.parametrize("shape_set", SHAPE_SETS)
@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize("case", OPTION_GRID, ids=[grid_id(c) for c in OPTION_GRID])
def test_kernel_matches_reference(case, dtype, shape_set, simd_level):
    kernel, options = case
    shapes = SHAPE_SETS[shape_set]
    native = make_call(kernel, options, shapes, dtype)
    oracle = copy_call(native)
    rng = np.random.default_rng(1)
    for step in range(STEPS):
        if step:
            next_step(kernel, options, [native, oracle], step, rng)
        getattr(cpu, kernel)(**native)
        getattr(reference, kernel)(**oracle)
        assert_calls_close(native, oracle, dtype, f"step {step + 1}")
    if shape_set == "awkward":
        assert native["params"][0].shape == ()


@pytest.mark.parametrize("kernel", KERNELS)
def test_every_backend_exposes_the_kernel(kernel):
    assert getattr(cpu, kernel) is getattr(_cpu, kernel)
    assert callable(getattr(reference, kernel))


# ----- extreme values ---------------------------------------------------------------------
@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize("kernel", KERNELS)
def test_nan_gradient_poisons_exactly_its_element(kernel, dtype, simd_level):
    options = full_options(kernel)
    native = make_call(kernel, options, SMALL_SHAPES + LARGE_SHAPES, dtype)
    # (tensor, flat element): in a vector tail, mid-vector, at the end of a chunk of
    # the threaded tensor and at the very end of the list.
    poisoned = [(4, 255), (2, 16), (7, 16383), (9, 12999)]
    for tensor, element in poisoned:
        native["grads"][tensor].reshape(-1)[element] = np.nan
    oracle = copy_call(native)
    getattr(cpu, kernel)(**native)
    getattr(reference, kernel)(**oracle)
    assert_calls_close(native, oracle, dtype, "NaN gradient")
    for i, p in enumerate(native["params"]):
        expected_nan = np.zeros(p.size, dtype=bool)
        expected_nan[[element for tensor, element in poisoned if tensor == i]] = True
        np.testing.assert_array_equal(np.isnan(p.reshape(-1)), expected_nan,
                                      err_msg=f"params[{i}]")
        assert np.isfinite(p.reshape(-1)[~expected_nan]).all()


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize("kernel", KERNELS)
def test_zero_gradients_from_zero_state_leave_params_unchanged(kernel, dtype, simd_level):
    options = dict(full_options(kernel), weight_decay=0.0)
    native = make_call(kernel, options, SMALL_SHAPES + LARGE_SHAPES, dtype)
    for name, arrays in arrays_written(native).items():
        if name != "params":
            for a in arrays:
                a[...] = 0.0
    for g in native["grads"]:
        g[...] = 0.0
    before = [p.copy() for p in native["params"]]
    oracle = copy_call(native)
    getattr(cpu, kernel)(**native)
    getattr(reference, kernel)(**oracle)
    assert_calls_close(native, oracle, dtype, "zero gradients")
    for p, p0 in zip(native["params"], before):
        np.testing.assert_array_equal(p, p0)


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize("case", [c for c in OPTION_GRID if c[1].get("maximize") is False],
                         ids=grid_id)
def test_huge_gradients(case, dtype):
    # Large but with squares still finite in float32 (1e36 < 3.4e38), so float32
    # and float64 arithmetic round alike.
    kernel, options = case
    scale = 1e18 if dtype == np.float32 else 1e150
    native = make_call(kernel, options, SMALL_SHAPES, dtype)
    for g in native["grads"]:
        g *= scale
    oracle = copy_call(native)
    for _ in range(2):
        getattr(cpu, kernel)(**native)
        getattr(reference, kernel)(**oracle)
        for name, arrays in arrays_written(oracle).items():
            for i, (a, e) in enumerate(zip(native[name], arrays)):
                assert np.isfinite(a).all(), f"{name}[{i}] not finite"
                # Cancellation in lerp/sums leaves errors relative to the largest term.
                atol = TOLERANCES[dtype]["rtol"] * 10 * float(np.max(np.abs(e), initial=1.0))
                assert_close(a, e, rtol=TOLERANCES[dtype]["rtol"] * 10, atol=atol)


@pytest.mark.parametrize("kernel", KERNELS)
def test_overflowing_squares_in_float64_match_reference(kernel, simd_level):
    # Not centered RMSprop: v - a^2 is inf - inf = NaN in the reference and in the
    # generic loop, but the AVX2/AVX-512 loops contract it into one FMA (built with
    # -ffp-contract=fast), which keeps a^2 unrounded and gives inf, so a finite step.
    options = dict(full_options(kernel), **({"centered": False} if kernel == "rmsprop_update"
                                             else {}))
    native = make_call(kernel, options, SMALL_SHAPES, np.float64)
    for g in native["grads"]:
        g *= 1e200
    oracle = copy_call(native)
    getattr(cpu, kernel)(**native)
    with np.errstate(over="ignore", invalid="ignore"):
        getattr(reference, kernel)(**oracle)
    for name, arrays in arrays_written(oracle).items():
        for a, e in zip(native[name], arrays):
            np.testing.assert_array_equal(np.isnan(a), np.isnan(e), err_msg=name)
            np.testing.assert_array_equal(np.isinf(a), np.isinf(e), err_msg=name)
            finite = np.isfinite(e)
            assert_close(a[finite], e[finite], rtol=1e-12, atol=0)


@pytest.mark.parametrize("backend", [cpu, reference], ids=["cpu", "reference"])
@pytest.mark.parametrize("kernel", KERNELS)
def test_empty_parameter_list_is_a_no_op(kernel, backend):
    call = make_call(kernel, full_options(kernel), [], np.float32)
    if KERNELS[kernel].coefficient_width:
        call["coefficients"] = np.zeros((0, KERNELS[kernel].coefficient_width))
    assert call["params"] == [] and all(v == [] for v in arrays_written(call).values())
    assert getattr(backend, kernel)(**call) is None


@pytest.mark.parametrize("kernel", KERNELS)
def test_read_only_gradients_are_accepted(kernel):
    native = make_call(kernel, full_options(kernel), SMALL_SHAPES, np.float32)
    for g in native["grads"]:
        g.flags.writeable = False
    oracle = copy_call(native)
    getattr(cpu, kernel)(**native)
    getattr(reference, kernel)(**oracle)
    assert_calls_close(native, oracle, np.float32, "read-only grads")


def test_sgd_first_step_coefficients_start_the_buffer_at_the_gradient():
    # coefficients (0, 1): b = g whatever the buffer held (PyTorch's first step).
    params = [np.ones(9, dtype=np.float32)]
    grads = [np.arange(9, dtype=np.float32)]
    buffers = [np.full(9, 123.0, dtype=np.float32)]
    _cpu.sgd_update(params, grads, buffers, np.array([[0.0, 1.0]]), lr=0.5, momentum=0.9,
                    weight_decay=0.0, nesterov=False, maximize=False)
    np.testing.assert_array_equal(buffers[0], grads[0])
    np.testing.assert_array_equal(params[0], 1.0 - 0.5 * grads[0])


# ----- bad input to the bindings ----------------------------------------------------------
def _valid_adam(n: int = 2, dtype=np.float32, amsgrad: bool = True) -> dict:
    return make_call("adam_update", dict(weight_decay=0.0, decoupled_weight_decay=False,
                                          amsgrad=amsgrad, maximize=False),
                      [(5,), (2, 3)][:n], dtype)


def _valid_sgd(momentum: float = 0.9) -> dict:
    return make_call("sgd_update", dict(momentum=momentum, weight_decay=0.0, nesterov=False,
                                         maximize=False), [(5,), (2, 3)], np.float32)


def _replace(call: dict, name: str, index: int | None, value) -> dict:
    call = dict(call)
    if index is None:
        call[name] = value
    else:
        call[name] = list(call[name])
        call[name][index] = value
    return call


def _bad_calls():
    """(id, kernel, call factory, exception, message pattern)."""
    f32, f64 = np.float32, np.float64
    yield ("grads-shorter", "adam_update",
           lambda c: _replace(c, "grads", None, c["grads"][:1]), ValueError, "2 params but 1 grads")
    yield ("state-longer", "adam_update",
           lambda c: _replace(c, "exp_avgs", None, c["exp_avgs"] + [np.zeros(3, f32)]),
           ValueError, "exp_avgs")
    yield ("amsgrad-off-with-max", "adam_update",
           lambda c: dict(c, amsgrad=False), ValueError, "max_exp_avg_sqs must be empty")
    yield ("amsgrad-on-without-max", "adam_update",
           lambda c: dict(c, max_exp_avg_sqs=[]), ValueError, "0 max_exp_avg_sqs")
    yield ("momentum-off-with-buffers", "sgd_update",
           lambda c: dict(c, momentum=0.0), ValueError, "momentum_buffers must be empty")
    yield ("momentum-on-without-buffers", "sgd_update",
           lambda c: dict(c, momentum_buffers=[]), ValueError, "momentum_buffers")
    yield ("grad-shape", "adam_update",
           lambda c: _replace(c, "grads", 1, np.zeros((3, 2), f32)), ValueError, r"grads\[1\]")
    yield ("state-shape", "adam_update",
           lambda c: _replace(c, "exp_avg_sqs", 0, np.zeros(4, f32)), ValueError,
           r"exp_avg_sqs\[0\]")
    yield ("grad-dtype", "adam_update",
           lambda c: _replace(c, "grads", 0, np.zeros(5, f64)), TypeError, r"grads\[0\]")
    yield ("state-dtype", "adam_update",
           lambda c: _replace(c, "max_exp_avg_sqs", 1, np.zeros((2, 3), f64)), TypeError,
           r"max_exp_avg_sqs\[1\]")
    yield ("params-mixed-dtypes", "adam_update",
           lambda c: _replace(c, "params", 1, np.zeros((2, 3), f64)), TypeError, r"params\[1\]")
    yield ("int-param", "adam_update",
           lambda c: _replace(c, "params", 0, np.zeros(5, np.int32)), TypeError, "float32")
    yield ("int-grad", "adam_update",
           lambda c: _replace(c, "grads", 0, np.zeros(5, np.int64)), TypeError, r"grads\[0\]")
    yield ("non-contiguous-param", "adam_update",
           lambda c: _replace(c, "params", 1, np.zeros((3, 2), f32).T), ValueError,
           "C-contiguous")
    yield ("non-contiguous-grad", "adam_update",
           lambda c: _replace(c, "grads", 0, np.zeros(10, f32)[::2]), ValueError, "C-contiguous")
    yield ("non-contiguous-state", "adam_update",
           lambda c: _replace(c, "exp_avgs", 1, np.zeros((3, 2), f32).T), ValueError,
           "C-contiguous")
    yield ("read-only-param", "adam_update",
           lambda c: _replace(c, "params", 0, _read_only(c["params"][0])), ValueError, "writable")
    yield ("read-only-state", "adam_update",
           lambda c: _replace(c, "exp_avg_sqs", 1, _read_only(c["exp_avg_sqs"][1])), ValueError,
           "writable")
    yield ("param-is-state", "adam_update",
           lambda c: _replace(c, "exp_avgs", 1, c["params"][1]), ValueError, "share memory")
    yield ("param-is-grad", "adam_update",
           lambda c: _replace(c, "grads", 0, c["params"][0]), ValueError, "share memory")
    yield ("two-states-one-array", "adam_update",
           lambda c: _replace(c, "exp_avg_sqs", 0, c["exp_avgs"][0]), ValueError, "share memory")
    yield ("state-overlaps-param-view", "adam_update", _overlapping_views, ValueError,
           "share memory")
    yield ("coefficients-shape", "adam_update",
           lambda c: dict(c, coefficients=np.zeros((2, 1))), ValueError, "coefficients")
    yield ("coefficients-rows", "adam_update",
           lambda c: dict(c, coefficients=np.zeros((3, 2))), ValueError, "coefficients")
    yield ("coefficients-1d", "adam_update",
           lambda c: dict(c, coefficients=np.zeros(4)), ValueError, "coefficients")
    yield ("coefficients-float32", "adam_update",
           lambda c: dict(c, coefficients=c["coefficients"].astype(f32)), (TypeError, ValueError),
           "float64")
    yield ("coefficients-int", "adam_update",
           lambda c: dict(c, coefficients=c["coefficients"].astype(np.int64)),
           (TypeError, ValueError), "float64")
    yield ("coefficients-non-contiguous", "adam_update",
           lambda c: dict(c, coefficients=np.zeros((2, 4))[:, ::2]), ValueError, "C-contiguous")
    yield ("coefficients-list", "adam_update",
           lambda c: dict(c, coefficients=c["coefficients"].tolist()), TypeError, "coefficients")
    yield ("coefficients-none", "adam_update",
           lambda c: dict(c, coefficients=None), TypeError, "coefficients")
    yield ("param-list", "adam_update",
           lambda c: _replace(c, "params", 0, [0.0] * 5), TypeError, r"params\[0\]")
    yield ("grad-none", "adam_update",
           lambda c: _replace(c, "grads", 1, None), TypeError, r"grads\[1\]")
    yield ("state-tensor-like", "adam_update",
           lambda c: _replace(c, "exp_avgs", 0, 1.5), TypeError, r"exp_avgs\[0\]")
    yield ("params-not-a-list", "adam_update",
           lambda c: dict(c, params=None), TypeError, "params")


def _read_only(a: np.ndarray) -> np.ndarray:
    a = a.copy()
    a.flags.writeable = False
    return a


def _overlapping_views(call: dict) -> dict:
    storage = np.zeros(8, dtype=np.float32)
    call = _replace(call, "params", 0, storage[:5])
    return _replace(call, "exp_avg_sqs", 0, storage[3:])


BAD_CALLS = list(_bad_calls())


@pytest.mark.parametrize("case", BAD_CALLS, ids=[c[0] for c in BAD_CALLS])
def test_bad_input_raises_and_writes_nothing(case):
    _, kernel, breaker, exception, pattern = case
    call = breaker(_valid_adam() if kernel == "adam_update" else _valid_sgd())
    before = copy_call(call)
    with pytest.raises(exception, match=pattern):
        getattr(_cpu, kernel)(**call)
    # Validation happens before any element is written.
    for name, arrays in arrays_written(call).items():
        for a, b in zip(arrays, before[name]):
            if isinstance(a, np.ndarray) and isinstance(b, np.ndarray):
                np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("kernel", ["rmsprop_update"])
@pytest.mark.parametrize("flag, state", [("centered", "grad_avgs"),
                                         ("momentum", "momentum_buffers")])
def test_rmsprop_optional_states_follow_their_options(kernel, flag, state):
    on = make_call(kernel, full_options(kernel), [(4,)], np.float64)
    off = dict(on, **{flag: 0.0 if flag == "momentum" else False})
    with pytest.raises(ValueError, match=f"{state} must be empty"):
        _cpu.rmsprop_update(**off)
    with pytest.raises(ValueError, match=state):
        _cpu.rmsprop_update(**dict(on, **{state: []}))


@pytest.mark.parametrize("kernel", KERNELS)
def test_every_kernel_checks_list_lengths_and_shapes(kernel):
    call = make_call(kernel, full_options(kernel), [(3,), (4,)], np.float64)
    for name in arrays_written(call):
        if name != "params":
            with pytest.raises(ValueError, match=name):
                getattr(_cpu, kernel)(**dict(call, **{name: call[name][:1]}))
            with pytest.raises(ValueError, match=name):
                getattr(reference, kernel)(**dict(call, **{name: call[name][:1]}))
            with pytest.raises(ValueError, match=name):
                getattr(_cpu, kernel)(**_replace(call, name, 1, np.zeros(5)))
    with pytest.raises(ValueError, match="grads"):
        getattr(_cpu, kernel)(**_replace(call, "grads", 0, np.zeros(2)))
    with pytest.raises(ValueError, match="grads"):
        getattr(reference, kernel)(**_replace(call, "grads", 0, np.zeros(2)))


@pytest.mark.parametrize("backend", [cpu, reference], ids=["cpu", "reference"])
@pytest.mark.parametrize("kernel", KERNELS)
def test_a_missing_state_list_is_a_value_error(kernel, backend):
    # Both backends answer alike: a ValueError naming the list (not an IndexError).
    call = make_call(kernel, full_options(kernel), [(3,), (4,)], np.float64)
    for name in arrays_written(call):
        if name != "params":
            with pytest.raises(ValueError, match=name):
                getattr(backend, kernel)(**dict(call, **{name: []}))


# ----- parallel_copy ----------------------------------------------------------------------
def _copy_sizes() -> list[tuple[type, int]]:
    threshold = 1 << 20  # bytes: below it one thread copies
    sizes = []
    for dtype in DTYPES:
        n = threshold // np.dtype(dtype).itemsize
        sizes += [(dtype, k) for k in (0, 1, 7, 33, n - 1, n, n + 1, 3 * n + 5)]
    return sizes


@pytest.mark.parametrize("offset", [0, 1], ids=["aligned", "offset"])
@pytest.mark.parametrize("dtype, size", _copy_sizes(),
                         ids=lambda v: np.dtype(v).name if isinstance(v, type) else str(v))
def test_parallel_copy_matches_numpy(dtype, size, offset):
    rng = np.random.default_rng(size)
    # offset=1 starts both buffers one element past an allocation, off a 16-byte line.
    src = np.ascontiguousarray(rng.standard_normal(size + offset), dtype=dtype)[offset:]
    dst = np.full(size + offset, np.nan, dtype=dtype)[offset:]
    _cpu.parallel_copy(src, dst)
    np.testing.assert_array_equal(dst, src)
    twin = np.empty_like(src)
    reference.parallel_copy(src, twin)
    np.testing.assert_array_equal(dst, twin)


def test_parallel_copy_stays_inside_its_destination():
    storage = np.full(300_000, -1.0, dtype=np.float32)
    src = np.arange(299_990, dtype=np.float32)
    _cpu.parallel_copy(src, storage[3:-7])
    np.testing.assert_array_equal(storage[3:-7], src)
    assert (storage[:3] == -1).all() and (storage[-7:] == -1).all()


def test_parallel_copy_multidimensional():
    src = np.random.default_rng(0).standard_normal((64, 128, 33))
    dst = np.empty_like(src)
    _cpu.parallel_copy(src, dst)
    np.testing.assert_array_equal(dst, src)


@pytest.mark.parametrize("src, dst, exception, pattern", [
    (np.zeros(4, np.float32), np.zeros(5, np.float32), ValueError, "shape"),
    (np.zeros((2, 3)), np.zeros((3, 2)), ValueError, "shape"),
    (np.zeros(4, np.float32), np.zeros(4, np.float64), TypeError, "dtype"),
    (np.zeros(4, np.int32), np.zeros(4, np.int32), TypeError, "float32 or float64"),
    (np.zeros((4, 3)).T, np.zeros((3, 4)), ValueError, "C-contiguous"),
    (np.zeros(4), np.zeros(8)[::2], ValueError, "C-contiguous"),
    (np.zeros(4), _read_only(np.zeros(4)), ValueError, "writable"),
    ([0.0, 1.0], np.zeros(2), TypeError, "src"),
    (np.zeros(2), None, TypeError, "dst"),
], ids=["length", "shape", "dtype", "int", "transposed-src", "strided-dst", "read-only-dst",
        "list-src", "none-dst"])
@pytest.mark.parametrize("kernel", ["parallel_copy", "accumulate"])
def test_copy_and_accumulate_bad_input(kernel, src, dst, exception, pattern):
    with pytest.raises(exception, match=pattern):
        getattr(_cpu, kernel)(src, dst)


@pytest.mark.parametrize("kernel", ["parallel_copy", "accumulate"])
def test_copy_and_accumulate_refuse_overlap(kernel):
    a = np.arange(10.0)
    with pytest.raises(ValueError, match="share memory"):
        getattr(_cpu, kernel)(a, a)
    with pytest.raises(ValueError, match="share memory"):
        getattr(_cpu, kernel)(a[:6], a[4:])
    np.testing.assert_array_equal(a, np.arange(10.0))


# ----- accumulate -------------------------------------------------------------------------
# Sizes around the vector widths, the 16384-element chunk and the 32768-element threading
# threshold of the SGD kernel it runs on.
ACCUMULATE_SIZES = (0, 1, 7, 33, 16383, 16385, 32767, 32768, 100_003)


@pytest.mark.parametrize("size", ACCUMULATE_SIZES)
@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
def test_accumulate_is_numpy_addition_bit_for_bit(size, dtype, simd_level):
    rng = np.random.default_rng(size)
    dst = rng.standard_normal(size).astype(dtype)
    src = rng.standard_normal(size).astype(dtype)
    src[::97] = np.nan  # a NaN must reach exactly its own element
    expected = dst + src
    twin = dst.copy()
    _cpu.accumulate(src, dst)
    np.testing.assert_array_equal(dst, expected)
    reference.accumulate(src, twin)
    np.testing.assert_array_equal(twin, expected)


def test_accumulate_multidimensional_and_inside_its_destination():
    rng = np.random.default_rng(1)
    storage = np.full(64 * 130 * 3 + 10, -1.0, dtype=np.float32)
    dst = storage[3:-7].reshape(64, 130, 3)
    dst[...] = rng.standard_normal(dst.shape)
    src = rng.standard_normal(dst.shape).astype(np.float32)
    expected = dst + src
    _cpu.accumulate(src, dst)
    np.testing.assert_array_equal(dst, expected)
    assert (storage[:3] == -1).all() and (storage[-7:] == -1).all()


def test_accumulate_is_in_the_backends():
    assert cpu.accumulate is _cpu.accumulate
    a = np.ones(3)
    reference.accumulate(np.arange(3.0), a)
    np.testing.assert_array_equal(a, [1.0, 2.0, 3.0])
    with pytest.raises(ValueError, match="accumulate"):
        reference.accumulate(np.ones(3), np.ones(4))
