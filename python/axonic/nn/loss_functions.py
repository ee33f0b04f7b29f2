"""Loss functions, built from Tensor operations (so autograd comes for free).

Every loss takes ``reduction``: 'mean' (the default), 'sum' or 'none' (the
per-element loss, shaped like the input's batch); ``kl_div`` also takes
'batchmean'. Names, argument orders and semantics follow
``torch.nn.functional``; ``hinge_loss`` and ``contrastive_loss`` have no
PyTorch counterpart and say which convention they follow.

Gradients: the inputs always receive gradients. A float target that requires
grad receives them too where the loss is a formula of Tensor operations (the
regression losses, both binary cross-entropies, ``kl_div``), as in PyTorch.
Class labels, ``±1`` / ``0/1`` labels, class weights and the probability
targets of ``cross_entropy`` (whose fused kernel treats them as data) are
constants.

Bad input raises: a non-Tensor or non-float input is a TypeError; an empty
input, mismatched shapes (no silent broadcasting), NaN in a target, labels
outside their range and an unknown reduction are ValueErrors whose message
names the offending values.
"""

from __future__ import annotations

import math

import numpy as np

from ..autograd.ops_nn import SoftmaxCrossEntropy
from ..tensor import Tensor, where

__all__ = [
    "mse_loss", "l1_loss", "huber_loss", "binary_cross_entropy",
    "binary_cross_entropy_with_logits", "cross_entropy", "nll_loss", "hinge_embedding_loss",
    "hinge_loss", "kl_div", "triplet_margin_loss", "contrastive_loss",
]

REDUCTIONS = ("mean", "sum", "none")
KL_REDUCTIONS = ("mean", "batchmean", "sum", "none")

# PyTorch clamps each log term of binary_cross_entropy at -100, so p = 0 or 1 stays finite.
_BCE_LOG_FLOOR = -100.0


# ----- validation -------------------------------------------------------------------------
def check_reduction(fn: str, reduction: str, valid: tuple[str, ...] = REDUCTIONS) -> None:
    """ValueError unless ``reduction`` is one of ``valid``."""
    if reduction not in valid:
        names = ", ".join(repr(v) for v in valid)
        raise ValueError(f"{fn}: reduction must be one of {names}, got {reduction!r}")


def _check_input(fn: str, x, name: str = "input") -> Tensor:
    """A non-empty float Tensor, or a TypeError / ValueError saying what was expected."""
    if not isinstance(x, Tensor):
        raise TypeError(f"{fn}: {name} must be a Tensor, got {type(x).__name__}")
    if x.dtype.kind != "f":
        raise TypeError(f"{fn}: {name} must be a float32 or float64 tensor, got {x.dtype}")
    if x.numel() == 0:
        raise ValueError(f"{fn}: {name} is empty (shape {x.shape}); a loss needs at least one "
                         "element")
    return x


def _check_shape(fn: str, x: Tensor, shape: tuple[int, ...], name: str, expected: str) -> None:
    """ValueError naming both shapes unless x has ``shape`` (the shape of ``expected``)."""
    if x.shape != shape:
        raise ValueError(f"{fn}: {expected} has shape {shape} but {name} has shape {x.shape}; "
                         "they must match")


def _check_target(fn: str, target, shape: tuple[int, ...], name: str = "target",
                  expected: str = "input") -> Tensor:
    """A NaN-free Tensor of ``shape`` (the shape of ``expected``)."""
    if not isinstance(target, Tensor):
        raise TypeError(f"{fn}: {name} must be a Tensor, got {type(target).__name__}")
    _check_shape(fn, target, shape, name, expected)
    if target.dtype.kind == "f" and bool(np.isnan(target._data).any()):
        raise ValueError(f"{fn}: {name} contains NaN")
    return target


def _float_target(fn: str, input: Tensor, target) -> Tensor:
    """The target, checked against input's shape, in input's dtype (still in the graph)."""
    return _check_target(fn, target, input.shape).astype(input.dtype)


