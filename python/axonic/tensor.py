"""``Tensor``: an n-dimensional array with a device, a dtype and autograd.

A CPU tensor's storage is a ``numpy.ndarray`` (a CUDA tensor's, a CuPy array).
Every differentiable operation is an ``autograd`` Function run on the tensor's
backend; ``backward()`` fills ``.grad`` of the leaves that require it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from .autograd import Function
from .autograd import ops_elementwise as ew
from .autograd import ops_linalg as la
from .autograd import ops_nn as nn_ops
from .autograd import ops_reduce as red
from .autograd import ops_shape as sh
from .autograd.engine import run_backward
from .autograd.function import bind_tensor_type
from .backends.spec import DEFAULT_ALPHA
from .grad_mode import is_grad_enabled

_DTYPE_NAMES = {"float32": np.float32, "float64": np.float64, "float": np.float32,
                "double": np.float64, "int64": np.int64, "long": np.int64, "int32": np.int32,
                "bool": np.bool_}


def _device_or_dtype(target) -> np.dtype:
    """``to(target)``'s dtype; a TypeError naming both kinds of target when it is neither."""
    try:
        return as_dtype(target)
    except TypeError:
        raise TypeError(f"to(): {target!r} is neither a device ('cpu', 'cuda', 'cuda:0') nor a "
                        "dtype (float32, float64, int64, bool)") from None


def as_dtype(dtype) -> np.dtype:
    """A NumPy dtype from np.float32, 'float32', axonic.float32 and friends."""
    if isinstance(dtype, str) and dtype in _DTYPE_NAMES:
        return np.dtype(_DTYPE_NAMES[dtype])
    try:
        return np.dtype(dtype)
    except TypeError as err:
        raise TypeError(f"unknown dtype {dtype!r}; expected float32, float64, int64 or bool") \
            from err


def _default_dtype_for(array: np.ndarray) -> np.dtype:
    """Python floats become float32 (the default), NumPy arrays keep their dtype."""
    if array.dtype.kind in "biu":
        return np.dtype(np.int64) if array.dtype.kind != "b" else np.dtype(np.bool_)
    if array.dtype.kind == "f":
        return array.dtype if array.dtype in (np.float32, np.float64) else np.dtype(np.float32)
    raise TypeError(f"cannot make a tensor from data of dtype {array.dtype}")


