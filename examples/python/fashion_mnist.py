"""LeNet-5 on Fashion-MNIST from NumPy arrays, Keras style, with TensorBoard
summaries, checkpoints that resume, and early stopping.

    python examples/python/fashion_mnist.py [--epochs 5] [--logs runs/lenet5]
    mpirun -np 2 python examples/python/fashion_mnist.py   # two workers, sharded sync
"""
import argparse

import numpy as np

import bdl
from bdl.callbacks import BackupAndRestore, EarlyStopping, TensorBoard
from bdl.layers import Conv2D, Dense, Flatten, MaxPooling2D

parser = argparse.ArgumentParser()
parser.add_argument("--epochs", type=int, default=5)
parser.add_argument("--samples", type=int, default=0, help="train on the first N (0: all)")
parser.add_argument("--logs", default="runs/lenet5", help="TensorBoard directory")
parser.add_argument("--backup", default="runs/lenet5-backup", help="checkpoints to resume from")
parser.add_argument("--save", default="lenet5.bdl")
args = parser.parse_args()

# uint8 images (N, 28, 28) and int64 labels; scaled to [0, 1] with a channel axis.
(x_train, y_train), (x_test, y_test) = bdl.datasets.fashion_mnist()
if args.samples:
    x_train, y_train = x_train[:args.samples], y_train[:args.samples]
mean, std = 0.2860, 0.3530
x_train = ((x_train[:, None] / 255.0 - mean) / std).astype(np.float32)
x_test = ((x_test[:, None] / 255.0 - mean) / std).astype(np.float32)

model = bdl.Sequential([
    bdl.Input((1, 28, 28)),
    Conv2D(6, 5, padding=2, activation="relu"),
    MaxPooling2D(2),
    Conv2D(16, 5, activation="relu"),
    MaxPooling2D(2),
    Flatten(),
    Dense(120, activation="relu"),
    Dense(84, activation="relu"),
    Dense(10),  # logits: cross_entropy applies the softmax
])
model.compile(optimizer=bdl.optimizers.SGD(0.05, momentum=0.9), loss="cross_entropy",
              metrics=["accuracy"])
if bdl.world()[0] == 0:
    model.summary()

history = model.fit(
    x_train, y_train, batch_size=128, epochs=args.epochs,
    validation_data=(x_test, y_test),
    callbacks=[TensorBoard(args.logs), BackupAndRestore(args.backup),
               EarlyStopping(monitor="val_accuracy", patience=2)])

rank, workers = bdl.world()
if rank == 0:
    print(f"test accuracy {history.history['val_accuracy'][-1]:.4f} on {workers} worker(s), "
          f"{history.report['train_samples_per_sec']:.0f} samples/s")
    model.save(args.save)
    probabilities = np.exp(model.predict(x_test[:3]))
    probabilities /= probabilities.sum(axis=1, keepdims=True)
    print("first test images:", probabilities.argmax(1), "labels:", y_test[:3])