def _check_label_set(fn: str, target: Tensor, allowed: tuple[int, int]) -> None:
    """ValueError unless every element of target is one of the two ``allowed`` labels."""
    bad = ~np.isin(target._data, allowed)
    if bad.any():
        found = ", ".join(f"{v.item():g}" for v in np.unique(target._data[bad])[:5])
        raise ValueError(f"{fn}: target labels must be {allowed[0]} or {allowed[1]}, found "
                         f"[{found}]")


def _check_unit_interval(fn: str, name: str, x: Tensor) -> None:
    data = x._data
    if bool(((data < 0) | (data > 1)).any()):
        hint = " (for logits use binary_cross_entropy_with_logits)" if name == "input" else ""
        raise ValueError(f"{fn}: {name} must lie in [0, 1]{hint}, found values in "
                         f"[{data.min().item():g}, {data.max().item():g}]")


def _broadcast_weight(fn: str, name: str, weight, shape: tuple[int, ...], dtype) -> Tensor:
    """A weight Tensor that broadcasts to ``shape`` without enlarging it, in ``dtype``."""
    if not isinstance(weight, Tensor):
        raise TypeError(f"{fn}: {name} must be a Tensor or None, got {type(weight).__name__}")
    try:
        fits = np.broadcast_shapes(weight.shape, shape) == shape
    except ValueError:
        fits = False
    if not fits:
        raise ValueError(f"{fn}: {name} of shape {weight.shape} does not broadcast to the "
                         f"input's shape {shape}")
    return weight.astype(dtype)


# ----- reduction --------------------------------------------------------------------------
def _reduce(loss: Tensor, reduction: str, total_weight: float | None = None) -> Tensor:
    """Applies an already validated reduction to the per-element ``loss``.

    'mean' divides the sum by ``total_weight`` when given (weighted or
    ignore_index means), else by the element count; 'batchmean' divides the sum
    by the batch size ``loss.shape[0]``. A total weight of 0 (every target
    ignored) gives NaN, as in PyTorch.
    """
    if reduction == "none":
        return loss
    if reduction == "sum":
        return loss.sum()
    if reduction == "batchmean":
        return loss.sum() / (loss.shape[0] if loss.ndim else 1)
    if total_weight is None:
        return loss.mean()
    with np.errstate(divide="ignore", invalid="ignore"):
        return loss.sum() / float(total_weight)


# ----- small differentiable pieces -------------------------------------------------------
def _softplus(x: Tensor) -> Tensor:
    """log(1 + exp(x)) for any magnitude of x, as (x + |x|)/2 + log(1 + exp(-|x|)).

    Writing max(x, 0) as (x + |x|)/2 keeps the gradient exact at x = 0: the two |x|
    kinks cancel (Abs has gradient 0 there), leaving d/dx = 1/2 = sigmoid(0).
    """
    magnitude = x.abs()
    return (x + magnitude) * 0.5 + (1.0 + (-magnitude).exp()).log()


def _clamped_log(p: Tensor) -> Tensor:
    """max(log p, -100) for p >= 0, with a zero (not NaN) gradient where p = 0."""
    positive = p._data > 0
    return where(positive, where(positive, p, 1.0).log().clip(min=_BCE_LOG_FLOOR),
                 _BCE_LOG_FLOOR)


def _sqrt_zero_safe(x: Tensor) -> Tensor:
    """sqrt(x) for x >= 0 whose gradient at x = 0 is 0 (a subgradient), not inf or NaN."""
    positive = x._data > 0
    return where(positive, where(positive, x, 1.0).sqrt(), 0.0)


# ----- regression -------------------------------------------------------------------------
def mse_loss(input: Tensor, target: Tensor, reduction: str = "mean") -> Tensor:
    """Mean squared error: (input - target)^2 per element, then reduced.

    input, target: any shape, the same. Returns a scalar, or input's shape for 'none'.
    """
    check_reduction("mse_loss", reduction)
    target = _float_target("mse_loss", _check_input("mse_loss", input), target)
    return _reduce((input - target) ** 2, reduction)


