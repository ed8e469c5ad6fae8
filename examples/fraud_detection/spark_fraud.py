#!/usr/bin/env python3
"""Fraud detection as a standard Spark program (the UnionPay case BigDL was
built for), end to end on the cluster:

1. a credit-card-transaction table shaped like the public data set is made
   *in Spark*, deterministically (the same rows for the same --rows and
   --seed, whatever the cluster), and written as Parquet;
2. it is read back and split by time: the first 80% of the time line trains,
   the rest tests, as a model is trained on the past and used on the future;
3. a Pipeline of VectorAssembler, StandardScaler and bdl's NNClassifier (an MLP
   with the fraud class weighed up) is fitted, --bags times on bootstrap
   samples of the training rows (bagging, as Intel's published version did),
   and the ensemble's score is the mean of the bags' fraud probabilities;
4. AUC-ROC and average precision are computed distributed, and compared with
   Spark MLlib's LogisticRegression and MultilayerPerceptronClassifier on the
   same split, with each one's fit time.

    python examples/fraud_detection/spark_fraud.py /tmp/fraud-spark \\
        [--master local-cluster[2,1,2048]] [--rows 284807] [--bags 3]

Needs pyspark, pyarrow and bdl in the Python that runs it (the executors use
the same one).
"""
import argparse
import json
import os
import sys
import time

import numpy as np

FEATURES = ["Time"] + [f"V{i}" for i in range(1, 29)] + ["Amount"]
BLOCK = 4096  # rows made from one seed: the table does not depend on partitioning


def make_block(block: int, rows: int, seed: int):
    """Rows [block*BLOCK, ...) of the table: (time, V1..V28, amount, class)."""
    rng = np.random.default_rng([seed, block])
    first = block * BLOCK
    n = min(BLOCK, rows - first)
    # Time: two days, fewer transactions at night (the inverse of the hourly CDF).
    hour_weight = 0.3 + 0.7 * np.clip(np.sin((np.arange(48) - 6) / 24 * 2 * np.pi) + 0.4, 0, None)
    cdf = np.concatenate([[0], np.cumsum(hour_weight) / hour_weight.sum()])
    q = (first + np.arange(n) + rng.random(n)) / rows
    hour = np.clip(np.searchsorted(cdf, q, side="right") - 1, 0, 47)
    within = (q - cdf[hour]) / (cdf[hour + 1] - cdf[hour])
    t = np.floor((hour + within) * 3600)
    v = rng.normal(size=(n, 28)) * np.linspace(1.95, 0.33, 28)
    amount = np.round(np.exp(rng.normal(3.0, 1.4, n)), 2)
    label = (rng.random(n) < 492 / 284_807).astype(np.int32)
    fraud = np.flatnonzero(label)
    for column, shift, spread in ((4, 1.6, 2.0), (10, -1.8, 3.0), (11, 1.5, 1.8),
                                  (12, -2.2, 3.5), (14, -2.8, 3.5), (17, -2.0, 4.5)):
        v[fraud, column - 1] = rng.normal(shift, spread, fraud.size)
    tiny = rng.random(fraud.size) < 0.25
    amount[fraud] = np.where(tiny, np.round(rng.uniform(0, 2, fraud.size), 2),
                             np.round(np.exp(rng.normal(4.2, 1.6, fraud.size)), 2))
    return t, v, amount, label


def generate(spark, rows: int, seed: int, partitions: int):
    """The table as a DataFrame, made on the executors."""
    import pyarrow as pa
    blocks = (rows + BLOCK - 1) // BLOCK
    schema = ", ".join(f"{c} double" for c in FEATURES) + ", Class int"

    def rows_of(batches):
        for batch in batches:
            for b in batch.column(0).to_numpy():
                t, v, amount, label = make_block(int(b), rows, seed)
                cols = [pa.array(t)] + [pa.array(v[:, i]) for i in range(28)] + \
                       [pa.array(amount), pa.array(label)]
                yield pa.RecordBatch.from_arrays(cols, names=FEATURES + ["Class"])

    return spark.range(0, blocks, 1, numPartitions=partitions).mapInArrow(rows_of, schema)


