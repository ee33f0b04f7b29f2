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

from .. import _cpu, grad_mode
from ..backends import get_backend


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

    # Function.apply(*args): unwraps the Tensor arguments to their arrays, runs forward on
    # their backend (all must share one device) with axonic's block cache as NumPy's
    # allocator, wraps the result in a new Tensor and records the node when an input
    # requires grad and grad mode is on. Native (csrc/bindings/cpu_function_apply.cpp):
    # every operation pays it, and in Python it cost 1.8 us, more than a 16^3 product.
    apply = classmethod(_cpu.function_apply)


def bind_tensor_type(tensor_type: type) -> None:
    """Hands the native apply the classes it builds and the functions it calls; axonic.tensor
    calls this once Tensor exists (it imports this module first)."""
    _cpu.configure_function_apply(tensor_type, Context, Node, get_backend, grad_mode._state,
                                  np.ndarray)
