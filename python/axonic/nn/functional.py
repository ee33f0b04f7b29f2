"""Stateless functions behind the nn modules: activations, softmax, linear, losses."""

from __future__ import annotations

from ..autograd.ops_linalg import Linear as _Linear
from ..autograd.ops_nn import Activation, Softmax
from ..backends.spec import DEFAULT_ALPHA
from ..tensor import Tensor
from .loss_functions import (  # noqa: F401 - re-exported
    binary_cross_entropy,
    binary_cross_entropy_with_logits,
    contrastive_loss,
    cross_entropy,
    hinge_embedding_loss,
    hinge_loss,
    huber_loss,
    kl_div,
    l1_loss,
    mse_loss,
    nll_loss,
    triplet_margin_loss,
)


def _require_tensor(x, name: str) -> Tensor:
    if not isinstance(x, Tensor):
        raise TypeError(f"{name} expects a Tensor, got {type(x).__name__}")
    return x


def _activation(x: Tensor, kind: str, alpha: float | None = None) -> Tensor:
    _require_tensor(x, kind)
    alpha = DEFAULT_ALPHA.get(kind, 0.0) if alpha is None else float(alpha)
    return Activation.apply(x, kind, alpha)


def linear(x: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    """x (..., in) @ weight (out, in).T + bias (out,)."""
    _require_tensor(x, "linear")
    return _Linear.apply(x, weight) if bias is None else _Linear.apply(x, weight, bias)


def identity(x: Tensor) -> Tensor:
    return x


def sigmoid(x: Tensor) -> Tensor:
    """1 / (1 + exp(-x))."""
    return _activation(x, "sigmoid")


def tanh(x: Tensor) -> Tensor:
    return _activation(x, "tanh")


def relu(x: Tensor) -> Tensor:
    """max(0, x)."""
    return _activation(x, "relu")


def leaky_relu(x: Tensor, negative_slope: float = 0.01) -> Tensor:
    """x for x > 0, negative_slope * x otherwise."""
    return _activation(x, "leaky_relu", negative_slope)


def elu(x: Tensor, alpha: float = 1.0) -> Tensor:
    """x for x > 0, alpha * (exp(x) - 1) otherwise."""
    return _activation(x, "elu", alpha)


def selu(x: Tensor) -> Tensor:
    """scale * elu(x, alpha) with the self-normalizing constants."""
    return _activation(x, "selu")


def gelu(x: Tensor, approximate: str = "none") -> Tensor:
    """x * Phi(x); approximate='tanh' uses the tanh formula."""
    if approximate not in ("none", "tanh"):
        raise ValueError(f"gelu: approximate must be 'none' or 'tanh', got {approximate!r}")
    return _activation(x, "gelu" if approximate == "none" else "gelu_tanh")


def silu(x: Tensor) -> Tensor:
    """x * sigmoid(x) (also called swish)."""
    return _activation(x, "silu")


def softmax(x: Tensor, dim: int = -1) -> Tensor:
    """exp(x) / sum(exp(x)) along dim, computed stably."""
    return Softmax.apply(_require_tensor(x, "softmax"), dim, False)


def log_softmax(x: Tensor, dim: int = -1) -> Tensor:
    """log(softmax(x)) along dim, without forming softmax (stable for large logits)."""
    return Softmax.apply(_require_tensor(x, "log_softmax"), dim, True)
