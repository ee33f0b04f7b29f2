"""An MLP on scikit-learn's bundled 8x8 digits (1797 images, no download).

    pip install "axonic[datasets]"
    python examples/digits_mlp.py [--epochs 30]

Prints the loss per epoch and the test accuracy (about 97-98%).
"""

import argparse

import numpy as np
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

import axonic
from axonic import nn, optim

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("--epochs", type=int, default=30)
parser.add_argument("--batch-size", type=int, default=32)
parser.add_argument("--lr", type=float, default=0.05)
args = parser.parse_args()

axonic.manual_seed(42)
digits = load_digits()
x_train, x_test, y_train, y_test = train_test_split(
    digits.data.astype(np.float32), digits.target, test_size=0.25, random_state=42,
    stratify=digits.target,
)
mean, std = x_train.mean(axis=0), x_train.std(axis=0) + 1e-6  # standardize on train statistics
x_train, x_test = (x_train - mean) / std, (x_test - mean) / std

model = nn.Sequential(
    nn.Linear(64, 128), nn.ReLU(),
    nn.Linear(128, 64), nn.ReLU(),
    nn.Linear(64, 10),
)
loss_fn = nn.CrossEntropyLoss()
optimizer = optim.SGD(model.parameters(), lr=args.lr, momentum=0.9, weight_decay=1e-4)
rng = np.random.default_rng(0)

for epoch in range(1, args.epochs + 1):
    order = rng.permutation(len(x_train))
    epoch_loss = 0.0
    for start in range(0, len(order), args.batch_size):
        rows = order[start:start + args.batch_size]
        logits = model(axonic.tensor(x_train[rows]))
        loss = loss_fn(logits, axonic.tensor(y_train[rows]))
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        epoch_loss += loss.item() * len(rows)
    print(f"epoch {epoch:3d}  loss {epoch_loss / len(x_train):.4f}")

model.eval()
with axonic.no_grad():
    predicted = model(axonic.tensor(x_test)).numpy().argmax(axis=1)
print(f"test accuracy: {(predicted == y_test).mean():.2%}")
