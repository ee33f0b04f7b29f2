"""NAdam: Adam with Nesterov momentum (Dozat), with PyTorch's momentum schedule."""

from __future__ import annotations

from typing import Any

import numpy as np

from .optimizer import GroupBatch, Optimizer, bias_correction, check_betas, check_nonnegative


class NAdam(Optimizer):
    """PyTorch's NAdam, one fused kernel per parameter group. At step t, for each
    parameter p with gradient g (maximize negates g first):

        g = g + weight_decay * p       (decoupled_weight_decay: p = p * (1 - lr * wd))
        mu_t = beta1 * (1 - 0.5 * 0.96^(t * momentum_decay)),  prod_t = mu_1 * ... * mu_t
        m = beta1 * m + (1 - beta1) * g
        v = beta2 * v + (1 - beta2) * g^2
        d = sqrt(v / (1 - beta2^t)) + eps
        p = p - lr (1 - mu_t) / (1 - prod_t) * g / d - lr mu_t+1 / (1 - prod_t+1) * m / d
    """

    def __init__(self, params, lr: float = 2e-3, betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8, weight_decay: float = 0.0, momentum_decay: float = 4e-3,
                 decoupled_weight_decay: bool = False, *, maximize: bool = False):
        super().__init__(params, dict(lr=lr, betas=betas, eps=eps,
                                      weight_decay=weight_decay, momentum_decay=momentum_decay,
                                      decoupled_weight_decay=decoupled_weight_decay,
                                      maximize=maximize))

    def _check_options(self, options: dict[str, Any]) -> None:
        check_nonnegative("NAdam", options, "lr", "eps", "weight_decay", "momentum_decay")
        check_betas("NAdam", options["betas"])

    def _update(self, group: dict[str, Any], batch: GroupBatch) -> None:
        beta1, beta2 = group["betas"]
        steps, psi = batch.steps, group["momentum_decay"]
        mu = beta1 * (1.0 - 0.5 * 0.96 ** (steps * psi))
        mu_next = beta1 * (1.0 - 0.5 * 0.96 ** ((steps + 1.0) * psi))
        product = np.array([state.get("mu_product", 1.0) for state in batch.states]) * mu
        for state, value in zip(batch.states, product):
            state["mu_product"] = float(value)
        lr = group["lr"]
        coefficients = batch.coefficients(lr * (1.0 - mu) / (1.0 - product),
                                          lr * mu_next / (1.0 - product * mu_next),
                                          bias_correction(beta2, steps))
        batch.backend.nadam_update(
            batch.params, batch.grads, batch.buffers("exp_avg"), batch.buffers("exp_avg_sq"),
            coefficients, lr=lr, beta1=beta1, beta2=beta2, eps=group["eps"],
            weight_decay=group["weight_decay"],
            decoupled_weight_decay=group["decoupled_weight_decay"], maximize=group["maximize"])