def l1_loss(input: Tensor, target: Tensor, reduction: str = "mean") -> Tensor:
    """Mean absolute error (MAE): |input - target| per element, then reduced.

    input, target: any shape, the same. The gradient at input == target is 0.
    """
    check_reduction("l1_loss", reduction)
    target = _float_target("l1_loss", _check_input("l1_loss", input), target)
    return _reduce((input - target).abs(), reduction)


def huber_loss(input: Tensor, target: Tensor, reduction: str = "mean",
               delta: float = 1.0) -> Tensor:
    """Huber loss: quadratic for small errors, linear for large ones.

    With d = input - target: 0.5 d^2 if |d| <= delta, else delta (|d| - 0.5 delta).
    input, target: any shape, the same; delta > 0.
    """
    check_reduction("huber_loss", reduction)
    if not delta > 0:
        raise ValueError(f"huber_loss: delta must be positive, got {delta}")
    target = _float_target("huber_loss", _check_input("huber_loss", input), target)
    diff = input - target
    size = diff.abs()
    quadratic = diff * diff * 0.5
    linear = (size - 0.5 * delta) * delta
    return _reduce(where(size._data <= delta, quadratic, linear), reduction)


# ----- binary classification -------------------------------------------------------------
def binary_cross_entropy(input: Tensor, target: Tensor, weight: Tensor | None = None,
                         reduction: str = "mean") -> Tensor:
    """Binary cross-entropy of probabilities: -w [t log p + (1 - t) log(1 - p)].

    input p: probabilities in [0, 1], any shape. target t: same shape, in [0, 1].
    weight w: optional Tensor broadcasting to input's shape. Each log term is
    clamped at -100 as PyTorch does, so p = 0 or 1 gives a finite loss (and a
    zero gradient through the clamped term). For raw scores use
    ``binary_cross_entropy_with_logits``, which is also more accurate.
    """
    fn = "binary_cross_entropy"
    check_reduction(fn, reduction)
    _check_input(fn, input)
    _check_unit_interval(fn, "input", input)
    target = _float_target(fn, input, target)
    _check_unit_interval(fn, "target", target)
    loss = -(target * _clamped_log(input) + (1.0 - target) * _clamped_log(1.0 - input))
    if weight is not None:
        loss = loss * _broadcast_weight(fn, "weight", weight, input.shape, input.dtype)
    return _reduce(loss, reduction)


def binary_cross_entropy_with_logits(input: Tensor, target: Tensor,
                                     weight: Tensor | None = None, reduction: str = "mean",
                                     pos_weight: Tensor | None = None) -> Tensor:
    """Binary cross-entropy of sigmoid(input), computed from the logits stably.

    With x = input, t = target and l = 1 + (pos_weight - 1) t (l = 1 without pos_weight):
    loss = w [(1 - t) x + l softplus(-x)], where softplus(-x) = -log sigmoid(x) =
    max(-x, 0) + log(1 + exp(-|x|)) never overflows, whatever |x|. Without pos_weight
    this is max(x, 0) - x t + log(1 + exp(-|x|)).

    input, target: any shape, the same. weight: optional, broadcasts to input's shape.
    pos_weight: optional weight of the positive term, broadcasting to input's shape
    (typically (C,): one weight per class on the last axis), e.g. #negatives / #positives.
    """
    fn = "binary_cross_entropy_with_logits"
    check_reduction(fn, reduction)
    target = _float_target(fn, _check_input(fn, input), target)
    log_weight = 1.0
    if pos_weight is not None:
        pos_weight = _broadcast_weight(fn, "pos_weight", pos_weight, input.shape, input.dtype)
        log_weight = 1.0 + (pos_weight - 1.0) * target
    loss = (1.0 - target) * input + _softplus(-input) * log_weight
    if weight is not None:
        loss = loss * _broadcast_weight(fn, "weight", weight, input.shape, input.dtype)
    return _reduce(loss, reduction)


