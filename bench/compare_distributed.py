#!/usr/bin/python3
"""Distributed training comparison on this machine (BENCHMARKS.md), in one run:
bdl 1 worker x 2 threads, bdl 2 workers x 1 thread under mpirun (sharded sync),
and PyTorch DDP (Gloo) 2 workers x 1 thread, alternating, same recipe (global
batch 128, SGD lr 0.05 momentum 0.9, 1 epoch of Fashion-MNIST). Also prints bdl's
time in the parameter sync as a fraction of the rest of the iteration.

  bench/compare_distributed.py [--models lenet5 mlp] [--rounds 3]
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
BDL = os.path.join(HERE, "..", "build", "bdl")


def env():
    e = dict(os.environ)
    e.pop("OPENBLAS_CORETYPE", None)
    e.pop("OPENBLAS_L2_SIZE", None)
    e.update(MALLOC_MMAP_MAX_="0", MALLOC_TRIM_THRESHOLD_="100000000000",
             OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1")
    return e


def bdl(model, workers, threads, epochs):
    with tempfile.NamedTemporaryFile(suffix=".json") as r:
        cmd = [BDL, "train", "--model", model, "--epochs", str(epochs), "--threads", str(threads),
               "--progress", "quiet", "--report", r.name]
        if workers > 1:
            cmd = ["mpirun", "--oversubscribe", "--bind-to", "none", "-np", str(workers)] + cmd
        subprocess.run(cmd, check=True, env=env(), stdout=subprocess.DEVNULL)
        return json.load(open(r.name))


def ddp(model, workers, threads, epochs):
    out = subprocess.run([sys.executable, os.path.join(HERE, "pytorch_ddp_train.py"), "--model",
                          model, "--workers", str(workers), "--threads", str(threads),
                          "--epochs", str(epochs)], check=True, env=env(), capture_output=True,
                         text=True, cwd=HERE).stdout
    return json.loads(out.strip().splitlines()[-1])


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--models", nargs="+", default=["lenet5", "mlp"])
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--epochs", type=int, default=1)
    p.add_argument("--out", default="")
    a = p.parse_args()
    results = {}
    for model in a.models:
        runs = {"bdl_1x2": [], "bdl_2x1": [], "ddp_2x1": []}
        for r in range(a.rounds):
            runs["bdl_1x2"].append(bdl(model, 1, 2, a.epochs))
            runs["bdl_2x1"].append(bdl(model, 2, 1, a.epochs))
            runs["ddp_2x1"].append(ddp(model, 2, 1, a.epochs))
            print(model, "round", r + 1, {k: round(v[-1]["train_samples_per_sec"])
                                          for k, v in runs.items()}, flush=True)
        results[model] = runs
    print()
    for model, runs in results.items():
        rate = {k: statistics.mean(x["train_samples_per_sec"] for x in v) for k, v in runs.items()}
        top1 = {k: statistics.mean(x["test_top1"] for x in v) for k, v in runs.items()}
        for k in runs:
            print(f"{model:7} {k:8} {rate[k]:9.0f} samples/s   top-1 {top1[k]:.4f}")
        two = runs["bdl_2x1"]
        sync = statistics.mean(x["sync_seconds"] / (x["train_seconds"] - x["sync_seconds"])
                               for x in two)
        print(f"{model:7} bdl 2x1 / bdl 1x2: {rate['bdl_2x1'] / rate['bdl_1x2']:.2f}   "
              f"bdl 2x1 / DDP 2x1: {rate['bdl_2x1'] / rate['ddp_2x1']:.2f}   "
              f"sync / rest of iteration (rank 0): {sync:.3f}")
    if a.out:
        json.dump(results, open(a.out, "w"), indent=1)


if __name__ == "__main__":
    main()
