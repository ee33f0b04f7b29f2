"""Fused optimizer kernels of axonic._cuda against the NumPy ``reference``, through the
``cuda_kernels`` fixture (the CPU emulator everywhere, the GPU where there is one).

Every kernel runs, for every combination of the options that change its formula
(optimizer_cases.OPTION_GRID), several steps on one list of tensors of 1, 7, 33 and
1000 elements, a 0-d one, an empty one and one that crosses a 16384-element chunk
with a tail that is not a whole 16-byte pack, in float32 and float64. Then tensors
that are not 16-byte aligned (the element-wise path), many tensors in one launch (the
chunk-to-tensor search), NaN gradients, empty lists, bad input (host arrays, lengths,
shapes, dtypes, overlap, coefficients on the device), ``parallel_copy`` and
``accumulate``.
"""

from __future__ import annotations

import numpy as np
import pytest

from axonic.backends import reference
from conftest import assert_close
from optimizer_cases import (
    KERNELS,
    OPTION_GRID,
    arrays_written,
    assert_calls_close,
    full_options,
    grid_id,
    make_call,
    next_step,
)

SHAPES = ((), (7,), (1,), (3, 11), (1000,), (0, 3), (2, 1, 3, 1), (16421,))
DTYPES = (np.float32, np.float64)
STEPS = 3


def to_device_call(K, call: dict) -> dict:
    """The call with every list of arrays on the device (coefficients stay on the host)."""
    return {k: ([K.to_device(a) for a in v] if isinstance(v, list) else v)
            for k, v in call.items()}


def to_host_call(K, device_call: dict) -> dict:
    """The arrays a kernel writes, copied back to NumPy."""
    return {k: [K.to_host(a) for a in v] for k, v in arrays_written(device_call).items()}


def run_both(K, kernel: str, host_call: dict) -> tuple[dict, dict]:
    """Runs the CUDA kernel on a device copy of host_call and the reference on host_call
    itself; returns (CUDA results on the host, reference call)."""
    device_call = to_device_call(K, host_call)
    getattr(K.backend, kernel)(**device_call)
    getattr(reference, kernel)(**host_call)
    return to_host_call(K, device_call), host_call


def misaligned_copy(K, array: np.ndarray):
    """A device copy of `array` that starts one element past a 16-byte boundary."""
    flat = np.ascontiguousarray(array).reshape(-1)
    if K.emulated:
        from cuda_emulator.fixture import HostDeviceArray

        buffer = np.empty(flat.size + 2, dtype=array.dtype)  # NumPy aligns to 16 bytes
        view = buffer[1:1 + flat.size]
        view[...] = flat
        return HostDeviceArray(view.reshape(array.shape), buffer)
    import cupy

    buffer = cupy.empty(flat.size + 2, dtype=array.dtype)
    buffer[1:1 + flat.size] = cupy.asarray(flat)
    return buffer[1:1 + flat.size].reshape(array.shape)


# ----- cuda against reference -------------------------------------------------------------
@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize("case", OPTION_GRID, ids=[grid_id(c) for c in OPTION_GRID])
def test_kernel_matches_reference(cuda_kernels, case, dtype):
    K = cuda_kernels
    kernel, options = case
    host = make_call(kernel, options, SHAPES, dtype)
    device = to_device_call(K, host)
    rng = np.random.default_rng(1)
    for step in range(STEPS):
        if step:  # fresh gradients and the next step's coefficients, in both calls
            next_step(kernel, options, [host], step, rng)
            device["grads"] = [K.to_device(g) for g in host["grads"]]
            if "coefficients" in host:
                device["coefficients"] = host["coefficients"]
        getattr(K.backend, kernel)(**device)
        getattr(reference, kernel)(**host)
        assert_calls_close(to_host_call(K, device), host, dtype, f"step {step + 1}")


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize("kernel", KERNELS)
def test_misaligned_tensors_take_the_element_path(cuda_kernels, kernel, dtype):
    # Tensor 0: every buffer misaligned; tensor 1: only its last state; tensor 2: aligned.
    K = cuda_kernels
    host = make_call(kernel, full_options(kernel), [(45,), (1030,), (33,)], dtype)
    device = to_device_call(K, host)
    for name in arrays_written(host):
        device[name][0] = misaligned_copy(K, host[name][0])
    device["grads"][0] = misaligned_copy(K, host["grads"][0])
    last_state = list(arrays_written(host))[-1]
    device[last_state][1] = misaligned_copy(K, host[last_state][1])
    getattr(K.backend, kernel)(**device)
    getattr(reference, kernel)(**host)
    assert_calls_close(to_host_call(K, device), host, dtype, "misaligned")


