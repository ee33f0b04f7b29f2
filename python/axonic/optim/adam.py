"""Adam and AdamW: bias-corrected first and second moment estimates of the gradient."""

from __future__ import annotations

from typing import Any

import numpy as np

from .optimizer import GroupBatch, Optimizer, bias_correction, check_betas, check_nonnegative


class Adam(Optimizer):
    """PyTorch's Adam, one fused kernel per parameter group. At step t, for each
    parameter p with gradient g (maximize negates g first):

        g = g + weight_decay * p            (AdamW: p = p * (1 - lr * weight_decay))
        m = beta1 * m + (1 - beta1) * g
        v = beta2 * v + (1 - beta2) * g^2
        amsgrad: v_max = max(v_max, v), used as v below
        p = p - lr / (1 - beta1^t) * m / (sqrt(v) / sqrt(1 - beta2^t) + eps)
    """

    _decoupled_weight_decay = False

    def __init__(self, params, lr: float = 1e-3, betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8, weight_decay: float = 0.0, amsgrad: bool = False, *,
                 maximize: bool = False):
        super().__init__(params, dict(lr=lr, betas=betas, eps=eps,
                                      weight_decay=weight_decay, amsgrad=amsgrad,
                                      maximize=maximize))

    def _check_options(self, options: dict[str, Any]) -> None:
        name = type(self).__name__
        check_nonnegative(name, options, "lr", "eps", "weight_decay")
        check_betas(name, options["betas"])

    def _update(self, group: dict[str, Any], batch: GroupBatch) -> None:
        beta1, beta2 = group["betas"]
        steps = batch.steps
        coefficients = batch.coefficients(group["lr"] / bias_correction(beta1, steps),
                                          np.sqrt(bias_correction(beta2, steps)))
        batch.backend.adam_update(
            batch.params, batch.grads, batch.buffers("exp_avg"), batch.buffers("exp_avg_sq"),
            batch.buffers("max_exp_avg_sq") if group["amsgrad"] else [], coefficients,
            lr=group["lr"], beta1=beta1, beta2=beta2, eps=group["eps"],
            weight_decay=group["weight_decay"],
            decoupled_weight_decay=self._decoupled_weight_decay, amsgrad=group["amsgrad"],
            maximize=group["maximize"])


class AdamW(Adam):
    """Adam with decoupled weight decay (Loshchilov and Hutter): each step first
    scales p by ``1 - lr * weight_decay``, then takes Adam's step without any decay
    in the gradient. Default weight_decay 1e-2, as PyTorch."""

    _decoupled_weight_decay = True

    def __init__(self, params, lr: float = 1e-3, betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8, weight_decay: float = 1e-2, amsgrad: bool = False, *,
                 maximize: bool = False):
        super().__init__(params, lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                         amsgrad=amsgrad, maximize=maximize)
