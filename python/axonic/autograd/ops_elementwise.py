"""Elementwise operations with NumPy broadcasting; glue through the backend's xp."""

from __future__ import annotations

from .function import Function


def unbroadcast(xp, grad, shape: tuple):
    """Sums ``grad`` over the axes broadcasting added or stretched, back to ``shape``."""
    if grad.shape == shape:
        return grad
    extra = grad.ndim - len(shape)
    if extra:
        # asarray: summing every axis (shape == ()) gives a NumPy scalar, not an array
        grad = xp.asarray(grad.sum(axis=tuple(range(extra))))
    stretched = tuple(i for i, n in enumerate(shape) if n == 1 and grad.shape[i] != 1)
    if stretched:
        grad = grad.sum(axis=stretched, keepdims=True)
    return grad


class Add(Function):
    @staticmethod
    def forward(ctx, a, b):
        ctx.shapes = (a.shape, b.shape)
        return a + b

    @staticmethod
    def backward(ctx, grad):
        return tuple(unbroadcast(ctx.xp, grad, s) for s in ctx.shapes)


class Sub(Function):
    @staticmethod
    def forward(ctx, a, b):
        ctx.shapes = (a.shape, b.shape)
        return a - b

    @staticmethod
    def backward(ctx, grad):
        a_shape, b_shape = ctx.shapes
        return unbroadcast(ctx.xp, grad, a_shape), unbroadcast(ctx.xp, -grad, b_shape)


class Mul(Function):
    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return a * b

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved
        need_a, need_b = ctx.needs_input_grad
        return (
            unbroadcast(ctx.xp, grad * b, a.shape) if need_a else None,
            unbroadcast(ctx.xp, grad * a, b.shape) if need_b else None,
        )


class Div(Function):
    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return a / b

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved
        need_a, need_b = ctx.needs_input_grad
        return (
            unbroadcast(ctx.xp, grad / b, a.shape) if need_a else None,
            unbroadcast(ctx.xp, -grad * a / (b * b), b.shape) if need_b else None,
        )


class Pow(Function):
    """a ** b for two tensors (broadcasting); d/db uses log(a), NaN for a < 0 as in PyTorch."""

    @staticmethod
    def forward(ctx, a, b):
        out = a**b
        ctx.save_for_backward(a, b, out)
        return out

    @staticmethod
    def backward(ctx, grad):
        a, b, out = ctx.saved
        xp = ctx.xp
        need_a, need_b = ctx.needs_input_grad
        grad_a = grad_b = None
        if need_a:
            grad_a = unbroadcast(xp, grad * b * a ** (b - 1), a.shape)
        if need_b:
            with_log = xp.where(a == 0, 0, out * xp.log(xp.where(a == 0, 1, a)))
            grad_b = unbroadcast(xp, grad * with_log, b.shape)
        return grad_a, grad_b


class PowScalar(Function):
    """x ** exponent for a constant exponent."""

    @staticmethod
    def forward(ctx, x, exponent):
        ctx.save_for_backward(x)
        ctx.exponent = exponent
        return x**exponent

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved
        e = ctx.exponent
        return grad * (e * x ** (e - 1)) if e != 0 else grad * 0


class Neg(Function):
    @staticmethod
    def forward(ctx, x):
        return -x

    @staticmethod
    def backward(ctx, grad):
        return -grad


class Exp(Function):
    @staticmethod
    def forward(ctx, x):
        out = ctx.xp.exp(x)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, grad):
        return grad * ctx.saved[0]


class Log(Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return ctx.xp.log(x)

    @staticmethod
    def backward(ctx, grad):
        return grad / ctx.saved[0]


class Sqrt(Function):
    @staticmethod
    def forward(ctx, x):
        out = ctx.xp.sqrt(x)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, grad):
        return grad / (2 * ctx.saved[0])


class Abs(Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return ctx.xp.abs(x)

    @staticmethod
    def backward(ctx, grad):
        return grad * ctx.xp.sign(ctx.saved[0])  # 0 at x == 0, as PyTorch


class Clip(Function):
    """Clamps into [low, high] (either may be None); gradient flows where low <= x <= high."""

    @staticmethod
    def forward(ctx, x, low, high):
        ctx.save_for_backward(x)
        ctx.bounds = (low, high)
        return ctx.xp.clip(x, low, high)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved
        low, high = ctx.bounds
        inside = ctx.xp.ones(x.shape, dtype=bool)
        if low is not None:
            inside &= x >= low
        if high is not None:
            inside &= x <= high
        return grad * inside


class Where(Function):
    """condition ? a : b with broadcasting; the condition is not differentiable."""

    @staticmethod
    def forward(ctx, condition, a, b):
        ctx.save_for_backward(condition)
        ctx.shapes = (a.shape, b.shape)
        return ctx.xp.where(condition, a, b)

    @staticmethod
    def backward(ctx, grad):
        (condition,) = ctx.saved
        xp = ctx.xp
        a_shape, b_shape = ctx.shapes
        zero = xp.zeros((), dtype=grad.dtype)
        return (
            unbroadcast(xp, xp.where(condition, grad, zero), a_shape),
            unbroadcast(xp, xp.where(condition, zero, grad), b_shape),
        )
