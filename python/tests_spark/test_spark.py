"""bdl on a real Spark (local[2]: two Python worker processes per stage)."""
import os
import re
import time

import numpy as np
import pytest

import bdl
import bdl.spark
from bdl.spark import NNClassifier, NNEstimator, TrainingFailed
from conftest import blobs

FEATURES = [f"c{i}" for i in range(8)]


def mlp(inputs=8, classes=3):
    return bdl.Sequential([bdl.layers.Dense(32, activation="relu"), bdl.layers.Dense(classes)],
                          input_shape=(inputs,))


def assembled(df):
    from pyspark.ml.feature import VectorAssembler
    return VectorAssembler(inputCols=FEATURES, outputCol="features").transform(df)


# --- bdl.spark.run: any training function as a barrier stage -------------------------

def _train_on_own_rows(out_dir):
    """Each worker trains on its own rows (worker_data) and saves its weights."""
    import bdl
    rank, workers = bdl.world()
    x, y = blobs(n=600, seed=10 + rank)
    model = mlp()
    model.compile(optimizer=bdl.optimizers.SGD(0.05, momentum=0.9), loss="cross_entropy")
    model.fit(x, y, batch_size=40, epochs=2, verbose=0, threads=1, worker_data=True)
    np.save(os.path.join(out_dir, f"w{rank}.npy"),
            np.concatenate([w.ravel() for w in model.get_weights()]))
    return rank, workers


@pytest.mark.parametrize("rendezvous", ["driver", "spark"])
def test_run_trains_one_job_across_tasks(spark, tmp_path, rendezvous):
    assert bdl.spark.run(_train_on_own_rows, 2, str(tmp_path), rendezvous=rendezvous) == (0, 2)
    a, b = np.load(tmp_path / "w0.npy"), np.load(tmp_path / "w1.npy")
    # The sync gives every worker the same weights, bit for bit.
    np.testing.assert_array_equal(a, b)
    assert np.isfinite(a).all()


def _fails_on_rank_1():
    import bdl
    if bdl.world()[0] == 1:
        raise ValueError("rank 1 has no data here")
    return "rank 0 done"


def test_run_raises_the_workers_error(spark):
    with pytest.raises(TrainingFailed, match="rank 1 has no data here"):
        bdl.spark.run(_fails_on_rank_1, 2)


def test_run_refuses_more_workers_than_slots(spark):
    with pytest.raises(ValueError, match="3 workers need 3 task slots at once.*has 2"):
        bdl.spark.run(_fails_on_rank_1, 3)


# --- Spark ML: estimators, models, pipelines, persistence ---------------------------

def test_pipeline_trains_scores_saves_and_loads(spark, blob_df, tmp_path):
    from pyspark.ml import Pipeline, PipelineModel
    from pyspark.ml.evaluation import MulticlassClassificationEvaluator
    from pyspark.ml.feature import StandardScaler, VectorAssembler
    train, test = blob_df.randomSplit([0.8, 0.2], seed=3)
    clf = NNClassifier(model=mlp(), batchSize=64, maxEpoch=4, learningRate=0.05, momentum=0.9,
                       numWorkers=2, metrics=["accuracy"])
    clf.setValidation(assembled(test).withColumnRenamed("features", "raw"))
    pipeline = Pipeline(stages=[
        VectorAssembler(inputCols=FEATURES, outputCol="raw"),
        StandardScaler(inputCol="raw", outputCol="features"),
        clf])
    # The validation DataFrame goes through the same scaler: fit the scaler's
    # stage first, as a user would when validating inside a pipeline.
    scaler = StandardScaler(inputCol="raw", outputCol="features").fit(
        assembled(train).withColumnRenamed("features", "raw"))
    clf.setValidation(scaler.transform(assembled(test).withColumnRenamed("features", "raw")))
    fitted = pipeline.fit(train)
    assert clf.last_fit["workers"] == 2
    assert clf.last_fit["history"]["val_accuracy"][-1] > 0.95
    scored = fitted.transform(test)
    assert {"rawPrediction", "probability", "prediction"} <= set(scored.columns)
    accuracy = MulticlassClassificationEvaluator(metricName="accuracy").evaluate(scored)
    assert accuracy > 0.95
    rows = scored.select("probability", "prediction").collect()
    for r in rows[:20]:
        assert abs(sum(r["probability"]) - 1) < 1e-5
        assert r["prediction"] == float(np.argmax(r["probability"]))

    fitted.write().overwrite().save(str(tmp_path / "pipeline"))
    loaded = PipelineModel.load(str(tmp_path / "pipeline"))
    again = loaded.transform(test).select("probability").collect()
    np.testing.assert_array_equal(np.array([r["probability"] for r in rows]),
                                  np.array([r["probability"] for r in again]))