@pytest.mark.parametrize("kernel", ["adam_update", "sgd_update"])
def test_many_tensors_in_one_launch(cuda_kernels, kernel):
    # 40 tensors, some spanning several chunks, some empty: each chunk finds its tensor.
    rng = np.random.default_rng(5)
    sizes = rng.choice([0, 1, 3, 4, 17, 500, 16384, 16385, 40000], size=40)
    host = make_call(kernel, full_options(kernel), [(int(n),) for n in sizes], np.float32)
    got, want = run_both(cuda_kernels, kernel, host)
    assert_calls_close(got, want, np.float32, "40 tensors")


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize("kernel", KERNELS)
def test_nan_gradient_poisons_exactly_its_element(cuda_kernels, kernel, dtype):
    host = make_call(kernel, full_options(kernel), SHAPES, dtype)
    # (tensor, flat element): a pack's lane, a tail element, across a chunk boundary.
    poisoned = [(1, 2), (4, 999), (7, 16383), (7, 16384), (7, 16420)]
    for tensor, element in poisoned:
        host["grads"][tensor].reshape(-1)[element] = np.nan
    got, want = run_both(cuda_kernels, kernel, host)
    assert_calls_close(got, want, dtype, "NaN gradient")
    for i, p in enumerate(got["params"]):
        expected_nan = np.zeros(p.size, dtype=bool)
        expected_nan[[element for tensor, element in poisoned if tensor == i]] = True
        np.testing.assert_array_equal(np.isnan(p.reshape(-1)), expected_nan,
                                      err_msg=f"params[{i}]")


@pytest.mark.parametrize("kernel", KERNELS)
def test_empty_lists_and_empty_tensors_are_no_ops(cuda_kernels, kernel):
    K = cuda_kernels
    call = make_call(kernel, full_options(kernel), [], np.float32)
    if KERNELS[kernel].coefficient_width:
        call["coefficients"] = np.zeros((0, KERNELS[kernel].coefficient_width))
    assert getattr(K.backend, kernel)(**call) is None
    empty = make_call(kernel, full_options(kernel), [(0,), (3, 0)], np.float64)
    got, _ = run_both(K, kernel, empty)
    assert all(a.size == 0 for arrays in got.values() for a in arrays)


def test_sgd_first_step_coefficients_start_the_buffer_at_the_gradient(cuda_kernels):
    K = cuda_kernels
    params = [K.to_device(np.ones(9, dtype=np.float32))]
    grads = [K.to_device(np.arange(9, dtype=np.float32))]
    buffers = [K.to_device(np.full(9, 123.0, dtype=np.float32))]
    K.backend.sgd_update(params, grads, buffers, np.array([[0.0, 1.0]]), lr=0.5, momentum=0.9,
                         weight_decay=0.0, nesterov=False, maximize=False)
    np.testing.assert_array_equal(K.to_host(buffers[0]), np.arange(9, dtype=np.float32))
    np.testing.assert_array_equal(K.to_host(params[0]), 1.0 - 0.5 * np.arange(9))


# ----- bad input --------------------------------------------------------------------------
def _replaced(call: dict, name: str, index: int, value) -> dict:
    arrays = list(call[name])
    arrays[index] = value
    return dict(call, **{name: arrays})


F32, F64 = np.float32, np.float64
# (id, change(K, valid device call of adam_update on shapes (5,), (2, 3)), exception,
# message pattern).
BAD_ADAM_CALLS = [
    ("host-param", lambda K, c: _replaced(c, "params", 0, np.zeros(5, F32)), TypeError,
     r"params\[0\] must be a CUDA array"),
    ("host-state", lambda K, c: _replaced(c, "exp_avgs", 1, np.zeros((2, 3), F32)), TypeError,
     r"exp_avgs\[1\] must be a CUDA array"),
    ("grads-shorter", lambda K, c: dict(c, grads=c["grads"][:1]), ValueError,
     "2 params but 1 grads"),
    ("amsgrad-off-with-max", lambda K, c: dict(c, amsgrad=False), ValueError,
     "max_exp_avg_sqs must be empty"),
    ("state-shape", lambda K, c: _replaced(c, "exp_avg_sqs", 0, K.to_device(np.zeros(4, F32))),
     ValueError, r"exp_avg_sqs\[0\]"),
    ("grad-dtype", lambda K, c: _replaced(c, "grads", 1, K.to_device(np.zeros((2, 3), F64))),
     TypeError, r"grads\[1\]"),
    ("int-param", lambda K, c: _replaced(c, "params", 0, K.to_device(np.zeros(5, np.int64))),
     TypeError, "float32 or float64"),
    ("param-is-state", lambda K, c: _replaced(c, "exp_avgs", 1, c["params"][1]), ValueError,
     "share memory"),
    ("coefficients-on-device", lambda K, c: dict(c, coefficients=K.to_device(c["coefficients"])),
     TypeError, "coefficients must be a numpy.ndarray"),
    ("coefficients-rows", lambda K, c: dict(c, coefficients=np.zeros((3, 2))), ValueError,
     r"coefficients must have shape \(2, 2\)"),
]


