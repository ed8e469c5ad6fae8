"""Every public function of the package at least once: the layers and
optimizers not met elsewhere, the small model methods, datasets."""
import os

import numpy as np
import pytest

import bdl
from bdl.layers import (Activation, Conv2D, Dense, Dropout, Embedding, Flatten,
                        GlobalAveragePooling2D, GlobalMaxPooling2D, LSTM, Reshape, Softmax)


@pytest.mark.parametrize("make", [
    lambda: [bdl.Input((2, 6, 6)), Conv2D(3, 3, padding="same"), GlobalAveragePooling2D(),
             Dense(2)],
    lambda: [bdl.Input((2, 6, 6)), Conv2D(3, 3), GlobalMaxPooling2D(), Activation("tanh"),
             Dense(2)],
    lambda: [bdl.Input((72,)), Reshape((2, 6, 6)), Conv2D(2, 3), Flatten(), Dropout(0.2),
             Dense(2)],
    lambda: [bdl.Input((5,)), Embedding(11, 4), LSTM(6), Dense(2)],
])
def test_layers_train(make):
    model = bdl.Sequential(make())
    shape = model.build().input_shape
    rng = np.random.default_rng(0)
    if shape == (5,):
        x = rng.integers(0, 11, (64, 5)).astype(np.float32)  # token ids
    else:
        x = rng.normal(size=(64, *shape)).astype(np.float32)
    y = rng.integers(0, 2, 64)
    model.compile(optimizer="adam", loss="cross_entropy", metrics=["accuracy"])
    h = model.fit(x, y, batch_size=16, epochs=2, verbose=0)
    assert np.isfinite(h.history["loss"]).all()
    assert model(x[:3]).shape == (3, 2)  # calling a model on an array predicts


def test_softmax_layer_gives_probabilities():
    model = bdl.Sequential([bdl.Input((4,)), Dense(3), Softmax()])
    p = model.predict(np.random.default_rng(1).normal(size=(5, 4)).astype(np.float32))
    np.testing.assert_allclose(p.sum(axis=1), 1.0, rtol=1e-5)


@pytest.mark.parametrize("opt", [bdl.optimizers.AdamW(0.01), bdl.optimizers.Adagrad(0.1),
                                 bdl.optimizers.RMSprop(0.01), bdl.optimizers.LARS(0.5),
                                 bdl.optimizers.SGD(0.1, weight_decay=1e-4,
                                                    schedule="cosine", warmup_epochs=1)])
def test_optimizers_train(opt, data):
    from conftest import mlp
    x, y = data
    model = mlp()
    model.compile(optimizer=opt, loss=bdl.losses.get("cross_entropy"), metrics=["accuracy"])
    h = model.fit(x, y, batch_size=50, epochs=3, verbose=0)
    assert h.history["loss"][-1] < h.history["loss"][0], repr(opt)
    assert repr(opt).startswith(type(opt).__name__ + "(")


def test_small_model_methods():
    from conftest import mlp
    model = mlp()
    assert not model.built
    model.build()
    assert model.built
    names = model.named_weights()
    assert list(names) == ["0.weight", "0.bias", "2.weight", "2.bias"]  # modules: Linear, ReLU, Linear
    assert names["0.weight"].shape == (32, 10)
    model.train_mode(False)
    assert not model.net.module.training
    model.train_mode()
    assert model.net.module.training


def test_fashion_mnist_arrays():
    if not os.path.isdir(bdl.datasets.FASHION_MNIST):
        pytest.skip("dataset-fashion-mnist is not installed")
    (x, y), (xt, yt) = bdl.datasets.fashion_mnist()
    assert x.shape == (60000, 28, 28) and x.dtype == np.uint8 and y.dtype == np.int64
    assert xt.shape == (10000, 28, 28) and set(np.unique(yt)) == set(range(10))


def test_damaged_idx_names_the_file(tmp_path):
    for name in ("train-images-idx3-ubyte", "train-labels-idx1-ubyte",
                 "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"):
        (tmp_path / name).write_bytes(b"\x00\x00\x08\x03\x00\x00\x00\x02")
    with pytest.raises(ValueError, match="train-images-idx3-ubyte: truncated header"):
        bdl.datasets.fashion_mnist(str(tmp_path))
    with pytest.raises(FileNotFoundError, match="no train-images-idx3-ubyte"):
        bdl.datasets.fashion_mnist(str(tmp_path / "missing"))
