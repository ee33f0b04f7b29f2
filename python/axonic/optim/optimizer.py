"""``Optimizer``: parameter groups, per-parameter state, zero_grad, step and state_dict.

Each group is a dict with "params" and that group's options (lr, betas...), so
layers can train at different rates (as transfer learning needs). A subclass checks its
options (``_check_options``) and updates one group with one fused multi-tensor
kernel call (``_update``): every parameter of the group in a single native pass, no
Python loop over elements. State buffers are created on first use.
"""

from __future__ import annotations

import copy
import numbers
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np

from ..backends import array_to_device, get_backend
from ..grad_mode import enable_grad, no_grad
from ..tensor import Tensor


@dataclass
class GroupBatch:
    """The parameters of one group that have a gradient, ready for a fused kernel.

    All on one device and of one dtype. ``params``/``grads`` are the C-contiguous
    arrays the kernel updates and reads, ``states`` the per-parameter state dicts
    (buffers are made on first use by ``buffers``), ``backend`` the device's backend.
    ``steps`` holds each parameter's step count after this step, for the per-tensor
    coefficients.
    """

    backend: Any
    tensors: list[Tensor] = field(default_factory=list)
    params: list = field(default_factory=list)
    grads: list = field(default_factory=list)
    states: list[dict[str, Any]] = field(default_factory=list)

    def buffers(self, name: str, fill: float = 0.0) -> list:
        """Each parameter's state buffer ``name``, created (filled with ``fill``, in the
        parameter's shape, dtype and device) where a parameter has none yet."""
        out = []
        for state, param in zip(self.states, self.params):
            if name not in state:
                state[name] = self.backend.xp.full_like(param, fill)
            elif _device_of(state[name]) != self.backend.device:  # the model moved (Module.to)
                state[name] = array_to_device(state[name], self.backend.device)
            out.append(state[name])
        return out

    @property
    def steps(self) -> np.ndarray:
        return np.array([state["step"] for state in self.states], dtype=np.float64)

    def coefficients(self, *columns: np.ndarray) -> np.ndarray:
        """The float64 (len(params), k) array of per-tensor scalars a kernel takes."""
        return np.ascontiguousarray(np.stack(np.broadcast_arrays(*columns), axis=1),
                                    dtype=np.float64)


