"""Grid and random search: train one model per point of a search space, score it on
validation data, and rank the trials.

``build(params)`` makes the model for one point, as a Module (then the optimizer is
``params["optimizer"]`` by name, default "adam", with ``params["lr"]``, default 1e-3)
or as a ``(model, optimizer)`` pair. ``params["epochs"]`` and ``params["batch_size"]``,
when the space has them, override the search's own. Every trial starts from the same
seed (same initial weights and batch order for the same architecture), so trials differ
only by their hyperparameters. A trial's score is the best value of ``monitor``
("val_loss", "val_accuracy"...) over its epochs.
"""

from __future__ import annotations

import csv
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .. import optim
from ..nn import Module
from ..random import manual_seed
from .space import check_space, grid_points, random_point

OPTIMIZERS = {"sgd": "SGD", "adagrad": "Adagrad", "rmsprop": "RMSprop", "adadelta": "Adadelta",
              "adam": "Adam", "adamw": "AdamW", "adamax": "Adamax", "nadam": "NAdam"}
LOWER_IS_BETTER = ("loss", "mae", "mse", "rmse")


@dataclass
class Trial:
    index: int  # position in the order the trials ran
    params: dict[str, Any]
    score: float
    epochs: int  # epochs actually run (early stopping may cut them)
    seconds: float
    history: dict[str, list] = field(repr=False, default_factory=dict)


@dataclass
class SearchResult:
    """The trials, best first; ``best_params``/``best_score`` of the winner."""

    trials: list[Trial]
    monitor: str
    mode: str
    best_model: Module | None = field(default=None, repr=False)  # the winner, trained

    @property
    def best_trial(self) -> Trial:
        return self.trials[0]

    @property
    def best_params(self) -> dict[str, Any]:
        return dict(self.best_trial.params)

    @property
    def best_score(self) -> float:
        return self.best_trial.score

    def rows(self) -> list[dict[str, Any]]:
        return [{"rank": rank, **t.params, self.monitor: t.score, "epochs": t.epochs,
                 "seconds": round(t.seconds, 2)} for rank, t in enumerate(self.trials, 1)]

    def table(self) -> str:
        """The trials as a text table, best first."""
        from ..bench.core import format_table

        rows = self.rows()
        headers = list(rows[0])
        return format_table(headers, [[_cell(row[h]) for h in headers] for row in rows])

    def to_csv(self, path: str) -> None:
        rows = self.rows()
        with open(path, "w", newline="") as f:
            writer = csv.DictWriter(f, fieldnames=list(rows[0]))
            writer.writeheader()
            writer.writerows(rows)

    def __str__(self) -> str:
        return self.table()