# ----- multi-class classification --------------------------------------------------------
def _class_rows(fn: str, input: Tensor) -> tuple[Tensor, tuple[int, ...]]:
    """input (C,), (N, C) or (N, C, d1, ...) as rows (M, C), and the batch shape.

    The batch shape is () for unbatched (C,) input, else (N, d1, ...): the class
    axis 1 moves last and the rest flattens, so row m is one prediction.
    """
    if input.ndim == 0:
        raise ValueError(f"{fn}: input needs a class dimension, got a scalar")
    if input.ndim == 1:
        return input.reshape(1, -1), ()
    if input.ndim == 2:  # already rows: no reshape node in the graph
        return input, input.shape[:1]
    classes = input.shape[1]
    batch_shape = (input.shape[0],) + input.shape[2:]
    if input.ndim > 2:
        input = input.permute(0, *range(2, input.ndim), 1)
    return input.reshape(-1, classes), batch_shape


def _labels(fn: str, target, batch_shape: tuple[int, ...], classes: int,
            ignore_index: int) -> np.ndarray:
    """Integer class labels of ``batch_shape``, checked, as flat int64 (rows,)."""
    if not isinstance(target, Tensor) or target.dtype.kind not in "iu":
        got = target.dtype if isinstance(target, Tensor) else type(target).__name__
        raise TypeError(f"{fn}: target must be a Tensor of integer class labels, got {got}")
    _check_target(fn, target, batch_shape, expected="the input's batch (input minus class axis)")
    labels = target._data
    # Two reductions settle the usual case, every label a class index, in a third of
    # the time of the elementwise test below, which also finds the first bad label.
    if labels.size and not (labels.min() >= 0 and labels.max() < classes):
        bad = (labels != ignore_index) & ((labels < 0) | (labels >= classes))
        if bad.any():
            position = tuple(int(i) for i in np.argwhere(bad)[0])
            raise ValueError(f"{fn}: label {labels[position].item()} at position {position} is "
                             f"out of range: expected 0 <= label < {classes} "
                             f"(or ignore_index={ignore_index})")
    return np.ascontiguousarray(labels.reshape(-1), dtype=np.int64)


def _class_weight(fn: str, weight, classes: int, dtype) -> np.ndarray | None:
    """The per-class weight (C,) as a constant array of the logits' dtype, or None."""
    if weight is None:
        return None
    if not isinstance(weight, Tensor):
        raise TypeError(f"{fn}: weight must be a Tensor or None, got {type(weight).__name__}")
    if weight.shape != (classes,):
        raise ValueError(f"{fn}: weight must have shape ({classes},), one value per class, "
                         f"got {weight.shape}")
    return weight._data.astype(dtype)


def _label_row_weights(labels: np.ndarray, ignore_index: int, class_weight,
                       dtype) -> np.ndarray:
    """w[y_i] per row (1 without class weights), 0 for rows whose label is ignore_index."""
    valid = labels != ignore_index
    if class_weight is None:
        return valid.astype(dtype)
    return np.where(valid, class_weight[np.where(valid, labels, 0)], 0).astype(dtype)


