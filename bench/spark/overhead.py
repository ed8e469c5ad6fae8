#!/usr/bin/env python3
"""What Spark costs bdl, measured on a warm session (BENCHMARKS.md, "On Spark"):

1. Spark's own latencies, median and p95 of --repeat runs: an empty job, an
   empty barrier job (what BigDL ran once or twice per iteration), and one
   BarrierTaskContext.allGather round (what bdl's join costs).
2. A training job through NNClassifier on --master (default two executors of
   one core each): its fit time against the slowest worker's training time,
   the overhead being everything else (stage launch, data hand-off, join,
   model return), with each worker's phases.
3. The same job, same data split the same way, launched without Spark (one
   worker per process, each with the same half of the rows): under mpirun
   (shared memory between the processes), mpirun over TCP only, and an
   environment launch over Gloo and bdl's streams (the transport bdl.spark
   uses), and the same with the transfers over Gloo's unbound buffers
   (BDL_TRANSFERS=gloo): training throughput side by side, in alternating
   rounds.

    .venv/bin/python bench/spark/overhead.py [--epochs 25] [--rounds 2] [--json out.json]

LeNet-5 on Fashion-MNIST (Debian's dataset-fashion-mnist), batch 128, 1 thread
per worker.
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))

WORKER = """
import json, sys
import numpy as np
import bdl
rank, workers = bdl.world()
x = np.load(sys.argv[1] + f"/x{rank}.npy")
y = np.load(sys.argv[1] + f"/y{rank}.npy")
model = bdl.zoo("lenet5")
model.compile(optimizer=bdl.optimizers.SGD(0.05, momentum=0.9), loss="cross_entropy")
h = model.fit(x.reshape(-1, 1, 28, 28), y, batch_size=int(sys.argv[2]), epochs=int(sys.argv[3]),
              verbose=0, threads=1, worker_data=True)
if rank == 0:
    print("REPORT " + json.dumps(h.report))
