"""RMSprop: gradients divided by a running root-mean-square of recent gradients."""

from __future__ import annotations

from typing import Any

from .optimizer import GroupBatch, Optimizer, check_nonnegative


class RMSprop(Optimizer):
    """PyTorch's RMSprop, one fused kernel per parameter group. For each parameter
    p with gradient g (maximize negates g first):

        g = g + weight_decay * p
        v = alpha * v + (1 - alpha) * g^2
        centered:  a = alpha * a + (1 - alpha) * g;  d = sqrt(v - a^2) + eps
        otherwise: d = sqrt(v) + eps
        momentum > 0: b = momentum * b + g / d;  p = p - lr * b
        otherwise:    p = p - lr * g / d

    The seeds' RMSprop (beta = decay of the squared average) is ``alpha=beta``.
    """

    def __init__(self, params, lr: float = 1e-2, alpha: float = 0.99, eps: float = 1e-8,
                 weight_decay: float = 0.0, momentum: float = 0.0, centered: bool = False, *,
                 maximize: bool = False):
        super().__init__(params, dict(lr=lr, alpha=alpha, eps=eps, weight_decay=weight_decay,
                                      momentum=momentum, centered=centered, maximize=maximize))

    def _check_options(self, options: dict[str, Any]) -> None:
        check_nonnegative("RMSprop", options, "lr", "alpha", "eps", "weight_decay", "momentum")

    def _update(self, group: dict[str, Any], batch: GroupBatch) -> None:
        batch.backend.rmsprop_update(
            batch.params, batch.grads, batch.buffers("square_avg"),
            batch.buffers("grad_avg") if group["centered"] else [],
            batch.buffers("momentum_buffer") if group["momentum"] > 0 else [],
            lr=group["lr"], alpha=group["alpha"], eps=group["eps"],
            weight_decay=group["weight_decay"], momentum=group["momentum"],
            centered=group["centered"], maximize=group["maximize"])
