"""Stochastic gradient descent with momentum, dampening, Nesterov and weight decay."""

from __future__ import annotations

from typing import Any

import numpy as np

from .optimizer import GroupBatch, Optimizer, check_nonnegative


class SGD(Optimizer):
    """PyTorch's SGD, one fused kernel per parameter group. For each parameter p
    with gradient g (maximize negates g first):

        g = g + weight_decay * p                       (L2, coupled)
        b = g on the first step, else momentum * b + (1 - dampening) * g
        g = g + momentum * b if nesterov else b        (when momentum != 0)
        p = p - lr * g

    The seeds' exponential-average form of momentum, v = beta v + (1 - beta) g,
    is ``momentum=beta, dampening=beta``. Batch, stochastic (batch size 1) and
    mini-batch gradient descent are this optimizer with different batch sizes.
    """

    def __init__(self, params, lr: float = 1e-3, momentum: float = 0.0, dampening: float = 0.0,
                 weight_decay: float = 0.0, nesterov: bool = False, *, maximize: bool = False):
        super().__init__(params, dict(lr=lr, momentum=momentum, dampening=dampening,
                                      weight_decay=weight_decay, nesterov=nesterov,
                                      maximize=maximize))

    def _check_options(self, options: dict[str, Any]) -> None:
        check_nonnegative("SGD", options, "lr", "momentum", "dampening", "weight_decay")
        if options["nesterov"] and (options["momentum"] <= 0 or options["dampening"] != 0):
            raise ValueError("SGD: nesterov needs momentum > 0 and dampening = 0")

    def _update(self, group: dict[str, Any], batch: GroupBatch) -> None:
        momentum = group["momentum"]
        # PyTorch starts a buffer at b = g: coefficients (0, 1) on its first step.
        first = np.array(["momentum_buffer" not in state for state in batch.states])
        buffers = batch.buffers("momentum_buffer") if momentum != 0 else []
        coefficients = batch.coefficients(np.where(first, 0.0, momentum),
                                          np.where(first, 1.0, 1.0 - group["dampening"]))
        batch.backend.sgd_update(batch.params, batch.grads, buffers, coefficients,
                                 lr=group["lr"], momentum=momentum,
                                 weight_decay=group["weight_decay"], nesterov=group["nesterov"],
                                 maximize=group["maximize"])