def average_precision(df, score: str, label: str = "Class", bins: int = 100_000) -> float:
    """AP = sum over positives of the precision at their rank / positives, from a
    histogram of scores made distributed (exact but for ties within a bin of
    1/bins)."""
    from pyspark.sql import functions as F
    counts = (df.select(F.least(F.floor(F.col(score) * bins), F.lit(bins - 1)).alias("b"),
                        F.col(label).alias("y"))
              .groupBy("b").agg(F.sum("y").alias("pos"), F.count("*").alias("n"))
              .collect())
    table = sorted(((r["b"], r["pos"], r["n"]) for r in counts), reverse=True)
    tp = seen = 0
    ap = 0.0
    total = sum(p for _, p, _ in table)
    for _, pos, n in table:
        tp += pos
        seen += n
        ap += pos * (tp / seen)
    return ap / max(total, 1)


def evaluate(df, score: str) -> dict:
    from pyspark.ml.evaluation import BinaryClassificationEvaluator
    ev = BinaryClassificationEvaluator(labelCol="Class", rawPredictionCol=score)
    return {"auc_roc": ev.setMetricName("areaUnderROC").evaluate(df),
            "average_precision": average_precision(df, score)}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("dir", help="where the Parquet table goes")
    ap.add_argument("--master", default="local[2]")
    ap.add_argument("--rows", type=int, default=284_807)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--bags", type=int, default=3)
    ap.add_argument("--epochs", type=int, default=5)
    ap.add_argument("--batch-size", type=int, default=512)
    ap.add_argument("--fraud-weight", type=float, default=20.0)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--mllib-mlp-iterations", type=int, default=100)
    ap.add_argument("--skip-mllib", action="store_true")
    ap.add_argument("--json", help="write the results here too")
    ap.add_argument("--min-auc", type=float, default=0.0,
                    help="exit 1 when bdl's AUC-ROC is below this (the CI run's check)")
    a = ap.parse_args()

    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    from pyspark.ml import Pipeline
    from pyspark.ml.classification import LogisticRegression, MultilayerPerceptronClassifier
    from pyspark.ml.feature import StandardScaler, VectorAssembler
    from pyspark.ml.functions import vector_to_array
    from pyspark.sql import SparkSession
    from pyspark.sql import functions as F

    import bdl
    from bdl.layers import Dense, Dropout
    from bdl.spark import NNClassifier

    builder = SparkSession.builder
    if os.environ.get("PYTHONPATH"):  # bdl from a build tree: the executors need it too
        builder = builder.config("spark.executorEnv.PYTHONPATH", os.pathsep.join(
            os.path.abspath(e) for e in os.environ["PYTHONPATH"].split(os.pathsep) if e))
    spark = (builder.master(a.master).appName("bdl fraud detection")
             .config("spark.driver.host", os.environ.get("SPARK_LOCAL_IP", "127.0.0.1"))
             .config("spark.ui.enabled", "false")
             .config("spark.executor.memory", "1536m")
             .config("spark.sql.shuffle.partitions", str(2 * a.workers))
             .config("spark.pyspark.python", sys.executable)
             .getOrCreate())
    spark.sparkContext.setLogLevel("ERROR")
    results: dict = {"rows": a.rows, "master": a.master, "workers": a.workers, "bags": a.bags}

    # 1. The table, made in Spark and written as Parquet.
    t0 = time.perf_counter()
    table = os.path.join(a.dir, "transactions.parquet")
    generate(spark, a.rows, a.seed, 2 * a.workers).write.mode("overwrite").parquet(table)
    results["generate_s"] = time.perf_counter() - t0

    # 2. Read back, split by time (the 80% quantile of Time, computed distributed).
    df = spark.read.parquet(table).withColumn("Class", F.col("Class").cast("long"))
    cut = df.approxQuantile("Time", [0.8], 0.0)[0]
    train = df.where(F.col("Time") < cut).repartition(a.workers).cache()
    test = df.where(F.col("Time") >= cut).cache()
    counts = {r["Class"]: r["count"] for r in train.groupBy("Class").count().collect()}
    print(f"{a.rows} transactions made in Spark: {train.count()} train rows "
          f"({counts.get(1, 0)} fraud) before Time {cut:.0f}, {test.count()} test rows after",
          flush=True)

    # 3. bdl: a Pipeline per bag, on a bootstrap sample of the training rows.
    def bdl_pipeline(k: int):
        model = bdl.Sequential([bdl.Input((30,)), Dense(64, activation="relu"), Dropout(0.1),
                                Dense(32, activation="relu"), Dense(2)])
        clf = NNClassifier(model=model, labelCol="Class", batchSize=a.batch_size,
                           maxEpoch=a.epochs, optimizer="adam", learningRate=0.001,
                           classWeights=[1.0, a.fraud_weight], numWorkers=a.workers,
                           seed=a.seed + k)
        return Pipeline(stages=[VectorAssembler(inputCols=FEATURES, outputCol="raw"),
                                StandardScaler(inputCol="raw", outputCol="features",
                                               withMean=True, withStd=True), clf])

    t0 = time.perf_counter()
    scored = test
    fits = []
    for k in range(a.bags):
        sample = train if a.bags == 1 else \
            train.sample(withReplacement=True, fraction=1.0, seed=a.seed + k)
        pipeline = bdl_pipeline(k)
        fitted = pipeline.fit(sample)
        fits.append(pipeline.getStages()[-1].last_fit)
        nn = fitted.stages[-1]
        nn.setProbabilityCol(f"p{k}").setRawPredictionCol(f"raw{k}").setPredictionCol(f"pred{k}")
        scored = fitted.transform(scored).drop("raw", "features", f"raw{k}", f"pred{k}")
        scored = scored.withColumn(f"p{k}", vector_to_array(f"p{k}")[1])
    results["bdl_fit_s"] = time.perf_counter() - t0
    results["bdl_train_s"] = sum(f["train_seconds"] for f in fits)
    results["bdl_stage_s"] = sum(f["fit_seconds"] for f in fits)
    scored = scored.withColumn("score", sum(F.col(f"p{k}") for k in range(a.bags)) / a.bags)
    results["bdl"] = evaluate(scored.select("score", "Class"), "score")
    print(f"bdl, {a.bags} bagged MLPs on {a.workers} workers: AUC-ROC "
          f"{results['bdl']['auc_roc']:.4f}, average precision "
          f"{results['bdl']['average_precision']:.4f}, fit {results['bdl_fit_s']:.1f} s",
          flush=True)

    # 4. MLlib on the same split.
    if not a.skip_mllib:
        prep = Pipeline(stages=[VectorAssembler(inputCols=FEATURES, outputCol="raw"),
                                StandardScaler(inputCol="raw", outputCol="features",
                                               withMean=True, withStd=True)]).fit(train)
        tr, te = prep.transform(train).cache(), prep.transform(test).cache()
        tr.count()
        weighted = tr.withColumn("w", F.when(F.col("Class") == 1, a.fraud_weight)
                                 .otherwise(1.0))
        for name, estimator, data in (
                ("mllib_logistic_regression",
                 LogisticRegression(labelCol="Class", weightCol="w", maxIter=100), weighted),
                ("mllib_mlp",
                 MultilayerPerceptronClassifier(labelCol="Class", layers=[30, 64, 32, 2],
                                                maxIter=a.mllib_mlp_iterations, seed=a.seed),
                 tr)):
            t0 = time.perf_counter()
            m = estimator.fit(data)
            results[f"{name}_fit_s"] = time.perf_counter() - t0
            out = m.transform(te).withColumn("score", vector_to_array("probability")[1])
            results[name] = evaluate(out.select("score", "Class"), "score")
            print(f"{name}: AUC-ROC {results[name]['auc_roc']:.4f}, average precision "
                  f"{results[name]['average_precision']:.4f}, fit "
                  f"{results[f'{name}_fit_s']:.1f} s", flush=True)
    if a.json:
        with open(a.json, "w") as f:
            json.dump(results, f, indent=1)
    spark.stop()
    if results["bdl"]["auc_roc"] < a.min_auc:
        print(f"FAIL: bdl's AUC-ROC {results['bdl']['auc_roc']:.4f} is below {a.min_auc}")
        sys.exit(1)


if __name__ == "__main__":
    main()
