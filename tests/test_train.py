"""axonic.train: Trainer fit/evaluate/predict, callbacks, History, progress output."""

from __future__ import annotations

import csv
import math
import os
import sys

import numpy as np
import pytest

import axonic
from axonic import nn, optim
from axonic.data import DataLoader, TensorDataset
from axonic.metrics import get_metric
from axonic.optim.lr_scheduler import ReduceLROnPlateau, StepLR
from axonic.train import (
    Callback,
    CSVLogger,
    EarlyStopping,
    History,
    LearningRateScheduler,
    ModelCheckpoint,
    ProgressBar,
    TerminateOnNaN,
    Trainer,
)
from axonic.train._files import atomic_savez
from axonic.train.epoch_metrics import PredictionConverter, resolve_metrics
from conftest import assert_close


# ----------------------------------------------------------------------------- helpers
def blobs(n: int = 200, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Two Gaussian blobs in 2-D, centred at (-2, -2) and (2, 2): x (n, 2), y (n,)."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, n)
    x = rng.normal(size=(n, 2)) + np.where(y[:, None] == 1, 2.0, -2.0)
    return x.astype(np.float32), y.astype(np.int64)


def classifier(classes: int = 2, seed: int = 0) -> nn.Module:
    axonic.manual_seed(seed)
    return nn.Sequential(nn.Linear(2, 8), nn.ReLU(), nn.Linear(8, classes))


def make_trainer(model: nn.Module | None = None, lr: float = 0.1, **kwargs) -> Trainer:
    model = model or classifier()
    return Trainer(model, nn.CrossEntropyLoss(), optim.SGD(model.parameters(), lr=lr),
                   **kwargs)


class Recorder(nn.Module):
    """A linear model that records, per forward, whether it trains and records grads."""

    def __init__(self, inputs: int = 2, outputs: int = 2):
        super().__init__()
        self.linear = nn.Linear(inputs, outputs)
        self.calls: list[tuple[bool, bool]] = []

    def forward(self, x):
        self.calls.append((self.training, axonic.is_grad_enabled()))
        return self.linear(x)


class Script(Callback):
    """Overwrites epoch logs with scripted values, before the callbacks after it run."""

    def __init__(self, **values):
        self.values = values

    def on_epoch_end(self, epoch, logs=None):
        for key, sequence in self.values.items():
            logs[key] = sequence[epoch]


# ----------------------------------------------------------------------------- fit
def test_fit_two_blobs_reaches_high_accuracy():
    x, y = blobs(300)
    trainer = make_trainer(metrics=["accuracy"])
    history = trainer.fit((x[:200], y[:200]), epochs=5, val_data=(x[200:], y[200:]),
                          batch_size=16, seed=0, verbose=0)
    assert history is trainer.history
    assert set(history.history) == {"loss", "accuracy", "val_loss", "val_accuracy", "lr"}
    assert history.epoch == [0, 1, 2, 3, 4]
    assert all(len(v) == 5 for v in history.history.values())
    assert history.history["loss"][-1] < history.history["loss"][0]
    assert history.history["val_accuracy"][-1] >= 0.97
    scores = trainer.evaluate((x[200:], y[200:]))
    assert set(scores) == {"loss", "accuracy"}
    assert scores["accuracy"] == pytest.approx(history.history["val_accuracy"][-1])
    assert scores["loss"] == pytest.approx(history.history["val_loss"][-1], rel=1e-5)


def test_epoch_loss_is_the_sample_weighted_mean_and_metrics_see_the_whole_epoch():
    x, y = blobs(10)
    seen = []

    def sizes(y_true, y_pred):
        seen.append(len(y_true))
        return float(np.mean(y_true == y_pred))

    trainer = make_trainer(lr=0.0, metrics=[sizes])  # lr 0: the model does not move
    history = trainer.fit((x, y), epochs=2, batch_size=4, verbose=0)  # batches 4, 4, 2
    full = trainer.evaluate((x, y), batch_size=10)
    assert seen == [10, 10, 10]
    assert history.history["loss"] == pytest.approx([full["loss"]] * 2, rel=1e-6)
    assert history.history["sizes"] == pytest.approx([full["sizes"]] * 2)


def test_dataset_and_dataloader_inputs_and_seeded_repeatability():
    x, y = blobs(64)
    runs = []
    for data in ((x, y), (x, y), TensorDataset(x, y)):
        trainer = make_trainer(classifier(seed=3))
        runs.append(trainer.fit(data, epochs=2, batch_size=8, seed=7, verbose=0).history)
    assert runs[0]["loss"] == runs[1]["loss"] == runs[2]["loss"]
    loader = DataLoader(TensorDataset(x, y), batch_size=16)
    history = make_trainer().fit(loader, epochs=1, val_data=loader, verbose=0)
    assert len(history.history["val_loss"]) == 1


def test_train_and_eval_modes_and_no_grad():
    x, y = blobs(12)
    model = Recorder()
    trainer = make_trainer(model)
    trainer.fit((x, y), epochs=1, val_data=(x, y), batch_size=6, verbose=0)
    assert model.calls == [(True, True)] * 2 + [(False, False)] * 2
    assert model.training  # back in training mode after validation
    model.calls.clear()
    model.eval()
    trainer.evaluate((x, y), batch_size=12)
    trainer.predict(x, batch_size=12)
    assert model.calls == [(False, False)] * 2
    assert not model.training  # evaluate/predict restore the mode they found
    model.train()
    trainer.predict(x)
    assert model.training and axonic.is_grad_enabled()


def test_predict_shapes_and_inputs():
    x, y = blobs(37)
    model = nn.Linear(2, 3)
    trainer = Trainer(model, nn.CrossEntropyLoss(), optim.SGD(model.parameters(), lr=0.1))
    expected = model(axonic.Tensor(x)).numpy()
    for data in (x, axonic.Tensor(x), (x,), (x, y), TensorDataset(x),
                 DataLoader(TensorDataset(x, y), batch_size=5)):
        out = trainer.predict(data, batch_size=8)
        assert isinstance(out, np.ndarray)
        assert_close(out, expected)
    single = nn.Linear(2, 1)
    trainer = Trainer(single, nn.BCEWithLogitsLoss(), optim.SGD(single.parameters(), lr=0.1))
    assert trainer.predict(x, batch_size=10).shape == (37, 1)


# ----------------------------------------------------------------------------- metrics
def test_prediction_conversion_per_loss():
    logits = np.array([[-1.0], [0.2], [3.0]])
    with_logits = PredictionConverter(nn.BCEWithLogitsLoss())
    assert with_logits.labels(logits).tolist() == [0, 1, 1]
    assert_close(with_logits.probabilities(logits), 1 / (1 + np.exp(-logits)))
    probabilities = PredictionConverter(nn.BCELoss())
    assert probabilities.labels(np.array([0.3, 0.6])).tolist() == [0, 1]
    multiclass = PredictionConverter(nn.CrossEntropyLoss())
    scores = np.array([[1.0, 3.0, 2.0], [5.0, 0.0, 0.0]])
    assert multiclass.labels(scores).tolist() == [1, 0]
    assert_close(multiclass.probabilities(scores).sum(axis=1), np.ones(2))
    roc, other, labels = resolve_metrics([_named("roc_auc", None, "scores"),
                                          _named("other", None, "scores"), _named("m", None)],
                                         nn.CrossEntropyLoss())
    two = np.array([[0.0, 1.0], [2.0, 0.0]])
    y_true, y_score = multiclass.metric_inputs(roc, two, np.array([1, 0]))
    assert_close(y_score, multiclass.probabilities(two)[:, 1])  # roc_auc: positive column
    assert multiclass.metric_inputs(other, two, np.array([1, 0]))[1].shape == (2, 2)
    one_hot = np.array([[0.0, 1.0], [1.0, 0.0]], dtype=np.float32)
    y_true, y_pred = multiclass.metric_inputs(labels, two, one_hot)
    assert y_true.tolist() == [1, 0] and y_pred.tolist() == [1, 0]


def _named(name, fn, kind=None):
    def metric(y_true, y_pred):
        return fn(y_true, y_pred)

    metric.__name__ = name
    if kind is not None:
        metric.input_kind = kind
    return metric


def test_binary_with_logits_metrics_by_name():
    x, y = blobs(120, seed=1)
    axonic.manual_seed(0)
    model = nn.Linear(2, 1)
    trainer = Trainer(model, nn.BCEWithLogitsLoss(), optim.SGD(model.parameters(), lr=0.5),
                      metrics=["accuracy", "roc_auc"])
    target = y.astype(np.float32)[:, None]
    history = trainer.fit((x, target), epochs=3, val_data=(x, target), verbose=0)
    logits = trainer.predict(x)[:, 0]
    scores = trainer.evaluate((x, target))
    assert scores["accuracy"] == pytest.approx(np.mean((logits > 0) == y))
    assert scores["accuracy"] >= 0.95 and scores["roc_auc"] >= 0.98
    assert history.history["val_roc_auc"][-1] == pytest.approx(scores["roc_auc"])


def test_every_classification_metric_name_on_three_classes():
    rng = np.random.default_rng(2)
    y = rng.integers(0, 3, 150)
    centres = np.array([[-3.0, 0.0], [3.0, 0.0], [0.0, 3.0]])
    x = (rng.normal(size=(150, 2)) + centres[y]).astype(np.float32)
    names = ["accuracy", "precision", "recall", "f1", "roc_auc", "log_loss", "top_k_accuracy"]
    trainer = make_trainer(classifier(classes=3), lr=0.2, metrics=names)
    history = trainer.fit((x, y), epochs=8, batch_size=16, seed=0, val_data=(x, y), verbose=0)
    assert all(len(history.history[f"val_{n}"]) == 8 for n in names)
    scores = trainer.evaluate((x, y))
    logits = trainer.predict(x)
    probabilities = np.exp(logits - logits.max(axis=1, keepdims=True))
    probabilities /= probabilities.sum(axis=1, keepdims=True)
    assert scores["accuracy"] >= 0.9 and scores["roc_auc"] >= 0.95
    assert scores["top_k_accuracy"] >= scores["accuracy"]
    assert scores["f1"] == pytest.approx(
        get_metric("f1")(y, logits.argmax(axis=1), average="macro"))
    assert scores["log_loss"] == pytest.approx(
        get_metric("log_loss")(y, probabilities), rel=1e-5)


def test_every_regression_metric_name():
    x = np.linspace(-1, 1, 40, dtype=np.float32)[:, None]
    y = (2 * x[:, 0] + 0.5).astype(np.float32)  # targets (N,), outputs (N, 1)
    model = nn.Linear(1, 1)
    trainer = Trainer(model, lambda out, t: nn.functional.mse_loss(out.reshape(-1), t),
                      optim.SGD(model.parameters(), lr=0.3), metrics=["mae", "mse", "rmse", "r2"])
    history = trainer.fit((x, y), epochs=30, batch_size=8, seed=0, verbose=0)
    assert history.history["r2"][-1] > 0.99
    scores = trainer.evaluate((x, y))
    residual = trainer.predict(x)[:, 0] - y
    assert scores["mse"] == pytest.approx(scores["loss"], rel=1e-5)
    assert scores["rmse"] == pytest.approx(np.sqrt(np.mean(residual ** 2)), rel=1e-5)
    assert scores["mae"] == pytest.approx(np.mean(np.abs(residual)), rel=1e-5)


def test_metric_callables_names_and_errors():
    x = np.linspace(-1, 1, 20, dtype=np.float32)[:, None]
    y = 3 * x
    model = nn.Linear(1, 1)

    def max_error(y_true, y_pred):
        return float(np.max(np.abs(y_true - y_pred)))

    trainer = Trainer(model, nn.MSELoss(), optim.SGD(model.parameters(), lr=0.1),
                      metrics=["mae", max_error])
    history = trainer.fit((x, y), epochs=2, verbose=0)
    assert {"mae", "max_error"} <= set(history.history)
    scores = trainer.evaluate((x, y))
    residual = np.abs(trainer.predict(x) - y)
    assert scores["mae"] == pytest.approx(residual.mean(), rel=1e-5)
    assert scores["max_error"] == pytest.approx(residual.max(), rel=1e-5)
    opt = optim.SGD(model.parameters(), lr=0.1)
    with pytest.raises(ValueError, match="no_such_metric"):
        Trainer(model, nn.MSELoss(), opt, metrics=["no_such_metric"])
    with pytest.raises(ValueError, match="__name__"):
        Trainer(model, nn.MSELoss(), opt, metrics=[lambda t, p: 0.0])
    with pytest.raises(ValueError, match="twice"):
        Trainer(model, nn.MSELoss(), opt, metrics=[max_error, max_error])
    with pytest.raises(ValueError, match="reserved"):
        Trainer(model, nn.MSELoss(), opt, metrics=[_named("loss", None)])
    with pytest.raises(TypeError, match="metric"):
        Trainer(model, nn.MSELoss(), opt, metrics=[3])


# ----------------------------------------------------------------------------- callbacks
def test_early_stopping_on_a_scripted_val_loss_restores_the_best_weights():
    x, y = blobs(32)
    trainer = make_trainer(lr=0.5)
    weights = {}

    class Snapshot(Callback):
        def on_epoch_end(self, epoch, logs=None):
            weights[epoch] = self.model.state_dict()

    stopper = EarlyStopping(patience=2, restore_best_weights=True)
    script = Script(val_loss=[1.0, 0.8, 0.9, 0.85, 0.1, 0.1])
    history = trainer.fit((x, y), epochs=6, val_data=(x, y), verbose=0,
                          callbacks=[script, Snapshot(), stopper])
    assert history.epoch == [0, 1, 2, 3]
    assert history.history["val_loss"] == [1.0, 0.8, 0.9, 0.85]
    assert (stopper.stopped_epoch, stopper.best_epoch, stopper.best) == (3, 1, 0.8)
    final = trainer.model.state_dict()
    for name, value in weights[1].items():
        assert_close(final[name], value)
    assert any(not np.allclose(weights[3][k], weights[1][k]) for k in final)


@pytest.mark.parametrize("values, kwargs, stopped_at", [
    ([1.0, 0.8, 0.9], dict(patience=0), 2),
    ([1.0, 0.95, 0.9, 0.85], dict(patience=1, min_delta=0.1), 1),
    ([0.5, 0.6, 0.7, 0.6, 0.6], dict(monitor="val_accuracy", patience=1), 3),
    ([0.9, 0.95, 0.97, 0.99], dict(patience=2), 2),
    ([0.9, 0.95, 0.97, 0.99], dict(patience=2, baseline=0.5), 1),
    ([1.0, 0.9, 0.8, 0.7], dict(patience=0), None),
])
def test_early_stopping_keras_semantics(values, kwargs, stopped_at):
    x, y = blobs(8)
    monitor = kwargs.get("monitor", "val_loss")
    stopper = EarlyStopping(**kwargs)
    history = make_trainer().fit((x, y), epochs=len(values), verbose=0,
                                 callbacks=[Script(**{monitor: values}), stopper])
    if stopped_at is None:
        assert len(history.epoch) == len(values) and stopper.stopped_epoch == 0
    else:
        assert history.epoch[-1] == stopped_at == stopper.stopped_epoch


def test_early_stopping_bad_options_and_missing_monitor():
    with pytest.raises(ValueError, match="mode"):
        EarlyStopping(monitor="val_weirdness")
    with pytest.raises(ValueError, match="patience"):
        EarlyStopping(patience=-1)
    x, y = blobs(8)
    with pytest.warns(RuntimeWarning, match="val_loss"):
        history = make_trainer().fit((x, y), epochs=2, verbose=0, callbacks=[EarlyStopping()])
    assert len(history.epoch) == 2


def test_model_checkpoint_files_are_complete_and_atomic(tmp_path):
    x, y = blobs(16)
    trainer = make_trainer()
    every = ModelCheckpoint(tmp_path / "ckpt-{epoch:02d}.npz")
    trainer.fit((x, y), epochs=3, verbose=0, callbacks=[every])
    names = sorted(os.listdir(tmp_path))
    assert names == ["ckpt-01.npz", "ckpt-02.npz", "ckpt-03.npz"]  # no temporary files left
    saved = dict(np.load(tmp_path / "ckpt-03.npz", allow_pickle=False))
    state = trainer.model.state_dict()
    assert saved.keys() == state.keys()
    fresh = classifier(seed=9)
    fresh.load_state_dict(saved)
    assert_close(fresh(axonic.Tensor(x)), trainer.model(axonic.Tensor(x)))

    best = ModelCheckpoint(tmp_path / "best" / "e{epoch}.npz", save_best_only=True)
    os.mkdir(tmp_path / "best")
    trainer.fit((x, y), epochs=4, verbose=0,
                callbacks=[Script(val_loss=[1.0, 2.0, 0.5, 0.7]), best])
    assert sorted(os.listdir(tmp_path / "best")) == ["e1.npz", "e3.npz"]


def test_atomic_save_leaves_the_old_file_when_writing_fails(tmp_path, monkeypatch):
    path = tmp_path / "model.npz"
    atomic_savez(path, {"w": np.ones(3)})

    def broken_savez(file, **arrays):
        file.write(b"partial")
        raise OSError("disk full")

    monkeypatch.setattr(np, "savez", broken_savez)
    with pytest.raises(OSError, match="disk full"):
        atomic_savez(path, {"w": np.zeros(3)})
    monkeypatch.undo()
    assert os.listdir(tmp_path) == ["model.npz"]
    assert_close(np.load(path)["w"], np.ones(3))
    with pytest.raises(TypeError, match="pickle"):
        atomic_savez(path, {"w": np.array([object()])})


def test_csv_logger_writes_and_appends(tmp_path):
    x, y = blobs(16)
    path = tmp_path / "log.csv"
    trainer = make_trainer()
    history = trainer.fit((x, y), epochs=3, val_data=(x, y), verbose=0,
                          callbacks=[CSVLogger(path)])
    with open(path, newline="") as file:
        rows = list(csv.reader(file))
    assert rows[0] == ["epoch", "loss", "lr", "val_loss"]
    assert [int(r[0]) for r in rows[1:]] == [0, 1, 2]
    assert [float(r[1]) for r in rows[1:]] == pytest.approx(history.history["loss"])
    trainer.fit((x, y), epochs=2, val_data=(x, y), verbose=0,
                callbacks=[CSVLogger(path, append=True)])
    with open(path, newline="") as file:
        rows = list(csv.reader(file))
    assert len(rows) == 6 and rows.count(rows[0]) == 1
    trainer.fit((x, y), epochs=1, verbose=0, callbacks=[CSVLogger(path)])
    with open(path, newline="") as file:
        assert len(list(csv.reader(file))) == 2  # append=False starts over


def test_learning_rate_scheduler_function_object_and_trainer_scheduler():
    x, y = blobs(16)
    model = classifier()
    layers = list(model.children())
    opt = optim.SGD([{"params": layers[0].parameters()},
                     {"params": layers[2].parameters(), "lr": 0.3}], lr=0.1)
    trainer = Trainer(model, nn.CrossEntropyLoss(), opt)
    history = trainer.fit((x, y), epochs=3, verbose=0,
                          callbacks=[LearningRateScheduler(lambda epoch, lr: 0.2 / 2 ** epoch)])
    assert history.history["lr"] == pytest.approx([0.2, 0.1, 0.05])
    assert [g["lr"] for g in opt.param_groups] == pytest.approx([0.05, 0.05])

    trainer = make_trainer(lr=0.4)
    step = StepLR(trainer.optimizer, step_size=1, gamma=0.5)
    history = trainer.fit((x, y), epochs=3, verbose=0, callbacks=[LearningRateScheduler(step)])
    assert history.history["lr"] == pytest.approx([0.4, 0.2, 0.1])

    trainer = make_trainer(lr=0.4)
    trainer.scheduler = StepLR(trainer.optimizer, step_size=2, gamma=0.1)
    history = trainer.fit((x, y), epochs=3, verbose=0)
    assert history.history["lr"] == pytest.approx([0.4, 0.4, 0.04])
    with pytest.raises(TypeError, match="schedule"):
        LearningRateScheduler(0.1)


def test_reduce_lr_on_plateau_is_given_the_epoch_loss():
    x = np.zeros((8, 2), dtype=np.float32)  # the loss cannot change: a plateau
    y = np.zeros(8, dtype=np.int64)
    model = nn.Linear(2, 2, bias=False)
    opt = optim.SGD(model.parameters(), lr=1.0)
    trainer = Trainer(model, nn.CrossEntropyLoss(), opt,
                      scheduler=ReduceLROnPlateau(opt, factor=0.5, patience=0))
    assert trainer.fit((x, y), epochs=3, verbose=0).history["lr"] == [1.0, 1.0, 0.5]
    history = trainer.fit((x, y), epochs=1, val_data=(x, y), verbose=0)
    assert history.history["lr"] == [0.25]


def nan_data(n: int = 16, bad_row: int = 9) -> tuple[np.ndarray, np.ndarray]:
    x, y = blobs(n)
    x[bad_row] = np.nan
    return x, y


def test_nan_guard_raises_with_the_batch_before_updating():
    x, y = nan_data()
    trainer = make_trainer()
    with pytest.raises(FloatingPointError, match=r"epoch 0 .*batch 2"):
        trainer.fit((x, y), epochs=2, batch_size=4, shuffle=False, verbose=0)
    assert all(np.isfinite(v).all() for v in trainer.model.state_dict().values())
    history = make_trainer(nan_guard=False).fit((x, y), epochs=2, batch_size=4, shuffle=False,
                                                verbose=0)
    assert len(history.epoch) == 2 and math.isnan(history.history["loss"][0])


def test_terminate_on_nan_stops_gracefully():
    x, y = nan_data()
    trainer = make_trainer(metrics=["accuracy"])
    stopper = TerminateOnNaN()
    with pytest.warns(RuntimeWarning, match="epoch 0 .*batch 2"):
        history = trainer.fit((x, y), epochs=3, batch_size=4, shuffle=False, verbose=0,
                              callbacks=[stopper])
    assert history.epoch == [0] and math.isnan(history.history["loss"][0])
    assert math.isnan(history.history["accuracy"][0])
    assert "batch 2" in stopper.message
    assert all(np.isfinite(v).all() for v in trainer.model.state_dict().values())


# ----------------------------------------------------------------------------- bad input
def test_bad_inputs_raise_clear_errors():
    x, y = blobs(10)
    trainer = make_trainer()
    with pytest.raises(ValueError, match="empty"):
        trainer.fit((x[:0], y[:0]), verbose=0)
    with pytest.raises(ValueError, match="10 samples but y has 9"):
        trainer.fit((x, y[:9]), verbose=0)
    with pytest.raises(ValueError, match="epochs"):
        trainer.fit((x, y), epochs=0, verbose=0)
    with pytest.raises(ValueError, match="batch_size"):
        trainer.fit((x, y), batch_size=0, verbose=0)
    with pytest.raises(ValueError, match="verbose"):
        trainer.fit((x, y), verbose=3)
    with pytest.raises(ValueError, match="needs targets"):
        trainer.evaluate(x)
    with pytest.raises(ValueError, match=r"\(x, y\)"):
        trainer.fit((x, y, y), verbose=0)
    with pytest.raises(TypeError, match="train_data"):
        trainer.fit(42, verbose=0)
    with pytest.raises(ValueError, match="empty"):
        trainer.predict(TensorDataset(x[:0]))
    model = classifier()
    with pytest.raises(TypeError, match="Module"):
        Trainer(lambda t: t, nn.CrossEntropyLoss(), optim.SGD(model.parameters()))
    with pytest.raises(TypeError, match="Optimizer"):
        Trainer(model, nn.CrossEntropyLoss(), "adam")
    with pytest.raises(ValueError, match="device"):
        Trainer(model, nn.CrossEntropyLoss(), optim.SGD(model.parameters()), device="tpu")
    with pytest.raises(TypeError, match="float64"):  # the layer's own message comes through
        trainer.fit((x.astype(np.float64), y), verbose=0)


# ----------------------------------------------------------------------------- shortcuts
def test_from_compile_and_fit_shortcut():
    x, y = blobs(200)
    trainer = Trainer.from_compile(classifier(), optimizer="adam", loss="cross_entropy",
                                   lr=0.05)
    assert isinstance(trainer.optimizer, optim.Adam)
    assert trainer.optimizer.param_groups[0]["lr"] == 0.05
    history = axonic.train.fit(classifier(), (x, y), optimizer="sgd", lr=0.2, epochs=3,
                               verbose=0)
    assert len(history.epoch) == 3 and history.history["loss"][-1] < 0.2
    with pytest.raises(ValueError, match="optimizer"):
        Trainer.from_compile(classifier(), optimizer="adamz")
    with pytest.raises(ValueError, match="loss"):
        Trainer.from_compile(classifier(), loss="crossentropy")


# ----------------------------------------------------------------------------- output
def test_progress_output(capsys):
    x, y = blobs(16)
    make_trainer().fit((x, y), epochs=2, verbose=0)
    assert capsys.readouterr() == ("", "")
    make_trainer().fit((x, y), epochs=2, val_data=(x, y), verbose=2)
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 2 and lines[0].startswith("Epoch 1/2 - loss: ")
    assert "val_loss: " in lines[1]
    make_trainer().fit((x, y), epochs=2, verbose=1)  # stderr is not a terminal: lines
    assert len(capsys.readouterr().out.splitlines()) == 2


def test_progress_bar_on_a_terminal():
    class Terminal:
        def __init__(self):
            self.text = []

        def write(self, text):
            self.text.append(text)

        def flush(self):
            pass

        def isatty(self):
            return True

    terminal = Terminal()
    x, y = blobs(16)
    make_trainer().fit((x, y), epochs=2, batch_size=4, verbose=0,
                       callbacks=[ProgressBar(2, 4, verbose=1, stream=terminal)])
    text = "".join(terminal.text)
    assert "Epoch 1/2" in text and "Epoch 2/2" in text and "4/4" in text and "loss: " in text


def test_history_to_csv_and_plot(tmp_path, monkeypatch):
    history = History()
    history.on_train_begin()
    for epoch, logs in enumerate([{"loss": 1.0, "acc": 0.5, "val_loss": 1.2, "lr": 0.1},
                                  {"loss": 0.5, "acc": 0.7, "val_loss": 0.9, "lr": 0.1}]):
        history.on_epoch_end(epoch, logs)
    history.to_csv(tmp_path / "history.csv")
    with open(tmp_path / "history.csv", newline="") as file:
        rows = list(csv.reader(file))
    assert rows == [["epoch", "loss", "acc", "val_loss", "lr"],
                    ["0", "1.0", "0.5", "1.2", "0.1"], ["1", "0.5", "0.7", "0.9", "0.1"]]
    monkeypatch.setitem(sys.modules, "matplotlib.figure", None)
    with pytest.raises(RuntimeError, match=r"axonic\[plot\]"):
        history.plot(tmp_path / "curves.png")


def test_history_plot_writes_a_png(tmp_path):
    pytest.importorskip("matplotlib")
    x, y = blobs(16)
    history = make_trainer().fit((x, y), epochs=2, val_data=(x, y), verbose=0)
    path = history.plot(tmp_path / "curves.png")
    with open(path, "rb") as file:
        assert file.read(8) == b"\x89PNG\r\n\x1a\n"
    with pytest.raises(ValueError, match="no values"):
        history.plot(tmp_path / "other.png", metrics=["accuracy"])
