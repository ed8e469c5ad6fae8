"""Writes the PyTorch reference fixtures of the Python tests (fixtures/*.npz):
for each model, an input, class targets, the parameters, the output, the mean
cross-entropy loss and the gradients of the loss with respect to every
parameter and to the input, in training mode.

Run with Debian 12's Python and PyTorch (python3-torch 1.13), which made the
committed fixtures:  /usr/bin/python3 python/tests/make_fixtures.py
The tests need only NumPy and the .npz files, not PyTorch.
"""
import os

import numpy as np
import torch
from torch import nn

HERE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fixtures")


class LastStep(nn.Module):
    def __init__(self, rnn):
        super().__init__()
        self.rnn = rnn

    def forward(self, x):
        return self.rnn(x)[0][:, -1]


class Sequence(nn.Module):
    def __init__(self, rnn):
        super().__init__()
        self.rnn = rnn

    def forward(self, x):
        return self.rnn(x)[0]


class Branches(nn.Module):
    """x -> a = relu(fc_a x), b = fc_b x; c = a + b; head([c, a])."""

    def __init__(self):
        super().__init__()
        self.fc_a = nn.Linear(8, 6)
        self.fc_b = nn.Linear(8, 6)
        self.head = nn.Linear(12, 4)

    def forward(self, x):
        a = torch.relu(self.fc_a(x))
        c = a + self.fc_b(x)
        return self.head(torch.cat([c, a], dim=1))


def models():
    yield "mlp", nn.Sequential(nn.Linear(12, 16), nn.ReLU(), nn.Linear(16, 16), nn.Tanh(),
                               nn.Linear(16, 5)), (12,)
    yield "cnn", nn.Sequential(nn.Conv2d(2, 4, 3, padding=1), nn.ReLU(), nn.BatchNorm2d(4),
                               nn.MaxPool2d(2), nn.Conv2d(4, 6, 3), nn.Sigmoid(),
                               nn.AvgPool2d(2), nn.Flatten(), nn.Linear(6, 5)), (2, 10, 10)
    yield "lstm", nn.Sequential(LastStep(nn.LSTM(4, 7, batch_first=True)), nn.Linear(7, 3)), (5, 4)
    yield "gru", nn.Sequential(Sequence(nn.GRU(4, 6, batch_first=True)), nn.Flatten(),
                               nn.Linear(30, 3)), (5, 4)
    yield "branches", Branches(), (8,)


def main():
    os.makedirs(HERE, exist_ok=True)
    torch.manual_seed(0)
    for name, model, sample in models():
        model.train()
        x = torch.randn(6, *sample, requires_grad=True)
        out = model(x)
        target = torch.randint(0, out.shape[1], (6,))
        loss = nn.functional.cross_entropy(out, target)
        loss.backward()
        arrays = {"x": x.detach().numpy(), "target": target.numpy(), "out": out.detach().numpy(),
                  "loss": np.float32(loss.item()), "grad_x": x.grad.numpy()}
        for i, p in enumerate(model.parameters()):
            arrays[f"p{i}"] = p.detach().numpy()
            arrays[f"g{i}"] = p.grad.numpy()
        np.savez(os.path.join(HERE, name + ".npz"), **arrays, torch=np.array(torch.__version__))
        print(name, "written")


if __name__ == "__main__":
    main()