def cross_entropy(input: Tensor, target: Tensor, weight: Tensor | None = None,
                  ignore_index: int = -100, reduction: str = "mean",
                  label_smoothing: float = 0.0) -> Tensor:
    """Softmax cross-entropy of logits, on the fused softmax-cross-entropy kernel.

    input: logits (N, C), (N, C, d1, ...) or unbatched (C,). target, either
      - class labels, an integer tensor (N,) / (N, d1, ...) / (): loss_i =
        w[y_i] (logsumexp(x_i) - x_i[y_i]); rows labelled ``ignore_index`` give 0, or
      - class probabilities (soft or one-hot), a float tensor of input's shape:
        loss_i = -sum_c w_c t_ic log softmax(x_i)_c.
    weight: optional per-class weight (C,). label_smoothing eps in [0, 1] replaces
    the target by (1 - eps) target + eps / C (labels become that smoothed one-hot).

    'mean' divides by sum_i w[y_i] over non-ignored rows for labels (the row count
    when unweighted), as PyTorch, and by the row count N * d1 * ... for
    probabilities. 'none' returns (N, d1, ...), or () for unbatched input. Huge
    logits are safe: the kernel works in log-space. Targets and weight are constants.
    """
    fn = "cross_entropy"
    check_reduction(fn, reduction)
    _check_input(fn, input)
    if not 0.0 <= label_smoothing <= 1.0:
        raise ValueError(f"{fn}: label_smoothing must be in [0, 1], got {label_smoothing}")
    if not isinstance(target, Tensor):
        raise TypeError(f"{fn}: target must be a Tensor, got {type(target).__name__}")
    logits, batch_shape = _class_rows(fn, input)
    classes, dtype = logits.shape[1], input.dtype
    class_weight = _class_weight(fn, weight, classes, dtype)

    if target.dtype.kind == "f":  # class probabilities
        if target.shape != input.shape:
            raise ValueError(f"{fn}: input has shape {input.shape} but the float target has "
                             f"shape {target.shape}; class probabilities must match the input's "
                             "shape (class labels must be an integer tensor)")
        _check_target(fn, target, input.shape)
        probs = target._data.astype(dtype)
        if input.ndim > 2:
            probs = np.moveaxis(probs, 1, -1)
        probs = probs.reshape(-1, classes)
        if label_smoothing:
            probs = probs * (1.0 - label_smoothing) + label_smoothing / classes
        if class_weight is not None:
            probs = probs * class_weight
        return _softmax_cross_entropy(logits, probs.astype(dtype), ignore_index, None,
                                      reduction, logits.shape[0], batch_shape)

    labels = _labels(fn, target, batch_shape, classes, ignore_index)
    if class_weight is None and not label_smoothing:  # every counted row weighs 1
        return _softmax_cross_entropy(logits, labels, ignore_index, None, reduction,
                                      np.count_nonzero(labels != ignore_index), batch_shape)
    row_weight = _label_row_weights(labels, ignore_index, class_weight, dtype)
    if label_smoothing:  # smoothed one-hot rows, times the class weights; ignored rows zero
        probs = np.full((labels.size, classes), label_smoothing / classes, dtype=dtype)
        rows = np.flatnonzero(labels != ignore_index)
        probs[rows, labels[rows]] += 1.0 - label_smoothing
        probs[labels == ignore_index] = 0.0
        if class_weight is not None:
            probs *= class_weight
        return _softmax_cross_entropy(logits, probs, ignore_index, None, reduction,
                                      row_weight.sum(), batch_shape)
    return _softmax_cross_entropy(logits, labels, ignore_index, row_weight, reduction,
                                  row_weight.sum(), batch_shape)


def _softmax_cross_entropy(logits: Tensor, target: np.ndarray, ignore_index: int,
                           row_weight: np.ndarray | None, reduction: str, divisor,
                           batch_shape: tuple[int, ...]) -> Tensor:
    """The fused kernel's loss, reduced by it: rows (M, C) against labels (M,) or
    probabilities (M, C), each row's loss times row_weight (M,) when given; 'mean'
    divides the sum by ``divisor``, 'none' returns the losses shaped ``batch_shape``."""
    loss = SoftmaxCrossEntropy.apply(logits, target, ignore_index, row_weight, reduction,
                                     float(divisor))
    if reduction == "none" and loss.shape != batch_shape:
        return loss.reshape(batch_shape)
    return loss


