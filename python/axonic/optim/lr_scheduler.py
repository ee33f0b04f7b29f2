"""Learning-rate schedulers: ``axonic.optim.lr_scheduler``, after ``torch.optim.lr_scheduler``.

A scheduler wraps an optimizer and rewrites ``group["lr"]`` of each parameter group in place
once per ``step()``. Call ``optimizer.step()`` first, then ``scheduler.step()``::

    opt = axonic.optim.SGD(model.parameters(), lr=0.1)
    scheduler = StepLR(opt, step_size=30, gamma=0.1)
    for epoch in range(100):
        train(...)               # calls opt.step() for each batch
        scheduler.step()

Epoch-driven schedulers (all but ``ReduceLROnPlateau``) compute the learning rate in closed
form from ``last_epoch`` and ``base_lrs`` (each group's ``"initial_lr"``), so a scheduler
restored with ``load_state_dict`` continues exactly where the saved one stopped. PyTorch
updates most of them recursively from the current ``group["lr"]``; under normal use the two
agree to rounding. They differ only if something else also edits ``group["lr"]`` between steps
(two schedulers on one optimizer, manual edits): here the schedule overwrites such edits.
"""

from __future__ import annotations

import copy
import math
import numbers
import types
import warnings
from bisect import bisect_right
from collections import Counter
from collections.abc import Iterable, Sequence
from typing import Any, Callable, SupportsFloat

from .optimizer import Optimizer

__all__ = [
    "LRScheduler",
    "LambdaLR",
    "StepLR",
    "MultiStepLR",
    "ExponentialLR",
    "CosineAnnealingLR",
    "LinearLR",
    "SequentialLR",
    "ReduceLROnPlateau",
]

EPOCH_DEPRECATION_WARNING = (
    "The epoch argument of scheduler.step() is deprecated (as in PyTorch): it sets last_epoch "
    "and the closed-form learning rate for that epoch. Call scheduler.step() without it."
)


# ----------------------------------------------------------------------------- argument checks


def _check_optimizer(who: str, optimizer: Any) -> None:
    if not isinstance(optimizer, Optimizer):
        raise TypeError(
            f"{who}: optimizer must be an axonic.optim.Optimizer, got {type(optimizer).__name__}"
        )


