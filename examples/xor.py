"""The seeds' XOR network: 2 inputs, 4 sigmoid hidden units, 1 sigmoid output, MSE loss.

    python examples/xor.py
"""

import axonic
from axonic import nn, optim

axonic.manual_seed(0)
x = axonic.tensor([[0, 0], [0, 1], [1, 0], [1, 1]], dtype="float32")
y = axonic.tensor([[0], [1], [1], [0]], dtype="float32")

model = nn.Sequential(nn.Linear(2, 4), nn.Sigmoid(), nn.Linear(4, 1), nn.Sigmoid())
loss_fn = nn.MSELoss()
optimizer = optim.SGD(model.parameters(), lr=2.0, momentum=0.9)

for epoch in range(1, 2001):
    loss = loss_fn(model(x), y)
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    if epoch % 250 == 0:
        print(f"epoch {epoch:5d}  loss {loss.item():.6f}")

with axonic.no_grad():
    predictions = model(x).numpy().ravel()
for inputs, p in zip(x.numpy(), predictions):
    print(f"{inputs.astype(int)} -> {p:.3f} (class {int(p > 0.5)})")
