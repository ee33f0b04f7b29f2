"""Matrix products on the backend's GEMM kernel: matmul (batched) and linear."""

from __future__ import annotations

import math

from .function import Function
from .ops_elementwise import unbroadcast


def _check_float_pair(a, b, what: str) -> None:
    if a.dtype != b.dtype:
        raise TypeError(
            f"{what}: operands have different dtypes ({a.dtype} and {b.dtype}); convert one "
            "with .float() or .double()"
        )
    if a.dtype.kind != "f":
        raise TypeError(f"{what} needs float32 or float64 operands, got {a.dtype}")


def _gemm_operand(xp, x):
    """x itself when the GEMM kernel reads it in place, else a C-contiguous copy.

    The kernel reads a matrix (or each matrix of a stack) through its strides when they are
    non-negative whole elements and one of the last two axes has unit stride with at least a
    row between rows: row slices of a larger array and transposed views (x.T) pass, and so do
    broadcast batch axes; a reversed or step-2 view is copied. Axes of length 1 are never
    stepped along, so their strides do not count.
    """
    if x.flags.c_contiguous or x.size == 0:
        return x
    item = x.itemsize
    # Element strides; -1 for an axis of length 1, None for one the kernel cannot step along.
    steps = [-1 if n == 1 else s // item if s >= 0 and s % item == 0 else None
             for s, n in zip(x.strides, x.shape)]
    if None in steps:
        return xp.ascontiguousarray(x)
    (rows, cols), (row_step, col_step) = x.shape[-2:], steps[-2:]
    row_major = col_step in (-1, 1) and (row_step == -1 or row_step >= cols)
    transposed = row_step in (-1, 1) and (col_step == -1 or col_step >= rows)
    return x if row_major or transposed else xp.ascontiguousarray(x)


def gemm(backend, a, b, trans_a: bool = False, trans_b: bool = False, out=None, beta: float = 0.0):
    """op(a) @ op(b) through the backend's GEMM; a, b 2-D, or 3-D stacks of equal batch.

    Views go to the kernel as they are (see ``_gemm_operand``); ``out``, when given, must be
    C-contiguous (it is allocated with ``xp.empty``).
    """
    xp = backend.xp
    a, b = _gemm_operand(xp, a), _gemm_operand(xp, b)
    if out is None:
        m = a.shape[-1] if trans_a else a.shape[-2]
        n = b.shape[-2] if trans_b else b.shape[-1]
        out = xp.empty(a.shape[:-2] + (m, n), dtype=a.dtype)
    # Positional: keyword arguments cost a native binding 0.4 us a call.
    backend.gemm(a, b, out, trans_a, trans_b, 1.0, beta)
    return out


def _as_rows(x):
    """(..., K) as a (rows, K) matrix; sizes spelled out, as reshape(-1, 0) is ambiguous."""
    if x.ndim == 2:
        return x
    return x.reshape(math.prod(x.shape[:-1]), x.shape[-1])


# ctx.grad_into when backward runs outside the engine: nothing to add into.
_NO_TARGETS = (None, None, None)


def _product_into(backend, into, shape, a, b, trans_a: bool = False, trans_b: bool = False):
    """op(a) @ op(b) as an array of ``shape``: a new one, or, when the engine offers an
    array to add into (``into``, from ctx.grad_into, of that shape) and no operand shares
    its memory, that array with the product added by the GEMM (beta = 1)."""
    xp = backend.xp
    if into is None or xp.may_share_memory(into, a) or xp.may_share_memory(into, b):
        return gemm(backend, a, b, trans_a, trans_b).reshape(shape)
    gemm(backend, a, b, trans_a, trans_b, out=_as_rows(into), beta=1.0)
    return into


def _batched(backend, a, b, trans_a: bool, trans_b: bool):
    """op(a) @ op(b) for (..., M, K) stacks with NumPy batch broadcasting."""
    xp = backend.xp
    batch = xp.broadcast_shapes(a.shape[:-2], b.shape[:-2])
    count = math.prod(batch)
    a3 = xp.broadcast_to(a, batch + a.shape[-2:]).reshape((count,) + a.shape[-2:])
    b3 = xp.broadcast_to(b, batch + b.shape[-2:]).reshape((count,) + b.shape[-2:])
    out = gemm(backend, a3, b3, trans_a, trans_b)
    return out.reshape(batch + out.shape[-2:])


