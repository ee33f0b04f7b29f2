"""Hyperparameter search: grid and random search over a space, scored on validation data."""

from __future__ import annotations

import numpy as np
import pytest

from axonic import nn, no_grad, optim, tensor, tune
from axonic.train import EarlyStopping


def blobs(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Two Gaussian blobs in 4-D, labels 0/1: easy for a good setting, slow for a bad one."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, n)
    x = rng.standard_normal((n, 4)) + 1.5 * y[:, None]
    return x.astype(np.float32), y.astype(np.int64)


TRAIN, VAL = blobs(200, 0), blobs(100, 1)


def build(params: dict) -> nn.Module:
    layers, width = params.get("layers", 1), params.get("width", 8)
    modules: list[nn.Module] = []
    size = 4
    for _ in range(layers):
        modules += [nn.Linear(size, width), nn.ReLU()]
        size = width
    return nn.Sequential(*modules, nn.Linear(size, 2))


def search(kind: str, space: dict, **kwargs) -> tune.SearchResult:
    run = tune.grid_search if kind == "grid" else tune.random_search
    options = dict(loss=nn.CrossEntropyLoss(), epochs=3, metrics=["accuracy"], verbose=0)
    return run(build, space, TRAIN, VAL, **(options | kwargs))


def test_grid_search_tries_every_combination_and_ranks_them():
    result = search("grid", {"lr": [1e-4, 0.05], "width": [4, 16]}, monitor="val_accuracy")
    assert sorted((t.params["lr"], t.params["width"]) for t in result.trials) == [
        (1e-4, 4), (1e-4, 16), (0.05, 4), (0.05, 16)]
    scores = [t.score for t in result.trials]
    assert scores == sorted(scores, reverse=True)  # accuracy: best (highest) first
    assert result.best_params["lr"] == 0.05  # a learning rate 500x larger wins in 3 epochs
    assert result.best_score == max(scores) > 0.8


def test_loss_monitors_rank_lowest_first_and_score_the_best_epoch():
    result = search("grid", {"lr": [0.05, 1e-3]})
    assert result.monitor == "val_loss" and result.mode == "min"
    for trial in result.trials:
        assert trial.score == min(trial.history["val_loss"])
    assert result.trials[0].score <= result.trials[1].score


def test_random_search_is_seeded_and_samples_distributions():
    space = {"lr": tune.loguniform(1e-3, 1e-1), "layers": tune.randint(1, 3),
             "optimizer": ["sgd", "adam"], "batch_size": tune.choice([16, 64])}
    first = search("random", space, n_trials=4, seed=3)
    again = search("random", space, n_trials=4, seed=3)
    assert [t.params for t in first.trials] == [t.params for t in again.trials]
    assert [t.score for t in first.trials] == [t.score for t in again.trials]
    for t in first.trials:
        assert 1e-3 <= t.params["lr"] <= 1e-1 and t.params["layers"] in (1, 2)
    other = search("random", space, n_trials=4, seed=4)
    assert {str(t.params) for t in other.trials} != {str(t.params) for t in first.trials}


def test_epochs_in_the_space_and_early_stopping_callbacks():
    result = search("grid", {"epochs": [1, 4]},
                    callbacks=lambda: [EarlyStopping(monitor="val_loss", patience=0)])
    runs = {t.params["epochs"]: t.epochs for t in result.trials}
    assert runs[1] == 1 and 1 <= runs[4] <= 4


def test_build_may_return_model_and_optimizer():
    def build_pair(params):
        model = build(params)
        return model, optim.SGD(model.parameters(), lr=params["lr"], momentum=0.9)

    result = tune.grid_search(build_pair, {"lr": [0.01]}, TRAIN, VAL, loss=nn.CrossEntropyLoss(),
                              epochs=2, verbose=0)
    assert len(result.trials) == 1 and np.isfinite(result.best_score)


def test_a_diverging_trial_ranks_last_with_a_nan_score():
    with pytest.warns(RuntimeWarning, match="TerminateOnNaN"):
        result = search("grid", {"lr": [0.05, 1e30], "optimizer": ["sgd"]})
    assert result.best_params["lr"] == 0.05
    assert np.isnan(result.trials[-1].score)


def test_table_and_csv(tmp_path):
    result = search("grid", {"lr": [0.05, 0.01]}, monitor="val_accuracy")
    table = result.table()
    assert table.splitlines()[0].split()[:3] == ["rank", "lr", "val_accuracy"]
    path = tmp_path / "trials.csv"
    result.to_csv(str(path))
    assert path.read_text().splitlines()[0] == "rank,lr,val_accuracy,epochs,seconds"


def test_verbose_prints_one_line_per_trial(capsys):
    search("grid", {"lr": [0.05, 0.01]}, verbose=1)
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 2 and lines[0].startswith("trial 1/2  lr=0.05")


@pytest.mark.parametrize("space, kind, message", [
    ({}, "grid", "non-empty dict"),
    ({"lr": []}, "grid", "no values"),
    ({"lr": 0.1}, "grid", "list of values"),
    ({"lr": tune.uniform(0, 1)}, "grid", "distributions are for random_search"),
    ({"optimizer": ["lbfgs"]}, "grid", "unknown optimizer"),
])
def test_bad_spaces(space, kind, message):
    with pytest.raises(ValueError, match=message):
        search(kind, space)


def test_bad_arguments():
    with pytest.raises(ValueError, match="n_trials"):
        search("random", {"lr": [0.1]}, n_trials=0)
    with pytest.raises(ValueError, match="validation data"):
        tune.grid_search(build, {"lr": [0.1]}, TRAIN, None, loss=nn.CrossEntropyLoss())
    with pytest.raises(ValueError, match="monitor 'val_f1'"):
        search("grid", {"lr": [0.1]}, monitor="val_f1")
    with pytest.raises(ValueError, match="mode"):
        search("grid", {"lr": [0.1]}, mode="up")
    with pytest.raises(ValueError, match="low < high"):
        tune.loguniform(0.1, 0.01)
    with pytest.raises(TypeError, match="Module or a"):
        tune.grid_search(lambda p: 3, {"lr": [0.1]}, TRAIN, VAL, loss=nn.CrossEntropyLoss())


def test_best_model_is_the_winning_trials_trained_model():
    result = search("grid", {"lr": [1e-4, 0.05]}, monitor="val_accuracy")
    x, y = VAL
    with no_grad():
        predicted = result.best_model(tensor(x)).argmax(axis=1).numpy()
    # restore-free fit: the model after its last epoch; scored as the history's last epoch
    assert (predicted == y).mean() == pytest.approx(result.best_trial.history["val_accuracy"][-1])