class Tensor:
    """An array with autograd. Make one with ``axonic.tensor(data)`` or a creation function."""

    __slots__ = ("_data", "requires_grad", "grad", "_node", "__weakref__")
    __array_priority__ = 1000  # numpy_array + tensor defers to Tensor.__radd__

    def __init__(self, data: Any, dtype=None, requires_grad: bool = False):
        if isinstance(data, Tensor):
            data = data._data
        if hasattr(data, "__cuda_array_interface__"):
            array = data if dtype is None else data.astype(as_dtype(dtype))
        else:
            raw = np.asarray(data)
            if dtype is not None:
                target = as_dtype(dtype)
            elif isinstance(data, (np.ndarray, np.generic)):  # arrays and NumPy scalars
                target = _default_dtype_for(raw)
            else:
                target = np.dtype(np.float32) if raw.dtype.kind == "f" else _default_dtype_for(raw)
            array = np.array(raw, dtype=target, copy=True)
        self._data = array
        self.grad: Tensor | None = None
        self._node = None
        self.requires_grad = False
        if requires_grad:
            self.requires_grad_(True)

    @classmethod
    def _wrap(cls, array) -> Tensor:
        """A tensor around ``array`` without copying (for results of operations). The native
        Function.apply (csrc/bindings/cpu_function_apply.cpp, wrap_result) sets the same four
        slots: a new slot goes there too."""
        t = cls.__new__(cls)
        t._data, t.grad, t._node, t.requires_grad = array, None, None, False
        return t

    # ----- facts --------------------------------------------------------------------------
    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(self._data.shape)

    @property
    def ndim(self) -> int:
        return self._data.ndim

    @property
    def dtype(self) -> np.dtype:
        return self._data.dtype

    @property
    def device(self) -> str:
        # The type test first: hasattr on a NumPy array fails through an exception.
        if type(self._data) is np.ndarray:
            return "cpu"
        return "cuda" if hasattr(self._data, "__cuda_array_interface__") else "cpu"

    @property
    def is_leaf(self) -> bool:
        return self._node is None

    @property
    def T(self) -> Tensor:  # noqa: N802 - NumPy's name
        # Straight to Permute: the axes are a permutation by construction, and permute()'s
        # check cost more than the transpose (x.T on 8x8: 3.6 -> 1.5 us).
        return sh.Permute.apply(self, tuple(range(self.ndim - 1, -1, -1)))

    def size(self, dim: int | None = None):
        return self.shape if dim is None else self.shape[dim]

    def numel(self) -> int:
        return int(self._data.size)

    def __len__(self) -> int:
        if self.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self.shape[0]

    def __repr__(self) -> str:
        body = np.array2string(self.numpy(), separator=", ", prefix="tensor(")
        extras = [] if self.dtype == np.float32 else [f"dtype={self.dtype}"]
        if self.device != "cpu":
            extras.append(f"device='{self.device}'")
        if self._node is not None:
            extras.append(f"grad_fn={self._node.function.__name__}")
        elif self.requires_grad:
            extras.append("requires_grad=True")
        return "tensor(" + ", ".join([body] + extras) + ")"

    # ----- conversion ---------------------------------------------------------------------
    def numpy(self) -> np.ndarray:
        """The data as a NumPy array (shared with the tensor on the CPU)."""
        return self._data.get() if hasattr(self._data, "__cuda_array_interface__") else self._data

    def item(self) -> float | int | bool:
        if self._data.size != 1:
            raise ValueError(f"item() needs a tensor with one element, got shape {self.shape}")
        return self._data.reshape(()).item()

    def tolist(self):
        return self.numpy().tolist()

    def __float__(self) -> float:
        return float(self.item())

    def __int__(self) -> int:
        return int(self.item())

    def __bool__(self) -> bool:
        return bool(self.item())

    def __array__(self, dtype=None, copy=None):
        array = self.numpy()
        return array if dtype is None else array.astype(dtype)

    def astype(self, dtype) -> Tensor:
        """A copy in ``dtype``; differentiable between float dtypes."""
        dtype = as_dtype(dtype)
        if dtype == self.dtype:
            return self
        if self.requires_grad and dtype.kind == "f":
            return _Cast.apply(self, dtype)
        return Tensor._wrap(self._data.astype(dtype))

    def float(self) -> Tensor:
        return self.astype(np.float32)

    def double(self) -> Tensor:
        return self.astype(np.float64)

    def long(self) -> Tensor:
        return self.astype(np.int64)

    def to(self, target) -> Tensor:
        """``to('cpu')``, ``to('cuda')`` (a copy on that device, differentiable: the
        gradient flows back to this tensor's device) or ``to(dtype)``."""
        if isinstance(target, str) and (target in ("cpu", "cuda") or target.startswith("cuda:")):
            from .backends import array_to_device, parse_device

            device = parse_device(target)
            if device == self.device:
                return self
            if self.requires_grad and is_grad_enabled():
                return _ToDevice.apply(self, device)
            return Tensor._wrap(array_to_device(self._data, device))
        return self.astype(_device_or_dtype(target))

    def cpu(self) -> Tensor:
        return self.to("cpu")

    def cuda(self) -> Tensor:
        return self.to("cuda")

    # ----- autograd -----------------------------------------------------------------------
    def requires_grad_(self, requires_grad: bool = True) -> Tensor:
        if requires_grad and self.dtype.kind != "f":
            raise TypeError(f"only float tensors can require gradients, this one is {self.dtype}")
        if not requires_grad and self._node is not None:
            raise RuntimeError("requires_grad_(False) is only for leaves; use detach() here")
        self.requires_grad = requires_grad
        return self

    def detach(self) -> Tensor:
        """The same data, cut from the graph."""
        return Tensor._wrap(self._data)

    def backward(self, grad: Tensor | Any | None = None) -> None:
        """Back-propagates from this tensor, accumulating into the leaves' ``.grad``.

        A non-scalar tensor needs ``grad``, the gradient of the final value with
        respect to this tensor (same shape).
        """
        if not self.requires_grad:
            raise RuntimeError(
                "backward() on a tensor that does not require grad: no input of the "
                "computation had requires_grad=True (or it ran under no_grad())"
            )
        if grad is None:
            if self._data.size != 1:
                raise RuntimeError(
                    f"backward() without a gradient needs a scalar, but this tensor has shape "
                    f"{self.shape}; reduce it (e.g. loss.mean()) or pass "
                    f"backward(grad) with a gradient of that shape"
                )
            grad_array = np.ones_like(self._data)  # CuPy arrays dispatch through NumPy's API
        else:
            grad_array = grad._data if isinstance(grad, Tensor) else np.asarray(grad)
            if tuple(grad_array.shape) != self.shape:
                raise ValueError(f"backward(grad): grad has shape {tuple(grad_array.shape)}, "
                                 f"expected {self.shape}")
            grad_array = grad_array.astype(self.dtype, copy=False)
        run_backward(self, grad_array)

    def zero_(self) -> Tensor:
        self._data[...] = 0
        return self

    # ----- operators ----------------------------------------------------------------------
    def _operand(self, other) -> Tensor:
        """Scalars and arrays become constant tensors of this tensor's dtype and device."""
        if isinstance(other, Tensor):
            return other
        constant = Tensor(other, dtype=self.dtype if self.dtype.kind == "f" else None)
        return constant if self.device == "cpu" else constant.to(self.device)

    def __add__(self, other):
        return ew.Add.apply(self, self._operand(other))

    def __radd__(self, other):
        return ew.Add.apply(self._operand(other), self)

    def __sub__(self, other):
        return ew.Sub.apply(self, self._operand(other))

    def __rsub__(self, other):
        return ew.Sub.apply(self._operand(other), self)

    def __mul__(self, other):
        return ew.Mul.apply(self, self._operand(other))

    def __rmul__(self, other):
        return ew.Mul.apply(self._operand(other), self)

    def __truediv__(self, other):
        return ew.Div.apply(self, self._operand(other))

    def __rtruediv__(self, other):
        return ew.Div.apply(self._operand(other), self)

    def __pow__(self, exponent):
        if isinstance(exponent, Tensor):
            return ew.Pow.apply(self, exponent)
        return ew.PowScalar.apply(self, exponent)

    def __rpow__(self, base):
        return ew.Pow.apply(self._operand(base), self)

    def __neg__(self):
        return ew.Neg.apply(self)

    def __matmul__(self, other):
        return matmul(self, self._operand(other))

    def __rmatmul__(self, other):
        return matmul(self._operand(other), self)

    def _compare(self, other, op) -> Tensor:
        other = other._data if isinstance(other, Tensor) else other
        return Tensor._wrap(op(self._data, other))

    def __eq__(self, other):  # type: ignore[override]
        return self._compare(other, lambda a, b: a == b)

    def __ne__(self, other):  # type: ignore[override]
        return self._compare(other, lambda a, b: a != b)

    def __lt__(self, other):
        return self._compare(other, lambda a, b: a < b)

    def __le__(self, other):
        return self._compare(other, lambda a, b: a <= b)

    def __gt__(self, other):
        return self._compare(other, lambda a, b: a > b)

    def __ge__(self, other):
        return self._compare(other, lambda a, b: a >= b)

    __hash__ = object.__hash__

    def __getitem__(self, index):
        return sh.GetItem.apply(self, _raw_index(index))

    def __setitem__(self, index, value) -> None:
        """In-place write into a tensor outside the graph (a leaf that needs no gradient,
        or any leaf under no_grad), as PyTorch allows."""
        if self._node is not None:
            raise RuntimeError("in-place assignment into a tensor that is the result of an "
                               "operation in the graph; assign into a detach()ed copy")
        if self.requires_grad and is_grad_enabled():
            raise RuntimeError("in-place assignment into a leaf that requires grad; wrap it in "
                               "`with axonic.no_grad():`")
        self._data[_raw_index(index)] = value._data if isinstance(value, Tensor) else value

    # ----- math ---------------------------------------------------------------------------
    def exp(self):
        return ew.Exp.apply(self)

    def log(self):
        return ew.Log.apply(self)

    def sqrt(self):
        return ew.Sqrt.apply(self)

    def abs(self):
        return ew.Abs.apply(self)

    def clip(self, min=None, max=None):  # noqa: A002 - PyTorch's names
        if min is None and max is None:
            raise ValueError("clip needs at least one of min and max")
        return ew.Clip.apply(self, min, max)

    clamp = clip

    def sum(self, axis=None, keepdims: bool = False):
        return red.Sum.apply(self, axis, keepdims)

    def mean(self, axis=None, keepdims: bool = False):
        return red.Mean.apply(self, axis, keepdims)

    def max(self, axis=None, keepdims: bool = False):
        return red.Extremum.apply(self, axis, keepdims, True)

    def min(self, axis=None, keepdims: bool = False):
        return red.Extremum.apply(self, axis, keepdims, False)

    def argmax(self, axis=None) -> Tensor:
        return Tensor._wrap(self._data.argmax(axis=axis))

    def argmin(self, axis=None) -> Tensor:
        return Tensor._wrap(self._data.argmin(axis=axis))

    def reshape(self, *shape):
        shape = tuple(shape[0]) if len(shape) == 1 and isinstance(shape[0], (tuple, list)) \
            else shape
        return sh.Reshape.apply(self, shape)

    view = reshape

    def flatten(self, start_dim: int = 0):
        start = start_dim % max(self.ndim, 1)
        return self.reshape(self.shape[:start] + (-1,))

    def permute(self, *axes):
        axes = tuple(axes[0]) if len(axes) == 1 and isinstance(axes[0], (tuple, list)) else axes
        if sorted(a % self.ndim for a in axes) != list(range(self.ndim)):
            raise ValueError(f"permute: {axes} is not a permutation of {self.ndim} axes")
        return sh.Permute.apply(self, tuple(a % self.ndim for a in axes))

    def transpose(self, dim0: int = -2, dim1: int = -1):
        if self.ndim < 2:
            return self
        axes = list(range(self.ndim))
        axes[dim0], axes[dim1] = axes[dim1], axes[dim0]
        return sh.Permute.apply(self, tuple(axes))

    def squeeze(self, axis=None):
        if axis is None:
            shape = tuple(n for n in self.shape if n != 1)
        else:
            if self.shape[axis] != 1:
                return self
            shape = self.shape[: axis % self.ndim] + self.shape[axis % self.ndim + 1:]
        return self.reshape(shape)

    def unsqueeze(self, axis: int):
        axis = axis % (self.ndim + 1)
        return self.reshape(self.shape[:axis] + (1,) + self.shape[axis:])

    def expand(self, *shape):
        """Broadcasts to ``shape``; -1 keeps the size of that (right-aligned) axis, as PyTorch."""
        shape = tuple(shape[0]) if len(shape) == 1 and isinstance(shape[0], (tuple, list)) \
            else shape
        offset = len(shape) - self.ndim
        if offset < 0:
            raise ValueError(f"expand: shape {shape} has fewer dimensions than the tensor's "
                             f"{self.shape}")
        shape = tuple(self.shape[i - offset] if n == -1 and i >= offset else n
                      for i, n in enumerate(shape))
        return sh.BroadcastTo.apply(self, shape)

    def matmul(self, other):
        return matmul(self, other)

    # activations, so `x.relu()` reads like PyTorch
    def _activation(self, kind: str, alpha: float | None = None):
        return nn_ops.Activation.apply(self, kind, DEFAULT_ALPHA.get(kind, 0.0)
                                       if alpha is None else float(alpha))

    def relu(self):
        return self._activation("relu")

    def sigmoid(self):
        return self._activation("sigmoid")

    def tanh(self):
        return self._activation("tanh")

    def softmax(self, axis: int = -1):
        return nn_ops.Softmax.apply(self, axis, False)

    def log_softmax(self, axis: int = -1):
        return nn_ops.Softmax.apply(self, axis, True)


