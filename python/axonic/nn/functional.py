"""Stateless functions behind the nn modules: activations, softmax, linear, losses."""

from __future__ import annotations

from ..autograd.ops_batch_norm import BatchNorm as _BatchNorm
from ..autograd.ops_conv2d import Conv2d as _Conv2d
from ..autograd.ops_dropout import Dropout as _Dropout
from ..autograd.ops_dropout import check_dropout_probability as _check_dropout_probability
from ..autograd.ops_linalg import Linear as _Linear
from ..autograd.ops_nn import Activation, Softmax
from ..autograd.ops_pooling import AdaptiveAvgPool2d as _AdaptiveAvgPool2d
from ..autograd.ops_pooling import AvgPool2d as _AvgPool2d
from ..autograd.ops_pooling import MaxPool2d as _MaxPool2d
from ..backends.spec import DEFAULT_ALPHA
from ..random import generator as _generator
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


def dropout(input: Tensor, p: float = 0.5, training: bool = True, inplace: bool = False) -> Tensor:
    """Inverted dropout: in training, zeroes each element with probability p and scales the
    rest by 1 / (1 - p); otherwise returns input. Any shape. The mask's seed comes from
    axonic.random.generator(), so axonic.manual_seed makes it repeat."""
    _require_tensor(input, "dropout")
    p = _check_dropout_probability(p)
    if inplace:
        raise NotImplementedError("dropout(inplace=True) is not supported: axonic tensors have "
                                  "no in-place autograd; use inplace=False")
    if not training:
        return input
    seed = int(_generator().integers(0, 2**64, dtype="uint64", endpoint=False))
    return _Dropout.apply(input, p, seed)


def batch_norm(
    input: Tensor,
    running_mean: Tensor | None,
    running_var: Tensor | None,
    weight: Tensor | None = None,
    bias: Tensor | None = None,
    training: bool = False,
    momentum: float = 0.1,
    eps: float = 1e-5,
) -> Tensor:
    """Batch normalization over the channel axis of input (N, C, *spatial).

    Training normalizes with the batch's per-channel mean and biased variance and, when
    given, updates running_mean / running_var (C,) in place: running = (1 - momentum) *
    running + momentum * stat, with the unbiased variance. Otherwise the running
    statistics normalize. weight / bias (C,) scale and shift; None means 1 / 0.
    """
    _require_tensor(input, "batch_norm")
    if input.dtype.kind != "f":
        raise TypeError(f"batch_norm needs a float32 or float64 tensor, got {input.dtype}")
    if input.ndim < 2:
        raise ValueError("batch_norm expects input of shape (N, C) or (N, C, *spatial), got "
                         f"shape {input.shape}")
    if not training and (running_mean is None or running_var is None):
        raise ValueError("batch_norm with training=False needs running_mean and running_var")
    channels = input.shape[1]
    if training:
        values_per_channel = input.shape[0]
        for size in input.shape[2:]:
            values_per_channel *= size
        if values_per_channel <= 1:
            raise ValueError("Expected more than 1 value per channel when training, got input "
                             f"size {tuple(input.shape)}")
    for name, t in (("weight", weight), ("bias", bias), ("running_mean", running_mean),
                    ("running_var", running_var)):
        if t is None:
            continue
        _require_tensor(t, f"batch_norm's {name}")
        if t.dtype != input.dtype:
            raise TypeError(f"batch_norm: input is {input.dtype} but {name} is {t.dtype}")
        if tuple(t.shape) != (channels,):
            raise ValueError(f"batch_norm: {name} must have shape ({channels},) for input of "
                             f"shape {tuple(input.shape)} (C = {channels}), got "
                             f"{tuple(t.shape)}")
    buffers = [None if t is None else t._data for t in (running_mean, running_var)]
    return _BatchNorm.apply(input, weight, bias, *buffers, bool(training), float(momentum),
                            float(eps))


def _pair(value, name: str, op: str) -> tuple[int, int]:
    """An int or a pair of ints as an (h, w) pair (kernel size, stride, padding, dilation)."""
    pair = (value, value) if isinstance(value, int) else tuple(value)
    if len(pair) == 1:
        pair = (pair[0], pair[0])
    if len(pair) != 2 or not all(isinstance(v, int) for v in pair):
        raise TypeError(f"{op}: {name} must be an int or a pair of ints, got {value!r}")
    return int(pair[0]), int(pair[1])


def max_pool2d(input: Tensor, kernel_size, stride=None, padding=0, dilation=1,
               ceil_mode: bool = False, return_indices: bool = False):
    """Max over each kernel_size window of input (N, C, H, W) or (C, H, W).

    stride defaults to kernel_size; padding (at most kernel_size / 2) acts as -inf. The
    output is (N, C, Ho, Wo) with Ho = floor((H + 2 padding - dilation (kernel - 1) - 1)
    / stride) + 1 (ceil with ceil_mode), as PyTorch. return_indices also returns the
    int64 flat index h * W + w of each maximum within its input plane.
    """
    _require_tensor(input, "max_pool2d")
    op = "max_pool2d"
    kernel = _pair(kernel_size, "kernel_size", op)
    stride = kernel if stride is None or stride == [] else _pair(stride, "stride", op)
    sink = [] if return_indices else None
    out = _MaxPool2d.apply(input, kernel, stride, _pair(padding, "padding", op),
                           _pair(dilation, "dilation", op), bool(ceil_mode), sink)
    return (out, Tensor._wrap(sink[0])) if return_indices else out


