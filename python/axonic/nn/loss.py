"""Loss modules: each stores its options and calls the function in ``loss_functions``.

Constructor arguments follow PyTorch's names, order and defaults, without the
long-deprecated ``size_average`` / ``reduce`` flags (use ``reduction``). Options
are validated when the module is built, so a typo fails at construction rather
than at the first batch. Class and element weights are registered as buffers,
so ``state_dict()``, ``.double()`` and ``.to()`` carry them like PyTorch's.
"""

from __future__ import annotations

from ..tensor import Tensor
from . import loss_functions as L
from .module import Module

__all__ = [
    "MSELoss", "L1Loss", "HuberLoss", "BCELoss", "BCEWithLogitsLoss", "CrossEntropyLoss",
    "NLLLoss", "HingeEmbeddingLoss", "HingeLoss", "KLDivLoss", "TripletMarginLoss",
    "ContrastiveLoss",
]


def _format_option(value) -> str:
    if isinstance(value, Tensor):
        return f"<tensor of shape {value.shape}>"
    return repr(value)


class _Loss(Module):
    """Base of the loss modules: the reduction, buffers for weights, and extra_repr.

    ``_options`` names the attributes extra_repr shows; ``_reductions`` the valid
    reductions.
    """

    _options: tuple[str, ...] = ("reduction",)
    _reductions: tuple[str, ...] = L.REDUCTIONS

    def __init__(self, reduction: str = "mean") -> None:
        super().__init__()
        L.check_reduction(type(self).__name__, reduction, self._reductions)
        self.reduction = reduction

    def _register_weight(self, name: str, weight: Tensor | None) -> None:
        if weight is not None and not isinstance(weight, Tensor):
            raise TypeError(f"{type(self).__name__}: {name} must be a Tensor or None, got "
                            f"{type(weight).__name__}")
        self.register_buffer(name, weight)

    def extra_repr(self) -> str:
        return ", ".join(f"{name}={_format_option(getattr(self, name))}"
                         for name in self._options if getattr(self, name) is not None)


class MSELoss(_Loss):
    """Mean squared error; see ``functional.mse_loss``. input, target: any shape, equal."""

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return L.mse_loss(input, target, reduction=self.reduction)


class L1Loss(_Loss):
    """Mean absolute error; see ``functional.l1_loss``. input, target: any shape, equal."""

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return L.l1_loss(input, target, reduction=self.reduction)


class HuberLoss(_Loss):
    """Huber loss, quadratic within ``delta`` and linear beyond; see ``functional.huber_loss``."""

    _options = ("reduction", "delta")

    def __init__(self, reduction: str = "mean", delta: float = 1.0) -> None:
        super().__init__(reduction)
        if not delta > 0:
            raise ValueError(f"HuberLoss: delta must be positive, got {delta}")
        self.delta = float(delta)

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return L.huber_loss(input, target, reduction=self.reduction, delta=self.delta)


class BCELoss(_Loss):
    """Binary cross-entropy of probabilities; see ``functional.binary_cross_entropy``."""

    _options = ("weight", "reduction")

    def __init__(self, weight: Tensor | None = None, reduction: str = "mean") -> None:
        super().__init__(reduction)
        self._register_weight("weight", weight)

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return L.binary_cross_entropy(input, target, weight=self.weight,
                                      reduction=self.reduction)


class BCEWithLogitsLoss(_Loss):
    """Sigmoid + binary cross-entropy, stable for any logit; see
    ``functional.binary_cross_entropy_with_logits``."""

    _options = ("weight", "reduction", "pos_weight")

    def __init__(self, weight: Tensor | None = None, reduction: str = "mean",
                 pos_weight: Tensor | None = None) -> None:
        super().__init__(reduction)
        self._register_weight("weight", weight)
        self._register_weight("pos_weight", pos_weight)

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return L.binary_cross_entropy_with_logits(input, target, weight=self.weight,
                                                  reduction=self.reduction,
                                                  pos_weight=self.pos_weight)


