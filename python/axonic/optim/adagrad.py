"""Adagrad: per-element learning rates shrinking with the sum of squared gradients."""

from __future__ import annotations

from typing import Any

from .optimizer import GroupBatch, Optimizer, check_nonnegative


class Adagrad(Optimizer):
    """PyTorch's Adagrad, one fused kernel per parameter group. At step t, for each
    parameter p with gradient g (maximize negates g first):

        g   = g + weight_decay * p
        clr = lr / (1 + (t - 1) * lr_decay)
        sum = sum + g^2                       (sum starts at initial_accumulator_value)
        p   = p - clr * g / (sqrt(sum) + eps)
    """

    def __init__(self, params, lr: float = 1e-2, lr_decay: float = 0.0,
                 weight_decay: float = 0.0, initial_accumulator_value: float = 0.0,
                 eps: float = 1e-10, *, maximize: bool = False):
        super().__init__(params, dict(lr=lr, lr_decay=lr_decay, weight_decay=weight_decay,
                                      initial_accumulator_value=initial_accumulator_value,
                                      eps=eps, maximize=maximize))

    def _check_options(self, options: dict[str, Any]) -> None:
        check_nonnegative("Adagrad", options, "lr", "lr_decay", "weight_decay",
                          "initial_accumulator_value", "eps")

    def _update(self, group: dict[str, Any], batch: GroupBatch) -> None:
        clr = group["lr"] / (1.0 + (batch.steps - 1.0) * group["lr_decay"])
        batch.backend.adagrad_update(
            batch.params, batch.grads, batch.buffers("sum", group["initial_accumulator_value"]),
            batch.coefficients(clr), weight_decay=group["weight_decay"], eps=group["eps"],
            maximize=group["maximize"])
