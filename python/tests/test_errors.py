"""Bad input: Python exceptions that name the argument, never a crash."""
import numpy as np
import pytest

import bdl
from bdl.layers import Conv2D, Dense

from conftest import mlp


@pytest.fixture
def model():
    m = mlp()
    m.compile(optimizer="sgd", loss="cross_entropy", metrics=["accuracy"])
    return m


def test_dtypes_and_shapes_name_the_argument(model, data):
    x, y = data
    with pytest.raises(TypeError, match="^x: dtype complex"):
        model.fit(x.astype(np.complex64), y, verbose=0)
    with pytest.raises(TypeError, match="^x: dtype <U"):
        model.fit(np.array([["a"] * 10]), y[:1], verbose=0)
    with pytest.raises(ValueError, match="^x has 600 samples but y has 599"):
        model.fit(x, y[:-1], verbose=0)
    with pytest.raises(ValueError, match="^y: class indices are one per sample"):
        model.fit(x, np.eye(3)[y], verbose=0)
    with pytest.raises(ValueError, match="^y: class indices must be whole numbers"):
        model.fit(x, y + 0.5, verbose=0)
    with pytest.raises(ValueError, match="^x: a scalar is not a batch"):
        model.predict(np.float32(1.0))
    with pytest.raises(bdl.Error, match=r"x: samples of shape \[7\]"):
        model.predict(np.ones((2, 7), np.float32))
    with pytest.raises(ValueError, match="^sample_weight: one weight per sample"):
        model.fit(x, y, sample_weight=np.ones(3), verbose=0)


def test_library_errors_keep_their_message(model, data, tmp_path):
    x, y = data
    with pytest.raises(bdl.Error, match="sample 0 has class 7, outside"):
        model.fit(x, np.full(len(y), 7), verbose=0)
    bad = tmp_path / "bad.bdl"
    bad.write_bytes(b"not a model")
    with pytest.raises(bdl.Error, match="bad.bdl"):
        bdl.load(bad)
    with pytest.raises(bdl.Error, match="missing.bdl"):
        bdl.load(tmp_path / "missing.bdl")
    with pytest.raises(bdl.Error, match="x: sample 0 holds nan"):
        model.predict(np.full((1, 10), np.nan, np.float32))
    with pytest.raises(bdl.Error, match="batch_size"):
        model.fit(x, y, batch_size=0, verbose=0)
    with pytest.raises(bdl.Error, match="lr"):
        m = mlp()
        m.compile(optimizer=bdl.optimizers.SGD(-1.0), loss="cross_entropy")
        m.fit(x, y, verbose=0)


def test_settings_errors(model, data):
    x, y = data
    with pytest.raises(ValueError, match="loss: 'hinge' is not one of"):
        mlp().compile(loss="hinge")
    with pytest.raises(ValueError, match="optimizer: 'fast'"):
        mlp().compile(optimizer="fast")
    with pytest.raises(RuntimeError, match="compile"):
        mlp().fit(x, y, verbose=0)
    with pytest.raises(ValueError, match="epochs: must be a positive integer"):
        model.fit(x, y, epochs=0, verbose=0)
    with pytest.raises(ValueError, match="validation_split"):
        model.fit(x, y, validation_split=1.5, verbose=0)
    with pytest.raises(bdl.Error, match="unknown metric 'f2'"):
        m = mlp()
        m.compile(loss="cross_entropy", metrics=["f2"])
        m.fit(x, y, verbose=0)


def test_layer_errors():
    with pytest.raises(ValueError, match="Dense: units must be a positive integer"):
        Dense(0)
    with pytest.raises(ValueError, match="activation 'swishy'"):
        Dense(3, activation="swishy")
    with pytest.raises(ValueError, match="Conv2D: takes \\(channels, height, width\\) samples"):
        bdl.Sequential([bdl.Input((10,)), Conv2D(3, 3)]).build()
    with pytest.raises(ValueError, match="Linear: no option 'in_feature' \\(it takes: in_features"):
        bdl.Sequential([bdl.Input((4,)), bdl.nn.Linear(in_feature=4, out_features=2)]).build()
    with pytest.raises(AttributeError, match="no module type 'Linaer'"):
        bdl.nn.Linaer
    with pytest.raises(ValueError, match="input shape is not known"):
        bdl.Sequential([Dense(3)]).build()
    with pytest.raises(ValueError, match="Conv2d"):
        bdl.Sequential([bdl.Input((1, 4, 4)), Conv2D(2, 7)]).build()
    with pytest.raises(ValueError, match="takes logits"):
        m = bdl.Sequential([bdl.Input((4,)), Dense(3, activation="softmax")])
        m.compile(loss="cross_entropy")
        m.fit(np.ones((4, 4), np.float32), np.zeros(4, np.int64), verbose=0)
    with pytest.raises(TypeError, match="call it on bdl.Input"):
        Dense(3)(np.ones(3))


def test_low_level_loop_errors():
    m = mlp()
    with pytest.raises(RuntimeError, match="call forward"):
        m.backward(np.ones((2, 10), np.float32), np.ones((2, 3), np.float32))
    m.forward(np.ones((2, 10), np.float32))
    with pytest.raises(bdl.Error, match="grad_output of shape"):
        m.backward(np.ones((2, 10), np.float32), np.ones((2, 4), np.float32))
    with pytest.raises(ValueError, match="set_weights: 1 arrays given"):
        m.set_weights([np.ones(3)])
    with pytest.raises(bdl.Error, match="shape"):
        m.set_weights([np.ones((1, 1))] * len(m.get_weights()))
