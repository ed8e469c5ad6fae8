"""Models in and out: bdl's format, ONNX, the zoo, summaries."""
import os

import numpy as np
import pytest

import bdl
from bdl.layers import Conv2D, Dense, Flatten, MaxPooling2D

from conftest import mlp


def lenet_like():
    return bdl.Sequential([bdl.Input((1, 12, 12)), Conv2D(4, 3, activation="relu"),
                           MaxPooling2D(2), Flatten(), Dense(10)])


def test_save_load_is_exact(tmp_path):
    model = lenet_like()
    x = np.random.default_rng(0).normal(size=(8, 1, 12, 12)).astype(np.float32)
    model.save(tmp_path / "m.bdl")
    loaded = bdl.load(str(tmp_path / "m.bdl"))
    assert loaded.input_shape == (1, 12, 12) and loaded.output_shape == (10,)
    np.testing.assert_array_equal(loaded.predict(x), model.predict(x))
    for a, b in zip(loaded.get_weights(), model.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_onnx_round_trip(tmp_path):
    model = lenet_like()
    x = np.random.default_rng(1).normal(size=(5, 1, 12, 12)).astype(np.float32)
    model.save(tmp_path / "m.onnx")
    imported = bdl.import_onnx(tmp_path / "m.onnx")
    np.testing.assert_allclose(imported.predict(x), model.predict(x), rtol=1e-5, atol=1e-6)
    also = bdl.load(tmp_path / "m.onnx")  # load() takes ONNX files too
    assert also.input_shape == (1, 12, 12)


def test_fine_tune_imported_onnx(tmp_path, data):
    x, y = data
    source = mlp()
    source.export_onnx(tmp_path / "m.onnx")
    model = bdl.import_onnx(tmp_path / "m.onnx")
    model.compile(optimizer="adam", loss="cross_entropy", metrics=["accuracy"])
    h = model.fit(x, y, batch_size=50, epochs=3, verbose=0, validation_data=(x, y))
    assert h.history["val_accuracy"][-1] > 0.9


def test_zoo_and_summary():
    assert "lenet5" in bdl.zoo_names()
    model = bdl.zoo("lenet5")
    assert model.input_shape == (1, 28, 28) and model.output_shape == (10,)
    text = model.summary(print_fn=None)
    assert "parameters: 61706" in text
    rows = model.net.module.summary_rows([1, 1, 28, 28])
    assert rows[0]["parameters"] == 156
    x = np.zeros((2, 1, 28, 28), np.float32)
    assert model.predict(x).shape == (2, 10)
    wide = bdl.zoo("lenet5", classes=3)
    assert wide.output_shape == (3,)


def test_composition_of_models():
    inner = bdl.Sequential([bdl.Input((6,)), Dense(8, activation="relu")])
    outer = bdl.Sequential([bdl.Input((6,)), inner, Dense(2)])
    assert outer.predict(np.ones((3, 6), np.float32)).shape == (3, 2)
    x = bdl.Input((6,))
    block = bdl.Sequential([bdl.Input((6,)), Dense(6, activation="tanh")])
    y = bdl.layers.Add()([block(x), x])
    model = bdl.Model(x, Dense(1)(y))
    assert model.count_params() == 6 * 6 + 6 + 6 + 1


def test_raw_modules_by_type():
    model = bdl.Sequential([bdl.Input((4,)), bdl.nn.Linear(in_features=4, out_features=3),
                            bdl.nn.LeakyReLU(negative_slope=0.2)])
    out = model.predict(-np.ones((1, 4), np.float32))
    assert out.shape == (1, 3)
    assert model.net.module.children()[1].attributes()["negative_slope"] == pytest.approx(0.2)
    assert "Linear" in bdl.nn.types() and "Sequential" not in bdl.nn.types()


def test_tensorboard_event_file_directly(tmp_path):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
    f = bdl._core.EventFile(str(tmp_path))
    for step in range(3):
        f.scalar("custom", step, step * 0.5)
    f.histogram("values", 0, np.array([-1.0, 0.0, 0.5, 2.0, 2.0], np.float32))
    f.flush()
    acc = EventAccumulator(str(tmp_path)).Reload()
    assert [s.value for s in acc.Scalars("custom")] == [0.0, 0.5, 1.0]
    h = acc.Histograms("values")[0].histogram_value
    assert (h.min, h.max, h.num, h.sum) == (-1.0, 2.0, 5.0, 3.5)


def test_concat_container_of_branches():
    from bdl.layers import Concat, Conv2D
    model = bdl.Sequential([bdl.Input((3, 8, 8)),
                            Concat([Conv2D(4, 1), [Conv2D(2, 3, padding=1, activation="relu"),
                                                   Conv2D(5, 1)]]),
                            Flatten(), Dense(2)])
    assert model.net.module.children()[0].type == "Concat"
    assert model.predict(np.ones((2, 3, 8, 8), np.float32)).shape == (2, 2)
    assert model.net.module.output_shape([1, 3, 8, 8]) == [1, 2]
