#!/usr/bin/python3
"""Side-by-side training benchmark: bdl against PyTorch on this machine.

Runs bdl and bench/pytorch_train.py alternately (so machine noise hits both),
with the same recipe and the same environment: glibc told to keep freed memory
(MALLOC_MMAP_MAX_=0, MALLOC_TRIM_THRESHOLD_=100000000000) and OpenBLAS not pinned
(OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE unset). Prints a table and writes JSON.

  bench/compare_train.py [--bdl build/bdl] [--rounds 3] [--seeds 1 2 3] [--out results.json]
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))


def bench_env():
    env = dict(os.environ)
    env.pop("OPENBLAS_CORETYPE", None)
    env.pop("OPENBLAS_L2_SIZE", None)
    env["MALLOC_MMAP_MAX_"] = "0"
    env["MALLOC_TRIM_THRESHOLD_"] = "100000000000"
    return env


def run_bdl(bdl, model, epochs, seed, threads, batch, lr, momentum):
    with tempfile.NamedTemporaryFile(suffix=".json") as report:
        subprocess.run([bdl, "train", "--model", model, "--epochs", str(epochs), "--seed",
                        str(seed), "--threads", str(threads), "--batch-size", str(batch), "--lr",
                        str(lr), "--momentum", str(momentum), "--progress", "quiet", "--report",
                        report.name], check=True, env=bench_env(), stdout=subprocess.DEVNULL)
        return json.load(open(report.name))


def run_torch(model, epochs, seed, threads, batch, lr, momentum):
    out = subprocess.run([sys.executable, os.path.join(HERE, "pytorch_train.py"), "--model", model,
                          "--epochs", str(epochs), "--seed", str(seed), "--threads", str(threads),
                          "--batch-size", str(batch), "--lr", str(lr), "--momentum",
                          str(momentum)], check=True, env=bench_env(), capture_output=True,
                         text=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def summary(values):
    return statistics.mean(values), (statistics.stdev(values) if len(values) > 1 else 0.0)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--bdl", default=os.path.join(HERE, "..", "build", "bdl"))
    p.add_argument("--models", nargs="+", default=["lenet5", "mlp"])
    p.add_argument("--seeds", nargs="+", type=int, default=[1, 2, 3])
    p.add_argument("--epochs", type=int, default=2)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--batch-size", type=int, default=128)
    p.add_argument("--lr", type=float, default=0.05)
    p.add_argument("--momentum", type=float, default=0.9)
    p.add_argument("--out", default="")
    a = p.parse_args()

    results = {}
    for model in a.models:
        runs = {"bdl": [], "pytorch": []}
        for seed in a.seeds:
            args = (model, a.epochs, seed, a.threads, a.batch_size, a.lr, a.momentum)
            runs["bdl"].append(run_bdl(a.bdl, *args))
            runs["pytorch"].append(run_torch(*args))
            print(f"{model} seed {seed}: bdl {runs['bdl'][-1]['train_samples_per_sec']:.0f}/s "
                  f"top-1 {runs['bdl'][-1]['test_top1']:.4f} | pytorch "
                  f"{runs['pytorch'][-1]['train_samples_per_sec']:.0f}/s top-1 "
                  f"{runs['pytorch'][-1]['test_top1']:.4f}", flush=True)
        results[model] = runs

    print()
    print(f"{'model':8} {'':8} {'samples/s':>16} {'top-1 after %d ep' % a.epochs:>20} "
          f"{'peak RSS MiB':>13}")
    for model, runs in results.items():
        for name in ("bdl", "pytorch"):
            rate = summary([r["train_samples_per_sec"] for r in runs[name]])
            top1 = summary([r["test_top1"] for r in runs[name]])
            rss = max(r["peak_rss_mib"] for r in runs[name])
            print(f"{model:8} {name:8} {rate[0]:10.0f} ±{rate[1]:5.0f} {top1[0]:13.4f} ±{top1[1]:.4f} "
                  f"{rss:13.0f}")
        ratios = [b["train_samples_per_sec"] / t["train_samples_per_sec"]
                  for b, t in zip(runs["bdl"], runs["pytorch"])]
        print(f"{model:8} {'ratio':8} {statistics.mean(ratios):10.2f}x (per round: "
              + ", ".join(f"{r:.2f}" for r in ratios) + ")")
    if a.out:
        with open(a.out, "w") as f:
            json.dump(results, f, indent=1)


if __name__ == "__main__":
    main()
