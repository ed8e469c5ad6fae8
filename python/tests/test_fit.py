"""compile, fit, evaluate and predict; inputs of every kind; a loop in Python."""
import os
import threading
import time

import numpy as np
import pandas as pd
import pytest

import bdl
from bdl.layers import Dense

from conftest import blobs, mlp


def compiled(features=10, classes=3, metrics=("accuracy",), **kw):
    model = mlp(features, classes)
    model.compile(optimizer=bdl.optimizers.SGD(0.05, momentum=0.9), loss="cross_entropy",
                  metrics=list(metrics), **kw)
    return model


def test_fit_learns_and_reports(data):
    x, y = data
    model = compiled()
    history = model.fit(x[:500], y[:500], batch_size=50, epochs=3, verbose=0,
                        validation_data=(x[500:], y[500:]))
    assert set(history.history) == {"loss", "val_loss", "val_accuracy"}
    assert len(history.history["loss"]) == 3 and history.epoch == [0, 1, 2]
    assert history.history["loss"][-1] < history.history["loss"][0]
    assert history.history["val_accuracy"][-1] > 0.9
    assert history.report["epochs"] == 3 and history.report["iterations"] == 30
    result = model.evaluate(x[500:], y[500:], return_dict=True)
    assert result["accuracy"] == pytest.approx(history.history["val_accuracy"][-1])
    loss, acc = model.evaluate(x[500:], y[500:])
    assert loss == pytest.approx(result["loss"]) and acc == pytest.approx(result["accuracy"])
    p = model.predict(x[500:])
    assert p.shape == (100, 3) and p.dtype == np.float32
    assert (p.argmax(1) == y[500:]).mean() == pytest.approx(result["accuracy"])


def test_same_seed_same_weights(data):
    x, y = data
    runs = []
    for _ in range(2):
        model = compiled()
        model.build()
        model.set_weights([np.full_like(w, 0.01) for w in model.get_weights()])
        model.fit(x, y, batch_size=60, epochs=2, verbose=0, seed=7)
        runs.append(model.get_weights())
    for a, b in zip(*runs):
        np.testing.assert_array_equal(a, b)


def test_inputs_of_every_kind(data):
    x, y = data
    frame = pd.DataFrame(x, columns=[f"f{i}" for i in range(10)])
    for xs, ys in [(frame, pd.Series(y)), (x.astype(np.float64), y.astype(np.int32)),
                   (np.asfortranarray(x), y)]:
        model = compiled()
        model.fit(xs, ys, batch_size=100, epochs=2, verbose=0)
        assert model.evaluate(x, y, return_dict=True)["accuracy"] > 0.9
    batches = [(x[i:i + 100], y[i:i + 100]) for i in range(0, 600, 100)]
    model = compiled()
    model.fit(iter(batches), batch_size=100, epochs=2, verbose=0)
    assert model.evaluate(x, y, return_dict=True)["accuracy"] > 0.9


def test_validation_split_and_weights(data):
    x, y = data
    model = compiled()
    h = model.fit(x, y, batch_size=50, epochs=1, verbose=0, validation_split=0.25,
                  class_weight={0: 1.0, 1: 2.0, 2: 0.5})
    assert "val_loss" in h.history
    w = np.ones(len(x), dtype=np.float32)
    model.fit(x, y, batch_size=50, epochs=1, verbose=0, sample_weight=w)


def test_regression_with_values():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(400, 4)).astype(np.float32)
    y = x @ np.array([1.0, -2.0, 0.5, 3.0], dtype=np.float32) + 0.3
    model = bdl.Sequential([bdl.Input((4,)), Dense(1)])
    model.compile(optimizer=bdl.optimizers.Adam(0.05), loss="mse", metrics=["mae"])
    h = model.fit(x, y, batch_size=40, epochs=30, verbose=0, validation_data=(x, y))
    assert h.history["val_mae"][-1] < 0.05
    w = model.get_weights()
    np.testing.assert_allclose(w[0].ravel(), [1.0, -2.0, 0.5, 3.0], atol=0.05)


def test_verbose_prints_progress(data, capsys):
    x, y = data
    model = compiled()
    model.fit(x, y, batch_size=50, epochs=2, verbose=2)
    out = capsys.readouterr().out
    assert "epoch 1" in out and "epoch 2" in out and "loss" in out
    model.fit(x, y, batch_size=50, epochs=1, verbose=1)
    out = capsys.readouterr().out
    assert "12/12 [" in out and "ETA" in out and "samples/s" in out


