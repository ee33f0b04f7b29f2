"""Containers of modules."""

from __future__ import annotations

from collections import OrderedDict

from .module import Module


class Sequential(Module):
    """Applies its modules in order: Sequential(Linear(4, 8), ReLU(), Linear(8, 1)).

    Also accepts an OrderedDict of named modules; supports len, indexing and iteration.
    """

    def __init__(self, *modules):
        super().__init__()
        if len(modules) == 1 and isinstance(modules[0], OrderedDict):
            for name, module in modules[0].items():
                self._add(name, module)
        else:
            for index, module in enumerate(modules):
                self._add(str(index), module)

    def _add(self, name: str, module) -> None:
        if not isinstance(module, Module):
            raise TypeError(f"Sequential takes Modules, got {type(module).__name__} at {name!r}")
        self.add_module(name, module)

    def append(self, module: Module) -> Sequential:
        self._add(str(len(self._modules)), module)
        return self

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self):
        return iter(self._modules.values())

    def __getitem__(self, index):
        modules = list(self._modules.values())
        if isinstance(index, slice):
            return Sequential(*modules[index])
        return modules[index]

    def forward(self, x):
        for module in self._modules.values():
            x = module(x)
        return x