class MatMul(Function):
    """a (..., M, K) @ b (..., K, N), both at least 2-D (the Tensor layer lifts 1-D operands).

    When b is a plain matrix, a's leading axes fold into rows: one GEMM of
    (prod(...) * M, K) @ (K, N), and the weight gradient is one GEMM too.
    """

    fresh_grads = True  # each gradient is a new GEMM output (or a sum of one)
    adds_into_grads = True  # with a 2-D b, by the GEMM with beta = 1

    @staticmethod
    def forward(ctx, a, b):
        _check_float_pair(a, b, "matmul")
        if a.shape[-1] != b.shape[-2]:
            raise ValueError(
                f"matmul: shapes {a.shape} and {b.shape} do not align: a has {a.shape[-1]} "
                f"columns but b has {b.shape[-2]} rows"
            )
        ctx.save_for_backward(a, b)
        if b.ndim == 2:
            out = gemm(ctx.backend, _as_rows(a), b)
            return out if a.ndim == 2 else out.reshape(a.shape[:-1] + (b.shape[1],))
        return _batched(ctx.backend, a, b, False, False)

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved
        need_a, need_b = ctx.needs_input_grad
        backend, xp = ctx.backend, ctx.xp
        grad_a = grad_b = None
        if b.ndim == 2:
            g_rows, into = _as_rows(grad), ctx.grad_into or _NO_TARGETS
            if need_a:
                grad_a = _product_into(backend, into[0], a.shape, g_rows, b, trans_b=True)
            if need_b:
                grad_b = _product_into(backend, into[1], b.shape, _as_rows(a), g_rows,
                                       trans_a=True)
            return grad_a, grad_b
        if need_a:
            grad_a = unbroadcast(xp, _batched(backend, grad, b, False, True), a.shape)
        if need_b:
            grad_b = unbroadcast(xp, _batched(backend, a, grad, True, False), b.shape)
        return grad_a, grad_b


class Linear(Function):
    """y = x @ weight.T + bias; x (..., in), weight (out, in), bias (out,) or None.

    The bias is fused into the GEMM: out starts as the broadcast bias and the
    product accumulates onto it (beta = 1), saving a pass over the output.
    """

    # Each gradient is a new array (two GEMM outputs and a sum), so a leaf adopts its
    # weight gradient instead of copying it: a copy of the weight's size every step.
    fresh_grads = True
    adds_into_grads = True  # x's and the weight's gradients, by the GEMM with beta = 1

    @staticmethod
    def forward(ctx, x, weight, bias=None):
        _check_float_pair(x, weight, "linear")
        if x.ndim == 0 or x.shape[-1] != weight.shape[1]:
            raise ValueError(
                f"linear: input of shape {x.shape} does not match the layer: expected (..., "
                f"{weight.shape[1]}) features, got {x.shape[-1] if x.ndim else 'a scalar'}"
            )
        xp = ctx.xp
        rows = _as_rows(x)
        ctx.save_for_backward(rows, weight)
        ctx.input_shape = x.shape
        out = xp.empty((rows.shape[0], weight.shape[0]), dtype=x.dtype)
        if bias is None:
            gemm(ctx.backend, rows, weight, trans_b=True, out=out)
        else:
            out[...] = bias
            gemm(ctx.backend, rows, weight, trans_b=True, out=out, beta=1.0)
        return out if x.ndim == 2 else out.reshape(x.shape[:-1] + (weight.shape[0],))

    @staticmethod
    def backward(ctx, grad):
        rows, weight = ctx.saved
        backend = ctx.backend
        g_rows = _as_rows(grad)
        need = ctx.needs_input_grad
        into = ctx.grad_into or _NO_TARGETS
        grad_x = grad_w = None
        if need[0]:
            grad_x = _product_into(backend, into[0], ctx.input_shape, g_rows, weight)
        if need[1]:
            grad_w = _product_into(backend, into[1], weight.shape, g_rows, rows, trans_a=True)
        grad_b = g_rows.sum(axis=0) if len(need) > 2 and need[2] else None
        return grad_x, grad_w, grad_b
