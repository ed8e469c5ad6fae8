#!/usr/bin/python3
"""The seed's two charts for bdl on Spark, from the benchmarks' JSON (Debian's
python3-matplotlib):

  docs/spark-sync-fraction.png  parameter-sync time as a fraction of compute per
                                iteration, Inception v1, 2 and 4 workers
                                (bench/results/spark_sync_fraction.json);
  docs/spark-overhead.png       Spark's own share of a two-minute training job,
                                per round, and what one empty Spark job per
                                iteration (BigDL's scheme) would add at bdl's
                                iteration time (bench/results/spark_overhead.json).

    /usr/bin/python3 bench/spark/plot_spark.py
"""
import json
import os
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def load(name):
    with open(os.path.join(ROOT, "bench", "results", name)) as f:
        return json.load(f)


def sync_chart(out):
    data = load("spark_sync_fraction.json")
    workers = sorted({r["workers"] for r in data["runs"]})
    fig, ax = plt.subplots(figsize=(6, 3.6))
    width = 0.35
    for i, (wire, colour) in enumerate((("none", "C0"), ("bf16", "C2"))):
        values = [100 * next(r["sync_over_compute"] for r in data["runs"]
                             if r["workers"] == w and r["compress"] == wire) for w in workers]
        xs = [j + (i - 0.5) * width for j in range(len(workers))]
        bars = ax.bar(xs, values, width, color=colour,
                      label="fp32 on the wire" if wire == "none" else "bf16 on the wire")
        for b, v in zip(bars, values):
            ax.annotate(f"{v:.1f}%", (b.get_x() + b.get_width() / 2, v), ha="center",
                        va="bottom", fontsize=8)
    ax.set_xticks(range(len(workers)))
    ax.set_xticklabels([f"{w} workers" + (" (on 2 cores)" if w > (data.get("cpus") or w) else "")
                        for w in workers])
    ax.set_ylim(0, 1.35 * max(100 * r["sync_over_compute"] for r in data["runs"]))
    ax.set_ylabel("sync time / compute time (%)")
    ax.set_title("bdl on Spark: Inception v1, parameter sync per iteration", fontsize=10)
    ax.legend(fontsize=8, loc="upper left")
    fig.tight_layout()
    fig.savefig(out, dpi=120)


def overhead_chart(out):
    data = load("spark_overhead.json")
    runs = data["runs"]
    fig, (a, b) = plt.subplots(1, 2, figsize=(9, 3.6))
    shares = [100 * r["spark"]["overhead_fraction"] for r in runs]
    a.bar([f"round {i + 1}" for i in range(len(runs))], shares, color="C1")
    a.axhline(5, color="k", lw=0.8, ls="--", label="target: 5%")
    for i, v in enumerate(shares):
        a.annotate(f"{v:.1f}%", (i, v), ha="center", va="bottom", fontsize=8)
    a.set_ylabel("Spark's share of fit() (%)")
    a.set_title(f"a {runs[0]['spark']['fit_s']:.0f} s LeNet-5 job, 2 executors", fontsize=10)
    a.legend(fontsize=8)
    # One empty job per iteration (BigDL) against bdl's iteration time.
    micro = data["micro"]
    empty = micro["empty_job"]["median_s"]
    samples = statistics_median([r["spark"]["samples_per_sec"] for r in runs])
    iteration = data["batch_size"] / samples
    values = [1000 * iteration, 1000 * empty, 1000 * micro["empty_barrier_job"]["median_s"]]
    b.bar(["bdl iteration", "one empty\nSpark job", "one barrier\nstage"], values,
          color=["C0", "C3", "C3"])
    for i, v in enumerate(values):
        b.annotate(f"{v:.0f} ms", (i, v), ha="center", va="bottom", fontsize=8)
    b.set_ylabel("milliseconds")
    b.set_title("what a Spark job per iteration would cost", fontsize=10)
    fig.tight_layout()
    fig.savefig(out, dpi=120)


def statistics_median(values):
    values = sorted(values)
    n = len(values)
    return values[n // 2] if n % 2 else (values[n // 2 - 1] + values[n // 2]) / 2


def main():
    docs = os.path.join(ROOT, "docs")
    sync_chart(os.path.join(docs, "spark-sync-fraction.png"))
    overhead_chart(os.path.join(docs, "spark-overhead.png"))
    print("wrote docs/spark-sync-fraction.png and docs/spark-overhead.png", file=sys.stderr)


if __name__ == "__main__":
    main()
