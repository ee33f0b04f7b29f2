"""Binary classification on scikit-learn's bundled breast cancer data.

A small MLP with one logit output and BCEWithLogitsLoss; reports precision, recall,
F1, ROC-AUC and the confusion matrix on the test split.

    python examples/breast_cancer.py [--epochs 60] [--plot curves.png]

Needs scikit-learn for the data (pip install "axonic[datasets]"); --plot needs matplotlib.
"""

from __future__ import annotations

import argparse

import numpy as np

import axonic
from axonic import metrics, nn, optim
from axonic.data import load_breast_cancer, standardize, train_val_test_split
from axonic.train import EarlyStopping, Trainer


def main(argv: list[str] | None = None) -> dict[str, float]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=60)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--plot", metavar="FILE", help="save the loss and metric curves as a PNG")
    args = parser.parse_args(argv)

    axonic.manual_seed(args.seed)
    x, y = load_breast_cancer()
    x_train, x_val, x_test, y_train, y_val, y_test = train_val_test_split(
        x, y, val_size=0.15, test_size=0.2, seed=args.seed, stratify=y)
    x_train, x_val, x_test = standardize(x_train, x_val, x_test)
    as_target = lambda t: t.astype(np.float32)[:, None]  # noqa: E731 - BCE wants (N, 1) floats

    model = nn.Sequential(nn.Linear(30, 16), nn.ReLU(), nn.Linear(16, 1))
    trainer = Trainer(model, nn.BCEWithLogitsLoss(), optim.Adam(model.parameters(), lr=1e-3),
                      metrics=["accuracy", "roc_auc"])
    history = trainer.fit((x_train, as_target(y_train)), epochs=args.epochs,
                          val_data=(x_val, as_target(y_val)), batch_size=32, seed=args.seed,
                          callbacks=[EarlyStopping(patience=10, restore_best_weights=True)])
    probability = 1.0 / (1.0 + np.exp(-trainer.predict(x_test)[:, 0]))
    predicted = (probability >= 0.5).astype(np.int64)
    results = {"precision": metrics.precision_score(y_test, predicted),
               "recall": metrics.recall_score(y_test, predicted),
               "F1": metrics.f1_score(y_test, predicted),
               "ROC-AUC": metrics.roc_auc_score(y_test, probability)}
    print("test " + "  ".join(f"{name} {value:.3f}" for name, value in results.items()))
    print("confusion matrix (rows: true 0/1, columns: predicted 0/1):")
    print(metrics.confusion_matrix(y_test, predicted))
    if args.plot:
        print(f"wrote {history.plot(args.plot)}")
    return results


if __name__ == "__main__":
    main()
