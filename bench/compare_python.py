#!/usr/bin/env python3
"""Python's fit against `bdl train`, and against Keras 3 and PyTorch 2.x, side by
side: LeNet-5 on Fashion-MNIST, the same recipe (batch 128, SGD 0.05 with
momentum 0.9, 2 threads), training samples per second (validation excluded),
rounds alternating so that machine noise hits every run alike; medians and
their ratios to bdl's Python fit. bdl's Python runs twice: quiet (verbose=0)
and drawing the progress bar (verbose=1). Keras (torch backend, eager and
jit_compile) and PyTorch (eager, channels-last, and torch.compile) run when the interpreter has
them: scripts/install-python.sh --bench puts torch and keras into .venv.

  .venv/bin/python bench/compare_python.py [--bdl build/bdl] [--rounds 3] [--epochs 2]

The Python package is the build tree's (build/python) unless one is installed.
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, HERE)
from compare_train import bench_env  # noqa: E402  the same environment as the other comparisons


def numpy_dir(path):
    """Fashion-MNIST as float32 .npy files, normalised as bench/python_fit.py does,
    so that `bdl train` reads what Python's fit gets."""
    import numpy as np
    sys.path.insert(0, os.path.join(ROOT, "build", "python"))
    from bdl import datasets
    (x, y), (xt, yt) = datasets.fashion_mnist()
    for prefix, images, labels in (("train", x, y), ("test", xt, yt)):
        f = ((images[:, None] / 255.0 - 0.2860) / 0.3530).astype(np.float32)
        np.save(os.path.join(path, f"{prefix}-features.npy"), f)
        np.save(os.path.join(path, f"{prefix}-targets.npy"), labels.astype(np.int64))
    return path


def run_cli(bdl, epochs, threads, data="fashion-mnist"):
    with tempfile.NamedTemporaryFile(suffix=".json") as report:
        subprocess.run([bdl, "train", "--model", "lenet5", "--data", data, "--epochs",
                        str(epochs), "--threads", str(threads), "--batch-size", "128", "--lr",
                        "0.05", "--momentum", "0.9", "--progress", "quiet", "--report",
                        report.name], check=True, env=bench_env(), stdout=subprocess.DEVNULL)
        return json.load(open(report.name))


def run_python(epochs, threads, verbose):
    env = bench_env()
    env["PYTHONPATH"] = os.path.join(ROOT, "build", "python") + os.pathsep + env.get("PYTHONPATH", "")
    out = subprocess.run([sys.executable, os.path.join(HERE, "python_fit.py"), "--epochs",
                          str(epochs), "--threads", str(threads), "--verbose", str(verbose)],
                         check=True, env=env, capture_output=True, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def run_peer(script, epochs, threads, extra):
    env = bench_env()
    env["KERAS_BACKEND"] = "torch"
    out = subprocess.run([sys.executable, os.path.join(HERE, script), "--epochs", str(epochs),
                          "--threads", str(threads), *extra], check=True, env=env,
                         capture_output=True, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def importable(module):
    env = dict(os.environ, KERAS_BACKEND="torch")
    return subprocess.run([sys.executable, "-c", f"import {module}"], env=env,
                          capture_output=True).returncode == 0


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--bdl", default=os.path.join(ROOT, "build", "bdl"))
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--epochs", type=int, default=2)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--compiled", action="store_true",
                   help="also torch.compile and Keras's jit_compile (slower here; see BENCHMARKS.md)")
    a = p.parse_args()
    arrays = numpy_dir(tempfile.mkdtemp(prefix="bdl_fmnist_npy_"))
    jobs = {
        "bdl train": lambda: run_cli(a.bdl, a.epochs, a.threads),
        "bdl train, float32 .npy": lambda: run_cli(a.bdl, a.epochs, a.threads, arrays),
        "bdl python, verbose=0": lambda: run_python(a.epochs, a.threads, 0),
        "bdl python, verbose=1": lambda: run_python(a.epochs, a.threads, 1),
    }
    if importable("torch"):
        jobs["pytorch eager"] = lambda: run_peer("pytorch_train.py", a.epochs, a.threads, [])
        jobs["pytorch channels-last"] = lambda: run_peer("pytorch_train.py", a.epochs, a.threads,
                                                         ["--channels-last"])
        if a.compiled:
            jobs["pytorch compiled"] = lambda: run_peer("pytorch_train.py", a.epochs, a.threads,
                                                        ["--compile"])
    if importable("keras") and importable("torch"):
        jobs["keras 3 (torch)"] = lambda: run_peer("keras_train.py", a.epochs, a.threads, [])
        if a.compiled:
            jobs["keras 3 (torch), jit"] = lambda: run_peer("keras_train.py", a.epochs,
                                                            a.threads, ["--jit"])
    runs = {name: [] for name in jobs}
    accuracy = {name: [] for name in jobs}
    frameworks = {}
    for r in range(a.rounds):
        for name, job in jobs.items():
            rep = job()
            runs[name].append(rep["train_samples_per_sec"])
            accuracy[name].append(rep["test_top1"])
            frameworks[name] = rep.get("framework", "bdl")
            print(f"round {r + 1}: {name}: {rep['train_samples_per_sec']:.0f} samples/s, "
                  f"test top-1 {rep['test_top1']:.4f}", flush=True)
    base = statistics.median(runs["bdl python, verbose=0"])
    print(f"\nLeNet-5, Fashion-MNIST, {a.epochs} epochs, batch 128, {a.threads} threads, "
          f"{a.rounds} rounds: medians, and the median of the rounds' ratios")
    print(f"{'':26} {'samples/s':>10} {'bdl python / this':>18} {'per round':>10} "
          f"{'test top-1':>11}  version")
    for name, values in runs.items():
        m = statistics.median(values)
        per_round = statistics.median(b / v for b, v in zip(runs["bdl python, verbose=0"], values))
        print(f"{name:26} {m:10.0f} {base / m:17.3f}x {per_round:9.3f}x "
              f"{statistics.median(accuracy[name]):11.4f}  {frameworks[name]}")

if __name__ == "__main__":
    main()