def nll_loss(input: Tensor, target: Tensor, weight: Tensor | None = None,
             ignore_index: int = -100, reduction: str = "mean") -> Tensor:
    """Negative log-likelihood: loss_i = -w[y_i] input[i, y_i] for log-probabilities.

    input: log-probabilities (N, C), (N, C, d1, ...) or (C,) (e.g. log_softmax
    output). target: integer labels (N,) / (N, d1, ...) / (). Rows labelled
    ``ignore_index`` give 0; 'mean' divides by sum_i w[y_i] over the other rows.
    cross_entropy(x, y) equals nll_loss(log_softmax(x, dim=1), y).
    """
    fn = "nll_loss"
    check_reduction(fn, reduction)
    _check_input(fn, input)
    rows, batch_shape = _class_rows(fn, input)
    classes = rows.shape[1]
    class_weight = _class_weight(fn, weight, classes, input.dtype)
    labels = _labels(fn, target, batch_shape, classes, ignore_index)
    row_weight = _label_row_weights(labels, ignore_index, class_weight, input.dtype)
    safe_labels = np.where(labels != ignore_index, labels, 0)
    picked = rows[np.arange(labels.size), safe_labels]
    return _reduce((-picked * row_weight).reshape(batch_shape), reduction, row_weight.sum())


# ----- margin losses ----------------------------------------------------------------------
def _sign_labels(fn: str, input: Tensor, target) -> Tensor:
    """target of input's shape with every value +1 or -1, as input's dtype (a constant)."""
    target = _check_target(fn, target, input.shape)
    _check_label_set(fn, target, (1, -1))
    return Tensor._wrap(target._data.astype(input.dtype))


def hinge_embedding_loss(input: Tensor, target: Tensor, margin: float = 1.0,
                         reduction: str = "mean") -> Tensor:
    """PyTorch's hinge embedding loss: x where y = 1, max(0, margin - x) where y = -1.

    input x: any shape, usually a distance between two embeddings; target y: same
    shape, values +1 (similar) or -1 (dissimilar). For the SVM hinge loss on scores
    use ``hinge_loss``.
    """
    fn = "hinge_embedding_loss"
    check_reduction(fn, reduction)
    labels = _sign_labels(fn, _check_input(fn, input), target)
    loss = where(labels._data == 1, input, (margin - input).clip(min=0.0))
    return _reduce(loss, reduction)


def hinge_loss(input: Tensor, target: Tensor, margin: float = 1.0,
               reduction: str = "mean") -> Tensor:
    """The SVM hinge loss max(0, margin - y * s) (Keras' 'hinge').

    input s: raw scores (not probabilities), any shape; target y: same shape, values
    +1 or -1. The loss is 0 once a score is on the right side by at least ``margin``;
    its gradient is -y while inside the margin, 0 beyond. Not in PyTorch, whose
    ``hinge_embedding_loss`` is a different formula.
    """
    fn = "hinge_loss"
    check_reduction(fn, reduction)
    labels = _sign_labels(fn, _check_input(fn, input), target)
    return _reduce((margin - labels * input).clip(min=0.0), reduction)


# ----- distributions ----------------------------------------------------------------------
def kl_div(input: Tensor, target: Tensor, reduction: str = "mean",
           log_target: bool = False) -> Tensor:
    """Kullback-Leibler divergence KL(target || exp(input)), pointwise as PyTorch.

    input: log-probabilities log q (e.g. log_softmax output), any shape (N, ...).
    target: same shape; probabilities p (0 where p = 0, so zero entries are fine), or
    log-probabilities when log_target=True. Pointwise loss p (log p - log q), or
    exp(t) (t - log q) for log targets; natural logarithms, so the unit is nats.

    Reductions: 'batchmean' divides the sum by the batch size N = input.shape[0] and
    is the mathematically correct KL divergence per sample; 'mean' (the default, kept
    for PyTorch compatibility) divides by the number of elements, i.e. also by the
    number of classes, which is not the KL divergence.
    """
    fn = "kl_div"
    check_reduction(fn, reduction, KL_REDUCTIONS)
    target = _float_target(fn, _check_input(fn, input), target)
    if log_target:
        loss = target.exp() * (target - input)
    else:
        if bool((target._data < 0).any()):
            raise ValueError(f"{fn}: target probabilities must be >= 0, found "
                             f"{target._data.min().item():g} (pass log_target=True for "
                             "log-probabilities)")
        positive = target._data > 0
        loss = where(positive, target * (where(positive, target, 1.0).log() - input), 0.0)
    return _reduce(loss, reduction)