def avg_pool2d(input: Tensor, kernel_size, stride=None, padding=0, ceil_mode: bool = False,
               count_include_pad: bool = True) -> Tensor:
    """Mean over each kernel_size window of input (N, C, H, W) or (C, H, W).

    stride defaults to kernel_size; zero padding of at most kernel_size / 2 is counted in
    the divisor when count_include_pad. Output size as max_pool2d's (dilation 1).
    """
    _require_tensor(input, "avg_pool2d")
    op = "avg_pool2d"
    kernel = _pair(kernel_size, "kernel_size", op)
    stride = kernel if stride is None or stride == [] else _pair(stride, "stride", op)
    return _AvgPool2d.apply(input, kernel, stride, _pair(padding, "padding", op),
                            bool(ceil_mode), bool(count_include_pad))


def adaptive_avg_pool2d(input: Tensor, output_size) -> Tensor:
    """Average pooling of input (N, C, H, W) or (C, H, W) to (..., out_h, out_w).

    output_size is an int or a pair; None keeps that input size. Output (i, j) averages
    rows [floor(i H / out_h), ceil((i + 1) H / out_h)) and the columns alike, as
    PyTorch; output_size 1 is global average pooling.
    """
    _require_tensor(input, "adaptive_avg_pool2d")
    if input.ndim not in (3, 4):
        raise ValueError("adaptive_avg_pool2d expects a 3-D (C, H, W) or 4-D (N, C, H, W) "
                         f"input, got shape {tuple(input.shape)}")
    sizes = (output_size, output_size) if output_size is None or isinstance(output_size, int) \
        else tuple(output_size)
    if len(sizes) != 2:
        raise TypeError(f"adaptive_avg_pool2d: output_size must be an int or a pair, got "
                        f"{output_size!r}")
    sizes = tuple(input.shape[-2 + i] if s is None else s for i, s in enumerate(sizes))
    if not all(isinstance(s, int) and s >= 1 for s in sizes):
        raise ValueError(f"adaptive_avg_pool2d: output_size must be positive, got "
                         f"{output_size!r}")
    return _AdaptiveAvgPool2d.apply(input, (int(sizes[0]), int(sizes[1])))


def conv2d(input: Tensor, weight: Tensor, bias: Tensor | None = None, stride=1, padding=0,
           dilation=1, groups: int = 1) -> Tensor:
    """2-D convolution (cross-correlation) of input (N, C_in, H, W) or (C_in, H, W).

    weight: (C_out, C_in / groups, kH, kW); bias: (C_out,) or None. stride, padding and
    dilation are ints or (h, w) pairs; padding may also be "valid" (none) or "same"
    (output as large as the input; stride 1 only; an odd total padding puts the extra
    row/column at the bottom/right, as PyTorch). Output (N, C_out, Ho, Wo) with
    Ho = floor((H + 2 padding - dilation (kH - 1) - 1) / stride) + 1, as PyTorch.
    """
    _require_tensor(input, "conv2d")
    _require_tensor(weight, "conv2d")
    if bias is not None:
        _require_tensor(bias, "conv2d")
    if not isinstance(groups, int):
        raise TypeError(f"conv2d: groups must be an int, got {groups!r}")
    stride = _pair(stride, "stride", "conv2d")
    dilation = _pair(dilation, "dilation", "conv2d")
    if isinstance(padding, str):
        if padding == "valid":
            return _Conv2d.apply(input, weight, bias, stride, (0, 0), dilation, groups)
        if padding != "same":
            raise ValueError(f"conv2d: padding must be an int, a pair, 'valid' or 'same', got "
                             f"{padding!r}")
        if stride != (1, 1):
            raise ValueError(f"conv2d: padding='same' needs stride 1, got {stride}")
        if weight.ndim != 4:
            raise ValueError(f"conv2d: weight must be 4-D (C_out, C_in / groups, kH, kW), got "
                             f"shape {tuple(weight.shape)}")
        totals = [dilation[a] * (weight.shape[2 + a] - 1) for a in range(2)]
        # Symmetric padding of ceil(total / 2); an odd total gives one extra leading
        # row/column, which PyTorch does not have: drop it.
        pads = tuple(-(-t // 2) for t in totals)
        out = _Conv2d.apply(input, weight, bias, stride, pads, dilation, groups)
        return out[..., totals[0] % 2:, totals[1] % 2:]
    return _Conv2d.apply(input, weight, bias, stride, _pair(padding, "padding", "conv2d"), dilation,
                         groups)
