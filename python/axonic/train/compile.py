"""Keras-style names for ``Trainer.from_compile``: optimizers and losses by string."""

from __future__ import annotations

from typing import Any

from .. import nn, optim

OPTIMIZERS = {"sgd": optim.SGD, "adagrad": optim.Adagrad, "rmsprop": optim.RMSprop,
              "adadelta": optim.Adadelta, "adam": optim.Adam, "adamw": optim.AdamW,
              "adamax": optim.Adamax, "nadam": optim.NAdam}
LOSSES = {"mse": nn.MSELoss, "mae": nn.L1Loss, "l1": nn.L1Loss, "huber": nn.HuberLoss,
          "cross_entropy": nn.CrossEntropyLoss, "nll": nn.NLLLoss, "bce": nn.BCELoss,
          "bce_with_logits": nn.BCEWithLogitsLoss}


def make_optimizer(optimizer: str | optim.Optimizer, model: nn.Module,
                   lr: float | None) -> optim.Optimizer:
    """``optimizer`` itself, or the named optimizer over ``model.parameters()`` with ``lr``
    (the optimizer's default when None)."""
    if isinstance(optimizer, optim.Optimizer):
        if lr is not None:
            raise ValueError("from_compile: lr applies to an optimizer given by name; set it "
                             "on the optimizer object instead")
        return optimizer
    if not isinstance(optimizer, str) or optimizer.lower() not in OPTIMIZERS:
        raise ValueError(f"from_compile: unknown optimizer {optimizer!r}; expected an "
                         f"axonic.optim.Optimizer or one of {', '.join(OPTIMIZERS)}")
    options: dict[str, Any] = {} if lr is None else {"lr": lr}
    return OPTIMIZERS[optimizer.lower()](model.parameters(), **options)


def make_loss(loss: Any) -> Any:
    """``loss`` itself when callable, else the named loss module."""
    if isinstance(loss, str):
        if loss.lower() not in LOSSES:
            raise ValueError(f"from_compile: unknown loss {loss!r}; expected a loss module or "
                             f"one of {', '.join(LOSSES)}")
        return LOSSES[loss.lower()]()
    if not callable(loss):
        raise TypeError(f"from_compile: loss must be a name or a callable, got "
                        f"{type(loss).__name__}")
    return loss
