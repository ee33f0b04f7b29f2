"""Training helpers, as ``torch.nn.utils``: gradient clipping and weight penalties."""

from .clip_grad import clip_grad_norm_, clip_grad_value_, clip_grads_with_norm_, get_total_norm
from .regularization import l1_penalty, l2_penalty

__all__ = [
    "clip_grad_norm_", "clip_grad_value_", "clip_grads_with_norm_", "get_total_norm",
    "l1_penalty", "l2_penalty",
]