"""


LAUNCHES = ("mpi", "mpi_tcp", "gloo", "gloo_unbound")


def local_session(master: str, name: str, executor_memory: str = "1536m"):
    """The benches' SparkSession: executors run this Python (with bdl) and see
    this PYTHONPATH, one kernel thread per task, no UI."""
    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    os.environ["PYSPARK_PYTHON"] = sys.executable
    from pyspark.sql import SparkSession
    builder = SparkSession.builder
    if os.environ.get("PYTHONPATH"):
        builder = builder.config("spark.executorEnv.PYTHONPATH", os.pathsep.join(
            os.path.abspath(e) for e in os.environ["PYTHONPATH"].split(os.pathsep) if e))
    spark = (builder.master(master).appName(name)
             .config("spark.ui.enabled", "false").config("spark.driver.host", "127.0.0.1")
             .config("spark.executor.memory", executor_memory)
             .config("spark.executorEnv.OMP_NUM_THREADS", "1").getOrCreate())
    spark.sparkContext.setLogLevel("ERROR")
    return spark


def stats(values):
    values = sorted(values)
    return {"median_s": statistics.median(values),
            "p95_s": values[min(len(values) - 1, int(0.95 * len(values)))], "runs": len(values)}


def micro(spark, workers: int, repeat: int) -> dict:
    sc = spark.sparkContext

    def timed(f):
        out = []
        for _ in range(repeat):
            t = time.perf_counter()
            f()
            out.append(time.perf_counter() - t)
        return stats(out)

    empty = timed(lambda: sc.parallelize(range(workers), workers).count())
    barrier = timed(lambda: sc.parallelize(range(workers), workers).barrier()
                    .mapPartitions(lambda it: [0]).collect())
    rounds = 10

    def gather(it):
        from pyspark import BarrierTaskContext
        ctx = BarrierTaskContext.get()
        ctx.allGather("warm")
        t = time.perf_counter()
        for i in range(rounds):
            ctx.allGather(str(i))
        yield (time.perf_counter() - t) / rounds

    per_round = [max(sc.parallelize(range(workers), workers).barrier().mapPartitions(gather)
                     .collect()) for _ in range(3)]
    return {"empty_job": empty, "empty_barrier_job": barrier,
            "all_gather_round_s": statistics.median(per_round)}


def write_shares(directory: str, workers: int):
    """Fashion-MNIST's training set cut into `workers` round-robin shares, as
    .npy files (for mpirun) and as one Parquet table of `workers` partitions in
    the same order (for Spark)."""
    import pyarrow as pa
    import pyarrow.parquet as pq
    import bdl
    (x, y), _ = bdl.datasets.fashion_mnist()
    x = (x.reshape(len(x), -1).astype(np.float32) / 255.0)
    os.makedirs(os.path.join(directory, "table"), exist_ok=True)
    for r in range(workers):
        xs, ys = x[r::workers], y[r::workers]
        np.save(os.path.join(directory, f"x{r}.npy"), xs)
        np.save(os.path.join(directory, f"y{r}.npy"), ys)
        features = pa.FixedSizeListArray.from_arrays(pa.array(xs.ravel()), xs.shape[1])
        pq.write_table(pa.table({"features": features.cast(pa.list_(pa.float32())),
                                 "label": pa.array(ys)}),
                       os.path.join(directory, "table", f"part-{r:05d}.parquet"))


def spark_job(spark, directory: str, workers: int, batch: int, epochs: int) -> dict:
    import bdl
    from bdl.spark import NNClassifier
    df = spark.read.parquet(os.path.join(directory, "table"))
    df = df.repartition(workers) if df.rdd.getNumPartitions() != workers else df
    clf = NNClassifier(model=bdl.zoo("lenet5"), batchSize=batch, maxEpoch=epochs,
                       learningRate=0.05, momentum=0.9, numWorkers=workers, threadsPerWorker=1)
    t = time.perf_counter()
    clf.fit(df)
    fit_s = time.perf_counter() - t
    f = clf.last_fit
    return {"fit_s": fit_s, "train_s": f["train_seconds"],
            "overhead_fraction": (fit_s - f["train_seconds"]) / fit_s,
            "samples_per_sec": f["report"]["train_samples_per_sec"],
            "sync_seconds": f["report"]["sync_seconds"],
            "phases": {r: {k: v for k, v in t.items() if k.endswith("_s")}
                       for r, t in f["timings"].items()}}


def launched_job(how: str, directory: str, workers: int, batch: int, epochs: int) -> dict:
    """The same training outside Spark: mpirun (shared memory between the two
    processes, or TCP only), or an environment launch over Gloo (no Spark), its
    transfers on bdl's streams ("gloo") or on Gloo's unbound buffers
    ("gloo_unbound")."""
    with tempfile.NamedTemporaryFile("w", suffix=".py", delete=False) as f:
        f.write(WORKER)
        script = f.name
    env = dict(os.environ, OMP_NUM_THREADS="1", OMPI_ALLOW_RUN_AS_ROOT="1",
               OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1")
    args = [sys.executable, script, directory, str(batch), str(epochs)]
    t = time.perf_counter()
    if how.startswith("gloo"):
        env["BDL_TRANSFERS"] = "gloo" if how == "gloo_unbound" else "streams"
        procs = [subprocess.Popen(args, env=dict(env, RANK=str(r), WORLD_SIZE=str(workers),
                                                 MASTER_ADDR="127.0.0.1", MASTER_PORT="29513"),
                                  stdout=subprocess.PIPE, text=True) for r in range(workers)]
        outs = [p.communicate()[0] for p in procs]
        if any(p.returncode for p in procs):
            raise RuntimeError("the environment launch failed")
        out = outs[0]
    else:
        tcp = ["--mca", "btl", "tcp,self"] if how == "mpi_tcp" else []
        out = subprocess.run(["mpirun", "--oversubscribe", "--bind-to", "none", *tcp, "-np",
                              str(workers), *args],
                             env=env, capture_output=True, text=True, check=True).stdout
    wall = time.perf_counter() - t
    os.unlink(script)
    report = json.loads(next(l for l in out.splitlines() if l.startswith("REPORT "))[7:])
    return {"wall_s": wall, "train_s": report["train_seconds"],
            "samples_per_sec": report["train_samples_per_sec"],
            "sync_seconds": report["sync_seconds"]}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--master", default="local-cluster[2,1,2048]")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--epochs", type=int, default=25)
    ap.add_argument("--batch-size", type=int, default=128)
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--repeat", type=int, default=20)
    ap.add_argument("--skip-micro", action="store_true")
    ap.add_argument("--json")
    a = ap.parse_args()
    t = time.perf_counter()
    spark = local_session(a.master, "bdl spark overhead")
    spark.range(a.workers).repartition(a.workers).count()
    results = {"master": a.master, "workers": a.workers, "epochs": a.epochs,
               "batch_size": a.batch_size, "session_start_s": time.perf_counter() - t}
    if not a.skip_micro:
        results["micro"] = micro(spark, a.workers, a.repeat)
        print(json.dumps(results["micro"], indent=1), flush=True)
    with tempfile.TemporaryDirectory(prefix="bdl-spark-bench-") as d:
        write_shares(d, a.workers)
        runs = []
        for r in range(a.rounds):
            run = {"spark": spark_job(spark, d, a.workers, a.batch_size, a.epochs)}
            for how in LAUNCHES:
                run[how] = launched_job(how, d, a.workers, a.batch_size, a.epochs)
            s = run["spark"]
            for how in LAUNCHES:
                run[f"spark_over_{how}_throughput"] = s["samples_per_sec"] / run[how]["samples_per_sec"]
            runs.append(run)
            print(f"round {r + 1}: Spark fit {s['fit_s']:.1f} s (training {s['train_s']:.1f} s, "
                  f"overhead {100 * s['overhead_fraction']:.1f}%), {s['samples_per_sec']:.0f} "
                  f"samples/s; mpirun {run['mpi']['samples_per_sec']:.0f}, mpirun over TCP "
                  f"{run['mpi_tcp']['samples_per_sec']:.0f}, Gloo without Spark "
                  f"{run['gloo']['samples_per_sec']:.0f} (unbound buffers "
                  f"{run['gloo_unbound']['samples_per_sec']:.0f})", flush=True)
        results["runs"] = runs
    results["median_overhead_fraction"] = statistics.median(
        r["spark"]["overhead_fraction"] for r in runs)
    keys = ["median_overhead_fraction"]
    for how in LAUNCHES:
        results[f"median_spark_over_{how}"] = statistics.median(
            r[f"spark_over_{how}_throughput"] for r in runs)
        keys.append(f"median_spark_over_{how}")
    print(json.dumps({k: results[k] for k in keys}), flush=True)
    if a.json:
        with open(a.json, "w") as f:
            json.dump(results, f, indent=1)
    spark.stop()


if __name__ == "__main__":
    main()
