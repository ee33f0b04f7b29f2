"""MatMul and Linear on views: slices and transposes reach the GEMM kernel without copies,
and values and gradients match the reference backend."""

from __future__ import annotations

import numpy as np
import pytest

import axonic
from axonic import _cpu, backends
from axonic.autograd.ops_linalg import _gemm_operand
from axonic.backends import cpu
from axonic.nn import functional as F
from conftest import assert_close, gradcheck


def _randn(*shape, seed: int = 0, dtype=np.float64) -> np.ndarray:
    return np.random.default_rng(seed).standard_normal(shape).astype(dtype)


# Views the kernel reads in place, and views _gemm_operand must copy (the binding refuses them).
IN_PLACE = {
    "window": lambda x: x[1:5, 2:7],
    "transposed": lambda x: x.T,
    "transposed-window": lambda x: x[1:5, 2:7].T,
    "stack-transposed": lambda x: x.reshape(2, 3, 8).transpose(0, 2, 1),
    "stack-broadcast": lambda x: np.broadcast_to(x, (3,) + x.shape),
    "length-1-reversed": lambda x: x[:1][::-1],
}
COPIED = {
    "reversed-rows": lambda x: x[::-1],
    "step-2-columns": lambda x: x[:, ::2],
    "step-2-both": lambda x: x[::2, ::2],
    "broadcast-rows": lambda x: np.broadcast_to(x[0], (4, 8)),
}


@pytest.mark.parametrize("view", IN_PLACE)
def test_gemm_operand_passes_readable_views_through(view):
    x = IN_PLACE[view](_randn(6, 8))
    assert _gemm_operand(np, x) is x
    b = _randn(*x.shape[:-2], x.shape[-1], 3)
    out = np.empty(x.shape[:-1] + (3,))
    _cpu.gemm(x, b, out)  # the binding agrees
    assert_close(out, x @ b)


@pytest.mark.parametrize("view", COPIED)
def test_gemm_operand_copies_what_the_kernel_cannot_read(view):
    x = COPIED[view](_randn(6, 8))
    with pytest.raises(ValueError):  # the binding agrees
        _cpu.gemm(x, _randn(x.shape[-1], 3), np.empty(x.shape[:-1] + (3,)))
    copy = _gemm_operand(np, x)
    assert copy.flags.c_contiguous and not np.shares_memory(copy, x)
    np.testing.assert_array_equal(copy, x)


def test_matmul_and_linear_hand_views_to_the_kernel(monkeypatch):
    """Forward and backward GEMMs read the caller's slices and transposes, not copies."""
    calls = []
    kernel = cpu.gemm

    def recording_gemm(a, b, out, *args):
        calls.append((a, b))
        kernel(a, b, out, *args)

    monkeypatch.setattr(cpu, "gemm", recording_gemm)
    x_base = axonic.tensor(_randn(6, 9, seed=1), requires_grad=True)
    w_base = axonic.tensor(_randn(5, 7, seed=2), requires_grad=True)
    x, w = x_base[1:5, 2:7], w_base.T  # (4, 5) window and (7, 5) transposed
    (x @ w.T[:, :3]).sum().backward()  # x (4, 5) @ (5, 3)
    F.linear(x, w).sum().backward()    # x (4, 5) @ w.T: weight (7, 5) read transposed
    assert len(calls) == 6
    upstream_shapes = {(4, 3), (4, 7)}  # the gradients of the two outputs
    operands = [op for call in calls for op in call if op.shape not in upstream_shapes]
    assert len(operands) == 8
    for operand in operands:
        assert any(np.shares_memory(operand, base.numpy()) for base in (x_base, w_base))


def _values_and_grads(fn, arrays, reference: bool):
    backends.use_reference_kernels(reference)
    try:
        tensors = [axonic.tensor(a, requires_grad=True) for a in arrays]
        out = fn(*tensors)
        out.backward(axonic.tensor(_randn(*out.shape, seed=9, dtype=arrays[0].dtype)))
        return [out.numpy()] + [t.grad.numpy() for t in tensors]
    finally:
        backends.use_reference_kernels(False)


# fn over tensors, input shapes: each builds slices/transposes inside the graph.
VIEW_CASES = {
    "window @ window": (lambda a, b: a[1:5, 2:7] @ b[:, 1:4], [(6, 9), (5, 6)]),
    "transposed @ transposed": (lambda a, b: a.T @ b.T, [(7, 4), (3, 7)]),
    "window.T @ window": (lambda a, b: a[1:6, 2:6].T @ b[2:7, :3], [(8, 9), (9, 5)]),
    "stack.T @ stack": (lambda a, b: a.transpose(-1, -2) @ b, [(3, 5, 4), (3, 5, 2)]),
    "broadcast stack": (lambda a, b: a @ b.transpose(-1, -2), [(1, 4, 6), (3, 5, 6)]),
    "stack @ matrix.T": (lambda a, b: a[:, 1:] @ b.T, [(2, 4, 6), (3, 6)]),
    "linear window": (lambda x, w, b: F.linear(x[:, 2:7], w, b), [(4, 9), (3, 5), (3,)]),
    "linear transposed": (lambda x, w: F.linear(x.T, w.T), [(5, 4), (5, 3)]),
}


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("case", VIEW_CASES)
def test_views_match_the_reference_backend(case, dtype):
    fn, shapes = VIEW_CASES[case]
    arrays = [_randn(*shape, seed=i, dtype=dtype) for i, shape in enumerate(shapes)]
    expected = _values_and_grads(fn, arrays, reference=True)
    actual = _values_and_grads(fn, arrays, reference=False)
    for got, want in zip(actual, expected):
        assert_close(got, want)


@pytest.mark.parametrize("case", VIEW_CASES)
def test_views_gradcheck(case):
    fn, shapes = VIEW_CASES[case]
    gradcheck(fn, *[_randn(*shape, seed=i) for i, shape in enumerate(shapes)])
