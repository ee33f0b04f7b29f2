"""Learning-rate schedulers: closed-form sequences, state_dict resume, bad input, and torch."""

from __future__ import annotations

import math
from typing import Any, Callable

import numpy as np
import pytest

import axonic
from axonic.optim import lr_scheduler as lrs

STEPS = 30
TORCH_STEPS = 40
BASE_LRS = (0.1, 0.025)


def make_optimizer(base_lrs: tuple[float, ...] = BASE_LRS) -> axonic.optim.SGD:
    """SGD with one parameter group per base learning rate."""
    groups = [{"params": [axonic.tensor(np.zeros(2), requires_grad=True)], "lr": lr}
              for lr in base_lrs]
    return axonic.optim.SGD(groups, lr=base_lrs[0], momentum=0.9)


def group_lrs(optimizer) -> list[float]:
    return [group["lr"] for group in optimizer.param_groups]


def run(optimizer, scheduler, steps: int, metrics: list[float] | None = None) -> list[list[float]]:
    """Learning rates of every group after construction and after each of ``steps`` steps."""
    history = [group_lrs(optimizer)]
    for t in range(steps):
        optimizer.step()
        if metrics is None:
            scheduler.step()
        else:
            scheduler.step(metrics[t])
        assert scheduler.get_last_lr() == group_lrs(optimizer)
        history.append(group_lrs(optimizer))
    return history


def assert_sequences_close(actual: list[list[float]], expected: list[list[float]],
                           rel: float = 1e-12) -> None:
    assert len(actual) == len(expected)
    for epoch, (got, want) in enumerate(zip(actual, expected)):
        assert len(got) == len(want)
        for g, w in zip(got, want):
            assert math.isclose(g, w, rel_tol=rel, abs_tol=1e-300), (
                f"epoch {epoch}: lr {g!r} != expected {w!r}")


def _cosine(base: float, t: int, t_max: float, eta_min: float) -> float:
    return eta_min + (base - eta_min) * (1 + math.cos(math.pi * t / t_max)) / 2


def _linear(base: float, t: int, start: float, end: float, total: int) -> float:
    return base * (start + (end - start) * min(t, total) / total)


def _half_per_epoch(epoch: int) -> float:
    return 0.5 ** epoch