def _check_int(who: str, name: str, value: Any, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{who}: {name} must be an int, got {type(value).__name__}")
    if value < minimum:
        raise ValueError(f"{who}: {name} must be an int >= {minimum}, got {value}")
    return int(value)


def _check_real(who: str, name: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{who}: {name} must be a real number, got {type(value).__name__}")
    if math.isnan(value):
        raise ValueError(f"{who}: {name} must be a number, got NaN")
    return float(value)


def _check_milestones(who: str, milestones: Any) -> list[int]:
    if isinstance(milestones, (str, bytes)) or not isinstance(milestones, Iterable):
        raise TypeError(
            f"{who}: milestones must be a list of ints, got {type(milestones).__name__}"
        )
    values = [_check_int(who, "each milestone", m, 0) for m in milestones]
    if any(b < a for a, b in zip(values, values[1:])):
        raise ValueError(f"{who}: milestones must be sorted in increasing order, got {values}")
    return values


# ----------------------------------------------------------------------------- base class


class LRScheduler:
    """Base class of the epoch-driven schedulers; subclasses implement ``get_lr()``.

    ``last_epoch`` is the index of the last epoch seen. With the default ``last_epoch=-1``
    each group's ``"initial_lr"`` is set to its current ``"lr"`` (unless already there) and
    ``base_lrs`` is read from it; a non-default ``last_epoch`` (resuming) requires
    ``"initial_lr"`` to be present. The constructor performs one step, so afterwards
    ``last_epoch == 0`` (or the resumed epoch + 1) and each ``group["lr"]`` holds that epoch's
    value. ``get_lr()`` returns the learning rates for ``last_epoch`` in closed form.

    Example::

        scheduler = ExponentialLR(opt, gamma=0.9)   # lr = base_lr
        opt.step(); scheduler.step()                 # lr = base_lr * 0.9
    """

    def __init__(self, optimizer: Optimizer, last_epoch: int = -1):
        who = type(self).__name__
        _check_optimizer(who, optimizer)
        last_epoch = _check_int(who, "last_epoch", last_epoch, -1)
        self.optimizer = optimizer
        if last_epoch == -1:
            for group in optimizer.param_groups:
                group.setdefault("initial_lr", group["lr"])
        else:
            for i, group in enumerate(optimizer.param_groups):
                if "initial_lr" not in group:
                    raise KeyError(
                        f"{who}: param 'initial_lr' is not specified in param_groups[{i}] when "
                        f"resuming with last_epoch={last_epoch} (>= 0). Load the optimizer's "
                        "state_dict first, or use last_epoch=-1 for a fresh run."
                    )
        self.base_lrs: list[float] = [float(g["initial_lr"]) for g in optimizer.param_groups]
        self.last_epoch = last_epoch
        self._initial_step()

    def _initial_step(self) -> None:
        """Reset the step count and step once (to epoch 0 for a fresh scheduler)."""
        self._step_count = 0
        self.step()

    def get_lr(self) -> list[float]:
        """The learning rate of each parameter group at ``last_epoch``."""
        raise NotImplementedError

    def get_last_lr(self) -> list[float]:
        """The learning rates of the parameter groups as last set by this scheduler."""
        return list(self._last_lr)

    def step(self, epoch: int | None = None) -> None:
        """Advance one epoch and write the new learning rates into the optimizer.

        ``epoch`` is deprecated as in PyTorch: when given, ``last_epoch`` is set to it and the
        closed-form learning rate of that epoch is used (with a ``UserWarning``).
        """
        self._step_count += 1
        if epoch is not None:
            warnings.warn(EPOCH_DEPRECATION_WARNING, UserWarning, stacklevel=2)
        self._update_lr(epoch)

    def _update_lr(self, epoch: int | None = None) -> None:
        if epoch is None:
            self.last_epoch += 1
        else:
            self.last_epoch = _check_int(type(self).__name__, "epoch", epoch, 0)
        groups = self.optimizer.param_groups
        values = self.get_lr()
        if len(values) != len(groups):
            raise RuntimeError(
                f"{type(self).__name__}: the optimizer has {len(groups)} param groups but the "
                f"scheduler was built for {len(values)}; build a new scheduler after "
                "add_param_group"
            )
        for group, lr in zip(groups, values):
            group["lr"] = lr
        self._last_lr: list[float] = [group["lr"] for group in groups]

    def state_dict(self) -> dict[str, Any]:
        """A copy of every attribute except the optimizer."""
        return copy.deepcopy({k: v for k, v in self.__dict__.items() if k != "optimizer"})

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Restore attributes saved by ``state_dict()`` (the optimizer is not touched)."""
        if not isinstance(state_dict, dict):
            raise TypeError(
                f"{type(self).__name__}.load_state_dict: expected a dict from state_dict(), "
                f"got {type(state_dict).__name__}"
            )
        base_lrs = state_dict.get("base_lrs")
        groups = len(self.optimizer.param_groups)
        if base_lrs is not None and len(base_lrs) != groups:
            raise ValueError(
                f"{type(self).__name__}.load_state_dict: the saved state has {len(base_lrs)} "
                f"base_lrs but the optimizer has {groups} param groups"
            )
        self.__dict__.update(copy.deepcopy(state_dict))


# ----------------------------------------------------------------------------- schedulers


class LambdaLR(LRScheduler):
    """lr = base_lr * lr_lambda(epoch), with one function for all groups or one per group.

    ``state_dict()`` saves the ``__dict__`` of callable objects but not plain functions or
    lambdas (stored as ``None``), as PyTorch does.

    Example::

        warmup = LambdaLR(opt, lr_lambda=lambda epoch: min(1.0, (epoch + 1) / 10))
    """

    def __init__(self, optimizer: Optimizer,
                 lr_lambda: Callable[[int], float] | Sequence[Callable[[int], float]],
                 last_epoch: int = -1):
        who = type(self).__name__
        _check_optimizer(who, optimizer)
        groups = len(optimizer.param_groups)
        if isinstance(lr_lambda, (list, tuple)):
            if len(lr_lambda) != groups:
                raise ValueError(
                    f"{who}: expected {groups} lr_lambdas (one per param group), "
                    f"got {len(lr_lambda)}"
                )
            lambdas = list(lr_lambda)
        else:
            lambdas = [lr_lambda] * groups
        for fn in lambdas:
            if not callable(fn):
                raise TypeError(
                    f"{who}: lr_lambda must be a function of the epoch (or a list of them), "
                    f"got {type(fn).__name__}"
                )
        self.lr_lambdas: list[Callable[[int], float]] = lambdas
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        """base_lr * lr_lambda(last_epoch) for each group."""
        return [base * fn(self.last_epoch) for fn, base in zip(self.lr_lambdas, self.base_lrs)]

    def state_dict(self) -> dict[str, Any]:
        """Attributes except the optimizer; lambdas only as the ``__dict__`` of callable objects."""
        state = copy.deepcopy({k: v for k, v in self.__dict__.items()
                               if k not in ("optimizer", "lr_lambdas")})
        state["lr_lambdas"] = [None if isinstance(fn, types.FunctionType)
                               else copy.deepcopy(fn.__dict__) for fn in self.lr_lambdas]
        return state

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Restore attributes and the ``__dict__`` of callable-object lambdas."""
        state = dict(state_dict)
        saved_lambdas = state.pop("lr_lambdas", [None] * len(self.lr_lambdas))
        if len(saved_lambdas) != len(self.lr_lambdas):
            raise ValueError(
                f"LambdaLR.load_state_dict: the saved state has {len(saved_lambdas)} lr_lambdas, "
                f"this scheduler has {len(self.lr_lambdas)}"
            )
        super().load_state_dict(state)
        for fn, saved in zip(self.lr_lambdas, saved_lambdas):
            if saved is not None:
                fn.__dict__.update(copy.deepcopy(saved))


class StepLR(LRScheduler):
    """Decays the learning rate by ``gamma`` every ``step_size`` epochs.

        lr = base_lr * gamma ** (epoch // step_size)

    Example::

        # base lr 0.05: lr = 0.05 for epochs 0-29, 0.005 for 30-59, 0.0005 for 60-89, ...
        scheduler = StepLR(opt, step_size=30, gamma=0.1)
    """

    def __init__(self, optimizer: Optimizer, step_size: int, gamma: float = 0.1,
                 last_epoch: int = -1):
        who = type(self).__name__
        self.step_size = _check_int(who, "step_size", step_size, 1)
        self.gamma = _check_real(who, "gamma", gamma)
        if self.gamma <= 0:
            raise ValueError(f"{who}: gamma must be > 0, got {gamma}")
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        """base_lr * gamma ** (last_epoch // step_size)."""
        return [base * self.gamma ** (self.last_epoch // self.step_size)
                for base in self.base_lrs]


class MultiStepLR(LRScheduler):
    """Decays the learning rate by ``gamma`` at each milestone epoch.

        lr = base_lr * gamma ** (number of milestones <= epoch)

    Milestones are counted with multiplicity: a milestone listed twice decays by gamma ** 2.

    Example::

        # base lr 0.05: lr = 0.05 for epochs 0-29, 0.005 for 30-79, 0.0005 from 80 on
        scheduler = MultiStepLR(opt, milestones=[30, 80], gamma=0.1)
    """

    def __init__(self, optimizer: Optimizer, milestones: Iterable[int], gamma: float = 0.1,
                 last_epoch: int = -1):
        who = type(self).__name__
        self.milestones: Counter[int] = Counter(_check_milestones(who, milestones))
        self.gamma = _check_real(who, "gamma", gamma)
        if self.gamma <= 0:
            raise ValueError(f"{who}: gamma must be > 0, got {gamma}")
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        """base_lr * gamma ** bisect_right(sorted milestones, last_epoch)."""
        passed = bisect_right(sorted(self.milestones.elements()), self.last_epoch)
        return [base * self.gamma ** passed for base in self.base_lrs]


class ExponentialLR(LRScheduler):
    """Decays the learning rate by ``gamma`` every epoch.

        lr = base_lr * gamma ** epoch

    Example::

        scheduler = ExponentialLR(opt, gamma=0.95)
    """

    def __init__(self, optimizer: Optimizer, gamma: float, last_epoch: int = -1):
        who = type(self).__name__
        self.gamma = _check_real(who, "gamma", gamma)
        if self.gamma <= 0:
            raise ValueError(f"{who}: gamma must be > 0, got {gamma}")
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        """base_lr * gamma ** last_epoch."""
        return [base * self.gamma ** self.last_epoch for base in self.base_lrs]


class CosineAnnealingLR(LRScheduler):
    """Cosine annealing from base_lr down to ``eta_min`` over ``T_max`` epochs (SGDR, no restarts).

        lr = eta_min + (base_lr - eta_min) * (1 + cos(pi * epoch / T_max)) / 2

    Past ``T_max`` the cosine continues periodically: it climbs back to base_lr at 2 * T_max,
    as PyTorch's recursive update does.

    Example::

        scheduler = CosineAnnealingLR(opt, T_max=100, eta_min=1e-5)
    """

    def __init__(self, optimizer: Optimizer, T_max: int, eta_min: float = 0.0,
                 last_epoch: int = -1):
        who = type(self).__name__
        self.T_max = _check_real(who, "T_max", T_max)
        if self.T_max <= 0 or math.isinf(self.T_max):
            raise ValueError(f"{who}: T_max must be a positive number of epochs, got {T_max}")
        if isinstance(T_max, numbers.Integral):
            self.T_max = int(T_max)
        self.eta_min = _check_real(who, "eta_min", eta_min)
        if self.eta_min < 0:
            raise ValueError(f"{who}: eta_min must be >= 0, got {eta_min}")
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        """eta_min + (base_lr - eta_min) * (1 + cos(pi * last_epoch / T_max)) / 2."""
        cosine = 1 + math.cos(math.pi * self.last_epoch / self.T_max)
        return [self.eta_min + (base - self.eta_min) * cosine / 2 for base in self.base_lrs]


class LinearLR(LRScheduler):
    """Scales the learning rate by a factor moving linearly from ``start_factor`` to
    ``end_factor`` over ``total_iters`` epochs, then holds ``end_factor`` (usually a warmup).

        lr = base_lr * (start_factor
                        + (end_factor - start_factor) * min(epoch, total_iters) / total_iters)

    Example::

        # base lr 0.05: lr = 0.025, 0.03125, 0.0375, 0.04375, then 0.05 from epoch 4 on
        scheduler = LinearLR(opt, start_factor=0.5, total_iters=4)
    """

    def __init__(self, optimizer: Optimizer, start_factor: float = 1.0 / 3,
                 end_factor: float = 1.0, total_iters: int = 5, last_epoch: int = -1):
        who = type(self).__name__
        self.start_factor = _check_real(who, "start_factor", start_factor)
        if not 0 < self.start_factor <= 1:
            raise ValueError(f"{who}: start_factor must be in (0, 1], got {start_factor}")
        self.end_factor = _check_real(who, "end_factor", end_factor)
        if not 0 <= self.end_factor <= 1:
            raise ValueError(f"{who}: end_factor must be in [0, 1], got {end_factor}")
        self.total_iters = _check_int(who, "total_iters", total_iters, 1)
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        """base_lr * (start + (end - start) * min(total_iters, last_epoch) / total_iters)."""
        progress = min(self.total_iters, self.last_epoch) / self.total_iters
        factor = self.start_factor + (self.end_factor - self.start_factor) * progress
        return [base * factor for base in self.base_lrs]


class SequentialLR(LRScheduler):
    """Runs ``schedulers`` one after another, switching at the ``milestones`` epochs.

    Scheduler ``i`` drives epochs ``milestones[i-1] <= epoch < milestones[i]``; when it takes
    over it restarts from its own epoch 0 (so the next scheduler begins at base_lr, not where
    the previous one left off). All schedulers must wrap ``optimizer``. As in PyTorch, the
    constructor resets each group's lr to ``"initial_lr"``, moves every sub-scheduler back one
    epoch, and steps only the first one.

        lr(epoch) = schedulers[i].lr(epoch - milestones[i-1]),  i = #milestones <= epoch

    Example::

        warmup = LinearLR(opt, start_factor=0.1, total_iters=5)
        cosine = CosineAnnealingLR(opt, T_max=95)
        scheduler = SequentialLR(opt, schedulers=[warmup, cosine], milestones=[5])
    """

    def __init__(self, optimizer: Optimizer, schedulers: Sequence[LRScheduler],
                 milestones: Sequence[int], last_epoch: int = -1):
        who = type(self).__name__
        _check_optimizer(who, optimizer)
        if not isinstance(schedulers, (list, tuple)) or len(schedulers) < 1:
            raise ValueError(f"{who}: schedulers must be a non-empty list of schedulers")
        for i, scheduler in enumerate(schedulers):
            if isinstance(scheduler, ReduceLROnPlateau):
                raise ValueError(
                    f"{who}: schedulers[{i}] is a ReduceLROnPlateau, which is not supported "
                    "(its step() needs a metric)"
                )
            if not isinstance(scheduler, LRScheduler):
                raise TypeError(
                    f"{who}: schedulers[{i}] must be an LRScheduler, got {type(scheduler).__name__}"
                )
            if scheduler.optimizer is not optimizer:
                raise ValueError(
                    f"{who}: schedulers[{i}] ({type(scheduler).__name__}) wraps a different "
                    "optimizer; all schedulers must wrap the one given to SequentialLR"
                )
        milestones = _check_milestones(who, milestones)
        if len(milestones) != len(schedulers) - 1:
            raise ValueError(
                f"{who}: expected len(milestones) == len(schedulers) - 1, got "
                f"{len(milestones)} milestones for {len(schedulers)} schedulers"
            )
        last_epoch = _check_int(who, "last_epoch", last_epoch, -1)
        self._schedulers = list(schedulers)
        self._milestones = milestones
        self.last_epoch = last_epoch + 1
        self.optimizer = optimizer
        for group in optimizer.param_groups:
            group["lr"] = group["initial_lr"]
        self.recursive_undo()
        first = self._schedulers[bisect_right(self._milestones, 0)]
        first._initial_step()
        self._last_lr = first.get_last_lr()

    def recursive_undo(self, sched: LRScheduler | None = None) -> None:
        """Move every (nested) sub-scheduler back one epoch, undoing its constructor's step."""
        scheduler = self if sched is None else sched
        if hasattr(scheduler, "_schedulers"):
            for inner in scheduler._schedulers:
                self.recursive_undo(inner)
        elif hasattr(scheduler, "last_epoch"):
            scheduler.last_epoch -= 1

    def _active(self) -> LRScheduler:
        return self._schedulers[bisect_right(self._milestones, self.last_epoch)]

    def get_lr(self) -> list[float]:
        """The learning rates of the scheduler active at ``last_epoch``."""
        return self._active().get_lr()

    def step(self) -> None:  # type: ignore[override]
        """Advance one epoch, restarting the next scheduler at its epoch 0 on a milestone."""
        self.last_epoch += 1
        idx = bisect_right(self._milestones, self.last_epoch)
        scheduler = self._schedulers[idx]
        if idx > 0 and self._milestones[idx - 1] == self.last_epoch:
            scheduler._update_lr(0)
        else:
            scheduler.step()
        self._last_lr = scheduler.get_last_lr()

    def state_dict(self) -> dict[str, Any]:
        """Own attributes except the optimizer, with each sub-scheduler's state_dict."""
        state = copy.deepcopy({k: v for k, v in self.__dict__.items()
                               if k not in ("optimizer", "_schedulers")})
        state["_schedulers"] = [s.state_dict() for s in self._schedulers]
        return state

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Restore own attributes and each sub-scheduler's state."""
        state = dict(state_dict)
        saved = state.pop("_schedulers")
        if len(saved) != len(self._schedulers):
            raise ValueError(
                f"SequentialLR.load_state_dict: the saved state has {len(saved)} schedulers, "
                f"this one has {len(self._schedulers)}"
            )
        self.__dict__.update(copy.deepcopy(state))
        for scheduler, sub_state in zip(self._schedulers, saved):
            scheduler.load_state_dict(sub_state)


class ReduceLROnPlateau(LRScheduler):
    """Multiplies the learning rate by ``factor`` when a metric stops improving.

    ``step(metrics)`` compares the metric with the best so far. It improves on ``best`` when

        mode='min', threshold_mode='rel':  metric < best * (1 - threshold)
        mode='min', threshold_mode='abs':  metric < best - threshold
        mode='max', threshold_mode='rel':  metric > best * (1 + threshold)
        mode='max', threshold_mode='abs':  metric > best + threshold

    Otherwise the epoch is bad. After more than ``patience`` bad epochs in a row each group's
    lr becomes max(lr * factor, min_lr) (skipped when that changes it by no more than ``eps``),
    then bad epochs are ignored for ``cooldown`` epochs. ``min_lr`` is one number or a list
    with one per group.

    Example::

        scheduler = ReduceLROnPlateau(opt, mode="min", factor=0.5, patience=5)
        for epoch in range(100):
            train(...)
            scheduler.step(validation_loss())
    """

    def __init__(self, optimizer: Optimizer, mode: str = "min", factor: float = 0.1,
                 patience: int = 10, threshold: float = 1e-4, threshold_mode: str = "rel",
                 cooldown: int = 0, min_lr: float | Sequence[float] = 0, eps: float = 1e-8):
        who = type(self).__name__
        _check_optimizer(who, optimizer)
        self.factor = _check_real(who, "factor", factor)
        if not 0 <= self.factor < 1:
            raise ValueError(
                f"{who}: factor must be in [0, 1) (new_lr = lr * factor), got {factor}"
            )
        self.optimizer = optimizer
        groups = len(optimizer.param_groups)
        if isinstance(min_lr, (list, tuple)):
            if len(min_lr) != groups:
                raise ValueError(
                    f"{who}: expected {groups} min_lrs (one per param group), got {len(min_lr)}"
                )
            self.default_min_lr: float | None = None
            self.min_lrs = [_check_real(who, "min_lr", m) for m in min_lr]
        else:
            self.default_min_lr = _check_real(who, "min_lr", min_lr)
            self.min_lrs = [self.default_min_lr] * groups
        if any(m < 0 for m in self.min_lrs):
            raise ValueError(f"{who}: min_lr must be >= 0, got {min_lr}")
        self.patience = _check_int(who, "patience", patience, 0)
        self.cooldown = _check_int(who, "cooldown", cooldown, 0)
        self.eps = _check_real(who, "eps", eps)
        if self.eps < 0:
            raise ValueError(f"{who}: eps must be >= 0, got {eps}")
        self.last_epoch = 0
        self._last_lr = [group["lr"] for group in optimizer.param_groups]
        self._init_is_better(mode=mode, threshold=threshold, threshold_mode=threshold_mode)
        self._reset()

    def _init_is_better(self, mode: str, threshold: float, threshold_mode: str) -> None:
        who = type(self).__name__
        if mode not in ("min", "max"):
            raise ValueError(f"{who}: mode must be 'min' or 'max', got {mode!r}")
        if threshold_mode not in ("rel", "abs"):
            raise ValueError(
                f"{who}: threshold_mode must be 'rel' or 'abs', got {threshold_mode!r}"
            )
        threshold = _check_real(who, "threshold", threshold)
        if threshold < 0:
            raise ValueError(f"{who}: threshold must be >= 0, got {threshold}")
        self.mode_worse = math.inf if mode == "min" else -math.inf
        self.mode = mode
        self.threshold = threshold
        self.threshold_mode = threshold_mode

    def _reset(self) -> None:
        """Forget the best metric, the bad-epoch count and the cooldown."""
        self.best = self.mode_worse
        self.cooldown_counter = 0
        self.num_bad_epochs = 0

    @property
    def in_cooldown(self) -> bool:
        """Whether bad epochs are currently ignored after a reduction."""
        return self.cooldown_counter > 0

    def _is_better(self, a: float, best: float) -> bool:
        if self.mode == "min" and self.threshold_mode == "rel":
            return a < best * (1.0 - self.threshold)
        if self.mode == "min":
            return a < best - self.threshold
        if self.threshold_mode == "rel":
            return a > best * (self.threshold + 1.0)
        return a > best + self.threshold

    def get_lr(self) -> list[float]:
        """Not defined: learning rates follow the metrics; read them with ``get_last_lr()``."""
        raise NotImplementedError(
            "ReduceLROnPlateau sets learning rates from step(metrics); use get_last_lr()"
        )

    def step(  # type: ignore[override]
        self, metrics: SupportsFloat, epoch: int | None = None
    ) -> None:
        """Record one epoch's metric (a number or a one-element Tensor) and reduce if stuck."""
        who = type(self).__name__
        try:
            current = float(metrics)
        except (TypeError, ValueError) as error:
            raise TypeError(
                f"{who}.step: metrics must be a number or a one-element Tensor, "
                f"got {type(metrics).__name__}"
            ) from error
        if math.isnan(current):
            raise ValueError(f"{who}.step: the metric is NaN; cannot tell whether it improved")
        if epoch is None:
            epoch = self.last_epoch + 1
        else:
            warnings.warn(EPOCH_DEPRECATION_WARNING, UserWarning, stacklevel=2)
        self.last_epoch = epoch
        if self._is_better(current, self.best):
            self.best = current
            self.num_bad_epochs = 0
        else:
            self.num_bad_epochs += 1
        if self.in_cooldown:
            self.cooldown_counter -= 1
            self.num_bad_epochs = 0  # bad epochs in cooldown do not count
        if self.num_bad_epochs > self.patience:
            self._reduce_lr()
            self.cooldown_counter = self.cooldown
            self.num_bad_epochs = 0
        self._last_lr = [group["lr"] for group in self.optimizer.param_groups]

    def _reduce_lr(self) -> None:
        groups = self.optimizer.param_groups
        if len(groups) != len(self.min_lrs):
            if self.default_min_lr is None:
                raise RuntimeError(
                    f"ReduceLROnPlateau: the optimizer has {len(groups)} param groups but "
                    f"min_lr lists {len(self.min_lrs)}; a group was added after construction, "
                    "so set scheduler.min_lrs to one value per group"
                )
            self.min_lrs = [self.default_min_lr] * len(groups)
        for group, min_lr in zip(groups, self.min_lrs):
            old_lr = float(group["lr"])
            new_lr = max(old_lr * self.factor, min_lr)
            if old_lr - new_lr > self.eps:
                group["lr"] = new_lr

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Restore attributes saved by ``state_dict()`` and re-check mode and threshold."""
        if not isinstance(state_dict, dict):
            raise TypeError(
                "ReduceLROnPlateau.load_state_dict: expected a dict from state_dict(), "
                f"got {type(state_dict).__name__}"
            )
        self.__dict__.update(copy.deepcopy(state_dict))
        self._init_is_better(mode=self.mode, threshold=self.threshold,
                             threshold_mode=self.threshold_mode)
