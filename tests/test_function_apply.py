"""Function.apply (native, csrc/bindings/cpu_function_apply.cpp): what forward receives,
what the result is, when the node is recorded, its errors, and that it keeps no references."""

from __future__ import annotations

import sys

import numpy as np
import pytest

import axonic
from axonic import backends, nn
from axonic.autograd import Function
from axonic.tensor import Tensor

_multiarray = getattr(np, "_core", None) or np.core  # NumPy 2 moved it
handler_name = _multiarray.multiarray.get_handler_name


class Record(Function):
    """Returns x + 1 and keeps what apply handed to forward."""

    seen: dict = {}

    @staticmethod
    def forward(ctx, x, *rest):
        Record.seen = {"ctx": ctx, "x": x, "rest": rest, "allocator": handler_name()}
        return x + 1

    @staticmethod
    def backward(ctx, grad):
        return (grad,) + (None,) * (len(ctx.needs_input_grad) - 1)


class Fails(Function):
    @staticmethod
    def forward(ctx, x):
        raise ZeroDivisionError("forward's own error")


class ReturnsScalar(Function):
    @staticmethod
    def forward(ctx, x):
        return x.sum()  # a NumPy scalar, not an array

    @staticmethod
    def backward(ctx, grad):
        return np.broadcast_to(grad, ctx.shape).copy()


class DeviceArray:
    """Looks like a device array to apply (it has __cuda_array_interface__)."""

    __cuda_array_interface__ = {}


def test_forward_gets_arrays_for_tensors_and_other_arguments_unchanged():
    x = axonic.tensor([1.0, 2.0])
    options = {"axis": 0}
    out = Record.apply(x, options, 3)
    assert Record.seen["x"] is x._data
    assert Record.seen["rest"][0] is options and Record.seen["rest"][1] == 3
    assert Record.seen["allocator"] == "axonic_block_cache"
    assert handler_name() == "default_allocator"
    assert type(out) is Tensor and out.grad is None and out.is_leaf
    np.testing.assert_array_equal(out.numpy(), [2.0, 3.0])


def test_context_holds_the_backend_and_which_inputs_need_grad():
    a = axonic.tensor([1.0], requires_grad=True)
    b = axonic.tensor([2.0])
    c = nn.Parameter(axonic.tensor([3.0]))  # a Tensor subclass counts as a Tensor
    out = Record.apply(a, b, 5, c)
    ctx = Record.seen["ctx"]
    assert ctx.needs_input_grad == (True, False, True)
    assert ctx.backend is backends.cpu and ctx.xp is np
    assert out.requires_grad and out._node.inputs == [a, b, c] and out._node.ctx is ctx
    assert out._node.function is Record
    backends.use_reference_kernels(True)
    try:
        Record.apply(a)
        assert Record.seen["ctx"].backend is backends.reference
    finally:
        backends.use_reference_kernels(False)


def test_no_node_without_an_input_that_requires_grad_or_under_no_grad():
    out = Record.apply(axonic.tensor([1.0]))
    assert not out.requires_grad and out._node is None
    x = axonic.tensor([1.0], requires_grad=True)
    with axonic.no_grad():
        out = Record.apply(x)
    assert not out.requires_grad and out._node is None


def test_a_scalar_result_becomes_a_zero_dim_array():
    x = axonic.tensor([[1.0, 2.0], [3.0, 4.0]], dtype="float64", requires_grad=True)
    out = ReturnsScalar.apply(x)
    assert isinstance(out._data, np.ndarray) and out.shape == () and out.item() == 10.0


def test_forwards_exception_passes_through_and_the_allocator_is_restored():
    with pytest.raises(ZeroDivisionError, match="forward's own error"):
        Fails.apply(axonic.tensor([1.0]))
    assert handler_name() == "default_allocator"


def test_apply_without_a_tensor_is_a_type_error():
    with pytest.raises(TypeError, match="Record.apply needs at least one Tensor argument"):
        Record.apply(1.0, 2.0)


def test_tensors_on_two_devices_are_refused_before_forward_runs():
    cpu = axonic.tensor([1.0])
    elsewhere = Tensor._wrap(DeviceArray())
    Record.seen = {}
    message = r"Record: expected all tensors on one device, found cpu and cuda; move them with " \
              r"\.to\('cpu'\)"
    with pytest.raises(RuntimeError, match=message):
        Record.apply(cpu, elsewhere)
    assert Record.seen == {}


def test_apply_keeps_no_references():
    x = axonic.tensor([1.0, 2.0], requires_grad=True)
    marker = object()
    Record.seen = {}
    before = [sys.getrefcount(o) for o in (x, x._data, marker, Record)]
    for _ in range(1000):
        Record.apply(x, marker)
        with pytest.raises(ZeroDivisionError):
            Fails.apply(x)
        with pytest.raises(RuntimeError):
            Record.apply(x, marker, Tensor._wrap(DeviceArray()))
        with pytest.raises(TypeError):
            Record.apply(marker)
    Record.seen = {}
    after = [sys.getrefcount(o) for o in (x, x._data, marker, Record)]
    assert after == before