# ----- embeddings -------------------------------------------------------------------------
def _pairwise_distance(x1: Tensor, x2: Tensor, p: float, eps: float) -> Tensor:
    """PyTorch's pairwise_distance: ||x1 - x2 + eps||_p over the last axis."""
    size = (x1 - x2 + eps).abs()
    if p == math.inf:
        return size.max(axis=-1)
    if p == 1:
        return size.sum(axis=-1)
    if p == 2:
        return _sqrt_zero_safe((size * size).sum(axis=-1))
    total = (size**p).sum(axis=-1)
    positive = total._data > 0
    return where(positive, where(positive, total, 1.0) ** (1.0 / p), 0.0)


def triplet_margin_loss(anchor: Tensor, positive: Tensor, negative: Tensor,
                        margin: float = 1.0, p: float = 2.0, eps: float = 1e-6,
                        swap: bool = False, reduction: str = "mean") -> Tensor:
    """Triplet loss max(d(a, p) - d(a, n) + margin, 0) for embedding learning.

    anchor, positive, negative: (N, D) or (D,), the same shape; all three get
    gradients. d(x, y) = ||x - y + eps||_p over the last axis (PyTorch's
    pairwise_distance). swap=True uses min(d(a, n), d(p, n)) as the negative
    distance (Balntas et al. 2016). Returns (N,) for 'none'.
    """
    fn = "triplet_margin_loss"
    check_reduction(fn, reduction)
    if not p > 0:
        raise ValueError(f"{fn}: p must be positive, got {p}")
    _check_input(fn, anchor, "anchor")
    for name, x in (("positive", positive), ("negative", negative)):
        _check_shape(fn, _check_input(fn, x, name), anchor.shape, name, "anchor")
    d_positive = _pairwise_distance(anchor, positive, p, eps)
    d_negative = _pairwise_distance(anchor, negative, p, eps)
    if swap:
        d_swap = _pairwise_distance(positive, negative, p, eps)
        d_negative = where(d_swap._data < d_negative._data, d_swap, d_negative)
    return _reduce((d_positive - d_negative + margin).clip(min=0.0), reduction)


def contrastive_loss(x1: Tensor, x2: Tensor, target: Tensor, margin: float = 1.0,
                     reduction: str = "mean") -> Tensor:
    """Contrastive loss of embedding pairs (Hadsell, Chopra & LeCun 2006, without the 1/2).

    x1, x2: embeddings (N, D) or (D,), the same shape; both get gradients.
    target: (N,) or (), 1 for a similar pair and 0 for a dissimilar one.
    With d = ||x1 - x2||_2 over the last axis:
        loss = target d^2 + (1 - target) max(0, margin - d)^2,
    pulling similar pairs together and pushing dissimilar ones at least ``margin``
    apart. The gradient at d = 0 is finite (d is taken with a zero subgradient there).
    Not in PyTorch; some libraries swap the label convention (0 = similar).
    """
    fn = "contrastive_loss"
    check_reduction(fn, reduction)
    _check_shape(fn, _check_input(fn, x2, "x2"), _check_input(fn, x1, "x1").shape, "x2", "x1")
    if x1.ndim == 0:
        raise ValueError(f"{fn}: x1 and x2 need an embedding axis, got scalars")
    target = _check_target(fn, target, x1.shape[:-1],
                           expected="the pair batch (x1's shape without its last axis)")
    _check_label_set(fn, target, (0, 1))
    similar = Tensor._wrap(target._data.astype(x1.dtype))
    diff = x1 - x2
    squared = (diff * diff).sum(axis=-1)
    gap = (margin - _sqrt_zero_safe(squared)).clip(min=0.0)
    return _reduce(similar * squared + (1.0 - similar) * gap * gap, reduction)
