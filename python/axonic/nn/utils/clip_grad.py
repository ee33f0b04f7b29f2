"""Gradient clipping, as ``torch.nn.utils``: by total norm and by value, in place.

The functions read and scale ``p.grad._data`` (the gradient's NumPy or CuPy array) through
the array's own methods, so they work on either device, and never replace ``p.grad``.
"""

from __future__ import annotations

import math

import numpy as np

from ...backends import get_backend
from ...tensor import Tensor
from ._parameters import TensorOrTensors, tensor_list

__all__ = ["clip_grad_norm_", "clip_grad_value_", "clip_grads_with_norm_", "get_total_norm"]


def _vector_norm(values, norm_type: float) -> float:
    """torch.linalg.vector_norm of a 1-D float64 array (NumPy or CuPy) of length n.

    inf: max |x|; -inf: min |x|; 0: the count of non-zeros; p: (sum |x|^p)^(1/p).
    """
    if norm_type == 0:
        return float((values != 0).sum())
    if values.size == 0 and (norm_type < 0 or math.isinf(norm_type)):
        raise RuntimeError(f"cannot compute the {norm_type} norm of an empty gradient because "
                           "the operation does not have an identity")
    magnitudes = abs(values)
    if norm_type == math.inf:
        return float(magnitudes.max())
    if norm_type == -math.inf:
        return float(magnitudes.min())
    if norm_type == 1:
        return float(magnitudes.sum())
    if norm_type == 2:
        return math.sqrt(float(values @ values))
    with np.errstate(divide="ignore", over="ignore"):  # |0|^p = inf for p < 0, as torch
        return float(((magnitudes ** norm_type).sum()) ** (1.0 / norm_type))


def get_total_norm(tensors: TensorOrTensors, norm_type: float = 2.0,
                   error_if_nonfinite: bool = False) -> Tensor:
    """The ``norm_type`` norm of the tensors' norms, as if they were one concatenated vector.

    ``tensors`` (the gradients themselves, any shapes) is one Tensor or an iterable of
    them; ``norm_type`` may be ``float('inf')``. The sums run in float64; the result is a
    0-d Tensor of the tensors' common dtype, on the first tensor's device, or
    ``tensor(0.0)`` (float32) when there are no tensors. NaN anywhere gives NaN.

    Raises RuntimeError when the norm is NaN or infinite and ``error_if_nonfinite``.
    """
    grads = tensor_list(tensors, "get_total_norm")
    norm_type = float(norm_type)
    if not grads:
        return Tensor(0.0)
    norms = [_vector_norm(g._data.ravel().astype(np.float64, copy=False), norm_type)
             for g in grads]
    total = _vector_norm(np.array(norms, dtype=np.float64), norm_type)
    if error_if_nonfinite and not math.isfinite(total):
        raise RuntimeError(
            f"The total norm of order {norm_type} for gradients from `parameters` is "
            "non-finite, so it cannot be clipped. To disable this error and scale the "
            "gradients by the non-finite norm anyway, set `error_if_nonfinite=False`"
        )
    dtype = np.result_type(*(g.dtype for g in grads))
    xp = get_backend(grads[0].device).xp
    with np.errstate(over="ignore"):  # a float64 norm beyond float32's range becomes inf
        return Tensor._wrap(xp.asarray(total, dtype=dtype))


def clip_grads_with_norm_(parameters: TensorOrTensors, max_norm: float,
                          total_norm: Tensor | float) -> None:
    """Scales every ``p.grad`` in place by ``max_norm / (total_norm + 1e-6)`` when that is < 1.

    ``total_norm`` is usually ``get_total_norm`` of the same gradients (a 0-d Tensor; a
    float is accepted too). As PyTorch, which multiplies by the coefficient clamped to
    1.0: a NaN norm turns every gradient into NaN, an infinite norm multiplies by 0 (so
    inf entries become NaN), and a negative ``max_norm`` flips the gradients' sign.
    Parameters whose ``.grad`` is None are skipped.
    """
    params = tensor_list(parameters, "clip_grads_with_norm_")
    max_norm = float(max_norm)
    coefficient = max_norm / (float(total_norm) + 1e-6)
    if coefficient >= 1.0:  # False for NaN, which PyTorch's clamp(max=1) keeps
        return
    with np.errstate(invalid="ignore"):  # inf * 0 = NaN, silently as PyTorch
        for p in params:
            if p.grad is not None:
                p.grad._data *= coefficient


def clip_grad_norm_(parameters: TensorOrTensors, max_norm: float, norm_type: float = 2.0,
                    error_if_nonfinite: bool = False) -> Tensor:
    """Rescales the gradients in place so that their total norm is at most ``max_norm``.

    parameters: one Tensor or an iterable of Tensors (e.g. ``model.parameters()``); those
    whose ``.grad`` is None are skipped. The total norm is the ``norm_type`` norm of all
    gradients taken as one vector (``norm_type`` may be ``float('inf')``); when
    ``max_norm / (total_norm + 1e-6) < 1`` every gradient is multiplied by that
    coefficient. Returns the total norm from before clipping: a 0-d Tensor of the
    gradients' dtype, ``tensor(0.0)`` when no parameter has a gradient.

    Raises RuntimeError when the total norm is NaN or infinite and ``error_if_nonfinite``
    (the gradients are then left unchanged); otherwise see ``clip_grads_with_norm_`` for
    what a non-finite norm does to them, as in PyTorch.
    """
    params = tensor_list(parameters, "clip_grad_norm_")
    grads = [p.grad for p in params if p.grad is not None]
    total_norm = get_total_norm(grads, norm_type, error_if_nonfinite)
    clip_grads_with_norm_(params, max_norm, total_norm)
    return total_norm


def clip_grad_value_(parameters: TensorOrTensors, clip_value: float) -> None:
    """Clamps every ``p.grad`` in place into ``[-clip_value, clip_value]``.

    Parameters whose ``.grad`` is None are skipped; NaN entries stay NaN. As PyTorch's
    clamp, a negative ``clip_value`` (min > max) sets every entry to ``clip_value``.
    """
    params = tensor_list(parameters, "clip_grad_value_")
    clip_value = float(clip_value)
    for p in params:
        if p.grad is not None:
            p.grad._data.clip(-clip_value, clip_value, out=p.grad._data)
