"""Regression on scikit-learn's bundled diabetes data: an MLP trained with MSE.

Standardizes the ten features (train statistics only), trains with Adam and early
stopping on a validation split, and reports MAE, RMSE and R2 on the test split.

    python examples/regression_diabetes.py [--epochs 200] [--plot curves.png]

Needs scikit-learn for the data (pip install "axonic[datasets]"); --plot needs matplotlib.
"""

from __future__ import annotations

import argparse

import numpy as np

import axonic
from axonic import metrics, nn, optim
from axonic.data import load_diabetes, standardize, train_val_test_split
from axonic.train import EarlyStopping, Trainer


def main(argv: list[str] | None = None) -> dict[str, float]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=200)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--plot", metavar="FILE", help="save the loss curves as a PNG")
    args = parser.parse_args(argv)

    axonic.manual_seed(args.seed)
    x, y = load_diabetes()
    x_train, x_val, x_test, y_train, y_val, y_test = train_val_test_split(
        x, y, val_size=0.15, test_size=0.2, seed=args.seed)
    x_train, x_val, x_test = standardize(x_train, x_val, x_test)
    # The target (a disease progression score, 25-346) is scaled for training only.
    mean, std = y_train.mean(), y_train.std()
    scale = lambda t: ((t - mean) / std).astype(np.float32)[:, None]  # noqa: E731

    model = nn.Sequential(nn.Linear(10, 32), nn.ReLU(), nn.Linear(32, 16), nn.ReLU(),
                          nn.Linear(16, 1))
    trainer = Trainer(model, nn.MSELoss(), optim.Adam(model.parameters(), lr=3e-3,
                                                        weight_decay=1e-4), metrics=["mae"])
    history = trainer.fit((x_train, scale(y_train)), epochs=args.epochs,
                          val_data=(x_val, scale(y_val)), batch_size=32, seed=args.seed,
                          callbacks=[EarlyStopping(patience=20, restore_best_weights=True)],
                          verbose=1)
    predicted = trainer.predict(x_test)[:, 0] * std + mean
    results = {"MAE": metrics.mean_absolute_error(y_test, predicted),
               "RMSE": metrics.root_mean_squared_error(y_test, predicted),
               "R2": metrics.r2_score(y_test, predicted)}
    print(f"stopped after {len(history.epoch)} epochs")
    print("test " + "  ".join(f"{name} {value:.3f}" for name, value in results.items()))
    if args.plot:
        print(f"wrote {history.plot(args.plot)}")
    return results


if __name__ == "__main__":
    main()
