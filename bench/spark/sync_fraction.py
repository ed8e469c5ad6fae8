#!/usr/bin/env python3
"""The seed's first chart for bdl on Spark: parameter-sync time as a fraction
of compute per iteration, Inception v1 (224x224, 1000 classes) trained by
NNClassifier on local-cluster[W,1,...] for W = 2 and 4 workers of one thread,
the gradients on the wire as fp32 and as bf16.

  sync  = the time in the sync step (reduce-scatter, the owner's update of its
          slice, all-gather), waiting for the slowest worker included;
  compute = the rest of the training loop (forward, loss, backward).

Every worker trains on its own partition of synthetic images (--per-worker
rows, batch --batch-per-worker each); the first iteration (oneDNN's set-up) is
counted like the others. On this 2-core machine 4 workers share 2 cores, so
their compute is twice as slow and their waits longer: the fraction there is
what an oversubscribed node sees, not what 4 nodes would.

    PYTHONPATH=build/python .venv/bin/python bench/spark/sync_fraction.py \\
        --json bench/results/spark_sync_fraction.json
    /usr/bin/python3 bench/spark/plot_spark.py       # the PNG charts
"""
import argparse
import json
import os
import sys
import tempfile
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from overhead import local_session  # noqa: E402


def images(directory: str, workers: int, per_worker: int, seed: int = 0) -> str:
    """Synthetic images, one Parquet file per worker (its partition)."""
    import pyarrow as pa
    import pyarrow.parquet as pq
    rng = np.random.default_rng(seed)
    table_dir = os.path.join(directory, f"images-{workers}")
    os.makedirs(table_dir, exist_ok=True)
    width = 3 * 224 * 224
    for r in range(workers):
        x = rng.standard_normal((per_worker, width), dtype=np.float32)
        y = rng.integers(0, 1000, per_worker)
        features = pa.FixedSizeListArray.from_arrays(pa.array(x.ravel()), width)
        pq.write_table(pa.table({"features": features.cast(pa.list_(pa.float32())),
                                 "label": pa.array(y)}),
                       os.path.join(table_dir, f"part-{r:05d}.parquet"))
    return table_dir


def session(workers: int):
    spark = local_session(f"local-cluster[{workers},1,1536]", f"bdl sync fraction {workers}",
                          executor_memory="1024m")
    spark.range(workers).repartition(workers).count()
    return spark


def one_run(spark, table: str, workers: int, batch_per_worker: int, compress: str) -> dict:
    import bdl
    from bdl.spark import NNClassifier
    df = spark.read.parquet(table)
    if df.rdd.getNumPartitions() != workers:
        df = df.repartition(workers)
    clf = NNClassifier(model=bdl.zoo("inception_v1"), batchSize=workers * batch_per_worker,
                       maxEpoch=1, learningRate=0.01, momentum=0.9, numWorkers=workers,
                       threadsPerWorker=1, compress=compress)
    t = time.perf_counter()
    clf.fit(df)
    fit_s = time.perf_counter() - t
    r = clf.last_fit["report"]
    train, sync = r["train_seconds"], r["sync_seconds"]
    compute = train - sync - r.get("input_wait_seconds", 0.0)
    return {"workers": workers, "compress": compress, "iterations": r["iterations"],
            "fit_s": fit_s, "train_s": train, "sync_s": sync, "compute_s": compute,
            "sync_over_compute": sync / compute,
            "sync_ms_per_iteration": 1000 * sync / r["iterations"],
            "compute_ms_per_iteration": 1000 * compute / r["iterations"],
            "samples_per_sec": r["train_samples_per_sec"]}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--workers", type=int, nargs="+", default=[2, 4])
    ap.add_argument("--per-worker", type=int, default=40)
    ap.add_argument("--batch-per-worker", type=int, default=4)
    ap.add_argument("--json")
    a = ap.parse_args()
    results = {"model": "inception_v1", "per_worker": a.per_worker,
               "batch_per_worker": a.batch_per_worker, "cpus": os.cpu_count(), "runs": []}
    with tempfile.TemporaryDirectory(prefix="bdl-sync-fraction-") as d:
        for workers in a.workers:
            table = images(d, workers, a.per_worker)
            spark = session(workers)
            for compress in ("none", "bf16"):
                run = one_run(spark, table, workers, a.batch_per_worker, compress)
                results["runs"].append(run)
                print(f"{workers} workers, wire {compress}: sync {run['sync_ms_per_iteration']:.0f} "
                      f"ms / compute {run['compute_ms_per_iteration']:.0f} ms per iteration = "
                      f"{100 * run['sync_over_compute']:.1f}% ({run['iterations']} iterations)",
                      flush=True)
            spark.stop()
    if a.json:
        with open(a.json, "w") as f:
            json.dump(results, f, indent=1)


if __name__ == "__main__":
    main()
