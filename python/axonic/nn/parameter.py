"""``Parameter``: a tensor a Module owns and trains (requires_grad by default)."""

from __future__ import annotations

from ..tensor import Tensor


class Parameter(Tensor):
    __slots__ = ()

    def __init__(self, data, requires_grad: bool = True):
        super().__init__(data, dtype=data.dtype if isinstance(data, Tensor) else None,
                         requires_grad=requires_grad)

    def __repr__(self) -> str:
        return "Parameter containing:\n" + super().__repr__()