bind_tensor_type(Tensor)  # the class Function.apply wraps its results in


class _ToDevice(Function):
    """A copy on another device; the gradient is copied back."""

    @staticmethod
    def forward(ctx, x, device):
        from .backends import array_to_device

        ctx.source = "cuda" if hasattr(x, "__cuda_array_interface__") else "cpu"
        return array_to_device(x, device)

    @staticmethod
    def backward(ctx, grad):
        from .backends import array_to_device

        return array_to_device(grad, ctx.source)


class _Cast(Function):
    @staticmethod
    def forward(ctx, x, dtype):
        ctx.dtype = x.dtype
        return x.astype(dtype)

    @staticmethod
    def backward(ctx, grad):
        return grad.astype(ctx.dtype)


def _raw_index(index):
    """Tensors inside an index become their arrays."""
    if isinstance(index, Tensor):
        return index._data
    if isinstance(index, tuple):
        return tuple(i._data if isinstance(i, Tensor) else i for i in index)
    return index


def _as_tensor(x, like: Tensor | None = None) -> Tensor:
    if isinstance(x, Tensor):
        return x
    return like._operand(x) if like is not None else Tensor(x)


def matmul(a, b) -> Tensor:
    """Matrix product with NumPy's rules: 1-D operands are lifted and the axis dropped after."""
    a, b = _as_tensor(a), _as_tensor(b)
    if a.ndim == 0 or b.ndim == 0:
        raise ValueError(f"matmul needs at least 1-D operands, got shapes {a.shape} and {b.shape}")
    squeeze_rows, squeeze_cols = a.ndim == 1, b.ndim == 1
    a2 = a.reshape(1, -1) if squeeze_rows else a
    b2 = b.reshape(-1, 1) if squeeze_cols else b
    out = la.MatMul.apply(a2, b2)
    if squeeze_rows:
        out = out.squeeze(-2)
    if squeeze_cols:
        out = out.squeeze(-1)
    return out


def concatenate(tensors: Sequence[Tensor], axis: int = 0) -> Tensor:
    tensors = [_as_tensor(t) for t in tensors]
    if not tensors:
        raise ValueError("concatenate needs at least one tensor")
    return sh.Concatenate.apply(axis, *tensors)


cat = concatenate


def stack(tensors: Sequence[Tensor], axis: int = 0) -> Tensor:
    tensors = [_as_tensor(t) for t in tensors]
    if not tensors:
        raise ValueError("stack needs at least one tensor")
    return sh.Stack.apply(axis, *tensors)


def where(condition, a, b) -> Tensor:
    """Elementwise ``a if condition else b``; a and b may be tensors or scalars."""
    like = a if isinstance(a, Tensor) else b if isinstance(b, Tensor) else None
    a, b = _as_tensor(a, like), _as_tensor(b, like)
    cond = condition._data if isinstance(condition, Tensor) else np.asarray(condition)
    return ew.Where.apply(cond.astype(bool), a, b)


def clip(x: Tensor, min=None, max=None) -> Tensor:  # noqa: A002
    return x.clip(min, max)
