"""Adamax: Adam with the infinity norm in place of the second moment."""

from __future__ import annotations

from typing import Any

from .optimizer import GroupBatch, Optimizer, bias_correction, check_betas, check_nonnegative


class Adamax(Optimizer):
    """PyTorch's Adamax, one fused kernel per parameter group. At step t, for each
    parameter p with gradient g (maximize negates g first):

        g = g + weight_decay * p
        m = beta1 * m + (1 - beta1) * g
        u = max(beta2 * u, |g| + eps)
        p = p - lr / (1 - beta1^t) * m / u
    """

    def __init__(self, params, lr: float = 2e-3, betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8, weight_decay: float = 0.0, *, maximize: bool = False):
        super().__init__(params, dict(lr=lr, betas=betas, eps=eps,
                                      weight_decay=weight_decay, maximize=maximize))

    def _check_options(self, options: dict[str, Any]) -> None:
        check_nonnegative("Adamax", options, "lr", "eps", "weight_decay")
        check_betas("Adamax", options["betas"])

    def _update(self, group: dict[str, Any], batch: GroupBatch) -> None:
        beta1, beta2 = group["betas"]
        clr = group["lr"] / bias_correction(beta1, batch.steps)
        batch.backend.adamax_update(
            batch.params, batch.grads, batch.buffers("exp_avg"), batch.buffers("exp_inf"),
            batch.coefficients(clr), beta1=beta1, beta2=beta2, eps=group["eps"],
            weight_decay=group["weight_decay"], maximize=group["maximize"])