class CrossEntropyLoss(_Loss):
    """Softmax cross-entropy of logits against labels or probabilities; see
    ``functional.cross_entropy``. input (N, C) / (N, C, d1, ...) / (C,)."""

    _options = ("weight", "ignore_index", "reduction", "label_smoothing")

    def __init__(self, weight: Tensor | None = None, ignore_index: int = -100,
                 reduction: str = "mean", label_smoothing: float = 0.0) -> None:
        super().__init__(reduction)
        if not 0.0 <= label_smoothing <= 1.0:
            raise ValueError(f"CrossEntropyLoss: label_smoothing must be in [0, 1], got "
                             f"{label_smoothing}")
        self._register_weight("weight", weight)
        self.ignore_index = int(ignore_index)
        self.label_smoothing = float(label_smoothing)

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return L.cross_entropy(input, target, weight=self.weight, ignore_index=self.ignore_index,
                               reduction=self.reduction, label_smoothing=self.label_smoothing)


class NLLLoss(_Loss):
    """Negative log-likelihood of log-probabilities; see ``functional.nll_loss``."""

    _options = ("weight", "ignore_index", "reduction")

    def __init__(self, weight: Tensor | None = None, ignore_index: int = -100,
                 reduction: str = "mean") -> None:
        super().__init__(reduction)
        self._register_weight("weight", weight)
        self.ignore_index = int(ignore_index)

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return L.nll_loss(input, target, weight=self.weight, ignore_index=self.ignore_index,
                          reduction=self.reduction)


class HingeEmbeddingLoss(_Loss):
    """x for y = 1, max(0, margin - x) for y = -1; see ``functional.hinge_embedding_loss``."""

    _options = ("margin", "reduction")

    def __init__(self, margin: float = 1.0, reduction: str = "mean") -> None:
        super().__init__(reduction)
        self.margin = float(margin)

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return L.hinge_embedding_loss(input, target, margin=self.margin,
                                      reduction=self.reduction)


class HingeLoss(_Loss):
    """SVM hinge loss max(0, margin - y * score), y in {+1, -1}; see ``functional.hinge_loss``.

    Not in PyTorch (Keras' 'hinge'); arguments follow HingeEmbeddingLoss.
    """

    _options = ("margin", "reduction")

    def __init__(self, margin: float = 1.0, reduction: str = "mean") -> None:
        super().__init__(reduction)
        self.margin = float(margin)

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return L.hinge_loss(input, target, margin=self.margin, reduction=self.reduction)


class KLDivLoss(_Loss):
    """KL(target || exp(input)) for log-probability input; see ``functional.kl_div``.

    Use reduction='batchmean' for the true KL divergence per sample; 'mean' (the
    default, as in PyTorch) also divides by the number of classes.
    """

    _options = ("reduction", "log_target")
    _reductions = L.KL_REDUCTIONS

    def __init__(self, reduction: str = "mean", log_target: bool = False) -> None:
        super().__init__(reduction)
        self.log_target = bool(log_target)

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return L.kl_div(input, target, reduction=self.reduction, log_target=self.log_target)


class TripletMarginLoss(_Loss):
    """max(d(a, p) - d(a, n) + margin, 0); see ``functional.triplet_margin_loss``."""

    _options = ("margin", "p", "eps", "swap", "reduction")

    def __init__(self, margin: float = 1.0, p: float = 2.0, eps: float = 1e-6,
                 swap: bool = False, reduction: str = "mean") -> None:
        super().__init__(reduction)
        if not p > 0:
            raise ValueError(f"TripletMarginLoss: p must be positive, got {p}")
        self.margin, self.p, self.eps, self.swap = float(margin), float(p), float(eps), bool(swap)

    def forward(self, anchor: Tensor, positive: Tensor, negative: Tensor) -> Tensor:
        return L.triplet_margin_loss(anchor, positive, negative, margin=self.margin, p=self.p,
                                     eps=self.eps, swap=self.swap, reduction=self.reduction)


class ContrastiveLoss(_Loss):
    """target d^2 + (1 - target) max(0, margin - d)^2 with target 1 = similar pair;
    see ``functional.contrastive_loss``. Not in PyTorch."""

    _options = ("margin", "reduction")

    def __init__(self, margin: float = 1.0, reduction: str = "mean") -> None:
        super().__init__(reduction)
        self.margin = float(margin)

    def forward(self, x1: Tensor, x2: Tensor, target: Tensor) -> Tensor:
        return L.contrastive_loss(x1, x2, target, margin=self.margin, reduction=self.reduction)
