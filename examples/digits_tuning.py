"""Random search over MLP settings on scikit-learn's bundled 8x8 digits, with early stopping.

Searches depth, width, learning rate, optimizer and batch size; each trial trains on
the training split and is scored on the validation split; the best setting is then
evaluated once on the test split.

    python examples/digits_tuning.py [--trials 8] [--plot curves.png]

Needs scikit-learn for the data (pip install "axonic[datasets]"); --plot needs matplotlib
and draws the best trial's training curves.
"""

from __future__ import annotations

import argparse

import axonic
from axonic import metrics, nn, tune
from axonic.data import load_digits, standardize, train_val_test_split
from axonic.train import EarlyStopping, History


def build(params: dict) -> nn.Module:
    """An MLP with params["layers"] hidden layers of params["width"] ReLU units."""
    layers: list[nn.Module] = []
    size = 64
    for _ in range(params["layers"]):
        layers += [nn.Linear(size, params["width"]), nn.ReLU()]
        size = params["width"]
    return nn.Sequential(*layers, nn.Linear(size, 10))


SPACE = {
    "layers": [1, 2],
    "width": [32, 64, 128],
    "lr": tune.loguniform(3e-4, 3e-2),
    "optimizer": ["adam", "sgd", "rmsprop"],
    "batch_size": [32, 64],
}


def main(argv: list[str] | None = None) -> float:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=8)
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--plot", metavar="FILE", help="save the best trial's curves as a PNG")
    args = parser.parse_args(argv)

    x, y = load_digits()
    x_train, x_val, x_test, y_train, y_val, y_test = train_val_test_split(
        x, y, val_size=0.15, test_size=0.2, seed=args.seed, stratify=y)
    x_train, x_val, x_test = standardize(x_train, x_val, x_test)

    result = tune.random_search(
        build, SPACE, (x_train, y_train), (x_val, y_val), n_trials=args.trials,
        loss=nn.CrossEntropyLoss(), monitor="val_accuracy", metrics=["accuracy"],
        epochs=args.epochs, seed=args.seed,
        callbacks=lambda: [EarlyStopping(monitor="val_accuracy", patience=5,
                                         restore_best_weights=True)])
    print()
    print(result.table())
    print(f"\nbest: {result.best_params}")

    # The winner's trained model (early stopping restored its best epoch's weights),
    # scored once on the test split.
    model = result.best_model.eval()
    with axonic.no_grad():
        predicted = model(axonic.tensor(x_test)).argmax(axis=1).numpy()
    accuracy = metrics.accuracy_score(y_test, predicted)
    print(f"test accuracy of the best setting: {accuracy:.2%}")
    if args.plot:
        history = History()
        history.history = result.best_trial.history
        history.epoch = list(range(result.best_trial.epochs))
        print(f"wrote {history.plot(args.plot)}")
    return accuracy


if __name__ == "__main__":
    main()