def test_estimator_saves_and_loads_unfitted(spark, tmp_path):
    clf = NNClassifier(model=mlp(), batchSize=16, maxEpoch=7, learningRate=0.2)
    clf.write().overwrite().save(str(tmp_path / "clf"))
    back = NNClassifier.load(str(tmp_path / "clf"))
    assert back.getMaxEpoch() == 7 and back.getBatchSize() == 16
    assert back.getLearningRate() == pytest.approx(0.2)
    assert back._bytes == clf._bytes


def test_regression_from_parquet_written_by_spark(spark, tmp_path):
    from pyspark.ml.evaluation import RegressionEvaluator
    rng = np.random.default_rng(4)
    x = rng.normal(0, 1, (3000, 5))
    y = x @ np.array([1.5, -2.0, 0.5, 0.0, 3.0]) + 0.7
    rows = [(x[i].tolist(), float(y[i])) for i in range(len(y))]
    spark.createDataFrame(rows, "features array<double>, target double") \
        .repartition(3).write.parquet(str(tmp_path / "table"))
    df = spark.read.parquet(str(tmp_path / "table"))
    est = NNEstimator(model=bdl.Sequential([bdl.layers.Dense(1)], input_shape=(5,)),
                      labelCol="target", loss="mse", batchSize=32, maxEpoch=5,
                      learningRate=0.05, numWorkers=2)
    model = est.fit(df)
    scored = model.transform(df)
    assert dict(scored.dtypes)["prediction"] == "double"
    rmse = RegressionEvaluator(labelCol="target", metricName="rmse").evaluate(scored)
    assert rmse < 0.05, rmse


def test_bad_columns_are_named(spark, blob_df):
    clf = NNClassifier(model=mlp(), numWorkers=2)
    with pytest.raises(ValueError, match="featuresCol 'features' is not a column"):
        clf.fit(blob_df)
    with pytest.raises(TypeError, match="featuresCol 'name' is string"):
        NNClassifier(model=mlp(), featuresCol="name", numWorkers=2).fit(
            spark.createDataFrame([("a", 1)], "name string, label long"))
    with pytest.raises(ValueError, match="features hold 8 values per row.*shape \\(4,\\)"):
        NNClassifier(model=mlp(inputs=4), numWorkers=2).fit(assembled(blob_df))


@pytest.mark.parametrize("param, value, says", [
    ("timeoutMs", 0, "timeoutMs: must be a positive number of milliseconds, got 0"),
    ("startTimeoutMs", -5, "startTimeoutMs: must be a positive number of milliseconds, got -5"),
    ("memoryBudgetMb", -1.0, "memoryBudgetMb: must be 0 (always spill) or more, got -1.0"),
    ("memoryBudgetMb", float("nan"), "memoryBudgetMb: must be 0 (always spill) or more"),
])
def test_bad_limits_are_named_before_any_task_starts(spark, blob_df, param, value, says):
    clf = NNClassifier(model=mlp(), numWorkers=2, **{param: value})
    with pytest.raises(ValueError, match=re.escape(says)):
        clf.fit(assembled(blob_df))


def test_too_few_rows_for_the_batch_is_an_error(spark):
    df = spark.createDataFrame([([1.0, 2.0], 0), ([0.5, 1.0], 1), ([2.0, 0.1], 1)],
                               "features array<double>, label long")
    clf = NNClassifier(model=mlp(inputs=2, classes=2), batchSize=64, numWorkers=2)
    with pytest.raises(TrainingFailed, match="lower the batch size"):
        clf.fit(df)


def test_more_partitions_than_workers(spark, blob_df):
    df = assembled(blob_df).repartition(5)
    clf = NNClassifier(model=mlp(), batchSize=64, maxEpoch=2, learningRate=0.05, momentum=0.9,
                       numWorkers=2)
    clf.fit(df)
    rows = clf.last_fit["timings"]
    # Five partitions became two workers' shares, together all of the rows.
    assert sum(t["rows"] for t in rows.values()) == blob_df.count()


def test_a_share_over_the_memory_budget_is_spilled_to_local_shards(spark, blob_df):
    """memoryBudgetMb=0: every worker spills its rows (training and validation)
    to record shards in its executor's local directory (SPARK_LOCAL_DIRS, which
    Spark gives its Python workers) and trains from them; the model is as good
    as one trained from memory, and nothing is left on disk."""
    import os
    df = assembled(blob_df)
    train, test = df.randomSplit([0.8, 0.2], seed=3)
    results = {}
    for budget in (2048.0, 0.0):
        clf = NNClassifier(model=mlp(), batchSize=64, maxEpoch=4, learningRate=0.05,
                           momentum=0.9, numWorkers=2, memoryBudgetMb=budget,
                           metrics=["accuracy"]).setValidation(test)
        fitted = clf.fit(train)
        timings = clf.last_fit["timings"]
        results[budget] = fitted
        assert all(bool(t["spilled_to"]) == (budget == 0.0) for t in timings.values()), timings
        assert sum(t["rows"] for t in timings.values()) == train.count()
        history = clf.last_fit["history"]
        assert len(history["val_accuracy"]) == 4, history
    for t in timings.values():
        assert "blockmgr" in t["spilled_to"], t["spilled_to"]
        assert not os.path.exists(t["spilled_to"]), t["spilled_to"]
    for budget, fitted in results.items():
        scored = fitted.transform(test).select("prediction", "label").collect()
        accuracy = np.mean([r["prediction"] == r["label"] for r in scored])
        assert accuracy > 0.9, (budget, accuracy)


