"""``Trainer``: the fit / evaluate / predict loop over an axonic model (Keras's shape,
PyTorch's modules).

One training epoch: ``model.train()``, then for each batch ``zero_grad``, forward, loss,
``backward``, ``optimizer.step()``. The epoch's "loss" is the sample-weighted mean of the
batch losses (the loss is expected to average over its batch, the default
``reduction="mean"``); each metric is computed once over the whole epoch's outputs and
targets (see ``epoch_metrics``). Validation, ``evaluate`` and ``predict`` run in
``model.eval()`` mode under ``no_grad`` and restore the previous mode afterwards.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import numpy as np

from ..grad_mode import no_grad
from ..nn import Module
from ..optim import Optimizer
from ..tensor import Tensor
from .callbacks import Callback, CallbackList, step_scheduler
from .compile import make_loss, make_optimizer
from .epoch_metrics import PredictionConverter, resolve_metrics
from .history import History
from .inputs import as_loader, batch_length, check_positive_int, split_batch, to_numpy
from .progress import ProgressBar

DEVICES = ("cpu", "cuda")


def _loss_value(who: str, loss: Any) -> float:
    if not isinstance(loss, Tensor):
        raise TypeError(f"{who}: the loss function must return a Tensor, got "
                        f"{type(loss).__name__}")
    if loss.numel() != 1:
        raise ValueError(f"{who}: the loss must be a single number (reduction='mean'), got "
                         f"shape {loss.shape}")
    return float(loss.item())


def _model_output(who: str, output: Any) -> Tensor:
    if not isinstance(output, Tensor):
        raise TypeError(f"{who}: the model must return one Tensor of shape (N, ...), got "
                        f"{type(output).__name__}")
    return output


class _EpochResults:
    """Running sums of one pass over the data: weighted loss, outputs and targets."""

    def __init__(self, keep_outputs: bool, keep_targets: bool):
        self.keep_outputs, self.keep_targets = keep_outputs, keep_targets
        self.loss_sum, self.count = 0.0, 0
        self.outputs: list[np.ndarray] = []
        self.targets: list[np.ndarray] = []

    def add(self, output: Tensor, target: Any, loss: float | None, size: int) -> None:
        if loss is not None:
            self.loss_sum += loss * size
        self.count += size
        if self.keep_outputs:
            self.outputs.append(to_numpy(output.detach()))
        if self.keep_targets:
            self.targets.append(to_numpy(target))

    @property
    def loss(self) -> float:
        return self.loss_sum / self.count if self.count else math.nan


class Trainer:
    """Trains ``model`` with ``loss`` and ``optimizer``, logging ``metrics`` per epoch.

    ``model``: an ``nn.Module`` mapping a batch of inputs (N, ...) to one output Tensor
    (N, ...). ``loss``: a callable ``loss(output, target) -> scalar Tensor`` (a loss module
    such as ``nn.CrossEntropyLoss()``). ``optimizer``: an ``optim.Optimizer`` over the
    model's parameters. ``metrics``: names from ``axonic.metrics`` ("accuracy", "f1",
    "roc_auc", "mae"...) or callables ``fn(y_true, y_pred) -> float`` (see
    ``axonic.train.epoch_metrics`` for what each is given). ``device``: "cpu" or "cuda"
    (the model is moved there; each batch too). ``scheduler``: an lr scheduler stepped
    once per epoch (``ReduceLROnPlateau`` with "val_loss", or "loss" without validation
    data). ``nan_guard``: raise ``FloatingPointError`` as soon as a batch loss is NaN or
    infinite, before the update (unless a ``TerminateOnNaN`` callback is given, which
    stops gracefully instead).

    Example::

        trainer = Trainer(model, nn.CrossEntropyLoss(), optim.Adam(model.parameters()),
                          metrics=["accuracy"])
        history = trainer.fit((x_train, y_train), epochs=10, val_data=(x_val, y_val))
        trainer.evaluate((x_test, y_test))   # {"loss": ..., "accuracy": ...}
        trainer.predict(x_test)              # np.ndarray (N, C)
    """

    def __init__(self, model: Module, loss: Callable[[Tensor, Tensor], Tensor],
                 optimizer: Optimizer, metrics: str | Callable | Sequence = (),
                 device: str = "cpu", scheduler: Any = None, nan_guard: bool = True):
        if not isinstance(model, Module):
            raise TypeError(f"Trainer: model must be an axonic.nn.Module, got "
                            f"{type(model).__name__}")
        if not callable(loss):
            raise TypeError(f"Trainer: loss must be callable (output, target) -> Tensor, got "
                            f"{type(loss).__name__}")
        if not isinstance(optimizer, Optimizer):
            raise TypeError(f"Trainer: optimizer must be an axonic.optim.Optimizer, got "
                            f"{type(optimizer).__name__}")
        if device not in DEVICES:
            raise ValueError(f"Trainer: device must be one of {DEVICES}, got {device!r}")
        if scheduler is not None and not callable(getattr(scheduler, "step", None)):
            raise TypeError(f"Trainer: scheduler must be an axonic lr scheduler (with step()), "
                            f"got {type(scheduler).__name__}")
        self.model = model
        self.loss = loss
        self.optimizer = optimizer
        self.metrics = resolve_metrics(metrics, loss)
        self.device = device
        self.scheduler = scheduler
        self.nan_guard = bool(nan_guard)
        self.stop_training = False
        self.history: History | None = None
        self._converter = PredictionConverter(loss)
        if device != "cpu":
            model.to(device)

    @classmethod
    def from_compile(cls, model: Module, optimizer: str | Optimizer = "adam",
                     loss: str | Callable = "cross_entropy",
                     metrics: str | Callable | Sequence = (), lr: float | None = None,
                     **kwargs: Any) -> Trainer:
        """Keras's ``model.compile``: optimizer and loss by name ("adam", "sgd"...;
        "cross_entropy", "bce_with_logits", "mse"...) or as objects; ``lr`` for a named
        optimizer; other keyword arguments go to ``Trainer``."""
        return cls(model, make_loss(loss), make_optimizer(optimizer, model, lr),
                   metrics=metrics, **kwargs)

    # ----- training -----------------------------------------------------------------------
    def fit(self, train_data: Any, epochs: int = 1, val_data: Any = None,
            callbacks: Iterable[Callback] | None = (), verbose: int = 1, batch_size: int = 32,
            shuffle: bool = True, seed: int | None = None) -> History:
        """Trains for ``epochs`` epochs (fewer when a callback stops training) and returns
        the ``History`` (also kept as ``self.history``).

        ``train_data``/``val_data``: a DataLoader (used as is), a Dataset of (x, y) samples
        or a tuple (x, y) of arrays/Tensors with N rows; the last two are batched by
        ``batch_size``, the training data shuffled when ``shuffle`` (repeatably with
        ``seed``). ``verbose``: 0 silent, 1 a progress bar (one line per epoch when
        stderr is not a terminal), 2 one line per epoch.
        """
        who = "Trainer.fit"
        epochs = check_positive_int(who, "epochs", epochs)
        if verbose not in (0, 1, 2):
            raise ValueError(f"{who}: verbose must be 0, 1 or 2, got {verbose!r}")
        loader = as_loader(train_data, who=who, role="train_data", batch_size=batch_size,
                           shuffle=shuffle, seed=seed, needs_targets=True)
        val_loader = None if val_data is None else as_loader(
            val_data, who=who, role="val_data", batch_size=batch_size, shuffle=False,
            seed=None, needs_targets=True)
        if callbacks is None:
            callbacks = []
        callbacks = [callbacks] if isinstance(callbacks, Callback) else list(callbacks)
        history = History()
        everything = [*callbacks, history]  # History and the progress see what callbacks log
        if verbose:
            everything.append(ProgressBar(epochs, len(loader), verbose))
        hooks = CallbackList(everything, self)
        handled = any(getattr(c, "handles_non_finite_loss", False) for c in callbacks)
        self.history, self.stop_training = history, False
        hooks.on_train_begin()
        try:
            for epoch in range(epochs):
                hooks.on_epoch_begin(epoch)
                lr = float(self.optimizer.param_groups[0]["lr"])
                logs = self._train_epoch(loader, epoch, hooks, handled)
                if val_loader is not None:
                    scores = self._run_eval(val_loader, "Trainer.fit (validation)")
                    logs.update({f"val_{key}": value for key, value in scores.items()})
                logs["lr"] = lr
                if self.scheduler is not None:
                    step_scheduler(self.scheduler, logs)
                hooks.on_epoch_end(epoch, logs)
                if self.stop_training:
                    break
        finally:
            hooks.on_train_end()
        return history

    def _train_epoch(self, loader: Any, epoch: int, hooks: CallbackList,
                     nan_handled: bool) -> dict[str, float]:
        """One pass over ``loader`` with updates. A non-finite batch loss skips the update
        when a callback handles it (``TerminateOnNaN``), raises with ``nan_guard``, and
        is applied like any other otherwise."""
        who = "Trainer.fit"
        self.model.train()
        results = _EpochResults(bool(self.metrics), bool(self.metrics))
        for index, batch in enumerate(loader):
            hooks.on_batch_begin(index, {})
            x, y = split_batch(batch, who=who, device=self.device, needs_targets=True)
            self.optimizer.zero_grad()
            output = _model_output(who, self.model(x))
            loss = self.loss(output, y)
            value = _loss_value(who, loss)
            size = batch_length(x)
            if not math.isfinite(value) and not nan_handled and self.nan_guard:
                raise FloatingPointError(
                    f"{who}: the loss is {value} at epoch {epoch} (from 0), batch {index}, "
                    "before the update (the weights are unchanged). Lower the learning "
                    "rate, check the data for NaN/inf, or use a TerminateOnNaN callback "
                    "(or nan_guard=False) to stop without an error")
            if math.isfinite(value) or not nan_handled:
                loss.backward()
                self.optimizer.step()
            results.add(output, y, value, size)
            hooks.on_batch_end(index, {"loss": value, "size": size})
            if self.stop_training:
                break
        return {"loss": results.loss, **self._metric_values(results)}

    # ----- evaluation ---------------------------------------------------------------------
    def _metric_values(self, results: _EpochResults) -> dict[str, float]:
        if not self.metrics or not results.outputs:
            return {}
        outputs = np.concatenate(results.outputs, axis=0)
        if not np.all(np.isfinite(outputs)):
            return {spec.name: math.nan for spec in self.metrics}
        targets = np.concatenate(results.targets, axis=0)
        return self._converter.compute(self.metrics, outputs, targets)

    def _run_eval(self, loader: Any, who: str) -> dict[str, float]:
        results = _EpochResults(bool(self.metrics), bool(self.metrics))
        was_training = self.model.training
        self.model.eval()
        try:
            with no_grad():
                for batch in loader:
                    x, y = split_batch(batch, who=who, device=self.device, needs_targets=True)
                    output = _model_output(who, self.model(x))
                    value = _loss_value(who, self.loss(output, y))
                    results.add(output, y, value, batch_length(x))
        finally:
            self.model.train(was_training)
        return {"loss": results.loss, **self._metric_values(results)}

    def evaluate(self, data: Any, batch_size: int = 32) -> dict[str, float]:
        """{"loss": ..., <metric>: ...} over ``data`` (a DataLoader, a Dataset or a tuple
        (x, y)), in eval mode without gradients."""
        loader = as_loader(data, who="Trainer.evaluate", role="data", batch_size=batch_size,
                           shuffle=False, seed=None, needs_targets=True)
        return self._run_eval(loader, "Trainer.evaluate")

    def predict(self, data: Any, batch_size: int = 32) -> np.ndarray:
        """The model's outputs over ``data``, concatenated: (N, ...) as a NumPy array.

        ``data``: inputs x (array or Tensor, (N, ...)), a tuple (x,) or (x, y), a Dataset
        or a DataLoader (targets, when there, are ignored). Eval mode, no gradients.
        """
        who = "Trainer.predict"
        loader = as_loader(data, who=who, role="data", batch_size=batch_size, shuffle=False,
                           seed=None, needs_targets=False)
        results = _EpochResults(keep_outputs=True, keep_targets=False)
        was_training = self.model.training
        self.model.eval()
        try:
            with no_grad():
                for batch in loader:
                    x, _ = split_batch(batch, who=who, device=self.device, needs_targets=False)
                    results.add(_model_output(who, self.model(x)), None, None, batch_length(x))
        finally:
            self.model.train(was_training)
        return np.concatenate(results.outputs, axis=0)


def fit(model: Module, train_data: Any, *, loss: str | Callable = "cross_entropy",
        optimizer: str | Optimizer = "adam", lr: float | None = None,
        metrics: str | Callable | Sequence = (), **fit_kwargs: Any) -> History:
    """One-call training: ``Trainer.from_compile(model, optimizer, loss, metrics, lr)``
    then ``fit(train_data, **fit_kwargs)`` (epochs, val_data, callbacks, verbose...)."""
    trainer = Trainer.from_compile(model, optimizer=optimizer, loss=loss, metrics=metrics,
                                   lr=lr)
    return trainer.fit(train_data, **fit_kwargs)