def test_loop_in_python(data):
    """forward, loss, backward and optimizer.step written by hand."""
    x, y = data
    model = mlp()
    loss = bdl.losses.Loss("cross_entropy")
    opt = bdl.optimizers.SGD(0.1)
    first = None
    for epoch in range(5):
        for i in range(0, 600, 60):
            out = model.forward(x[i:i + 60])
            value = loss(out, y[i:i + 60])
            first = value if first is None else first
            model.zero_grad()
            model.backward(x[i:i + 60], loss.backward(out, y[i:i + 60]))
            opt.step(model)
    assert value < first / 5


def test_gil_released_while_training():
    """Another Python thread keeps running while fit computes. Iterations here
    take tens of milliseconds, so a GIL held through them would let the other
    thread tick only between iterations: a few dozen times a second instead of
    hundreds. The rate alone is measured first, under the same load."""
    rng = np.random.default_rng(0)
    x = rng.normal(size=(16000, 64)).astype(np.float32)
    y = rng.integers(0, 3, 16000)
    model = bdl.Sequential([bdl.Input((64,)), Dense(1024, activation="relu"),
                            Dense(1024, activation="relu"), Dense(3)])
    model.compile(optimizer="sgd", loss="cross_entropy")
    ticks = []
    done = threading.Event()

    def count():
        while not done.is_set():
            ticks.append(time.monotonic())
            time.sleep(0.001)

    t = threading.Thread(target=count)
    t.start()
    time.sleep(0.3)
    alone = sum(1 for s in ticks if s >= ticks[0]) / (time.monotonic() - ticks[0])
    start = time.monotonic()
    h = model.fit(x, y, batch_size=2000, epochs=3, verbose=0)
    elapsed = time.monotonic() - start
    during = sum(1 for s in ticks if s >= start) / elapsed
    done.set()
    t.join()
    iterations_per_sec = h.report["iterations"] / elapsed
    assert during > max(alone / 4, 4 * iterations_per_sec), (alone, during, iterations_per_sec)


def test_predict_returns_without_copy_and_input_without_copy():
    import resource
    model = bdl.Sequential([bdl.Input((256,)), Dense(2)])
    model.build()
    x = np.ones((200_000, 256), dtype=np.float32)  # 195 MiB, touched
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    p = model.predict(x, batch_size=4096)
    grown_mib = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024
    assert p.shape == (200_000, 2)
    assert not p.flags.owndata  # a view of the library's tensor
    assert grown_mib < 100, f"predict grew the peak by {grown_mib:.0f} MiB: the input was copied"


def test_training_continues_after_predict_and_evaluate(data):
    """predict and evaluate put the model in inference form only while they run."""
    x, y = data
    model = compiled()
    model.predict(x)
    model.evaluate(x, y)
    h = model.fit(x, y, batch_size=50, epochs=2, verbose=0)
    assert h.history["loss"][1] < h.history["loss"][0]
    out = model.forward(x[:4])
    model.zero_grad()
    model.backward(x[:4], np.ones_like(out))
    assert all(np.abs(g).sum() > 0 for _, g in model.net.module.gradients())


def test_fit_on_a_data_source():
    """A source the C++ core reads itself: Fashion-MNIST's IDX files here."""
    import os
    if not os.path.isdir(bdl.datasets.FASHION_MNIST):
        pytest.skip("dataset-fashion-mnist is not installed")
    model = bdl.zoo("lenet5")
    model.compile(optimizer=bdl.optimizers.SGD(0.05, momentum=0.9), loss="cross_entropy",
                  metrics=["accuracy"])
    source = bdl.datasets.Source("fashion-mnist", train_samples=3000, validation_samples=500)
    h = model.fit(source, batch_size=100, epochs=2, verbose=0)
    assert h.report["test_samples"] == 500 and h.history["val_accuracy"][-1] > 0.5
    with pytest.raises(ValueError, match="brings its own targets"):
        model.fit(source, np.zeros(3), verbose=0)


