"""L1 and L2 weight penalties to add to a loss (the seeds' regularization notes).

L1 (lasso) adds weight * sum |w| and pushes weights to exactly zero; L2 (ridge, weight
decay) adds weight * sum w^2 and keeps weights small. Both are built from axonic ops, so
``loss = loss + l2_penalty(model.parameters(), 1e-4)`` back-propagates into the weights.
"""

from __future__ import annotations

from ...tensor import Tensor
from ._parameters import TensorOrTensors, tensor_list

__all__ = ["l1_penalty", "l2_penalty"]


def _checked(parameters: TensorOrTensors, weight: float, caller: str) -> tuple[list[Tensor], float]:
    params = tensor_list(parameters, caller)
    if not params:
        raise ValueError(f"{caller}: got no parameters to penalize")
    weight = float(weight)
    if not weight >= 0.0:
        raise ValueError(f"{caller}: weight must be >= 0, got {weight}")
    return params, weight


def l1_penalty(parameters: TensorOrTensors, weight: float) -> Tensor:
    """``weight * sum_p sum(|p|)``: weight times the L1 norm ||w||_1 of all parameters.

    parameters: one Tensor or an iterable of Tensors of any shapes; weight >= 0.
    Returns a 0-d Tensor whose gradient with respect to each p is ``weight * sign(p)``
    (0 where p == 0). Raises ValueError for no parameters or a negative weight.
    """
    params, weight = _checked(parameters, weight, "l1_penalty")
    total = params[0].abs().sum()
    for p in params[1:]:
        total = total + p.abs().sum()
    return total * weight


def l2_penalty(parameters: TensorOrTensors, weight: float) -> Tensor:
    """``weight * sum_p sum(p^2)``: weight times the squared L2 norm ||w||^2 of all parameters.

    parameters: one Tensor or an iterable of Tensors of any shapes; weight >= 0.
    Returns a 0-d Tensor whose gradient with respect to each p is ``2 * weight * p``, so
    SGD's ``weight_decay=wd`` (which adds wd * p to the gradient) equals adding
    ``l2_penalty(params, wd / 2)`` to the loss. Raises ValueError for no parameters or a
    negative weight.
    """
    params, weight = _checked(parameters, weight, "l2_penalty")
    total = (params[0] * params[0]).sum()
    for p in params[1:]:
        total = total + (p * p).sum()
    return total * weight
