"""Turns the ``parameters`` argument of the nn.utils functions into a list of Tensors."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Union

from ...tensor import Tensor

TensorOrTensors = Union[Tensor, Iterable[Tensor]]


def tensor_list(tensors: TensorOrTensors, caller: str) -> list[Tensor]:
    """``[tensors]`` for one Tensor, else the iterable's items (read once, so generators work).

    Raises TypeError, naming ``caller``, when an item is not an axonic Tensor.
    """
    items = [tensors] if isinstance(tensors, Tensor) else list(tensors)
    for index, item in enumerate(items):
        if not isinstance(item, Tensor):
            raise TypeError(f"{caller}: expected axonic Tensors, but item {index} is a "
                            f"{type(item).__name__}")
    return items