def test_fit_on_record_shards_streamed(tmp_path):
    """Arrays written as record shards, then trained on streamed: the same
    results as the arrays in memory when the order is the storage order, and
    damage is named (or skipped and counted)."""
    rng = np.random.default_rng(3)
    x = rng.integers(0, 256, size=(600, 1, 8, 8), dtype=np.uint8)
    y = (x[:, 0, :4].mean(axis=(1, 2)) > x[:, 0, 4:].mean(axis=(1, 2))).astype(np.int64)
    bdl.datasets.write_record_shards(tmp_path, x, y, split="train", shards=4)
    bdl.datasets.write_record_shards(tmp_path, x[:100], y[:100], split="test", shards=2)
    assert sorted(os.listdir(tmp_path / "train"))[0] == "MANIFEST"

    def model():
        m = bdl.Sequential([bdl.layers.Flatten(), bdl.layers.Dense(16, activation="relu"),
                            bdl.layers.Dense(2)])
        m.build((1, 8, 8))
        m.compile(optimizer=bdl.optimizers.Adam(0.01), loss="cross_entropy",
                  metrics=["accuracy"])
        return m

    m = model()
    h = m.fit(bdl.datasets.Source(tmp_path), batch_size=50, epochs=4, verbose=0)
    assert h.report["test_samples"] == 100 and h.report["skipped_records"] == 0
    assert h.history["val_accuracy"][-1] > 0.8

    shard = tmp_path / "train" / "part-00001-of-00004.tfrecord"
    data = bytearray(shard.read_bytes())
    data[200] ^= 0x55
    shard.write_bytes(bytes(data))
    with pytest.raises(bdl.Error, match="part-00001-of-00004.tfrecord: record at byte"):
        model().fit(bdl.datasets.Source(tmp_path), batch_size=50, epochs=1, verbose=0)
    h = model().fit(bdl.datasets.Source(tmp_path, skip_bad_records=True), batch_size=50,
                    epochs=1, verbose=0)
    assert h.report["skipped_records"] == 1
    with pytest.raises(ValueError, match="x has 600 samples but y has 5"):
        bdl.datasets.write_record_shards(tmp_path, x, y[:5])


def test_fit_on_an_image_folder(tmp_path):
    """Fashion-MNIST images written as a folder of PNG (train) and JPEG (test)
    files, upscaled, then trained on as they decode; the classes are the folder
    names, bad images are named or skipped, and augment is checked."""
    (x, y), (xt, yt) = bdl.datasets.fashion_mnist()
    names = ["tshirt", "trouser", "pullover", "dress", "coat", "sandal", "shirt", "sneaker",
             "bag", "boot"]
    bdl.datasets.write_image_folder(tmp_path / "train", x[:3000], y[:3000], classes=names,
                                    size=(32, 32), threads=2)
    bdl.datasets.write_image_folder(tmp_path / "test", xt[:500], yt[:500], classes=names,
                                    format="jpeg", quality=92, threads=2)
    assert sorted(os.listdir(tmp_path / "train")) == sorted(names)
    assert (tmp_path / "test" / "boot").is_dir()
    model = bdl.zoo("lenet5")
    model.compile(optimizer=bdl.optimizers.SGD(0.05, momentum=0.9), loss="cross_entropy",
                  metrics=["accuracy"])
    h = model.fit(bdl.datasets.Source(tmp_path, augment="flip", decode_threads=2), batch_size=100,
                  epochs=3, verbose=0)
    assert h.report["test_samples"] == 500 and h.report["skipped_records"] == 0
    assert h.history["val_accuracy"][-1] > 0.5  # chance: 0.1
    (tmp_path / "train" / "bag" / "garbage.png").write_bytes(b"not a png at all")
    with pytest.raises(bdl.Error, match="garbage.png: neither a JPEG nor a PNG"):
        model.fit(bdl.datasets.Source(tmp_path), batch_size=100, epochs=1, verbose=0)
    h = model.fit(bdl.datasets.Source(tmp_path, skip_bad_records=True), batch_size=100,
                  epochs=1, verbose=0)
    assert h.report["skipped_records"] == 1
    with pytest.raises(ValueError, match="augment"):
        bdl.datasets.Source(tmp_path, augment="sharpen")
    with pytest.raises(ValueError, match="uint8"):
        bdl.datasets.write_image_folder(tmp_path / "f", x[:2].astype(np.float32), y[:2])