class Optimizer:
    def __init__(self, params: Iterable, defaults: dict[str, Any]):
        self._check_options(defaults)
        self.defaults = dict(defaults)
        self.param_groups: list[dict[str, Any]] = []
        self.state: dict[int, dict[str, Any]] = {}  # keyed by id(parameter)
        if isinstance(params, Tensor):
            raise TypeError(f"{type(self).__name__} expects an iterable of Tensors or of "
                            "parameter-group dicts, got a single Tensor; wrap it in a list")
        params = list(params)
        if not params:
            raise ValueError(f"{type(self).__name__} got an empty parameter list")
        groups = params if isinstance(params[0], dict) else [{"params": params}]
        for group in groups:
            self.add_param_group(group)

    def __repr__(self) -> str:
        lines = [f"{type(self).__name__} ("]
        for i, group in enumerate(self.param_groups):
            options = ", ".join(f"{k}={v}" for k, v in group.items() if k != "params")
            lines.append(f"  group {i}: {len(group['params'])} params, {options}")
        return "\n".join(lines + [")"])

    # ----- groups -------------------------------------------------------------------------
    def add_param_group(self, group: dict[str, Any]) -> None:
        if not isinstance(group, dict) or "params" not in group:
            raise TypeError("a parameter group is a dict with a 'params' entry")
        params = group["params"]
        params = [params] if isinstance(params, Tensor) else list(params)
        if not params:
            raise ValueError(f"{type(self).__name__}: a parameter group has no parameters")
        for p in params:
            if not isinstance(p, Tensor):
                raise TypeError(f"{type(self).__name__} optimizes Tensors, got {type(p).__name__}")
            if not p.is_leaf:
                raise ValueError("can only optimize leaf tensors (parameters), not results of "
                                 "operations")
        if len({id(p) for p in params}) != len(params):
            raise ValueError("a parameter appears twice in one parameter group")
        seen = {id(p) for g in self.param_groups for p in g["params"]}
        if any(id(p) in seen for p in params):
            raise ValueError("a parameter appears in more than one parameter group")
        unknown = set(group) - set(self.defaults) - {"params", "initial_lr"}
        if unknown:
            raise ValueError(f"{type(self).__name__}: unknown option(s) {sorted(unknown)} in a "
                             f"parameter group; expected some of {sorted(self.defaults)}")
        full = {**self.defaults, **group, "params": params}
        self._check_options(full)
        self.param_groups.append(full)

    def _check_options(self, options: dict[str, Any]) -> None:
        """Raises ValueError for an invalid option value (subclasses extend)."""

    # ----- stepping -----------------------------------------------------------------------
    def zero_grad(self, set_to_none: bool = True) -> None:
        for group in self.param_groups:
            for p in group["params"]:
                if set_to_none:
                    p.grad = None
                elif p.grad is not None:
                    p.grad.zero_()

    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        """One update of every parameter that has a gradient. ``closure``, when
        given, re-evaluates the model and returns the loss (run with grad enabled)."""
        loss = None
        if closure is not None:
            with enable_grad():
                loss = closure()
        with no_grad():
            # Every gradient of every group is checked before any parameter moves.
            work = [(group, batch) for index, group in enumerate(self.param_groups)
                    for batch in self._gather(group, index)]
            for group, batch in work:
                batch.states = [self.state.setdefault(id(p), {"step": 0})
                                for p in batch.tensors]
                for state in batch.states:
                    state["step"] += 1
                try:
                    self._update(group, batch)
                except Exception:
                    for state in batch.states:
                        state["step"] -= 1
                    raise
                self._write_back(batch)
        return loss

    def _update(self, group: dict[str, Any], batch: GroupBatch) -> None:
        raise NotImplementedError

    def _gather(self, group: dict[str, Any], group_index: int) -> list[GroupBatch]:
        """The group's parameters that have a gradient, checked, in one batch per device
        and dtype (a fused kernel takes arrays of one dtype on one device)."""
        batches: dict[tuple[str, np.dtype], GroupBatch] = {}
        for i, p in enumerate(group["params"]):
            if p.grad is None:
                continue
            where = f"parameter {i} of parameter group {group_index}"
            param, grad = p._data, p.grad._data
            if grad.shape != param.shape or grad.dtype != param.dtype:
                raise ValueError(f"{where}: its gradient is {grad.dtype}{list(grad.shape)} but the "
                                 f"parameter is {param.dtype}{list(param.shape)}; a gradient "
                                 "must match its parameter's shape and dtype")
            if p.grad.device != p.device:
                raise RuntimeError(f"{where} is on {p.device} but its gradient is on "
                                   f"{p.grad.device}; move both with Module.to / Tensor.to")
            if param.dtype not in (np.float32, np.float64):
                raise ValueError(f"{where} is {param.dtype}; optimizers update float32 or "
                                 "float64 parameters")
            key = (p.device, param.dtype)
            if key not in batches:
                batches[key] = GroupBatch(get_backend(p.device))
            batch = batches[key]
            batch.tensors.append(p)
            batch.params.append(_c_contiguous(param, batch.backend.xp))
            batch.grads.append(_c_contiguous(grad, batch.backend.xp))
        return list(batches.values())

    @staticmethod
    def _write_back(batch: GroupBatch) -> None:
        # A parameter that was not C-contiguous was updated in a contiguous copy.
        for tensor, array in zip(batch.tensors, batch.params):
            if array is not tensor._data:
                tensor._data[...] = array

    # ----- saving and resuming ------------------------------------------------------------
    def _all_params(self) -> list[Tensor]:
        return [p for g in self.param_groups for p in g["params"]]

    def state_dict(self) -> dict[str, Any]:
        """Options of each group and the state of each parameter, by position (copies)."""
        index = {id(p): i for i, p in enumerate(self._all_params())}
        state = {index[key]: _copy_state(value) for key, value in self.state.items()
                 if key in index}
        groups = [{k: copy.deepcopy(v) for k, v in g.items() if k != "params"} |
                  {"params": [index[id(p)] for p in g["params"]]} for g in self.param_groups]
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Restores options and state saved by ``state_dict`` (a later step then equals
        the one the saved optimizer would have taken, bit for bit)."""
        params = self._all_params()
        groups = state_dict["param_groups"]
        if len(groups) != len(self.param_groups) or any(
            len(g["params"]) != len(own["params"]) for g, own in zip(groups, self.param_groups)
        ):
            raise ValueError("load_state_dict: the saved parameter groups do not match this "
                             "optimizer's (different number of groups or parameters)")
        new_state = {}
        for i, value in state_dict["state"].items():
            if not 0 <= int(i) < len(params):
                raise ValueError(f"load_state_dict: state for parameter {i}, but this optimizer "
                                 f"has {len(params)} parameters")
            param = params[int(i)]
            xp = get_backend(param.device).xp
            restored = {}
            for name, v in value.items():
                if _is_buffer(v):
                    if tuple(v.shape) != param.shape:
                        raise ValueError(f"load_state_dict: {name} of parameter {i} has shape "
                                         f"{tuple(v.shape)} but the parameter has {param.shape}")
                    restored[name] = xp.array(array_to_device(v, param.device),
                                              dtype=param.dtype, order="C")
                else:
                    restored[name] = copy.deepcopy(v)
            new_state[id(param)] = restored
        for own, saved in zip(self.param_groups, groups):
            own.update({k: copy.deepcopy(v) for k, v in saved.items() if k != "params"})
        self.state = new_state


def _c_contiguous(array, xp):
    """The array itself when C-contiguous (0-d arrays keep their shape), else a copy."""
    return array if array.flags.c_contiguous else xp.ascontiguousarray(array)


def _device_of(array) -> str:
    return "cuda" if hasattr(array, "__cuda_array_interface__") else "cpu"


def _is_buffer(value: Any) -> bool:
    """A state entry that is a per-element buffer (a NumPy or CuPy array), not a scalar
    such as "step" or NAdam's "mu_product"."""
    return isinstance(value, np.ndarray) or hasattr(value, "__cuda_array_interface__")


