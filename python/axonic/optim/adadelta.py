"""Adadelta: step sizes from running averages of squared gradients and squared steps."""

from __future__ import annotations

from typing import Any

from .optimizer import GroupBatch, Optimizer, check_fraction, check_nonnegative


class Adadelta(Optimizer):
    """PyTorch's Adadelta, one fused kernel per parameter group. For each parameter
    p with gradient g (maximize negates g first):

        g     = g + weight_decay * p
        v     = rho * v + (1 - rho) * g^2
        delta = sqrt(u + eps) / sqrt(v + eps) * g
        u     = rho * u + (1 - rho) * delta^2
        p     = p - lr * delta

    The original algorithm (and the seeds') has no learning rate: ``lr=1.0``, the default.
    """

    def __init__(self, params, lr: float = 1.0, rho: float = 0.9, eps: float = 1e-6,
                 weight_decay: float = 0.0, *, maximize: bool = False):
        super().__init__(params, dict(lr=lr, rho=rho, eps=eps, weight_decay=weight_decay,
                                      maximize=maximize))

    def _check_options(self, options: dict[str, Any]) -> None:
        check_nonnegative("Adadelta", options, "lr", "eps", "weight_decay")
        check_fraction("Adadelta", "rho", options["rho"], upper_closed=True)

    def _update(self, group: dict[str, Any], batch: GroupBatch) -> None:
        batch.backend.adadelta_update(
            batch.params, batch.grads, batch.buffers("square_avg"), batch.buffers("acc_delta"),
            lr=group["lr"], rho=group["rho"], eps=group["eps"],
            weight_decay=group["weight_decay"], maximize=group["maximize"])