def test_fit_on_a_csv_table(tmp_path):
    """A CSV table parsed by the C++ core: a text column as category indices,
    missing values filled by the mean, a text label as classes; the same rows
    through pandas and fit on arrays give the same features."""
    rng = np.random.default_rng(5)
    n = 3000
    a, b = rng.normal(size=n), rng.normal(size=n)
    frame = pd.DataFrame({"a": a, "shade": np.where(rng.random(n) < 0.5, "dark", "light"),
                          "b": b, "label": np.where(a - b > 0, "up", "down")})
    frame.loc[::50, "a"] = np.nan
    frame.iloc[:2400].to_csv(tmp_path / "train.csv", index=False)
    frame.iloc[2400:].to_csv(tmp_path / "test.csv", index=False)
    model = bdl.Sequential([Dense(16, activation="relu"), Dense(2)])
    model.build((3,))
    model.compile(optimizer=bdl.optimizers.Adam(0.01), loss="cross_entropy",
                  metrics=["accuracy"])
    with pytest.raises(bdl.Error, match=r"train.csv: line 2, column 'a': a missing value"):
        model.fit(bdl.datasets.Source(tmp_path, label_column="label"), verbose=0)
    h = model.fit(bdl.datasets.Source(tmp_path, label_column="label", missing="mean"),
                  batch_size=64, epochs=5, verbose=0)
    assert h.report["test_samples"] == 600
    assert h.history["val_accuracy"][-1] > 0.9
    with pytest.raises(ValueError, match="missing"):
        bdl.datasets.Source(tmp_path, label_column="label", missing="drop")
    # One-hot text columns: 4 features, so a model of 4 inputs.
    model = bdl.Sequential([Dense(16, activation="relu"), Dense(2)])
    model.build((4,))
    model.compile(optimizer=bdl.optimizers.Adam(0.01), loss="cross_entropy",
                  metrics=["accuracy"])
    h = model.fit(bdl.datasets.Source(tmp_path, label_column="label", missing="mean",
                                      one_hot=True), batch_size=64, epochs=5, verbose=0)
    assert h.history["val_accuracy"][-1] > 0.9


def test_read_csv_matches_pandas(tmp_path):
    """bdl.datasets.read_csv gives the numbers pandas reads, categories sorted."""
    rng = np.random.default_rng(2)
    frame = pd.DataFrame({"x": rng.normal(size=500).astype(np.float32),
                          "kind": rng.choice(["b", "a", "c"], size=500),
                          "y": rng.integers(0, 3, size=500)})
    frame.to_csv(tmp_path / "t.csv", index=False)
    x, y, info = bdl.datasets.read_csv(tmp_path / "t.csv", "y")
    assert info["features"] == ["x", "kind"] and info["categories"] == {"kind": ["a", "b", "c"]}
    ref = pd.read_csv(tmp_path / "t.csv")
    np.testing.assert_allclose(x[:, 0], ref["x"].to_numpy(np.float32), rtol=1e-6)
    np.testing.assert_array_equal(x[:, 1], ref["kind"].map({"a": 0, "b": 1, "c": 2}))
    np.testing.assert_array_equal(y, ref["y"])
    # one_hot: pandas.get_dummies' columns, in the same order.
    xh, _, info = bdl.datasets.read_csv(tmp_path / "t.csv", "y", one_hot=True)
    assert info["features"] == ["x", "kind=a", "kind=b", "kind=c"]
    dummies = pd.get_dummies(ref[["x", "kind"]], columns=["kind"], prefix_sep="=", dtype=np.float32)
    assert list(dummies.columns) == info["features"]
    np.testing.assert_allclose(xh, dummies.to_numpy(np.float32), rtol=1e-6)


def test_fraud_detection_use_case(tmp_path):
    """The fraud-detection example on a smaller table of the same shape (0.17%
    fraud): class weights from fit reach the C++ core, and the rare class is
    found (AUC-ROC and average precision well above chance, which is 0.5 and
    about 0.002)."""
    import importlib.util
    root = os.path.join(os.path.dirname(__file__), "..", "..", "examples", "fraud_detection")
    spec = importlib.util.spec_from_file_location("make_data", os.path.join(root, "make_data.py"))
    make_data = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(make_data)
    time_, v, amount, label = make_data.make(100_000, 3)
    make_data.write(tmp_path / "train.csv", time_[:80_000], v[:80_000], amount[:80_000],
                    label[:80_000])
    make_data.write(tmp_path / "test.csv", time_[80_000:], v[80_000:], amount[80_000:],
                    label[80_000:])
    assert 0.001 < label.mean() < 0.003
    model = bdl.Sequential([bdl.Input((30,)), Dense(32, activation="relu"), Dense(2)])
    model.compile(optimizer=bdl.optimizers.Adam(0.002), loss="cross_entropy",
                  metrics=["auc", "average_precision"])
    h = model.fit(bdl.datasets.Source(tmp_path, label_column="Class", standardize=True),
                  batch_size=256, epochs=3, class_weight={0: 1, 1: 20}, verbose=0)
    assert h.report["test_auc"] > 0.9 and h.report["test_average_precision"] > 0.2, h.report
    with pytest.raises(bdl.Error, match="class_weight: '5:2.0' is not CLASS:WEIGHT"):
        model.fit(bdl.datasets.Source(tmp_path, label_column="Class"), class_weight={5: 2},
                  verbose=0)
