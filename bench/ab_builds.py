#!/usr/bin/env python3
"""Two builds of bdl side by side: LeNet-5 training throughput and `bdl eval` time.

Runs the two `bdl` binaries in alternating rounds on the same machine (the
median of each is reported, and the ratio B/A), so that a change can be checked
for speed against the build before it:

    bench/ab_builds.py --a /tmp/before/bdl --b build/bdl --rounds 5

Training: Fashion-MNIST, LeNet-5, batch 128, 1 epoch (samples/s from --report).
Evaluation: `bdl eval` of one saved LeNet-5 on Fashion-MNIST's 60,000 training
images, presented as a test split (wall time of the whole command).
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time


def train(binary, workdir, threads):
    report = os.path.join(workdir, "report.json")
    subprocess.run([binary, "train", "--model", "lenet5", "--epochs", "1", "--batch-size", "128",
                    "--threads", str(threads), "--progress", "quiet", "--report", report],
                   check=True, stdout=subprocess.DEVNULL)
    with open(report) as f:
        return json.load(f)["train_samples_per_sec"]


def evaluate(binary, model, data, threads):
    start = time.perf_counter()
    subprocess.run([binary, "eval", "--model", model, "--data", data, "--threads", str(threads)],
                   check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - start


def sixty_thousand_test_images(work):
    """A data directory whose test split is Fashion-MNIST's training set."""
    source = "/usr/share/datasets/fashion-mnist"
    data = os.path.join(work, "data")
    os.makedirs(data)
    for kind in ("images-idx3", "labels-idx1"):
        name = f"train-{kind}-ubyte.gz"
        os.symlink(os.path.join(source, name), os.path.join(data, name))
        os.symlink(os.path.join(source, name), os.path.join(data, f"t10k-{kind}-ubyte.gz"))
    return data


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--a", required=True, help="the bdl binary before")
    parser.add_argument("--b", required=True, help="the bdl binary after")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--threads", type=int, default=0)
    parser.add_argument("--out", help="write the figures as JSON here")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as work:
        model = os.path.join(work, "lenet5.bdl")
        # One model for both evaluations, saved by A (B must read A's files).
        subprocess.run([args.a, "train", "--model", "lenet5", "--epochs", "1", "--progress",
                        "quiet", "--save", model], check=True, stdout=subprocess.DEVNULL)
        data = sixty_thousand_test_images(work)
        results = {"a": {"train": [], "eval": []}, "b": {"train": [], "eval": []}}
        for r in range(args.rounds):
            order = ["a", "b"] if r % 2 == 0 else ["b", "a"]
            for which in order:
                binary = getattr(args, which)
                results[which]["train"].append(train(binary, work, args.threads))
                results[which]["eval"].append(evaluate(binary, model, data, args.threads))
            print(f"round {r + 1}: " + ", ".join(
                f"{w} {results[w]['train'][-1]:.0f} samples/s, eval {results[w]['eval'][-1]:.2f} s"
                for w in ("a", "b")), file=sys.stderr)
    summary = {}
    for which in ("a", "b"):
        summary[which] = {"train_samples_per_sec": statistics.median(results[which]["train"]),
                          "eval_seconds": statistics.median(results[which]["eval"]),
                          "rounds": results[which]}
    summary["train_ratio_b_over_a"] = (summary["b"]["train_samples_per_sec"] /
                                       summary["a"]["train_samples_per_sec"])
    summary["eval_time_ratio_b_over_a"] = summary["b"]["eval_seconds"] / summary["a"]["eval_seconds"]
    print(f"training: A {summary['a']['train_samples_per_sec']:.0f}, "
          f"B {summary['b']['train_samples_per_sec']:.0f} samples/s (B/A {summary['train_ratio_b_over_a']:.3f}); "
          f"eval: A {summary['a']['eval_seconds']:.2f} s, B {summary['b']['eval_seconds']:.2f} s "
          f"(B/A {summary['eval_time_ratio_b_over_a']:.3f})")
    if args.out:
        with open(args.out, "w") as f:
            json.dump(summary, f, indent=2)


if __name__ == "__main__":
    main()
