#!/usr/bin/python3
"""Plots test top-1 per epoch of the large-batch experiment's reports and prints
the final accuracies (mean over seeds). Uses Debian's python3-matplotlib.

  plot_large_batch.py REPORT_DIR OUT.png
"""
import glob
import json
import os
import statistics
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

LABELS = {
    "batch128": "batch 128, momentum SGD",
    "batch8192": "batch 8192, LARS + linear scaling + warm-up",
    "batch8192_sgd": "batch 8192, momentum SGD + linear scaling + warm-up",
    "batch8192_2workers": "batch 8192, LARS, 2 MPI workers",
}
STYLE = {"batch128": "C0", "batch8192": "C3", "batch8192_sgd": "C7", "batch8192_2workers": "C2"}


def main():
    src, out = sys.argv[1], sys.argv[2]
    runs = {}
    for path in sorted(glob.glob(os.path.join(src, "*.json"))):
        key = os.path.basename(path).rsplit("_seed", 1)[0]
        with open(path) as f:
            runs.setdefault(key, []).append(json.load(f))
    fig, ax = plt.subplots(figsize=(7, 4.5))
    for key in ["batch128", "batch8192", "batch8192_sgd", "batch8192_2workers"]:
        if key not in runs:
            continue
        for i, r in enumerate(runs[key]):
            epochs = [h["epoch"] for h in r["history"]]
            top1 = [h["test_top1"] for h in r["history"]]
            ax.plot(epochs, top1, color=STYLE[key], alpha=0.8, lw=1.2,
                    label=LABELS[key] if i == 0 else None,
                    ls="--" if key == "batch8192_2workers" else "-")
        finals = [r["test_top1"] for r in runs[key]]
        print(f"{LABELS[key]}: final test top-1 {statistics.mean(finals):.4f} "
              f"(seeds: {', '.join(f'{v:.4f}' for v in finals)})")
    ax.set_xlabel("epoch")
    ax.set_ylabel("test top-1")
    ax.set_ylim(0.70, 0.93)
    ax.set_xticks(range(0, 21, 2))
    ax.grid(alpha=0.3)
    ax.set_title("LeNet-5 + BatchNorm on Fashion-MNIST, 20 epochs")
    ax.legend(loc="lower right", fontsize=8)
    fig.tight_layout()
    fig.savefig(out, dpi=110)
    print("wrote", out)


if __name__ == "__main__":
    main()
