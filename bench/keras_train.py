"""Keras 3 side of the Python comparison (bench/compare_python.py): LeNet-5 on
Fashion-MNIST with bdl's recipe (channels-first images normalised with
Fashion-MNIST's mean and deviation, SGD 0.05 with momentum 0.9, batch 128,
cross-entropy on logits), through model.fit as a Keras user writes it. The
backend comes from KERAS_BACKEND (torch by default here). Training samples per
second are timed by a callback from the second batch of each epoch to its last,
so that tracing and compilation are not counted; prints one JSON object.

  KERAS_BACKEND=torch python bench/keras_train.py [--epochs 2] [--threads 2] [--jit]
"""
import argparse
import json
import os
import time

os.environ.setdefault("KERAS_BACKEND", "torch")

import numpy as np  # noqa: E402

p = argparse.ArgumentParser()
p.add_argument("--epochs", type=int, default=2)
p.add_argument("--threads", type=int, default=2)
p.add_argument("--batch-size", type=int, default=128)
p.add_argument("--jit", action="store_true", help="jit_compile=True (torch.compile on torch)")
a = p.parse_args()

if os.environ["KERAS_BACKEND"] == "torch":
    import torch
    torch.set_num_threads(a.threads)
import keras  # noqa: E402
from keras import layers  # noqa: E402

keras.utils.set_random_seed(1)
keras.config.set_image_data_format("channels_first")


def read_idx(path):
    import gzip
    with gzip.open(path, "rb") as f:
        data = f.read()
    dims = data[3]
    shape = [int.from_bytes(data[4 + 4 * i:8 + 4 * i], "big") for i in range(dims)]
    return np.frombuffer(data, np.uint8, offset=4 + 4 * dims).reshape(shape)


d = "/usr/share/datasets/fashion-mnist"
mean, std = 0.2860, 0.3530
x = ((read_idx(f"{d}/train-images-idx3-ubyte.gz")[:, None] / 255.0 - mean) / std).astype(np.float32)
y = read_idx(f"{d}/train-labels-idx1-ubyte.gz").astype(np.int64)
xt = ((read_idx(f"{d}/t10k-images-idx3-ubyte.gz")[:, None] / 255.0 - mean) / std).astype(np.float32)
yt = read_idx(f"{d}/t10k-labels-idx1-ubyte.gz").astype(np.int64)

model = keras.Sequential([
    keras.Input((1, 28, 28)),
    layers.Conv2D(6, 5, padding="same", activation="relu"),
    layers.MaxPooling2D(2),
    layers.Conv2D(16, 5, activation="relu"),
    layers.MaxPooling2D(2),
    layers.Flatten(),
    layers.Dense(120, activation="relu"),
    layers.Dense(84, activation="relu"),
    layers.Dense(10),
])
model.compile(optimizer=keras.optimizers.SGD(0.05, momentum=0.9),
              loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
              metrics=["accuracy"], jit_compile=a.jit)


class Timer(keras.callbacks.Callback):
    """Each epoch's training from the start of its second batch to the end of its
    last (everything between batches included; validation and the first,
    compiling batch not)."""

    def on_train_begin(self, logs=None):
        self.seconds, self.samples = 0.0, 0

    def on_epoch_begin(self, epoch, logs=None):
        self.start = self.end = None
        self.batches = 0

    def on_train_batch_begin(self, batch, logs=None):
        if batch == 1:
            self.start = time.perf_counter()

    def on_train_batch_end(self, batch, logs=None):
        if batch >= 1:
            self.end = time.perf_counter()
            self.batches = batch

    def on_epoch_end(self, epoch, logs=None):
        if self.start is not None:
            self.seconds += self.end - self.start
            self.samples += self.batches * a.batch_size


timer = Timer()
h = model.fit(x, y, batch_size=a.batch_size, epochs=a.epochs, validation_data=(xt, yt),
              verbose=0, callbacks=[timer])
import torch  # noqa: E402,F811  (the backend's version, for the record)
print(json.dumps({"framework": f"keras {keras.__version__} ({os.environ['KERAS_BACKEND']} "
                               f"{torch.__version__})" + (", jit" if a.jit else ""),
                  "train_samples_per_sec": timer.samples / timer.seconds,
                  "test_top1": h.history["val_accuracy"][-1]}))