def _cell(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    return getattr(value, "__name__", str(value))


def resolve_mode(monitor: str, mode: str) -> str:
    if mode == "auto":
        return "min" if monitor.removeprefix("val_") in LOWER_IS_BETTER else "max"
    if mode not in ("min", "max"):
        raise ValueError(f"mode must be 'auto', 'min' or 'max', got {mode!r}")
    return mode


def model_and_optimizer(build: Callable, params: Mapping[str, Any]):
    """What a trial trains: ``build(params)``'s model, and its optimizer (built from
    params["optimizer"] and params["lr"] unless build returned a pair)."""
    built = build(dict(params))
    if isinstance(built, Module):
        name = params.get("optimizer", "adam")
        if isinstance(name, str):
            if name.lower() not in OPTIMIZERS:
                raise ValueError(f"unknown optimizer {name!r}; expected one of "
                                 f"{', '.join(OPTIMIZERS)}")
            name = getattr(optim, OPTIMIZERS[name.lower()])
        return built, name(built.parameters(), lr=params.get("lr", 1e-3))
    if isinstance(built, tuple) and len(built) == 2 and isinstance(built[0], Module):
        return built
    raise TypeError("build(params) must return a Module or a (model, optimizer) pair, got "
                    f"{type(built).__name__}")


def _run_trials(points: Iterable[dict[str, Any]], count: int, build: Callable, train_data,
                val_data, *, loss, monitor: str, mode: str, epochs: int, batch_size: int,
                metrics: Sequence, callbacks: Callable[[], list] | None, seed: int,
                verbose: int) -> SearchResult:
    from ..train import TerminateOnNaN, Trainer  # the search sits above the fit loop

    if val_data is None:
        raise ValueError("a search scores each trial on validation data: pass val_data")
    mode = resolve_mode(monitor, mode)
    sign = 1.0 if mode == "min" else -1.0
    trials, best_model, best_key = [], None, (True, 0.0)
    for index, params in enumerate(points):
        start = time.perf_counter()
        manual_seed(seed)
        model, optimizer = model_and_optimizer(build, params)
        trainer = Trainer(model, loss, optimizer, metrics=metrics)
        history = trainer.fit(train_data, epochs=int(params.get("epochs", epochs)),
                              val_data=val_data,
                              # a diverging trial stops with a NaN score instead of raising
                              callbacks=[*(callbacks() if callbacks else ()), TerminateOnNaN()],
                              verbose=0, batch_size=int(params.get("batch_size", batch_size)),
                              seed=seed).history
        if monitor not in history:
            raise ValueError(f"monitor {monitor!r} is not in the training history; it has "
                             f"{', '.join(history)}")
        values = np.asarray(history[monitor], dtype=np.float64)
        score = float(np.nanmin(values) if mode == "min" else np.nanmax(values)) \
            if np.isfinite(values).any() else float("nan")
        trials.append(Trial(index, dict(params), score, len(values),
                            time.perf_counter() - start, dict(history)))
        if _rank_key(score, sign) < best_key:
            best_model, best_key = model, _rank_key(score, sign)
        if verbose:
            shown = ", ".join(f"{k}={_cell(v)}" for k, v in params.items())
            print(f"trial {index + 1}/{count}  {shown}  {monitor} {score:.4f}  "
                  f"({trials[-1].seconds:.1f} s)", flush=True)
    trials.sort(key=lambda t: _rank_key(t.score, sign))  # stable: ties keep their order
    return SearchResult(trials, monitor, mode, best_model)


def _rank_key(score: float, sign: float) -> tuple[bool, float]:
    """Sorts best first (sign 1 for min, -1 for max); NaN scores (diverged trials) last."""
    return (bool(np.isnan(score)), 0.0 if np.isnan(score) else sign * score)


def grid_search(build: Callable, space: Mapping[str, Sequence[Any]], train_data, val_data, *,
                loss, monitor: str = "val_loss", mode: str = "auto", epochs: int = 10,
                batch_size: int = 32, metrics: Sequence = (),
                callbacks: Callable[[], list] | None = None, seed: int = 0,
                verbose: int = 1) -> SearchResult:
    """Trains one model per combination of the space's values (a dict of lists).

    ``loss`` is the training loss module (e.g. ``nn.CrossEntropyLoss()``); ``metrics``
    as for ``Trainer`` (their ``val_`` versions can be the ``monitor``); ``callbacks``
    is a function returning fresh callbacks for each trial (e.g. early stopping).
    Returns a SearchResult: the trials sorted best first, ``best_params``, ``table()``,
    and ``best_model`` (the winning trial's trained model).
    """
    checked = check_space(space, grid=True)
    count = int(np.prod([len(v) for v in checked.values()]))
    return _run_trials(grid_points(checked), count, build, train_data, val_data, loss=loss,
                       monitor=monitor, mode=mode, epochs=epochs, batch_size=batch_size,
                       metrics=metrics, callbacks=callbacks, seed=seed, verbose=verbose)


def random_search(build: Callable, space: Mapping[str, Any], train_data, val_data, *,
                  n_trials: int = 10, loss, monitor: str = "val_loss", mode: str = "auto",
                  epochs: int = 10, batch_size: int = 32, metrics: Sequence = (),
                  callbacks: Callable[[], list] | None = None, seed: int = 0,
                  verbose: int = 1) -> SearchResult:
    """Trains ``n_trials`` models at points drawn from the space (lists are sampled
    uniformly; distributions such as ``loguniform(1e-4, 1e-1)`` are sampled), the draws
    seeded by ``seed``. Otherwise as grid_search."""
    if not (isinstance(n_trials, int) and n_trials >= 1):
        raise ValueError(f"n_trials must be a positive integer, got {n_trials!r}")
    checked = check_space(space, grid=False)
    rng = np.random.default_rng(seed)
    points = [random_point(checked, rng) for _ in range(n_trials)]
    return _run_trials(points, n_trials, build, train_data, val_data, loss=loss,
                       monitor=monitor, mode=mode, epochs=epochs, batch_size=batch_size,
                       metrics=metrics, callbacks=callbacks, seed=seed, verbose=verbose)