# --- faults ---------------------------------------------------------------------------

def _weights(model):
    return np.concatenate([w.ravel() for w in model.model.get_weights()])


def test_a_lost_executor_is_named_with_its_task():
    from bdl.spark._barrier import first_error
    spark_text = (
        "An error occurred while calling o281.collectToPython.\n: org.apache.spark.SparkException: "
        "Job aborted due to stage failure: Could not recover from a failed barrier ResultStage. "
        "Most recent failure reason: Stage failed because barrier task ResultTask(15, 1) finished "
        "unsuccessfully.\nExecutorLostFailure (executor 1 exited caused by one of the running "
        "tasks) Reason: Command exited with code 137\n\tat org.apache.spark.scheduler.X")
    assert first_error(Exception(spark_text)) == (
        "task 1 of stage 15 (bdl worker rank 1) was lost with executor 1, which exited caused by "
        "one of the running tasks (Reason: Command exited with code 137)")
    # A worker's own error comes first; without either, Spark's reason, not Py4J's call.
    assert first_error(Exception("x\n  bdl.Error: rank 0: lost rank 1: it closed\n" + spark_text)) \
        == "bdl.Error: rank 0: lost rank 1: it closed"
    assert first_error(Exception("An error occurred while calling o1.f.\n: org.apache.spark."
                                 "SparkException: Job aborted: boom")) == \
        "org.apache.spark.SparkException: Job aborted: boom"


def test_lost_worker_fails_the_fit_promptly(spark, blob_df, tmp_path):
    clf = NNClassifier(model=mlp(), batchSize=32, maxEpoch=3, numWorkers=2, timeoutMs=10000)
    clf._fault = f"1,20,{tmp_path / 'died'}"
    start = time.time()
    with pytest.raises(TrainingFailed):
        clf.fit(assembled(blob_df))
    assert (tmp_path / "died").exists()
    assert time.time() - start < 60


def test_retry_resumes_from_the_checkpoint_to_the_uninterrupted_result(spark, blob_df,
                                                                         tmp_path):
    df = assembled(blob_df).select("features", "label")
    assert df.rdd.getNumPartitions() == 2

    start = mlp()

    def classifier(checkpoints):
        return NNClassifier(model=start, batchSize=64, maxEpoch=3, learningRate=0.05,
                            momentum=0.9, numWorkers=2, checkpointPath=str(checkpoints),
                            maxAttempts=2, timeoutMs=10000)

    whole = classifier(tmp_path / "a").fit(df)
    broken = classifier(tmp_path / "b")
    # Rank 1's process ends in the second epoch (16 iterations per epoch).
    broken._fault = f"1,24,{tmp_path / 'died'}"
    resumed = broken.fit(df)
    assert (tmp_path / "died").exists()
    assert broken.last_fit["attempts"] == 2
    np.testing.assert_array_equal(_weights(whole), _weights(resumed))


def test_without_pyarrow_the_import_says_what_to_install():
    import subprocess
    import sys
    code = ("import sys; sys.modules['pyarrow'] = None\n"
            "try:\n    import bdl.spark\nexcept ImportError as e:\n    print(e)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout
    assert "bdl.spark needs pyarrow" in out and "pip install 'bdl[spark]'" in out, out


def test_rows_train_in_one_order_whatever_order_spark_delivers_them():
    """After a shuffle Spark delivers a partition's rows in the order its blocks
    arrive; a worker sorts them by their contents so that a retried fit trains
    on the same batches."""
    from bdl.spark._data import canonical_order
    rng = np.random.default_rng(4)
    x = rng.random((500, 7)).astype(np.float32)
    y = rng.integers(0, 3, 500)
    w = rng.random(500).astype(np.float32)
    one = canonical_order(x, y, w)
    for _ in range(3):
        p = rng.permutation(500)
        other = canonical_order(x[p], y[p], w[p])
        for a, b in zip(one, other):
            np.testing.assert_array_equal(a, b)
    # Rows that differ only in their label or weight are told apart too.
    same = np.zeros((2, 3), np.float32)
    assert list(canonical_order(same, np.array([0, 1]), None)[1]) == \
        list(canonical_order(same, np.array([1, 0]), None)[1])
