#!/usr/bin/env python3
"""CSV parse rate: bdl.datasets.read_csv (C++, parallel over byte ranges) against
pandas.read_csv with its C engine and with engine="pyarrow" (multithreaded), on
one generated file of 300,000 rows and 30 columns (28 floats, an integer id, a
0/1 label), all in one run, rounds alternating, the file in the page cache.
Reported: MB/s per reader (median of the rounds) and bdl's ratio to each.

Usage: PYTHONPATH=build/python .venv/bin/python bench/data/csv_bench.py
           [--rounds 5] [--threads 2] [--json OUT]
"""
import argparse
import json
import os
import statistics
import tempfile
import time

import numpy as np
import pandas as pd

import bdl


def make(path, rows=300_000):
    rng = np.random.default_rng(0)
    cols = {"id": np.arange(rows)}
    for j in range(28):
        cols[f"v{j}"] = rng.normal(size=rows).round(6)
    cols["label"] = (rng.random(rows) < 0.1).astype(np.int64)
    pd.DataFrame(cols).to_csv(path, index=False)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--json")
    a = ap.parse_args()
    readers = {
        "bdl": lambda p: bdl.datasets.read_csv(p, "label", threads=a.threads),
        "pandas c": lambda p: pd.read_csv(p),
        "pandas pyarrow": lambda p: pd.read_csv(p, engine="pyarrow"),
    }
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "table.csv")
        make(path)
        mb = os.path.getsize(path) / 1e6
        for read in readers.values():  # warm: page cache, imports, thread pools
            read(path)
        times = {k: [] for k in readers}
        for _ in range(a.rounds):
            for name, read in readers.items():
                start = time.perf_counter()
                read(path)
                times[name].append(time.perf_counter() - start)
    rate = {k: mb / statistics.median(v) for k, v in times.items()}
    print(f"{mb:.1f} MB, 300,000 rows x 30 columns, {a.rounds} rounds, bdl on {a.threads} threads")
    for k, v in rate.items():
        print(f"{k:15s} {v:7.1f} MB/s (median {statistics.median(times[k]) * 1e3:.0f} ms)")
    for k in ("pandas c", "pandas pyarrow"):
        ratios = [p / b for p, b in zip(times[k], times["bdl"])]
        print(f"bdl / {k}: {statistics.median(ratios):.2f}x (per round "
              + ", ".join(f"{r:.2f}" for r in ratios) + ")")
    if a.json:
        with open(a.json, "w") as f:
            json.dump({"mb": mb, "seconds": times, "mb_per_s": rate}, f, indent=2)


if __name__ == "__main__":
    main()
