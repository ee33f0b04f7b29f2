"""Shape operations: reshape, permute, indexing, concatenate, stack, broadcast."""

from __future__ import annotations

from .function import Function


class Reshape(Function):
    @staticmethod
    def forward(ctx, x, shape):
        ctx.shape = x.shape
        return x.reshape(shape)

    @staticmethod
    def backward(ctx, grad):
        return grad.reshape(ctx.shape)


class Permute(Function):
    @staticmethod
    def forward(ctx, x, axes):
        ctx.axes = axes
        return x.transpose(axes)

    @staticmethod
    def backward(ctx, grad):
        inverse = [0] * len(ctx.axes)
        for i, a in enumerate(ctx.axes):
            inverse[a] = i
        return grad.transpose(inverse)


class BroadcastTo(Function):
    @staticmethod
    def forward(ctx, x, shape):
        ctx.shape = x.shape
        return ctx.xp.broadcast_to(x, shape)

    @staticmethod
    def backward(ctx, grad):
        from .ops_elementwise import unbroadcast

        return unbroadcast(ctx.xp, grad, ctx.shape)


def _is_basic_index(index) -> bool:
    parts = index if isinstance(index, tuple) else (index,)
    return all(p is None or p is Ellipsis or isinstance(p, (int, slice)) for p in parts)


class GetItem(Function):
    """x[index] for basic (ints, slices) and advanced (integer/bool arrays) indices."""

    @staticmethod
    def forward(ctx, x, index):
        ctx.index, ctx.shape, ctx.dtype = index, x.shape, x.dtype
        return x[index]

    @staticmethod
    def backward(ctx, grad):
        xp = ctx.xp
        out = xp.zeros(ctx.shape, dtype=grad.dtype)
        if _is_basic_index(ctx.index):
            out[ctx.index] = grad
        else:  # repeated indices must add up, so scatter with add.at
            xp.add.at(out, ctx.index, grad)
        return out


class Concatenate(Function):
    @staticmethod
    def forward(ctx, axis, *arrays):
        ctx.axis = axis
        ctx.sizes = [a.shape[axis] for a in arrays]
        return ctx.xp.concatenate(arrays, axis=axis)

    @staticmethod
    def backward(ctx, grad):
        bounds, total = [], 0
        for n in ctx.sizes[:-1]:
            total += n
            bounds.append(total)
        return tuple(ctx.xp.split(grad, bounds, axis=ctx.axis))


class Stack(Function):
    @staticmethod
    def forward(ctx, axis, *arrays):
        ctx.axis, ctx.count = axis, len(arrays)
        return ctx.xp.stack(arrays, axis=axis)

    @staticmethod
    def backward(ctx, grad):
        return tuple(ctx.xp.take(grad, i, axis=ctx.axis) for i in range(ctx.count))