def _copy_state(state: dict[str, Any]) -> dict[str, Any]:
    return {k: (v.copy() if _is_buffer(v) else copy.deepcopy(v)) for k, v in state.items()}


def check_nonnegative(owner: str, options: dict[str, Any], *names: str) -> None:
    """ValueError unless each named option is a number >= 0 (NaN fails too)."""
    for name in names:
        value = options[name]
        if not (isinstance(value, numbers.Real) and value >= 0):
            raise ValueError(f"{owner}: {name} must be a number >= 0, got {value!r}")


def check_fraction(owner: str, name: str, value: Any, *, upper_closed: bool = False) -> None:
    """ValueError unless 0 <= value < 1 (<= 1 with upper_closed), e.g. a decay rate."""
    ok = isinstance(value, numbers.Real) and 0 <= value and (
        value <= 1 if upper_closed else value < 1)
    if not ok:
        interval = "[0, 1]" if upper_closed else "[0, 1)"
        raise ValueError(f"{owner}: {name} must be in {interval}, got {value!r}")


def check_betas(owner: str, betas: Any) -> None:
    if not (isinstance(betas, (tuple, list)) and len(betas) == 2):
        raise ValueError(f"{owner}: betas must be a pair (beta1, beta2), got {betas!r}")
    for i, beta in enumerate(betas):
        check_fraction(owner, f"betas[{i}]", beta)


def bias_correction(beta: float, steps: np.ndarray) -> np.ndarray:
    """1 - beta^t for each step count t."""
    return 1.0 - np.power(beta, steps)
