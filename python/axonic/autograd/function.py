"""``Function``: one differentiable operation, forward and backward on raw arrays.

A subclass defines ``forward(ctx, *args)`` returning an array and
``backward(ctx, grad)`` returning one gradient (or None) per Tensor argument, in
order. Arguments that are not Tensors (axes, shapes, flags) pass through
unchanged and get no gradient. ``apply`` unwraps Tensors, runs forward on their
backend, and records the node when any input requires grad.
"""

from __future__ import annotations

from typing import Any

import numpy as np

# axonic.tensor imports this module, so it is partly initialised here; apply reads
# _tensor.Tensor at call time.
from .. import tensor as _tensor
from ..backends import get_backend
from ..grad_mode import is_grad_enabled
from ..memory import call_with_cached_arrays


class Context:
    """What forward leaves for backward: saved arrays, attributes, and the backend."""

    def __init__(self, backend, needs_input_grad: tuple[bool, ...]):
        self.backend = backend
        self.xp = backend.xp
        self.needs_input_grad = needs_input_grad
        self.saved: tuple = ()
        self.grad_into: tuple | None = None

    def save_for_backward(self, *arrays) -> None:
        self.saved = arrays


class Node:
    """A recorded operation: its Function, context, and the Tensors it consumed."""

    __slots__ = ("function", "ctx", "inputs")

    def __init__(self, function: type[Function], ctx: Context, inputs: list):
        self.function = function
        self.ctx = ctx
        self.inputs = inputs


class Function:
    # True when backward returns newly allocated arrays that it keeps no reference to
    # and never hands one array to two inputs: the engine then lets a leaf keep its
    # gradient as .grad without copying it.
    fresh_grads = False
    # True when backward reads ctx.grad_into: per input, an array (a leaf's existing
    # .grad, or the sum of that input's gradients the engine is building) or None.
    # Backward may add that input's gradient into the array (a GEMM with beta = 1
    # instead of a new product and a separate pass of +=) and return the array itself,
    # which tells the engine the sum is done.
    adds_into_grads = False

    @staticmethod
    def forward(ctx: Context, *args: Any):
        raise NotImplementedError

    @staticmethod
    def backward(ctx: Context, grad):
        raise NotImplementedError

    @classmethod
    def apply(cls, *args: Any):
        # Runs on every operation: a small product's whole kernel takes about a
        # microsecond, so this stays free of generators, imports, context managers
        # and repeated lookups.
        tensor_type = _tensor.Tensor
        tensors, raw = [], []
        for a in args:
            if isinstance(a, tensor_type):
                tensors.append(a)
                raw.append(a._data)
            else:
                raw.append(a)
        device = tensors[0].device
        for t in tensors[1:]:
            if t.device != device:
                raise RuntimeError(
                    f"{cls.__name__}: expected all tensors on one device, found {device} and "
                    f"{t.device}; move them with .to('{device}')"
                )
        needs_grad = tuple([t.requires_grad for t in tensors])
        ctx = Context(get_backend(device), needs_grad)
        result = call_with_cached_arrays(cls.forward, ctx, *raw)
        # NumPy reductions return scalars, and a Tensor always holds an array. A device
        # move (Tensor.to) returns an array of the other device, which stays as it is.
        if not isinstance(result, np.ndarray) and not hasattr(result, "__cuda_array_interface__"):
            result = ctx.xp.asarray(result)
        out = tensor_type._wrap(result)
        if True in needs_grad and is_grad_enabled():
            out.requires_grad = True
            out._node = Node(cls, ctx, tensors)
        return out
