"""One real Spark for the whole suite: local[2] runs each task in its own
Python worker process, so bdl's workers join over TCP exactly as they do on a
cluster (local-cluster and standalone tests start executor JVMs of their own)."""
import os
import sys

import numpy as np
import pytest

pyspark = pytest.importorskip("pyspark")


def spark_settings(builder):
    return (builder.config("spark.ui.enabled", "false")
            .config("spark.driver.host", "127.0.0.1")
            .config("spark.sql.shuffle.partitions", "4")
            .config("spark.python.worker.reuse", "true")
            .config("spark.python.worker.faulthandler.enabled", "true")
            # A barrier stage that cannot get its slots fails in seconds, not minutes.
            .config("spark.scheduler.barrier.maxConcurrentTasksCheck.interval", "1s")
            .config("spark.scheduler.barrier.maxConcurrentTasksCheck.maxFailures", "3")
            .config("spark.barrier.sync.timeout", "120s")
            .config("spark.pyspark.python", sys.executable)
            .config("spark.executorEnv.OMP_NUM_THREADS", "1"))


@pytest.fixture(scope="session")
def spark():
    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    # The executors' Python is this one (with bdl and pyarrow), not python3 on PATH.
    os.environ["PYSPARK_PYTHON"] = sys.executable
    # The executors import the test functions they run from this folder.
    here = os.path.dirname(os.path.abspath(__file__))
    os.environ["PYTHONPATH"] = os.pathsep.join(
        p for p in (here, os.environ.get("PYTHONPATH", "")) if p)
    from pyspark.sql import SparkSession
    session = spark_settings(SparkSession.builder.master("local[2]").appName("bdl-tests")) \
        .getOrCreate()
    session.sparkContext.setLogLevel("ERROR")
    # Warm the Python workers.
    session.range(2).repartition(2).count()
    yield session
    session.stop()


def blobs(n=2000, features=8, classes=3, seed=0):
    rng = np.random.default_rng(seed)
    centres = rng.normal(0, 3, (classes, features))
    y = rng.integers(0, classes, n)
    x = centres[y] + rng.normal(0, 1, (n, features))
    return x.astype(np.float32), y.astype(np.int64)


@pytest.fixture(scope="session")
def blob_df(spark):
    """Eight numeric columns c0..c7 and a label, in 2 partitions."""
    x, y = blobs()
    rows = [tuple(float(v) for v in x[i]) + (int(y[i]),) for i in range(len(y))]
    cols = [f"c{i}" for i in range(x.shape[1])]
    return spark.createDataFrame(rows, ", ".join(f"{c} double" for c in cols) + ", label long") \
        .repartition(2).cache()
