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
import re
import threading
import time
from typing import Any, Callable, Iterator

from .. import _core

class TrainingFailed(RuntimeError):
    """fit() failed on the cluster: the message is the first bdl or Python error
    a worker raised, with the task that raised it."""


_ERROR_LINE = re.compile(r"^\s*([A-Za-z_][\w.]*(?:Error|Exception|Failed)): (.+)$")
_WRAPPERS = ("py4j.", "org.apache.spark.", "java.", "scala.")


_BARRIER_TASK = re.compile(r"barrier task ResultTask\((\d+), (\d+)\)")
_LOST_TASK = re.compile(r"Lost task (\d+)\.\d+ in stage (\d+)\.\d+ \(TID \d+\) \(([^)]*)\)")
_EXECUTOR_LOST = re.compile(r"ExecutorLostFailure \((executor \S+) ([^)]*)\)(.*)")


def first_error(e: BaseException) -> str:
    """The line that says what went wrong in a worker, out of a Py4J/Spark error
    text: the last line of the first Python traceback in it; else, for a lost
    executor, the task (bdl's rank) and the executor that went with it; else
    Spark's own reason."""
    text = str(e)
    lines = text.splitlines()
    for line in lines:
        m = _ERROR_LINE.match(line)
        if m and not m.group(1).startswith(_WRAPPERS) and "Py4J" not in m.group(1):
            return f"{m.group(1)}: {m.group(2).strip()}"
    lost = _EXECUTOR_LOST.search(text)
    if lost:
        task = _BARRIER_TASK.search(text)
        where = _LOST_TASK.search(text)
        if task:
            who = f"task {task.group(2)} of stage {task.group(1)} (bdl worker rank {task.group(2)})"
        elif where:
            who = (f"task {where.group(1)} of stage {where.group(2)} on {where.group(3)} "
                   f"(bdl worker rank {where.group(1)})")
        else:
            who = "a task"
        reason = lost.group(3).strip()
        return (f"{who} was lost with {lost.group(1)}, which {lost.group(2)}"
                + (f" ({reason})" if reason else ""))
    for line in lines:
        line = line.strip().lstrip(": ")
        if line and not line.startswith("An error occurred while calling"):
            return line
    return lines[0] if lines else type(e).__name__


# How long the tasks of a stage wait for each other to start: a task on an
# executor the cluster has just started (in a lost one's place) starts a cold
# Python first. As MPI's start-up timeout: a worker that dies meanwhile fails
# the stage through Spark at once.
START_TIMEOUT_MS = 120_000

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
def joined(ctx, timeout_ms: int, timings: dict[str, float] | None = None,
           relay: tuple[str, int] | None = None, start_timeout_ms: int = START_TIMEOUT_MS):
    """This task joined to the stage's other tasks as a bdl world (Gloo over TCP)
    for the duration of the block; bdl.world() is (rank, size) inside it. The
    workers' addresses go through the driver's relay (host, port) when given,
    else through BarrierTaskContext.allGather (Spark answers that once a
    second). Every worker must arrive within start_timeout_ms; afterwards a
    peer silent for timeout_ms is lost."""
    rank, size = ctx.partitionId(), len(ctx.getTaskInfos())
    start = time.perf_counter()
    if relay is not None:
        _core.join_relay(relay[0], relay[1], rank, size, task_host(ctx), start_timeout_ms,
                         timeout_ms)
    else:
        join = _core.GlooJoin(rank, size, task_host(ctx), start_timeout_ms)
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


def wait_for_slots(spark, num_workers: int, timeout_ms: int) -> bool:
    """Until the cluster has num_workers task slots again (a retry after a lost
    executor waits for its replacement), or the timeout; whether it has."""
    end = time.monotonic() + timeout_ms / 1000
    while slots(spark) < num_workers:
        if time.monotonic() >= end:
            return False
        time.sleep(0.25)
    return True


class _Relay:
    """The driver's rendezvous for one stage, served by a thread."""

    def __init__(self, spark, workers: int, timeout_ms: int):
        self.relay = _core.TcpRelay(workers, timeout_ms)
        self.host = spark.sparkContext.getConf().get("spark.driver.host")
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._serve, name="bdl-relay", daemon=True)
        self.thread.start()

    def _serve(self):
        try:
            self.relay.serve()
        except BaseException as e:  # noqa: BLE001 - kept for the driver to report
            self.error = e

    @property
    def address(self) -> tuple[str, int]:
        return self.host, self.relay.port


def run_stage(df, task: Callable[[Any, Iterator], Any], timeout_ms: int,
              rendezvous: str = "driver",
              start_timeout_ms: int = START_TIMEOUT_MS) -> tuple[Any, dict]:
    """Runs task(ctx, batches) in every partition of df as one barrier stage,
    joined; returns rank 0's value and the per-rank timings. rendezvous:
    "driver" (a relay on the driver that every task connects to) or "spark"
    (BarrierTaskContext.allGather: no connection to the driver needed, one
    second slower)."""
    import pyarrow as pa
    if rendezvous not in ("driver", "spark"):
        raise ValueError(f"rendezvous: 'driver' or 'spark', got {rendezvous!r}")
    relay = _Relay(df.sparkSession, df.rdd.getNumPartitions(), start_timeout_ms).address \
        if rendezvous == "driver" else None

    def stage(batches):
        from pyspark import BarrierTaskContext
        started = time.perf_counter()
        ctx = BarrierTaskContext.get()
        threads = int(ctx.cpus() or 1)
        _core.set_num_threads(threads)
        timings: dict[str, float] = {"queued_at": time.time()}
        with joined(ctx, timeout_ms, timings, relay, start_timeout_ms) as (rank, _):
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
        timeout_ms: int = 120_000, rendezvous: str = "driver",
        start_timeout_ms: int = START_TIMEOUT_MS, **kwargs) -> Any:
    """Runs train_fn(*args, **kwargs) on num_workers Spark tasks at once (one
    barrier stage), as TorchDistributor runs a PyTorch function: inside it,
    bdl.world() is (rank, num_workers) and model.fit trains as one job across
    the tasks, synchronised over TCP (Gloo), not through Spark. Returns what
    rank 0's call returns (it must pickle). timeout_ms: how long a worker waits
    for a silent peer before the stage fails naming it; start_timeout_ms: how
    long the tasks wait for each other to start. rendezvous: how the
    tasks find each other, "driver" (a relay on the driver) or "spark"
    (BarrierTaskContext.allGather, for clusters whose executors cannot open a
    connection to the driver; about a second slower)."""
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
        value, _ = run_stage(df, task, timeout_ms, rendezvous, start_timeout_ms)
    except Exception as e:  # noqa: BLE001 - Spark's errors arrive as Py4J's
        raise TrainingFailed(f"bdl.spark.run: {first_error(e)}") from e
    return value
