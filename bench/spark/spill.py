#!/usr/bin/env python3
"""What spilling a worker's share costs: the same NNClassifier job (LeNet-5 on
Fashion-MNIST's 60,000 training images, 2 workers of 1 thread on
local-cluster[2,1,2048]) with the shares in memory (memoryBudgetMb=2048) and
spilled to record shards on the executors' local disk (memoryBudgetMb=0), in
alternating rounds: fit time, the training loop's throughput, the time to read
(and write) the share, and test accuracy.

    PYTHONPATH=build/python .venv/bin/python bench/spark/spill.py --json bench/results/spark_spill.json
"""
import argparse
import json
import os
import statistics
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from overhead import local_session, write_shares  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--epochs", type=int, default=5)
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--json")
    a = ap.parse_args()
    spark = local_session("local-cluster[2,1,2048]", "bdl spill")
    import bdl
    from bdl.spark import NNClassifier
    (_, _), (xt, yt) = bdl.datasets.fashion_mnist()
    runs = []
    with tempfile.TemporaryDirectory(prefix="bdl-spill-bench-") as d:
        write_shares(d, 2)
        df = spark.read.parquet(os.path.join(d, "table"))
        for r in range(a.rounds):
            for budget in (2048.0, 0.0):
                clf = NNClassifier(model=bdl.zoo("lenet5"), batchSize=128, maxEpoch=a.epochs,
                                   learningRate=0.05, momentum=0.9, numWorkers=2,
                                   threadsPerWorker=1, memoryBudgetMb=budget)
                t = time.perf_counter()
                fitted = clf.fit(df)
                fit_s = time.perf_counter() - t
                f = clf.last_fit
                model = fitted.model
                model.compile(optimizer="sgd", loss="cross_entropy", metrics=["accuracy"])
                accuracy = model.evaluate(xt.reshape(-1, 1, 28, 28).astype("float32") / 255.0,
                                          yt, verbose=0, return_dict=True)["accuracy"]
                run = {"round": r + 1, "spilled": budget == 0.0, "fit_s": fit_s,
                       "train_s": f["train_seconds"],
                       "samples_per_sec": f["report"]["train_samples_per_sec"],
                       "read_share_s": max(t["data_s"] for t in f["timings"].values()),
                       "test_accuracy": accuracy}
                runs.append(run)
                print(json.dumps(run), flush=True)
    result = {"epochs": a.epochs, "runs": runs}
    for key in ("fit_s", "samples_per_sec", "read_share_s", "test_accuracy"):
        result[f"median_{key}"] = {
            name: statistics.median(r[key] for r in runs if r["spilled"] == spilled)
            for name, spilled in (("memory", False), ("spilled", True))}
    print(json.dumps({k: v for k, v in result.items() if k.startswith("median")}), flush=True)
    if a.json:
        with open(a.json, "w") as f:
            json.dump(result, f, indent=1)
    spark.stop()


if __name__ == "__main__":
    main()