def _decay_each_tenth(epoch: int) -> float:
    return 1.0 / (1 + epoch // 10)


def _warmup_then_flat(epoch: int) -> float:
    return min(1.0, (epoch + 1) / 6)


# name -> (build(module, optimizer), expected lr(base_lr, group index, epoch)). ``module`` is
# axonic.optim.lr_scheduler or torch.optim.lr_scheduler: the two take the same arguments.
Factory = Callable[[Any, Any], Any]
Expected = Callable[[float, int, int], float]
SCHEDULES: dict[str, tuple[Factory, Expected]] = {
    "step": (lambda m, o: m.StepLR(o, step_size=4, gamma=0.5),
             lambda b, i, t: b * 0.5 ** (t // 4)),
    "step-default-gamma": (lambda m, o: m.StepLR(o, 7),
                           lambda b, i, t: b * 0.1 ** (t // 7)),
    "multistep": (lambda m, o: m.MultiStepLR(o, milestones=[3, 8, 15], gamma=0.3),
                  lambda b, i, t: b * 0.3 ** sum(t >= s for s in (3, 8, 15))),
    "multistep-repeated": (lambda m, o: m.MultiStepLR(o, [0, 5, 5, 12], gamma=0.5),
                           lambda b, i, t: b * 0.5 ** sum(t >= s for s in (0, 5, 5, 12))),
    "exponential": (lambda m, o: m.ExponentialLR(o, gamma=0.9),
                    lambda b, i, t: b * 0.9 ** t),
    "exponential-growth": (lambda m, o: m.ExponentialLR(o, 1.05),
                           lambda b, i, t: b * 1.05 ** t),
    "cosine": (lambda m, o: m.CosineAnnealingLR(o, T_max=10),
               lambda b, i, t: _cosine(b, t, 10, 0.0)),
    "cosine-eta-min": (lambda m, o: m.CosineAnnealingLR(o, T_max=7, eta_min=0.005),
                       lambda b, i, t: _cosine(b, t, 7, 0.005)),
    "cosine-long": (lambda m, o: m.CosineAnnealingLR(o, T_max=50, eta_min=1e-4),
                    lambda b, i, t: _cosine(b, t, 50, 1e-4)),
    "linear-default": (lambda m, o: m.LinearLR(o),
                       lambda b, i, t: _linear(b, t, 1 / 3, 1.0, 5)),
    "linear-warmup": (lambda m, o: m.LinearLR(o, start_factor=0.1, total_iters=8),
                      lambda b, i, t: _linear(b, t, 0.1, 1.0, 8)),
    "linear-decay": (lambda m, o: m.LinearLR(o, start_factor=1.0, end_factor=0.2,
                                             total_iters=12),
                     lambda b, i, t: _linear(b, t, 1.0, 0.2, 12)),
    "linear-to-zero": (lambda m, o: m.LinearLR(o, 0.5, 0.0, 10),
                       lambda b, i, t: _linear(b, t, 0.5, 0.0, 10)),
    "lambda": (lambda m, o: m.LambdaLR(o, _half_per_epoch),
               lambda b, i, t: b * 0.5 ** t),
    "lambda-per-group": (lambda m, o: m.LambdaLR(o, [_decay_each_tenth, _warmup_then_flat]),
                         lambda b, i, t: b * (_decay_each_tenth, _warmup_then_flat)[i](t)),
    "sequential-warmup-cosine": (
        lambda m, o: m.SequentialLR(o, [m.LinearLR(o, start_factor=0.1, total_iters=5),
                                        m.CosineAnnealingLR(o, T_max=12, eta_min=1e-3)],
                                    milestones=[5]),
        lambda b, i, t: _linear(b, t, 0.1, 1.0, 5) if t < 5 else _cosine(b, t - 5, 12, 1e-3)),
    "sequential-three": (
        lambda m, o: m.SequentialLR(o, [m.LinearLR(o, 0.5, total_iters=2),
                                        m.ExponentialLR(o, 0.8),
                                        m.StepLR(o, step_size=3, gamma=0.5)],
                                    milestones=[4, 10]),
        lambda b, i, t: (_linear(b, t, 0.5, 1.0, 2) if t < 4
                         else b * 0.8 ** (t - 4) if t < 10 else b * 0.5 ** ((t - 10) // 3))),
}


@pytest.mark.parametrize("name", sorted(SCHEDULES))
def test_sequence_matches_closed_formula(name):
    build, expected = SCHEDULES[name]
    optimizer = make_optimizer()
    scheduler = build(lrs, optimizer)
    history = run(optimizer, scheduler, STEPS)
    want = [[expected(b, i, t) for i, b in enumerate(BASE_LRS)] for t in range(STEPS + 1)]
    assert_sequences_close(history, want)
    assert scheduler.last_epoch == STEPS


@pytest.mark.parametrize("name", sorted(SCHEDULES))
@pytest.mark.parametrize("save_at", [0, 3, 17])
def test_state_dict_resumes_exactly(name, save_at):
    build = SCHEDULES[name][0]
    optimizer = make_optimizer()
    reference = run(optimizer, build(lrs, optimizer), STEPS)

    optimizer = make_optimizer()
    scheduler = build(lrs, optimizer)
    first = run(optimizer, scheduler, save_at)
    saved_scheduler, saved_optimizer = scheduler.state_dict(), optimizer.state_dict()
    run(optimizer, scheduler, 3)  # later steps must not leak into the saved dicts

    fresh_optimizer = make_optimizer()
    fresh = build(lrs, fresh_optimizer)
    fresh_optimizer.load_state_dict(saved_optimizer)
    fresh.load_state_dict(saved_scheduler)
    assert fresh.last_epoch == save_at
    assert fresh.get_last_lr() == reference[save_at]
    rest = run(fresh_optimizer, fresh, STEPS - save_at)
    assert first + rest[1:] == reference


def test_resume_from_scheduler_state_alone_is_exact():
    """Closed forms depend only on last_epoch and base_lrs, not on the optimizer's lr."""
    optimizer = make_optimizer()
    scheduler = lrs.CosineAnnealingLR(optimizer, T_max=9, eta_min=1e-3)
    reference = run(optimizer, scheduler, 20)
    optimizer = make_optimizer()
    scheduler = lrs.CosineAnnealingLR(optimizer, T_max=9, eta_min=1e-3)
    run(optimizer, scheduler, 8)
    saved = scheduler.state_dict()
    fresh_optimizer = make_optimizer()
    fresh = lrs.CosineAnnealingLR(fresh_optimizer, T_max=9, eta_min=1e-3)
    fresh.load_state_dict(saved)
    assert run(fresh_optimizer, fresh, 12)[1:] == reference[9:]


def test_base_lrs_and_initial_lr():
    optimizer = make_optimizer()
    scheduler = lrs.StepLR(optimizer, step_size=2)
    assert scheduler.base_lrs == list(BASE_LRS)
    assert [g["initial_lr"] for g in optimizer.param_groups] == list(BASE_LRS)
    assert scheduler.last_epoch == 0
    run(optimizer, scheduler, 5)
    assert [g["initial_lr"] for g in optimizer.param_groups] == list(BASE_LRS)
    # a second scheduler keeps the existing initial_lr even though lr has decayed
    second = lrs.ExponentialLR(optimizer, gamma=0.5)
    assert second.base_lrs == list(BASE_LRS)
    assert group_lrs(optimizer) == list(BASE_LRS)


@pytest.mark.parametrize("name", ["step", "multistep-repeated", "lambda-per-group"])
def test_last_epoch_resume_steps_to_the_next_epoch(name):
    build, expected = SCHEDULES[name]
    optimizer = make_optimizer()
    for i, (group, base) in enumerate(zip(optimizer.param_groups, BASE_LRS)):
        group["initial_lr"] = base
        group["lr"] = expected(base, i, 6)
    scheduler = build(with_last_epoch(6), optimizer)
    assert scheduler.last_epoch == 7
    history = run(optimizer, scheduler, 5)
    want = [[expected(b, i, t) for i, b in enumerate(BASE_LRS)] for t in range(7, 13)]
    assert_sequences_close(history, want)


def with_last_epoch(last_epoch: int, module: Any = lrs) -> Any:
    """A stand-in for the scheduler module whose classes default to ``last_epoch``."""

    class Module:
        def __getattr__(self, name: str) -> Callable[..., Any]:
            return lambda *args, **kwargs: getattr(module, name)(*args, last_epoch=last_epoch,
                                                                 **kwargs)

    return Module()


def test_last_epoch_without_initial_lr_raises_key_error():
    with pytest.raises(KeyError, match="initial_lr"):
        lrs.StepLR(make_optimizer(), step_size=3, last_epoch=4)


def test_get_last_lr_is_a_copy_and_get_lr_is_the_current_epoch():
    optimizer = make_optimizer()
    scheduler = lrs.ExponentialLR(optimizer, gamma=0.5)
    run(optimizer, scheduler, 3)
    last = scheduler.get_last_lr()
    last[0] = 123.0
    assert scheduler.get_last_lr() == group_lrs(optimizer)
    assert scheduler.get_lr() == group_lrs(optimizer)


def test_step_with_epoch_is_deprecated_and_uses_the_closed_form():
    optimizer = make_optimizer()
    scheduler = lrs.StepLR(optimizer, step_size=3, gamma=0.5)
    with pytest.warns(UserWarning, match="deprecated"):
        scheduler.step(7)
    assert scheduler.last_epoch == 7
    assert group_lrs(optimizer) == [b * 0.25 for b in BASE_LRS]


def test_lambda_state_dict_keeps_callable_objects_only():
    class Decay:
        def __init__(self, rate: float):
            self.rate = rate

        def __call__(self, epoch: int) -> float:
            return self.rate ** epoch

    optimizer = make_optimizer()
    scheduler = lrs.LambdaLR(optimizer, [Decay(0.5), _half_per_epoch])
    state = scheduler.state_dict()
    assert state["lr_lambdas"] == [{"rate": 0.5}, None]
    fresh = lrs.LambdaLR(make_optimizer(), [Decay(0.9), _half_per_epoch])
    fresh.load_state_dict(state)
    assert fresh.lr_lambdas[0].rate == 0.5
    assert "lr_lambdas" in state  # load_state_dict leaves its argument intact


def test_sequential_restarts_each_scheduler_at_its_milestone():
    optimizer = make_optimizer()
    warmup = lrs.LinearLR(optimizer, start_factor=0.2, total_iters=3)
    cosine = lrs.CosineAnnealingLR(optimizer, T_max=6)
    scheduler = lrs.SequentialLR(optimizer, [warmup, cosine], milestones=[3])
    assert scheduler.last_epoch == 0 and warmup.last_epoch == 0 and cosine.last_epoch == -1
    assert group_lrs(optimizer) == pytest.approx([0.2 * b for b in BASE_LRS], rel=1e-15)
    run(optimizer, scheduler, 3)
    assert warmup.last_epoch == 2 and cosine.last_epoch == 0
    assert group_lrs(optimizer) == list(BASE_LRS)  # the cosine starts at base_lr
    run(optimizer, scheduler, 6)
    assert cosine.last_epoch == 6
    assert group_lrs(optimizer) == [0.0, 0.0]


# ----------------------------------------------------------------------------- ReduceLROnPlateau


def plateau_lrs(metrics: list[float], base_lrs: tuple[float, ...] = (1.0,),
                **kwargs: Any) -> list[list[float]]:
    optimizer = make_optimizer(base_lrs)
    scheduler = lrs.ReduceLROnPlateau(optimizer, **kwargs)
    return run(optimizer, scheduler, len(metrics), metrics)[1:]


def test_plateau_patience():
    got = plateau_lrs([5.0] * 8, factor=0.5, patience=2)
    # epoch 1 sets best; epochs 2-4 are bad, the third (> patience) reduces, and so on
    assert [lr for (lr,) in got] == [1.0, 1.0, 1.0, 0.5, 0.5, 0.5, 0.25, 0.25]


def test_plateau_improvement_resets_patience():
    got = plateau_lrs([5.0, 5.0, 4.0, 4.0, 4.0, 4.0], factor=0.5, patience=2)
    assert [lr for (lr,) in got] == [1.0, 1.0, 1.0, 1.0, 1.0, 0.5]


def test_plateau_cooldown():
    got = plateau_lrs([5.0] * 9, factor=0.5, patience=0, cooldown=2)
    # reduce at epoch 2, ignore epochs 3-4, reduce again at 5, ...
    assert [lr for (lr,) in got] == [1.0, 0.5, 0.5, 0.5, 0.25, 0.25, 0.25, 0.125, 0.125]


@pytest.mark.parametrize("threshold_mode, expected", [
    ("rel", [1.0, 1.0, 0.5]),  # 0.95 is not below 1.0 * (1 - 0.1): two bad epochs
    ("abs", [1.0, 1.0, 1.0]),  # 0.95 is below 1.0 - 0.01 but 0.945 not below 0.94
])
def test_plateau_threshold_modes(threshold_mode, expected):
    threshold = 0.1 if threshold_mode == "rel" else 0.01
    got = plateau_lrs([1.0, 0.95, 0.945], factor=0.5, patience=1, threshold=threshold,
                      threshold_mode=threshold_mode)
    assert [lr for (lr,) in got] == expected


def test_plateau_mode_max():
    got = plateau_lrs([0.5, 0.6, 0.6, 0.55, 0.7, 0.7], mode="max", factor=0.5, patience=1)
    assert [lr for (lr,) in got] == [1.0, 1.0, 1.0, 0.5, 0.5, 0.5]


def test_plateau_min_lr_per_group_and_eps():
    got = plateau_lrs([1.0] * 10, base_lrs=(1.0, 0.1), factor=0.1, patience=0,
                      min_lr=[0.05, 0.0])
    assert got[-1][0] == 0.05
    assert got[1] == [0.1, pytest.approx(0.01)]
    # the second group stops once a reduction would change it by less than eps (1e-8)
    assert got[-1][1] == pytest.approx(1e-8, rel=1e-9) and got[-1][1] == got[-3][1]
    scalar = plateau_lrs([1.0] * 3, base_lrs=(1.0, 0.5), factor=0.5, patience=0, min_lr=0.2)
    assert scalar[-1] == [0.25, 0.2]


def test_plateau_accepts_a_tensor_metric_and_rejects_nan():
    optimizer = make_optimizer()
    scheduler = lrs.ReduceLROnPlateau(optimizer)
    scheduler.step(axonic.tensor(np.array(0.5)))
    assert scheduler.best == 0.5
    with pytest.raises(ValueError, match="NaN"):
        scheduler.step(float("nan"))
    with pytest.raises(TypeError, match="metrics"):
        scheduler.step("low")


def test_plateau_state_dict_resumes_exactly():
    metrics = [1.0 / (1 + t) if t < 8 else 0.12 + 0.01 * (t % 3) for t in range(STEPS)]
    kwargs = dict(factor=0.5, patience=2, cooldown=1, min_lr=[1e-3, 1e-4])
    reference = plateau_lrs(metrics, BASE_LRS, **kwargs)
    optimizer = make_optimizer()
    scheduler = lrs.ReduceLROnPlateau(optimizer, **kwargs)
    run(optimizer, scheduler, 14, metrics)
    saved_scheduler, saved_optimizer = scheduler.state_dict(), optimizer.state_dict()
    fresh_optimizer = make_optimizer()
    fresh = lrs.ReduceLROnPlateau(fresh_optimizer)
    fresh_optimizer.load_state_dict(saved_optimizer)
    fresh.load_state_dict(saved_scheduler)
    assert fresh.patience == 2 and fresh.min_lrs == [1e-3, 1e-4]
    rest = run(fresh_optimizer, fresh, STEPS - 14, metrics[14:])
    assert rest[1:] == reference[14:]


# ----------------------------------------------------------------------------- bad input


def _other_scheduler() -> lrs.LRScheduler:
    return lrs.StepLR(make_optimizer(), step_size=2)


BAD_INPUT: dict[str, tuple[Callable[[Any], Any], type, str]] = {
    "steplr-not-optimizer": (lambda o: lrs.StepLR("sgd", 3), TypeError, "optimizer"),
    "multistep-not-optimizer": (lambda o: lrs.MultiStepLR([1.0], [2]), TypeError, "optimizer"),
    "exponential-not-optimizer": (lambda o: lrs.ExponentialLR(None, 0.9), TypeError, "optimizer"),
    "cosine-not-optimizer": (lambda o: lrs.CosineAnnealingLR(object(), 5), TypeError,
                             "optimizer"),
    "linear-not-optimizer": (lambda o: lrs.LinearLR({}, 0.5), TypeError, "optimizer"),
    "lambda-not-optimizer": (lambda o: lrs.LambdaLR(3, _half_per_epoch), TypeError, "optimizer"),
    "sequential-not-optimizer": (lambda o: lrs.SequentialLR("opt", [], []), TypeError,
                                 "optimizer"),
    "plateau-not-optimizer": (lambda o: lrs.ReduceLROnPlateau("opt"), TypeError, "optimizer"),
    "last-epoch-below-minus-one": (lambda o: lrs.StepLR(o, 3, last_epoch=-2), ValueError,
                                   "last_epoch"),
    "step-size-zero": (lambda o: lrs.StepLR(o, 0), ValueError, "step_size must be an int >= 1"),
    "step-size-negative": (lambda o: lrs.StepLR(o, -3), ValueError, "step_size"),
    "step-size-float": (lambda o: lrs.StepLR(o, 2.5), TypeError, "step_size must be an int"),
    "step-gamma-zero": (lambda o: lrs.StepLR(o, 3, gamma=0.0), ValueError, "gamma must be > 0"),
    "step-gamma-negative": (lambda o: lrs.StepLR(o, 3, gamma=-0.5), ValueError, "gamma"),
    "multistep-gamma-zero": (lambda o: lrs.MultiStepLR(o, [2], gamma=0), ValueError, "gamma"),
    "exponential-gamma-negative": (lambda o: lrs.ExponentialLR(o, -0.9), ValueError, "gamma"),
    "exponential-gamma-nan": (lambda o: lrs.ExponentialLR(o, float("nan")), ValueError, "gamma"),
    "multistep-unsorted": (lambda o: lrs.MultiStepLR(o, [10, 5]), ValueError, "sorted"),
    "multistep-negative": (lambda o: lrs.MultiStepLR(o, [-1, 5]), ValueError, "milestone"),
    "multistep-not-list": (lambda o: lrs.MultiStepLR(o, 5), TypeError, "milestones"),
    "cosine-tmax-zero": (lambda o: lrs.CosineAnnealingLR(o, 0), ValueError, "T_max"),
    "cosine-tmax-negative": (lambda o: lrs.CosineAnnealingLR(o, -10), ValueError, "T_max"),
    "cosine-eta-min-negative": (lambda o: lrs.CosineAnnealingLR(o, 10, eta_min=-1e-3),
                                ValueError, "eta_min"),
    "linear-start-zero": (lambda o: lrs.LinearLR(o, start_factor=0), ValueError,
                          r"start_factor must be in \(0, 1\]"),
    "linear-start-above-one": (lambda o: lrs.LinearLR(o, start_factor=1.5), ValueError,
                               "start_factor"),
    "linear-end-negative": (lambda o: lrs.LinearLR(o, end_factor=-0.1), ValueError,
                            r"end_factor must be in \[0, 1\]"),
    "linear-end-above-one": (lambda o: lrs.LinearLR(o, end_factor=2.0), ValueError,
                             "end_factor"),
    "linear-total-iters-zero": (lambda o: lrs.LinearLR(o, total_iters=0), ValueError,
                                "total_iters"),
    "lambda-wrong-count": (lambda o: lrs.LambdaLR(o, [_half_per_epoch]), ValueError,
                           "expected 2 lr_lambdas"),
    "lambda-not-callable": (lambda o: lrs.LambdaLR(o, 0.5), TypeError, "lr_lambda"),
    "sequential-empty": (lambda o: lrs.SequentialLR(o, [], []), ValueError, "schedulers"),
    "sequential-milestone-count": (
        lambda o: lrs.SequentialLR(o, [lrs.StepLR(o, 2), lrs.StepLR(o, 3)], [2, 4]),
        ValueError, "milestones"),
    "sequential-unsorted": (
        lambda o: lrs.SequentialLR(o, [lrs.StepLR(o, 2)] * 3, [6, 3]), ValueError, "sorted"),
    "sequential-other-optimizer": (
        lambda o: lrs.SequentialLR(o, [lrs.StepLR(o, 2), _other_scheduler()], [3]),
        ValueError, "different optimizer"),
    "sequential-plateau": (
        lambda o: lrs.SequentialLR(o, [lrs.StepLR(o, 2), lrs.ReduceLROnPlateau(o)], [3]),
        ValueError, "ReduceLROnPlateau"),
    "sequential-not-scheduler": (
        lambda o: lrs.SequentialLR(o, [lrs.StepLR(o, 2), "cosine"], [3]), TypeError,
        "LRScheduler"),
    "plateau-factor-one": (lambda o: lrs.ReduceLROnPlateau(o, factor=1.0), ValueError,
                           r"factor must be in \[0, 1\)"),
    "plateau-factor-above-one": (lambda o: lrs.ReduceLROnPlateau(o, factor=2.0), ValueError,
                                 "factor"),
    "plateau-mode": (lambda o: lrs.ReduceLROnPlateau(o, mode="avg"), ValueError,
                     "mode must be 'min' or 'max', got 'avg'"),
    "plateau-threshold-mode": (lambda o: lrs.ReduceLROnPlateau(o, threshold_mode="pct"),
                               ValueError, "threshold_mode must be 'rel' or 'abs'"),
    "plateau-min-lr-count": (lambda o: lrs.ReduceLROnPlateau(o, min_lr=[0.0]), ValueError,
                             "expected 2 min_lrs"),
    "plateau-min-lr-negative": (lambda o: lrs.ReduceLROnPlateau(o, min_lr=-1.0), ValueError,
                                "min_lr"),
    "plateau-patience-negative": (lambda o: lrs.ReduceLROnPlateau(o, patience=-1), ValueError,
                                  "patience"),
    "plateau-cooldown-float": (lambda o: lrs.ReduceLROnPlateau(o, cooldown=1.5), TypeError,
                               "cooldown"),
    "plateau-nan-metric": (lambda o: lrs.ReduceLROnPlateau(o).step(float("nan")), ValueError,
                           "metric is NaN"),
}


@pytest.mark.parametrize("case", sorted(BAD_INPUT))
def test_bad_input(case):
    build, error, message = BAD_INPUT[case]
    with pytest.raises(error, match=message):
        build(make_optimizer())


def test_added_param_group_is_reported():
    optimizer = make_optimizer()
    scheduler = lrs.StepLR(optimizer, 2)
    optimizer.add_param_group({"params": [axonic.tensor(np.zeros(1), requires_grad=True)]})
    with pytest.raises(RuntimeError, match="param groups"):
        scheduler.step()


# ----------------------------------------------------------------------------- against torch


def torch_optimizer(torch: Any, base_lrs: tuple[float, ...] = BASE_LRS) -> Any:
    groups = [{"params": [torch.zeros(2, requires_grad=True)], "lr": lr} for lr in base_lrs]
    return torch.optim.SGD(groups, lr=base_lrs[0], momentum=0.9)


@pytest.mark.parametrize("name", sorted(SCHEDULES) + ["sequential-milestone-zero"])
def test_matches_torch(name):
    torch = pytest.importorskip("torch")
    build = TORCH_ONLY.get(name) or SCHEDULES[name][0]
    optimizer = make_optimizer()
    ours = run(optimizer, build(lrs, optimizer), TORCH_STEPS)
    reference_optimizer = torch_optimizer(torch)
    theirs = run(reference_optimizer, build(torch.optim.lr_scheduler, reference_optimizer),
                 TORCH_STEPS)
    assert_sequences_close(ours, theirs)


TORCH_ONLY: dict[str, Factory] = {
    "sequential-milestone-zero": lambda m, o: m.SequentialLR(
        o, [m.ExponentialLR(o, 0.5), m.StepLR(o, 3, gamma=0.5)], milestones=[0]),
}

PLATEAU_METRICS = [max(0.2, 1.0 - 0.05 * t) + 0.01 * ((7 * t) % 5) for t in range(TORCH_STEPS)]
PLATEAU_CONFIGS = {
    "defaults-patience-2": dict(patience=2),
    "min-abs-cooldown": dict(factor=0.5, patience=1, threshold=0.02, threshold_mode="abs",
                             cooldown=2),
    "max-rel-min-lr-list": dict(mode="max", factor=0.3, patience=0, threshold=0.05,
                                min_lr=[1e-3, 1e-4]),
    "max-abs-eps": dict(mode="max", factor=0.5, patience=1, threshold_mode="abs",
                        threshold=1e-3, min_lr=0.01, eps=1e-3),
}


@pytest.mark.parametrize("name", sorted(PLATEAU_CONFIGS))
def test_plateau_matches_torch(name):
    torch = pytest.importorskip("torch")
    kwargs = PLATEAU_CONFIGS[name]
    metrics = [-m for m in PLATEAU_METRICS] if kwargs.get("mode") == "max" else PLATEAU_METRICS
    metrics = [m if t % 4 else m + 0.3 for t, m in enumerate(metrics)]  # a few spikes
    optimizer = make_optimizer()
    ours = run(optimizer, lrs.ReduceLROnPlateau(optimizer, **kwargs), TORCH_STEPS, metrics)
    reference_optimizer = torch_optimizer(torch)
    reference = torch.optim.lr_scheduler.ReduceLROnPlateau(reference_optimizer, **kwargs)
    theirs = run(reference_optimizer, reference, TORCH_STEPS, metrics)
    assert_sequences_close(ours, theirs)
    assert len({lr for lrs_ in ours for lr in lrs_}) > 2  # the schedule did reduce


@pytest.mark.parametrize("name", ["step", "multistep-repeated", "lambda-per-group"])
def test_last_epoch_resume_matches_torch(name):
    torch = pytest.importorskip("torch")
    build, expected = SCHEDULES[name]
    histories = []
    for module, optimizer in ((lrs, make_optimizer()), (torch.optim.lr_scheduler,
                                                         torch_optimizer(torch))):
        for i, (group, base) in enumerate(zip(optimizer.param_groups, BASE_LRS)):
            group["initial_lr"] = base
            group["lr"] = expected(base, i, 9)  # the saved optimizer's lr (torch reads it)
        histories.append(run(optimizer, build(with_last_epoch(9, module),
                                              optimizer), 12))
    assert_sequences_close(*histories)
