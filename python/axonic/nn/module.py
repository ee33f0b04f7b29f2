"""``Module``: the base of every layer and model, with PyTorch's registration rules.

Assigning a Parameter or a Module to an attribute registers it, so
``parameters()``, ``state_dict()``, ``train()/eval()`` and ``zero_grad()`` see it.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterator

import numpy as np

from ..backends import get_backend
from ..tensor import Tensor
from .parameter import Parameter


class Module:
    training: bool

    def __init__(self) -> None:
        object.__setattr__(self, "_parameters", OrderedDict())
        object.__setattr__(self, "_modules", OrderedDict())
        object.__setattr__(self, "_buffers", OrderedDict())
        object.__setattr__(self, "training", True)

    # ----- registration -------------------------------------------------------------------
    def __setattr__(self, name: str, value) -> None:
        if "_parameters" not in self.__dict__:
            raise AttributeError(f"{type(self).__name__}.__init__ must call super().__init__() "
                                 "before assigning attributes")
        if isinstance(value, Parameter):
            target = self._parameters
        elif isinstance(value, Module):
            target = self._modules
        elif name in self._buffers and (value is None or isinstance(value, Tensor)):
            target = self._buffers  # assigning a tensor to a buffer updates the buffer
        else:
            target = None
        for table in (self._parameters, self._modules, self._buffers):
            if table is not target:
                table.pop(name, None)
        if target is None:
            object.__setattr__(self, name, value)
        else:
            # A plain attribute of that name would shadow the table entry (__getattr__ only
            # runs when normal lookup fails); replacing in place keeps registration order.
            self.__dict__.pop(name, None)
            target[name] = value

    def __getattr__(self, name: str):
        for table in ("_parameters", "_modules", "_buffers"):
            entries = self.__dict__.get(table)
            if entries is not None and name in entries:
                return entries[name]
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")

    def __delattr__(self, name: str) -> None:
        for table in (self._parameters, self._modules, self._buffers):
            if name in table:
                del table[name]
                return
        object.__delattr__(self, name)

    def register_parameter(self, name: str, param: Parameter | None) -> None:
        if param is None:
            self._parameters.pop(name, None)
            object.__setattr__(self, name, None)
        else:
            setattr(self, name, param)

    def register_buffer(self, name: str, tensor: Tensor | None) -> None:
        """A tensor saved in state_dict but not trained (e.g. running statistics)."""
        self._buffers[name] = tensor

    def add_module(self, name: str, module: Module | None) -> None:
        self._modules[name] = module

    # ----- traversal ----------------------------------------------------------------------
    def named_modules(self, prefix: str = "") -> Iterator[tuple[str, Module]]:
        yield prefix, self
        for name, child in self._modules.items():
            if child is not None:
                yield from child.named_modules(f"{prefix}.{name}" if prefix else name)

    def modules(self) -> Iterator[Module]:
        for _, module in self.named_modules():
            yield module

    def named_children(self) -> Iterator[tuple[str, Module]]:
        for name, child in self._modules.items():
            if child is not None:
                yield name, child

    def children(self) -> Iterator[Module]:
        for _, child in self.named_children():
            yield child

    def named_parameters(self, prefix: str = "") -> Iterator[tuple[str, Parameter]]:
        """Every parameter once (shared ones are not repeated), with dotted names."""
        seen: set[int] = set()
        for module_name, module in self.named_modules(prefix):
            for name, param in module._parameters.items():
                if param is None or id(param) in seen:
                    continue
                seen.add(id(param))
                yield (f"{module_name}.{name}" if module_name else name), param

    def parameters(self) -> Iterator[Parameter]:
        for _, param in self.named_parameters():
            yield param

    def named_buffers(self) -> Iterator[tuple[str, Tensor]]:
        for module_name, module in self.named_modules():
            for name, buf in module._buffers.items():
                if buf is not None:
                    yield (f"{module_name}.{name}" if module_name else name), buf

    # ----- modes and gradients ------------------------------------------------------------
    def train(self, mode: bool = True) -> Module:
        for module in self.modules():
            object.__setattr__(module, "training", mode)
        return self

    def eval(self) -> Module:
        return self.train(False)

    def zero_grad(self, set_to_none: bool = True) -> None:
        for param in self.parameters():
            if set_to_none:
                param.grad = None
            elif param.grad is not None:
                param.grad.zero_()

    def requires_grad_(self, requires_grad: bool = True) -> Module:
        """Freezes (False) or unfreezes every parameter, e.g. for transfer learning."""
        for param in self.parameters():
            param.requires_grad_(requires_grad)
        return self

    def num_parameters(self, trainable_only: bool = False) -> int:
        return sum(p.numel() for p in self.parameters() if p.requires_grad or not trainable_only)

    # ----- dtype / device -----------------------------------------------------------------
    def _apply_to_tensors(self, convert, keep_grads: bool = False) -> Module:
        for module in self.modules():
            for param in module._parameters.values():
                if param is not None:
                    param._data = convert(param._data)
                    if keep_grads and param.grad is not None:
                        param.grad._data = convert(param.grad._data)
                    else:
                        param.grad = None
            for buf in module._buffers.values():
                if buf is not None:
                    buf._data = convert(buf._data)
        return self

    def double(self) -> Module:
        return self._apply_to_tensors(lambda a: a.astype(np.float64) if a.dtype.kind == "f" else a)

    def float(self) -> Module:
        return self._apply_to_tensors(lambda a: a.astype(np.float32) if a.dtype.kind == "f" else a)

    def to(self, target) -> Module:
        """``to('cpu')``, ``to('cuda')``, or ``to(dtype)`` for every parameter and buffer,
        in place: the Parameter objects stay the same (an optimizer made before keeps
        working) and their gradients move with them."""
        if isinstance(target, str) and (target in ("cpu", "cuda") or target.startswith("cuda:")):
            from ..backends import array_to_device, parse_device

            device = parse_device(target)
            if device == "cuda":
                get_backend("cuda")  # the reason CUDA cannot be used, before anything moves
            return self._apply_to_tensors(lambda a: array_to_device(a, device), keep_grads=True)
        from ..tensor import _device_or_dtype

        dtype = _device_or_dtype(target)
        return self._apply_to_tensors(lambda a: a.astype(dtype) if a.dtype.kind == "f" else a)

    def cuda(self) -> Module:
        return self.to("cuda")

    def cpu(self) -> Module:
        return self.to("cpu")

    # ----- state --------------------------------------------------------------------------
    def state_dict(self) -> OrderedDict[str, np.ndarray]:
        """Every parameter and buffer by dotted name, as copied NumPy arrays."""
        state: OrderedDict[str, np.ndarray] = OrderedDict()
        for name, param in self.named_parameters():
            state[name] = param.numpy().copy()
        for name, buf in self.named_buffers():
            state[name] = buf.numpy().copy()
        return state

    def load_state_dict(self, state_dict, strict: bool = True) -> tuple[list[str], list[str]]:
        """Copies values in by name; returns (missing, unexpected) keys.

        With strict=True (the default) a missing or unexpected key, or a shape
        mismatch, raises with the names involved.
        """
        own = dict(self.named_parameters())
        own.update(self.named_buffers())
        missing = [k for k in own if k not in state_dict]
        unexpected = [k for k in state_dict if k not in own]
        if strict and (missing or unexpected):
            raise KeyError(f"load_state_dict: missing keys {missing}, unexpected keys {unexpected}")
        for name, target in own.items():
            if name not in state_dict:
                continue
            value = state_dict[name]
            value = value.numpy() if isinstance(value, Tensor) else np.asarray(value)
            if tuple(value.shape) != target.shape:
                raise ValueError(f"load_state_dict: {name} has shape {target.shape} in the model "
                                 f"but {tuple(value.shape)} in the state dict")
            target._data[...] = value
        return missing, unexpected

    # ----- calling and printing -----------------------------------------------------------
    def forward(self, *args, **kwargs):
        raise NotImplementedError(f"{type(self).__name__} must define forward()")

    def __call__(self, *args, **kwargs):
        return self.forward(*args, **kwargs)

    def extra_repr(self) -> str:
        return ""

    def __repr__(self) -> str:
        lines = []
        for name, child in self._modules.items():
            child_repr = repr(child).replace("\n", "\n  ")
            lines.append(f"  ({name}): {child_repr}")
        head = f"{type(self).__name__}({self.extra_repr()}"
        if not lines:
            return head + ")"
        return head + "\n" + "\n".join(lines) + "\n)"
