#!/usr/bin/python3
"""PyTorch side of the side-by-side training benchmark (see BENCHMARKS.md).

Trains the same recipe bdl trains (LeNet-5 or the 784-512-256-10 MLP on
Fashion-MNIST, SGD with momentum, cross-entropy), measured as a careful user
would: data already in memory as float tensors, warm-up iterations excluded from
timing, torch.set_num_threads(T). Prints one JSON object.

Run it with glibc told to keep freed memory and OpenBLAS unpinned, as
bench/compare_train.sh does:
  env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE MALLOC_MMAP_MAX_=0 \
      MALLOC_TRIM_THRESHOLD_=100000000000 /usr/bin/python3 bench/pytorch_train.py ...
"""
import argparse
import gzip
import json
import resource
import struct
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

MEAN, STD = 0.2860, 0.3530


def read_idx(path):
    with gzip.open(path, "rb") as f:
        data = f.read()
    magic = struct.unpack(">I", data[:4])[0]
    ndim = magic & 0xFF
    dims = struct.unpack(">" + "I" * ndim, data[4:4 + 4 * ndim])
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * ndim).reshape(dims)


def load(data_dir, split):
    prefix = "train" if split == "train" else "t10k"
    images = read_idx(f"{data_dir}/{prefix}-images-idx3-ubyte.gz")
    labels = read_idx(f"{data_dir}/{prefix}-labels-idx1-ubyte.gz")
    x = torch.from_numpy((images.astype(np.float32) / 255.0 - MEAN) / STD).unsqueeze(1)
    y = torch.from_numpy(labels.astype(np.int64))
    return x, y


class LeNet5(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 6, 5, padding=2)
        self.conv2 = nn.Conv2d(6, 16, 5)
        self.fc1 = nn.Linear(16 * 5 * 5, 120)
        self.fc2 = nn.Linear(120, 84)
        self.fc3 = nn.Linear(84, 10)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.conv1(x)), 2)
        x = F.max_pool2d(F.relu(self.conv2(x)), 2)
        x = x.flatten(1)
        x = F.relu(self.fc1(x))
        x = F.relu(self.fc2(x))
        return self.fc3(x)


def mlp():
    return nn.Sequential(nn.Flatten(), nn.Linear(784, 512), nn.ReLU(), nn.Linear(512, 256),
                         nn.ReLU(), nn.Linear(256, 10))


def evaluate(model, x, y, batch):
    model.eval()
    correct, loss = 0, 0.0
    with torch.no_grad():
        for i in range(0, len(x), batch):
            out = model(x[i:i + batch])
            loss += F.cross_entropy(out, y[i:i + batch], reduction="sum").item()
            correct += (out.argmax(1) == y[i:i + batch]).sum().item()
    model.train()
    return correct / len(x), loss / len(x)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--model", default="lenet5", choices=["lenet5", "mlp"])
    p.add_argument("--data", default="/usr/share/datasets/fashion-mnist")
    p.add_argument("--epochs", type=int, default=1)
    p.add_argument("--max-iteration", type=int, default=0)
    p.add_argument("--batch-size", type=int, default=128)
    p.add_argument("--lr", type=float, default=0.05)
    p.add_argument("--momentum", type=float, default=0.9)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--warmup", type=int, default=2)
    p.add_argument("--no-eval", action="store_true")
    p.add_argument("--compile", action="store_true",
                   help="torch.compile the model (PyTorch 2.x; compiled during the warm-up)")
    p.add_argument("--channels-last", action="store_true",
                   help="model and batches in channels-last memory format (NHWC)")
    a = p.parse_args()

    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    x_train, y_train = load(a.data, "train")
    x_test, y_test = load(a.data, "test")
    model = LeNet5() if a.model == "lenet5" else mlp()
    if a.channels_last:
        model = model.to(memory_format=torch.channels_last)
        x_train = x_train.contiguous(memory_format=torch.channels_last)
        x_test = x_test.contiguous(memory_format=torch.channels_last)
    if a.compile:
        model = torch.compile(model)
    opt = torch.optim.SGD(model.parameters(), lr=a.lr, momentum=a.momentum)
    gen = torch.Generator().manual_seed(a.seed)

    def step(xb, yb):
        opt.zero_grad(set_to_none=False)
        loss = F.cross_entropy(model(xb), yb)
        loss.backward()
        opt.step()
        return loss

    # Warm-up iterations on the first batches; they are not timed and are not
    # counted as training (the model is re-initialised afterwards).
    init_state = {k: v.clone() for k, v in model.state_dict().items()}
    for i in range(a.warmup):
        step(x_train[i * a.batch_size:(i + 1) * a.batch_size],
             y_train[i * a.batch_size:(i + 1) * a.batch_size])
    model.load_state_dict(init_state)
    opt = torch.optim.SGD(model.parameters(), lr=a.lr, momentum=a.momentum)

    n = len(x_train)
    iterations, samples, train_time, last_loss = 0, 0, 0.0, float("nan")
    epochs_run, history = 0, []
    done = False
    for epoch in range(a.epochs):
        perm = torch.randperm(n, generator=gen)
        t0 = time.perf_counter()
        for i in range(0, n - a.batch_size + 1, a.batch_size):
            idx = perm[i:i + a.batch_size]
            loss = step(x_train[idx], y_train[idx])
            iterations += 1
            samples += a.batch_size
            if a.max_iteration and iterations >= a.max_iteration:
                done = True
                break
        last_loss = loss.item()
        train_time += time.perf_counter() - t0
        epochs_run += 1
        if not a.no_eval:
            top1, test_loss = evaluate(model, x_test, y_test, 1000)
            history.append({"epoch": epoch + 1, "test_top1": top1, "test_loss": test_loss})
        if done:
            break
    result = {
        "framework": "pytorch " + torch.__version__ + (", compiled" if a.compile else "")
                     + (", channels-last" if a.channels_last else ""),
        "model": a.model,
        "threads": a.threads,
        "batch_size": a.batch_size,
        "iterations": iterations,
        "epochs": epochs_run,
        "train_loss": last_loss,
        "train_samples_per_sec": samples / train_time,
        "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0,
    }
    if history:
        result.update(test_top1=history[-1]["test_top1"], test_loss=history[-1]["test_loss"],
                      history=history)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
