#!/usr/bin/python3
"""Peak resident memory of a training step (batch 64) and of inference (batch
16), bdl against PyTorch 2 (eager, in NCHW and in channels-last, the smaller of
the two taken as PyTorch's; inference under no_grad, bdl's in inference mode as
`bdl predict` runs it), on the zoo's image networks at 224x224 and its LSTM
classifier, random data, 2 threads.

Each figure is one process's peak resident set (getrusage's ru_maxrss) over 3
warm-up steps and the timed ones: weights, optimizer state, activations kept
for backward, gradients, scratch, and the libraries (PyTorch's include the
Python interpreter). Both run in bench/compare_train.py's environment (glibc
keeping freed memory). Peaks do not depend on machine noise, so one round is
the default; images/s is printed beside them for orientation, not as a claim.

  .venv/bin/python bench/compare_memory.py [--batch 64] [--models resnet50,...]
      [--out bench/results/memory_compare.json]
"""
import argparse
import json
import os
import subprocess
import sys

from compare_train import bench_env

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MODELS = ["resnet18", "resnet50", "inception_v1_bn", "lstm_classifier"]


def run(cmd):
    done = subprocess.run(cmd, env=bench_env(), check=True, capture_output=True, text=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--batch", type=int, default=64)
    p.add_argument("--infer-batch", type=int, default=16)
    p.add_argument("--modes", default="train,infer")
    p.add_argument("--iterations", type=int, default=1)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--models", default=",".join(MODELS))
    p.add_argument("--bdl", default=os.path.join(ROOT, "build", "bench", "zoo_bench"))
    p.add_argument("--out", default=os.path.join(ROOT, "bench", "results", "memory_compare.json"))
    a = p.parse_args()
    rows = []
    for model, mode in [(m, mode) for mode in a.modes.split(",") for m in a.models.split(",")]:
        batch = a.batch if mode == "train" else a.infer_batch
        common = [model, str(batch), "224", mode, str(a.iterations), str(a.threads)]
        bdl = run([a.bdl] + common)
        torch_script = os.path.join(ROOT, "bench", "pytorch_zoo.py")
        nchw = run([sys.executable, torch_script] + common)
        text = model == "lstm_classifier"
        nhwc = None if text else run([sys.executable, torch_script] + common + ["channels_last"])
        best = min([r for r in (nchw, nhwc) if r], key=lambda r: r["peak_rss_mib"])
        row = {"model": model, "mode": mode, "batch": batch, "bdl_peak_mib": bdl["peak_rss_mib"],
               "pytorch_nchw_peak_mib": nchw["peak_rss_mib"],
               "pytorch_channels_last_peak_mib": nhwc["peak_rss_mib"] if nhwc else None,
               "pytorch_peak_mib": best["peak_rss_mib"],
               "bdl_over_pytorch": bdl["peak_rss_mib"] / best["peak_rss_mib"],
               "bdl_images_per_sec": bdl["images_per_sec"],
               "pytorch_images_per_sec": best["images_per_sec"],
               "pytorch": best["framework"]}
        rows.append(row)
        print(f"{model:16s} {mode} batch {batch}: bdl {row['bdl_peak_mib']:8.0f} MiB, PyTorch "
              f"{row['pytorch_peak_mib']:8.0f} MiB (NCHW {row['pytorch_nchw_peak_mib']:.0f}"
              + (f", channels-last {nhwc['peak_rss_mib']:.0f}" if nhwc else "")
              + f"): {row['bdl_over_pytorch']:.2f}x", flush=True)
    os.makedirs(os.path.dirname(a.out), exist_ok=True)
    with open(a.out, "w") as f:
        json.dump({"threads": a.threads, "iterations": a.iterations, "rows": rows}, f, indent=1)


if __name__ == "__main__":
    main()