@pytest.mark.parametrize("case", BAD_ADAM_CALLS, ids=[c[0] for c in BAD_ADAM_CALLS])
def test_bad_input_raises_and_writes_nothing(cuda_kernels, case):
    K = cuda_kernels
    _, change, exception, pattern = case
    options = dict(weight_decay=0.0, decoupled_weight_decay=False, amsgrad=True, maximize=False)
    host = make_call("adam_update", options, [(5,), (2, 3)], np.float32)
    device = to_device_call(K, host)
    with pytest.raises(exception, match=pattern):
        K.backend.adam_update(**change(K, device))
    for name, arrays in to_host_call(K, device).items():
        for got, before in zip(arrays, host[name]):
            np.testing.assert_array_equal(got, before, err_msg=name)


@pytest.mark.parametrize("kernel", KERNELS)
def test_every_kernel_checks_list_lengths_and_shapes(cuda_kernels, kernel):
    K = cuda_kernels
    device = to_device_call(K, make_call(kernel, full_options(kernel), [(3,), (4,)], np.float64))
    for name in arrays_written(device):
        if name == "params":
            continue
        with pytest.raises(ValueError, match=name):
            getattr(K.backend, kernel)(**dict(device, **{name: device[name][:1]}))
        with pytest.raises(ValueError, match=name):
            getattr(K.backend, kernel)(**dict(device, **{name: []}))
        with pytest.raises(ValueError, match=name):
            getattr(K.backend, kernel)(**_replaced(device, name, 1, K.to_device(np.zeros(5))))


def test_stream_is_a_keyword_of_every_kernel(cuda_kernels):
    K = cuda_kernels
    for kernel in list(KERNELS) + ["parallel_copy", "accumulate"]:
        assert "stream: " in getattr(K.module, kernel).__doc__, kernel


# ----- parallel_copy ----------------------------------------------------------------------
@pytest.mark.parametrize("shape", [(0,), (1,), (7,), (33,), (1000,), (3, 5, 7)], ids=str)
@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
def test_parallel_copy_matches_numpy(cuda_kernels, shape, dtype):
    K = cuda_kernels
    src = np.random.default_rng(0).standard_normal(shape).astype(dtype)
    dst = K.empty(shape, dtype)
    K.backend.parallel_copy(K.to_device(src), dst)
    np.testing.assert_array_equal(K.to_host(dst), src)
    twin = np.empty_like(src)
    reference.parallel_copy(src, twin)
    assert_close(K.to_host(dst), twin, rtol=0, atol=0)


@pytest.mark.parametrize("kernel", ["parallel_copy", "accumulate"])
def test_copy_and_accumulate_bad_input(cuda_kernels, kernel):
    K = cuda_kernels
    run = getattr(K.backend, kernel)
    a = K.to_device(np.zeros(4, np.float32))
    with pytest.raises(TypeError, match="src must be a CUDA array"):
        run(np.zeros(4, np.float32), a)
    with pytest.raises(ValueError, match="shape"):
        run(a, K.to_device(np.zeros(5, np.float32)))
    with pytest.raises(TypeError, match="dtype"):
        run(a, K.to_device(np.zeros(4, np.float64)))
    with pytest.raises(ValueError, match="share memory"):
        run(a, a)


# ----- accumulate -------------------------------------------------------------------------
@pytest.mark.parametrize("shape", [(0,), (1,), (7,), (33,), (1000,), (3, 5, 7)], ids=str)
@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
def test_accumulate_is_addition_bit_for_bit(cuda_kernels, shape, dtype):
    K = cuda_kernels
    rng = np.random.default_rng(3)
    dst = rng.standard_normal(shape).astype(dtype)
    src = rng.standard_normal(shape).astype(dtype)
    device_dst = K.to_device(dst)
    K.backend.accumulate(K.to_device(src), device_dst)
    np.testing.assert_array_equal(K.to_host(device_dst), dst + src)

