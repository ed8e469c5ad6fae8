"""One Spark barrier stage whose tasks are bdl's workers, joined over Gloo.

The stage is `df.mapInArrow(task, "chunk binary", barrier=True).collect()`:
Spark starts all N tasks at once (gang scheduling) or none. In each task,
BarrierTaskContext.allGather carries every worker's Gloo addresses to every
other (one round through the driver), then the workers train with bdl's own
sharded sync over TCP, never through Spark. Rank 0's result comes back to the
driver as binary chunks.
"""
from __future__ import annotations

import base64
import contextlib
import pickle
import time
from typing import Any, Callable, Iterator

from .. import _core

class TrainingFailed(RuntimeError):
    """fit() failed on the cluster: the message is the first bdl or Python error
    a worker raised, with the task that raised it."""


def first_error(e: BaseException) -> str:
    """The line that says what went wrong, out of a Py4J/Spark error text."""
    text = str(e)
    for marker in ("bdl._core.Error: ", "bdl.Error: ", "ValueError: ", "TypeError: ",
                   "RuntimeError: "):
        at = text.find(marker)
        if at >= 0:
            return text[at:].splitlines()[0]
    for line in text.splitlines():
        if "Exception" in line or "Error" in line:
            return line.strip()
    return text.splitlines()[0] if text else type(e).__name__


# Results travel back to the driver in pieces of this size (a binary value in
# an Arrow batch; Spark caps one row's size).
_CHUNK = 16 << 20


def task_host(ctx) -> str:
    """The address the other tasks reach this one by: its executor's, as Spark
    knows it (not the hostname, which Debian maps to 127.0.1.1)."""
    address = ctx.getTaskInfos()[ctx.partitionId()].address
    host = address.rsplit(":", 1)[0]
    return host.strip("[]")


@contextlib.contextmanager
def joined(ctx, timeout_ms: int, timings: dict[str, float] | None = None):
    """This task joined to the stage's other tasks as a bdl world (Gloo over TCP)
    for the duration of the block; bdl.world() is (rank, size) inside it."""
    rank, size = ctx.partitionId(), len(ctx.getTaskInfos())
    start = time.perf_counter()
    join = _core.GlooJoin(rank, size, task_host(ctx), timeout_ms)
    blobs = ctx.allGather(base64.b64encode(join.blob).decode("ascii"))
    join.connect([base64.b64decode(b) for b in blobs], timeout_ms)
    if timings is not None:
        timings["join_s"] = time.perf_counter() - start
    try:
        yield rank, size
    except BaseException:
        # Python workers are reused by the next task: close the sockets now.
        _core.leave_world(False)
        raise
    _core.leave_world(True)


def active_spark():
    from pyspark.sql import SparkSession
    spark = SparkSession.getActiveSession()
    if spark is None:
        raise RuntimeError("bdl.spark: no active SparkSession; make one first "
                           "(SparkSession.builder.getOrCreate())")
    return spark


def slots(spark) -> int:
    """Tasks the cluster can run at once (what a barrier stage needs)."""
    sc = spark.sparkContext
    try:
        profile = sc._jsc.sc().resourceProfileManager().resourceProfileFromId(0)
        return int(sc._jsc.sc().maxNumConcurrentTasks(profile))
    except Exception:  # noqa: BLE001 - a private API: fall back to the default parallelism
        return int(sc.defaultParallelism)


def check_slots(spark, num_workers: int) -> None:
    free = slots(spark)
    if num_workers > free:
        raise ValueError(
            f"bdl.spark: {num_workers} workers need {num_workers} task slots at once (a barrier "
            f"stage), and this cluster has {free}: lower num_workers, or add executors or cores")


def run_stage(df, task: Callable[[Any, Iterator], Any], timeout_ms: int) -> tuple[Any, dict]:
    """Runs task(ctx, batches) in every partition of df as one barrier stage,
    joined; returns rank 0's value and the per-rank timings."""
    import pyarrow as pa

    def stage(batches):
        from pyspark import BarrierTaskContext
        started = time.perf_counter()
        ctx = BarrierTaskContext.get()
        threads = int(ctx.cpus() or 1)
        _core.set_num_threads(threads)
        timings: dict[str, float] = {"queued_at": time.time()}
        with joined(ctx, timeout_ms, timings) as (rank, _):
            value = task(ctx, batches, timings)
        timings["task_s"] = time.perf_counter() - started
        payload = pickle.dumps((value if rank == 0 else None, timings))
        for i in range(0, max(len(payload), 1), _CHUNK):
            yield pa.RecordBatch.from_arrays(
                [pa.array([rank], pa.int32()), pa.array([payload[i:i + _CHUNK]], pa.binary())],
                names=["rank", "chunk"])

    rows = df.mapInArrow(stage, "rank int, chunk binary", barrier=True).collect()
    parts: dict[int, list[bytes]] = {}
    for r in rows:
        parts.setdefault(r["rank"], []).append(bytes(r["chunk"]))
    results = {rank: pickle.loads(b"".join(chunks)) for rank, chunks in parts.items()}
    value = results[0][0]
    timings = {rank: t for rank, (_, t) in sorted(results.items())}
    return value, timings


def run(train_fn: Callable[..., Any], num_workers: int, *args, spark=None,
        timeout_ms: int = 120_000, **kwargs) -> Any:
    """Runs train_fn(*args, **kwargs) on num_workers Spark tasks at once (one
    barrier stage), as TorchDistributor runs a PyTorch function: inside it,
    bdl.world() is (rank, num_workers) and model.fit trains as one job across
    the tasks, synchronised over TCP (Gloo), not through Spark. Returns what
    rank 0's call returns (it must pickle). timeout_ms: how long a worker waits
    for a silent peer before the stage fails naming it."""
    if not callable(train_fn):
        raise TypeError(f"bdl.spark.run: train_fn {train_fn!r} is not callable")
    if not isinstance(num_workers, int) or num_workers < 1:
        raise ValueError(f"bdl.spark.run: num_workers must be a positive integer, got "
                         f"{num_workers!r}")
    spark = spark or active_spark()
    check_slots(spark, num_workers)
    df = spark.range(0, num_workers, 1, numPartitions=num_workers)

    def task(ctx, batches, timings):
        for _ in batches:
            pass
        return train_fn(*args, **kwargs)

    try:
        value, _ = run_stage(df, task, timeout_ms)
    except Exception as e:  # noqa: BLE001 - Spark's errors arrive as Py4J's
        raise TrainingFailed(f"bdl.spark.run: {first_error(e)}") from e
    return value
