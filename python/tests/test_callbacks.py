"""Callbacks: early stopping, CSV, checkpoints and resume, schedules, TensorBoard."""
import csv
import os

import numpy as np
import pytest

import bdl
from bdl import callbacks as cb

from conftest import mlp


def compiled(lr=0.05):
    model = mlp()
    model.compile(optimizer=bdl.optimizers.SGD(lr, momentum=0.9), loss="cross_entropy",
                  metrics=["accuracy"])
    return model


def test_early_stopping_stops_and_restores(data):
    x, y = data
    model = compiled()
    stop = cb.EarlyStopping(monitor="val_loss", patience=0, min_delta=10.0,
                            restore_best_weights=True)
    seen = []
    keep = cb.LambdaCallback(on_epoch_end=lambda e, logs: seen.append(model.get_weights()))
    h = model.fit(x, y, batch_size=50, epochs=10, verbose=0, validation_data=(x, y),
                  callbacks=[stop, keep])
    # The first epoch sets the best; the second does not improve by 10: stop.
    assert len(h.history["loss"]) == 2 and h.report["stopped_by_callback"]
    for a, b in zip(model.get_weights(), seen[0]):
        np.testing.assert_array_equal(a, b)


def test_early_stopping_names_a_missing_metric(data):
    x, y = data
    with pytest.raises(KeyError, match="val_loss"):
        compiled().fit(x, y, epochs=2, verbose=0, callbacks=[cb.EarlyStopping()])


def test_csv_logger(data, tmp_path):
    x, y = data
    path = tmp_path / "log.csv"
    compiled().fit(x, y, batch_size=100, epochs=3, verbose=0, validation_data=(x, y),
                   callbacks=[cb.CSVLogger(path)])
    rows = list(csv.DictReader(open(path)))
    assert [r["epoch"] for r in rows] == ["0", "1", "2"]
    assert set(rows[0]) == {"epoch", "loss", "val_loss", "val_accuracy"}


def test_model_checkpoint_saves_loadable_models(data, tmp_path):
    x, y = data
    model = compiled()
    pattern = str(tmp_path / "model-{epoch}.bdl")
    model.fit(x, y, batch_size=100, epochs=2, verbose=0, callbacks=[cb.ModelCheckpoint(pattern)])
    loaded = bdl.load(tmp_path / "model-2.bdl")
    np.testing.assert_array_equal(loaded.predict(x), model.predict(x))
    best = str(tmp_path / "best.bdl")
    model.fit(x, y, batch_size=100, epochs=2, verbose=0, validation_data=(x, y),
              callbacks=[cb.ModelCheckpoint(best, save_best_only=True)])
    assert os.path.exists(best)


def test_backup_and_restore_resumes_exactly(data, tmp_path):
    """Three epochs straight equal two, a stop, and one more from the backup."""
    x, y = data
    start = compiled()
    start.build()
    initial = start.get_weights()

    def fresh():
        m = compiled()
        m.build()
        m.set_weights(initial)
        return m

    straight = fresh()
    straight.fit(x, y, batch_size=60, epochs=3, verbose=0, seed=3)
    backup = cb.BackupAndRestore(tmp_path / "backup")
    first = fresh()
    first.fit(x, y, batch_size=60, epochs=2, verbose=0, seed=3, callbacks=[backup])
    assert any(n.startswith("checkpoint-") for n in os.listdir(tmp_path / "backup"))
    second = fresh()  # a new process would start from scratch like this
    h = second.fit(x, y, batch_size=60, epochs=3, verbose=0, seed=3, callbacks=[backup])
    assert len(h.history["loss"]) == 1  # only the third epoch ran
    for a, b in zip(second.get_weights(), straight.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_learning_rate_scheduler(data):
    x, y = data
    model = compiled()
    rates = []
    sched = cb.LearningRateScheduler(lambda epoch, lr: lr * 0.5 ** epoch)
    watch = cb.LambdaCallback(on_train_batch_end=lambda b, logs: rates.append(logs["learning_rate"]))
    model.fit(x, y, batch_size=100, epochs=3, verbose=0, callbacks=[sched, watch])
    assert rates[0] == pytest.approx(0.05) and rates[6] == pytest.approx(0.025)
    assert rates[-1] == pytest.approx(0.0125)


def test_schedule_by_name(data):
    x, y = data
    model = mlp()
    model.compile(optimizer=bdl.optimizers.SGD(0.1, schedule="step:1:0.1"), loss="cross_entropy")
    rates = []
    model.fit(x, y, batch_size=100, epochs=2, verbose=0, callbacks=[
        cb.LambdaCallback(on_train_batch_end=lambda b, logs: rates.append(logs["learning_rate"]))])
    assert rates[0] == pytest.approx(0.1) and rates[-1] == pytest.approx(0.01)


def test_tensorboard_read_back(data, tmp_path):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
    x, y = data
    logs = tmp_path / "logs"
    compiled().fit(x, y, batch_size=100, epochs=2, verbose=0, validation_data=(x, y),
                   callbacks=[cb.TensorBoard(logs, histogram_freq=1, update_freq="batch")])
    train = EventAccumulator(str(logs / "train"), size_guidance={"scalars": 0}).Reload()
    tags = train.Tags()
    assert {"loss", "learning_rate", "throughput", "epoch_loss"} <= set(tags["scalars"])
    assert len(train.Scalars("loss")) == 12  # 6 iterations x 2 epochs, every iteration
    assert [e.step for e in train.Scalars("epoch_loss")] == [1, 2]
    assert "weights/0.weight" in tags["histograms"] and "gradients/0.weight" in tags["histograms"]
    histo = train.Histograms("weights/0.weight")[0].histogram_value
    assert histo.num == 32 * 10 and sum(histo.bucket) == histo.num
    val = EventAccumulator(str(logs / "validation")).Reload()
    assert {"loss", "top1", "epoch_loss", "epoch_top1"} <= set(val.Tags()["scalars"])
    assert [e.step for e in val.Scalars("top1")] == [6, 12]  # by iteration
    assert [e.step for e in val.Scalars("epoch_top1")] == [1, 2]  # by epoch
    assert 0 <= val.Scalars("top1")[-1].value <= 1


def test_custom_callback_sees_the_model(data):
    x, y = data

    class Counter(cb.Callback):
        def on_train_begin(self, logs=None):
            self.batches, self.epochs = 0, 0

        def on_train_batch_end(self, batch, logs=None):
            self.batches += 1

        def on_epoch_end(self, epoch, logs=None):
            self.epochs += 1
            assert self.model.count_params() > 0
            if epoch == 1:
                self.model.stop_training = True

    c = Counter()
    h = compiled().fit(x, y, batch_size=100, epochs=5, verbose=0, callbacks=[c])
    assert c.epochs == 2 and c.batches == 12 and len(h.history["loss"]) == 2


def test_an_error_in_a_callback_is_raised(data):
    x, y = data

    def boom(batch, logs):
        raise ZeroDivisionError("from the callback")

    with pytest.raises(ZeroDivisionError, match="from the callback"):
        compiled().fit(x, y, epochs=3, verbose=0,
                       callbacks=[cb.LambdaCallback(on_train_batch_end=boom)])
