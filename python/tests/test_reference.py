"""Outputs, losses and gradients of models built in Python against PyTorch's
(fixtures/*.npz, written by tools/fixtures/gen_python.py with Debian 12's PyTorch 1.13)."""
import os

import numpy as np
import pytest

import bdl
from bdl.layers import (Add, AveragePooling2D, BatchNormalization, Concatenate, Conv2D, Dense,
                        Flatten, GRU, LSTM, MaxPooling2D, Activation)

from conftest import FIXTURES


def build(name):
    I = bdl.Input
    if name == "mlp":
        return bdl.Sequential([I((12,)), Dense(16, activation="relu"), Dense(16, activation="tanh"),
                               Dense(5)])
    if name == "cnn":
        return bdl.Sequential([I((2, 10, 10)), Conv2D(4, 3, padding="same", activation="relu"),
                               BatchNormalization(momentum=0.9, epsilon=1e-5), MaxPooling2D(2),
                               Conv2D(4 + 2, 3, activation="sigmoid"), AveragePooling2D(2),
                               Flatten(), Dense(5)])
    if name == "lstm":
        return bdl.Sequential([I((5, 4)), LSTM(7), Dense(3)])
    if name == "gru":
        return bdl.Sequential([I((5, 4)), GRU(6, return_sequences=True), Flatten(), Dense(3)])
    if name == "branches":
        x = I((8,))
        a = Dense(6, activation="relu")(x)
        c = Add()([a, Dense(6)(x)])
        return bdl.Model(x, Dense(4)(Concatenate()([c, a])))
    raise KeyError(name)


@pytest.mark.parametrize("name", ["mlp", "cnn", "lstm", "gru", "branches"])
def test_matches_pytorch(name):
    f = np.load(os.path.join(FIXTURES, name + ".npz"))
    model = build(name)
    count = len([k for k in f.files if k.startswith("p")])
    weights = [f[f"p{i}"] for i in range(count)]
    model.set_weights(weights)
    out = model.forward(f["x"])
    np.testing.assert_allclose(out, f["out"], rtol=1e-4, atol=1e-5)
    loss = bdl.losses.Loss("cross_entropy")
    assert loss(out, f["target"]) == pytest.approx(float(f["loss"]), rel=1e-5)
    model.zero_grad()
    grad_x = model.backward(f["x"], loss.backward(out, f["target"]))
    np.testing.assert_allclose(grad_x, f["grad_x"], rtol=1e-3, atol=1e-6)
    grads = [g for _, g in model.net.module.gradients()]
    assert len(grads) == count
    for i, g in enumerate(grads):
        np.testing.assert_allclose(g, f[f"g{i}"], rtol=1e-3, atol=1e-6, err_msg=f"parameter {i}")


def numeric_grad(fn, x, eps=1e-2):
    g = np.zeros_like(x, dtype=np.float64)
    flat = x.reshape(-1)
    for i in range(flat.size):
        old = flat[i]
        flat[i] = old + eps
        up = fn()
        flat[i] = old - eps
        down = fn()
        flat[i] = old
        g.reshape(-1)[i] = (up - down) / (2 * eps)
    return g


@pytest.mark.parametrize("name", ["mlp", "cnn", "lstm", "branches"])
def test_finite_differences(name):
    """backward() through the Python API agrees with central differences."""
    model = build(name)
    f = np.load(os.path.join(FIXTURES, name + ".npz"))
    x = f["x"].astype(np.float64)
    target = f["target"]
    loss = bdl.losses.Loss("cross_entropy")
    if name == "cnn":  # BatchNorm in evaluation form: a fixed function of x
        model.eval()
    rng = np.random.default_rng(1)
    dot = rng.normal(size=model.forward(x.astype(np.float32)).shape)

    def value():
        return float(np.sum(model.forward(x.astype(np.float32)) * dot))

    out = model.forward(x.astype(np.float32))
    model.zero_grad()
    analytic = model.backward(x.astype(np.float32), dot.astype(np.float32))
    numeric = numeric_grad(value, x)
    np.testing.assert_allclose(analytic, numeric, rtol=5e-2, atol=5e-3)
    assert loss(out, target) > 0
