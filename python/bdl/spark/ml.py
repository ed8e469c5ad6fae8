"""bdl in Spark ML Pipelines: NNEstimator and NNClassifier (fit a bdl model on
a DataFrame, distributed), NNModel and NNClassifierModel (score a DataFrame,
distributed). They save and load with Spark ML's persistence, alone or inside a
Pipeline beside VectorAssembler, StandardScaler and the rest.

fit(df) runs one Spark barrier stage of numWorkers tasks: each task takes one
partition of the DataFrame (repartitioned round-robin to numWorkers) as its
worker's own share, and the workers train one job together with bdl's sharded
sync over TCP (Gloo). Every worker runs the same number of iterations per epoch:
the fewest whole batches any worker holds (round-robin partitions differ by one
row at most; a worker left with fewer rows than its part of a batch is an
error). Labels of classifiers are 0-based class indices, Spark's convention
(BigDL's were 1-based).
"""
from __future__ import annotations

import hashlib
import os
import tempfile
import time
from typing import Any, Iterator

import numpy as np
import pyarrow as pa
from pyspark import keyword_only
from pyspark.ml import Estimator, Model
from pyspark.ml.param import Param, Params, TypeConverters
from pyspark.ml.param.shared import (HasFeaturesCol, HasLabelCol, HasPredictionCol,
                                     HasProbabilityCol, HasRawPredictionCol, HasSeed,
                                     HasWeightCol)
from pyspark.ml.util import (DefaultParamsReader, DefaultParamsWriter, MLReadable, MLReader,
                             MLWritable, MLWriter)

from .. import datasets as bdl_datasets
from .. import models as _models
from .. import optimizers as _optimizers
from . import _barrier, _data
from ._barrier import TrainingFailed, first_error as _first_error


def _model_bytes(model) -> bytes:
    if not isinstance(model, _models.Model):
        raise TypeError(f"model: {model!r} is not a bdl model (bdl.Sequential, bdl.Model, "
                        "bdl.zoo(...), bdl.load(...))")
    try:
        model.build()
    except Exception as e:  # noqa: BLE001 - said with what to do
        raise ValueError(f"model: cannot build it ({e}); give input_shape=... or call "
                         "model.build(input_shape) first") from e
    with tempfile.TemporaryDirectory(prefix="bdl-spark-") as d:
        path = os.path.join(d, "model.bdl")
        model.save(path)
        with open(path, "rb") as f:
            return f.read()


def _model_of(data: bytes):
    with tempfile.TemporaryDirectory(prefix="bdl-spark-") as d:
        path = os.path.join(d, "model.bdl")
        with open(path, "wb") as f:
            f.write(data)
        return _models.load(path)


# Models loaded in this Python worker, by digest: Spark reuses workers, so a
# model is read once per worker, not once per batch.
_LOADED: dict[str, Any] = {}


def _cached_model(digest: str, data: bytes):
    model = _LOADED.get(digest)
    if model is None:
        if len(_LOADED) > 8:
            _LOADED.clear()
        model = _LOADED[digest] = _model_of(data)
        model.eval()
    return model


class _BdlParams(HasFeaturesCol, HasLabelCol, HasPredictionCol, HasSeed, HasWeightCol):
    batchSize = Param(Params._dummy(), "batchSize",
                      "mini-batch size of the whole job, split across the workers",
                      typeConverter=TypeConverters.toInt)
    maxEpoch = Param(Params._dummy(), "maxEpoch", "epochs to train",
                     typeConverter=TypeConverters.toInt)
    learningRate = Param(Params._dummy(), "learningRate", "learning rate",
                         typeConverter=TypeConverters.toFloat)
    optimizer = Param(Params._dummy(), "optimizer",
                      "sgd, adam, adamw, adagrad, rmsprop or lars",
                      typeConverter=TypeConverters.toString)
    momentum = Param(Params._dummy(), "momentum", "momentum of sgd",
                     typeConverter=TypeConverters.toFloat)
    loss = Param(Params._dummy(), "loss",
                 "cross_entropy (on logits), mse, bce_with_logits, ... (bdl's loss names)",
                 typeConverter=TypeConverters.toString)
    numWorkers = Param(Params._dummy(), "numWorkers",
                       "workers (Spark tasks at once); 0: every task slot of the cluster",
                       typeConverter=TypeConverters.toInt)
    threadsPerWorker = Param(Params._dummy(), "threadsPerWorker",
                             "kernel threads of each worker; 0: spark.task.cpus",
                             typeConverter=TypeConverters.toInt)
    compress = Param(Params._dummy(), "compress",
                     "wire format of the sync: none, fp16 or bf16",
                     typeConverter=TypeConverters.toString)
    checkpointPath = Param(Params._dummy(), "checkpointPath",
                           "directory every executor sees (shared storage) for checkpoints; "
                           "a failed attempt resumes from the newest",
                           typeConverter=TypeConverters.toString)
    maxAttempts = Param(Params._dummy(), "maxAttempts",
                        "attempts of fit (each after the first resumes from checkpointPath)",
                        typeConverter=TypeConverters.toInt)
    timeoutMs = Param(Params._dummy(), "timeoutMs",
                      "how long a worker waits for a silent peer before the stage fails",
                      typeConverter=TypeConverters.toInt)
    classWeights = Param(Params._dummy(), "classWeights",
                         "weight of each class in the loss, by class index",
                         typeConverter=TypeConverters.toListFloat)
    metrics = Param(Params._dummy(), "metrics", "metrics computed on the validation DataFrame",
                    typeConverter=TypeConverters.toListString)
    memoryBudgetMb = Param(Params._dummy(), "memoryBudgetMb",
                           "a worker whose rows take more memory than this (MiB, as float32) "
                           "spills them once to record shards on its executor's local disk "
                           "and streams them every epoch",
                           typeConverter=TypeConverters.toFloat)
    startTimeoutMs = Param(Params._dummy(), "startTimeoutMs",
                           "how long the workers wait for each other to start (a task on a "
                           "newly started executor starts a cold Python first)",
                           typeConverter=TypeConverters.toInt)
    rendezvous = Param(Params._dummy(), "rendezvous",
                       "how the workers find each other: driver (a relay on the driver) or "
                       "spark (BarrierTaskContext.allGather; about a second slower)",
                       typeConverter=TypeConverters.toString)

    def __init__(self, *args):
        super().__init__(*args)
        self._setDefault(batchSize=32, maxEpoch=1, learningRate=0.01, optimizer="sgd",
                         momentum=0.0, loss="mse", numWorkers=0, threadsPerWorker=0,
                         compress="none", checkpointPath="", maxAttempts=1, timeoutMs=120_000,
                         classWeights=[], metrics=[], seed=1, weightCol="", rendezvous="driver",
                         startTimeoutMs=120_000, memoryBudgetMb=2048.0)

    def getBatchSize(self) -> int: return self.getOrDefault(self.batchSize)  # noqa: E704
    def getMaxEpoch(self) -> int: return self.getOrDefault(self.maxEpoch)  # noqa: E704
    def getLearningRate(self) -> float: return self.getOrDefault(self.learningRate)  # noqa: E704
    def getNumWorkers(self) -> int: return self.getOrDefault(self.numWorkers)  # noqa: E704


class _Writer(MLWriter):
    """Params as Spark ML's JSON metadata, the bdl model as bytes in a Parquet
    file beside it (through Spark, so that hdfs://, s3a:// and file: all work)."""

    def __init__(self, instance):
        super().__init__()
        self.instance = instance

    def saveImpl(self, path: str) -> None:
        DefaultParamsWriter.saveMetadata(self.instance, path, self.sc)
        data = self.instance._bytes
        if data is not None:
            spark = self.sparkSession
            spark.createDataFrame([(bytearray(data),)], "model binary") \
                .write.mode("overwrite").parquet(os.path.join(path, "model"))


class _Reader(MLReader):
    def __init__(self, cls):
        super().__init__()
        self.cls = cls

    def load(self, path: str):
        metadata = DefaultParamsReader.loadMetadata(path, self.sc)
        instance = self.cls()
        instance._resetUid(metadata["uid"])
        DefaultParamsReader.getAndSetParams(instance, metadata)
        try:
            rows = self.sparkSession.read.parquet(os.path.join(path, "model")).collect()
        except Exception:  # noqa: BLE001 - an estimator saved without a model
            rows = []
        if rows:
            instance._bytes = bytes(rows[0]["model"])
        return instance


class _Persisted(MLReadable, MLWritable):
    _bytes: bytes | None = None

    def write(self) -> MLWriter:
        return _Writer(self)

    @classmethod
    def read(cls) -> MLReader:
        return _Reader(cls)


class NNEstimator(Estimator, _BdlParams, _Persisted):
    """Trains a bdl model on a DataFrame's features and label columns, on the
    cluster's executors; fit() returns an NNModel. model: a built bdl model
    (bdl.Sequential([...], input_shape=...), bdl.zoo(...), bdl.load(...))."""

    _classes = False

    @keyword_only
    def __init__(self, *, model=None, featuresCol="features", labelCol="label",
                 predictionCol="prediction", batchSize=32, maxEpoch=1, learningRate=0.01,
                 optimizer="sgd", momentum=0.0, loss=None, numWorkers=0, threadsPerWorker=0,
                 compress="none", checkpointPath="", maxAttempts=1, timeoutMs=120_000,
                 classWeights=None, metrics=None, seed=1, weightCol="", rendezvous="driver",
                 startTimeoutMs=120_000, memoryBudgetMb=2048.0):
        super().__init__()
        self._take_kwargs(self._input_kwargs)

    def _take_kwargs(self, given):
        """The constructor's keyword arguments: those left None keep their
        defaults; model= goes to setModel."""
        self._validation = None
        self.last_fit: dict[str, Any] = {}
        kwargs = {k: v for k, v in given.items()
                  if not (v is None and k in ("loss", "classWeights", "metrics"))}
        model = kwargs.pop("model", None)
        self._set(**kwargs)
        if model is not None:
            self.setModel(model)

    def setModel(self, model):
        """The bdl model to train (a copy of its weights goes to the workers)."""
        self._bytes = _model_bytes(model)
        return self

    def setValidation(self, df):
        """A DataFrame scored after every epoch (same columns as the training
        one); its metrics are in last_fit["history"]. Not saved with the
        estimator."""
        self._validation = df
        return self

    def _copy_extra(self, other):
        other._bytes = self._bytes
        other._validation = self._validation
        return other

    def copy(self, extra=None):
        return self._copy_extra(super().copy(extra))

    def _model_class(self):
        return NNModel

    def _prepared(self, df, validation: bool):
        from pyspark.sql import functions as F
        cols = [_data.features_column(df, self.getFeaturesCol()).alias(_data.FEATURES),
                _data.label_column(df, self.getLabelCol(), self._classes).alias(_data.LABEL)]
        weight = self.getOrDefault(self.weightCol)
        if weight:
            if weight not in df.columns:
                raise ValueError(f"weightCol '{weight}' is not a column of the DataFrame")
            cols.append(F.col(weight).cast("float").alias(_data.WEIGHT))
        if self._validation is not None:
            cols.append(F.lit(validation).alias(_data.VALIDATION))
        return df.select(*cols)

    def _fit(self, dataset):
        if self._bytes is None:
            raise ValueError(f"{type(self).__name__}: no model to train; give model=... or call "
                             "setModel(model)")
        self._check_limits()
        spark = dataset.sparkSession
        workers = self.getNumWorkers() or _barrier.slots(spark)
        _barrier.check_slots(spark, workers)
        prepared = self._prepared(dataset, False)
        self._check_width(prepared)
        if self._validation is not None:
            prepared = prepared.unionByName(self._prepared(self._validation, True))
        # A DataFrame cut into as many partitions as workers already goes as it is
        # (no shuffle: the same rows in the same order on every attempt, so that
        # a resumed attempt continues the interrupted one exactly); otherwise a
        # round-robin repartition, kept for the retries.
        if prepared.rdd.getNumPartitions() != workers:
            prepared = prepared.repartition(workers)
        settings = self._job_settings()
        settings["has_validation"] = self._validation is not None
        settings["has_weight"] = bool(self.getOrDefault(self.weightCol))
        settings["fault"] = getattr(self, "_fault", "")
        model_bytes = self._bytes
        attempts = max(1, self.getOrDefault(self.maxAttempts))
        checkpoint = self.getOrDefault(self.checkpointPath)
        if attempts > 1 and not checkpoint:
            raise ValueError("maxAttempts > 1 needs checkpointPath: a retry resumes from the "
                             "newest checkpoint there")
        timeout_ms = self.getOrDefault(self.timeoutMs)
        start = time.perf_counter()
        failures = []
        if attempts > 1:
            prepared = prepared.persist()
        try:
            value, timings = self._attempts(prepared, model_bytes, settings, attempts, checkpoint,
                                            timeout_ms, failures,
                                            self.getOrDefault(self.rendezvous),
                                            self.getOrDefault(self.startTimeoutMs))
        finally:
            if attempts > 1:
                prepared.unpersist()
        trained, history, report = value
        fit_s = time.perf_counter() - start
        train_s = max(t.get("train_s", 0.0) for t in timings.values())
        self.last_fit = {"history": history, "report": report, "workers": workers, "attempts": len(failures) + 1,
                         "failures": failures, "fit_seconds": fit_s,
                         "train_seconds": train_s, "timings": timings}
        model = self._model_class()()
        model._bytes = trained
        self._copyValues(model)
        model._resetUid(self.uid)
        return model

    @staticmethod
    def _attempts(prepared, model_bytes, settings, attempts, checkpoint, timeout_ms, failures,
                  rendezvous, start_timeout_ms):
        for attempt in range(attempts):
            try:
                return _barrier.run_stage(
                    prepared, lambda ctx, batches, t: _train_task(ctx, batches, t, model_bytes,
                                                                 settings),
                    timeout_ms, rendezvous, start_timeout_ms)
            except Exception as e:  # noqa: BLE001 - Spark's errors arrive as Py4J's
                failures.append(_first_error(e))
                if attempt + 1 == attempts:
                    more = f" (attempt {attempt + 1} of {attempts})" if attempts > 1 else ""
                    raise TrainingFailed(f"bdl.spark: training failed{more}: {failures[-1]}") \
                        from e
                print(f"bdl.spark: attempt {attempt + 1} of {attempts} failed: {failures[-1]}; "
                      f"retrying from the newest checkpoint in {checkpoint}", flush=True)
                # A lost executor is replaced by the cluster manager in seconds.
                workers = prepared.rdd.getNumPartitions()
                if not _barrier.wait_for_slots(prepared.sparkSession, workers, start_timeout_ms):
                    print(f"bdl.spark: the cluster still has fewer than {workers} task slots "
                          f"after {start_timeout_ms} ms; retrying anyway", flush=True)
        raise AssertionError("unreachable")

    def _check_limits(self) -> None:
        """The params a worker would only trip on later, named now."""
        for param in (self.timeoutMs, self.startTimeoutMs):
            value = self.getOrDefault(param)
            if value <= 0:
                raise ValueError(f"{param.name}: must be a positive number of milliseconds, "
                                 f"got {value}")
        budget = self.getOrDefault(self.memoryBudgetMb)
        if not budget >= 0:  # NaN too
            raise ValueError(f"memoryBudgetMb: must be 0 (always spill) or more, got {budget}")

    def _check_width(self, prepared) -> None:
        """The features of the first row against the model's input, on the driver
        (one small job), before any worker starts."""
        from pyspark.sql import functions as F
        first = prepared.select(F.size(_data.FEATURES).alias("n")).head(1)
        if not first:
            raise ValueError(f"{type(self).__name__}.fit: the DataFrame has no rows")
        shape = tuple(_model_of(self._bytes).input_shape)
        if first[0]["n"] != int(np.prod(shape)):
            raise ValueError(f"featuresCol '{self.getFeaturesCol()}': features hold "
                             f"{first[0]['n']} values per row, the model takes input of shape "
                             f"{shape} ({int(np.prod(shape))} values)")

    def _job_settings(self) -> dict[str, Any]:
        return {"batch_size": self.getBatchSize(), "epochs": self.getMaxEpoch(),
                "lr": self.getLearningRate(), "optimizer": self.getOrDefault(self.optimizer),
                "momentum": self.getOrDefault(self.momentum),
                "loss": self.getOrDefault(self.loss),
                "threads": self.getOrDefault(self.threadsPerWorker),
                "compress": self.getOrDefault(self.compress),
                "checkpoint": self.getOrDefault(self.checkpointPath),
                "timeout_ms": self.getOrDefault(self.timeoutMs),
                "class_weights": list(self.getOrDefault(self.classWeights)),
                "metrics": list(self.getOrDefault(self.metrics)),
                "seed": self.getOrDefault(self.seed) % (1 << 31),
                "memory_budget_mb": self.getOrDefault(self.memoryBudgetMb)}


def _train_task(ctx, batches, timings, model_bytes: bytes, s: dict[str, Any]):
    """One worker: its partition's rows (in memory, or spilled to local record
    shards past the memory budget), the job, and (rank 0) the model back."""
    t0 = time.perf_counter()
    rank, workers = ctx.partitionId(), len(ctx.getTaskInfos())
    model = _model_of(model_bytes)
    share = _data.Share(model.input_shape, s["memory_budget_mb"] * (1 << 20), _data.spill_root())
    try:
        share.read(batches, s["has_validation"], s["has_weight"])
        timings["data_s"] = time.perf_counter() - t0
        timings["rows"] = float(share.rows)
        timings["spilled_to"] = share.spilled or ""
        if share.rows == 0:
            raise ValueError(f"bdl.spark: worker {rank} of {workers} got no training rows (an "
                             "empty partition): the DataFrame has fewer rows than workers")
        return _train_share(ctx, rank, share, model, timings, s)
    finally:
        share.remove()


def _train_share(ctx, rank: int, share, model, timings, s: dict[str, Any]):
    from .. import callbacks as _callbacks
    method = _optimizers.get(s["optimizer"])
    opt = type(method)(learning_rate=s["lr"], momentum=s["momentum"])
    model.compile(optimizer=opt, loss=s["loss"], metrics=s["metrics"])
    callbacks = []
    if s["checkpoint"]:
        callbacks.append(_callbacks.BackupAndRestore(s["checkpoint"]))
    fault = _injected_fault(rank, s.get("fault", ""))
    if fault is not None:
        callbacks.append(fault)
    class_weight = ({i: float(v) for i, v in enumerate(s["class_weights"])}
                    if s["class_weights"] else None)
    if share.spilled is not None:
        # Streamed from this machine's disk every epoch (weights, if any, are in
        # the records).
        data = dict(x=bdl_datasets.Source(share.spilled), y=None, validation_data=None,
                    sample_weight=None)
    else:
        data = dict(x=share.x, y=share.y, sample_weight=share.w,
                    validation_data=(share.vx, share.vy) if share.vx is not None else None)
    t1 = time.perf_counter()
    history = model.fit(**data, batch_size=s["batch_size"], epochs=s["epochs"], verbose=0,
                        callbacks=callbacks, class_weight=class_weight, seed=s["seed"],
                        threads=s["threads"] or int(ctx.cpus() or 1),
                        sync={"compress": s["compress"], "timeout_ms": s["timeout_ms"]},
                        worker_data=True)
    timings["train_s"] = time.perf_counter() - t1
    if rank != 0:
        return None
    return _model_bytes(model), history.history, history.report


def _injected_fault(rank: int, spec: str):
    """Tests only: spec "rank,iteration,marker" ends worker `rank`'s process at
    that iteration (as a lost executor would), once: the marker file says it
    happened."""
    if not spec:
        return None
    victim, iteration, marker = spec.split(",", 2)
    if int(victim) != rank or os.path.exists(marker):
        return None
    from .. import callbacks as _callbacks
    seen = [0]

    def maybe_die(batch, logs):
        seen[0] += 1
        if seen[0] == int(iteration):
            with open(marker, "w") as f:
                f.write(f"rank {rank} ended at iteration {iteration}\n")
            os._exit(3)

    fault = _callbacks.LambdaCallback(on_train_batch_end=maybe_die)
    fault.every_worker = True
    return fault


class NNClassifier(NNEstimator):
    """NNEstimator for class labels (0, 1, ...): the loss defaults to
    cross_entropy on the model's logits, and fit() returns an
    NNClassifierModel."""

    _classes = True

    @keyword_only
    def __init__(self, *, model=None, featuresCol="features", labelCol="label",
                 predictionCol="prediction", batchSize=32, maxEpoch=1, learningRate=0.01,
                 optimizer="sgd", momentum=0.0, loss=None, numWorkers=0, threadsPerWorker=0,
                 compress="none", checkpointPath="", maxAttempts=1, timeoutMs=120_000,
                 classWeights=None, metrics=None, seed=1, weightCol="", rendezvous="driver",
                 startTimeoutMs=120_000, memoryBudgetMb=2048.0):
        super(NNEstimator, self).__init__()
        self._setDefault(loss="cross_entropy")
        self._take_kwargs(self._input_kwargs)

    def _model_class(self):
        return NNClassifierModel


class NNModel(Model, _BdlParams, _Persisted):
    """A trained bdl model that scores a DataFrame: transform() adds
    predictionCol (the model's outputs: a double for one output, else an array
    of floats), computed on the executors, the model shipped once per task."""

    def __init__(self):
        super().__init__()

    @property
    def model(self):
        """The trained bdl model, on the driver."""
        if self._bytes is None:
            raise ValueError("this NNModel holds no model")
        return _model_of(self._bytes)

    def copy(self, extra=None):
        other = super().copy(extra)
        other._bytes = self._bytes
        return other

    def setFeaturesCol(self, value: str):
        return self._set(featuresCol=value)

    def setPredictionCol(self, value: str):
        return self._set(predictionCol=value)

    def setBatchSize(self, value: int):
        """Rows per call of the model when scoring."""
        return self._set(batchSize=value)

    def _outputs(self):
        from pyspark.sql import types as T
        return [(self.getPredictionCol(), T.ArrayType(T.FloatType()))]

    def _columns(self, out: np.ndarray) -> list:
        flat = out.reshape(len(out), -1).astype(np.float32)
        if flat.shape[1] == 1:
            return [pa.array(flat[:, 0].astype(np.float64))]
        return [pa.FixedSizeListArray.from_arrays(pa.array(flat.ravel()), flat.shape[1])]

    def _transform(self, dataset):
        from pyspark.sql import functions as F
        from pyspark.sql.functions import arrow_udf
        if self._bytes is None:
            raise ValueError("this NNModel holds no model")
        data, digest = self._bytes, hashlib.sha256(self._bytes).hexdigest()
        model = _model_of(data)
        shape = tuple(model.input_shape)
        probe = np.zeros((1, *shape), np.float32)
        width = int(np.prod(model.predict(probe, verbose=0).shape[1:]))
        names = self._output_names(width)
        types = self._output_types(width)
        struct = ", ".join(f"`{n}` {t}" for n, t in zip(names, types))
        batch = self.getBatchSize()
        columns = self._columns

        def score(arrays: Iterator[pa.Array]) -> Iterator[pa.Array]:
            m = _cached_model(digest, data)
            for a in arrays:
                x = _data.matrix(a, "features")
                if x.shape[1] != int(np.prod(shape)):
                    raise ValueError(f"features hold {x.shape[1]} values per row, the model "
                                     f"takes input of shape {shape}")
                out = m.predict(x.reshape((len(x), *shape)), batch_size=batch, verbose=0) \
                    if len(x) else np.zeros((0, width), np.float32)
                yield pa.StructArray.from_arrays(columns(np.asarray(out)), names=names)

        udf = arrow_udf(score, f"struct<{struct}>")
        tmp = "__bdl_out"
        out = dataset.withColumn(tmp, udf(_data.features_column(dataset, self.getFeaturesCol())))
        for n in names:
            out = out.withColumn(n, self._finish(n, F.col(tmp)[n]))
        return out.drop(tmp)

    def _output_names(self, width: int) -> list[str]:
        return [self.getPredictionCol()]

    def _output_types(self, width: int) -> list[str]:
        return ["double" if width == 1 else "array<float>"]

    def _finish(self, name, column):
        return column


class NNClassifierModel(NNModel, HasRawPredictionCol, HasProbabilityCol):
    """transform() adds rawPredictionCol (the logits) and probabilityCol
    (softmax; for one logit, the sigmoid against 0) as vectors, and
    predictionCol, the class index as a double: what Spark's evaluators read."""

    def __init__(self):
        super().__init__()
        self._setDefault(rawPredictionCol="rawPrediction", probabilityCol="probability")

    def setProbabilityCol(self, value: str):
        return self._set(probabilityCol=value)

    def setRawPredictionCol(self, value: str):
        return self._set(rawPredictionCol=value)

    def _output_names(self, width: int) -> list[str]:
        return [self.getOrDefault(self.rawPredictionCol), self.getOrDefault(self.probabilityCol),
                self.getPredictionCol()]

    def _output_types(self, width: int) -> list[str]:
        return ["array<float>", "array<float>", "double"]

    def _columns(self, out: np.ndarray) -> list:
        logits = out.reshape(len(out), -1).astype(np.float32)
        if logits.shape[1] == 1:  # one logit: P(class 1) = sigmoid
            p1 = 1.0 / (1.0 + np.exp(-logits[:, 0].astype(np.float64)))
            raw = np.stack([-logits[:, 0], logits[:, 0]], axis=1)
            prob = np.stack([1 - p1, p1], axis=1).astype(np.float32)
        else:
            raw = logits
            z = logits.astype(np.float64) - logits.max(axis=1, keepdims=True)
            e = np.exp(z)
            prob = (e / e.sum(axis=1, keepdims=True)).astype(np.float32)
        prediction = prob.argmax(axis=1).astype(np.float64)
        k = raw.shape[1]
        return [pa.FixedSizeListArray.from_arrays(pa.array(np.ascontiguousarray(raw).ravel()), k),
                pa.FixedSizeListArray.from_arrays(pa.array(prob.ravel()), k),
                pa.array(prediction)]

    def _finish(self, name, column):
        from pyspark.ml.functions import array_to_vector
        if name == self.getPredictionCol():
            return column
        return array_to_vector(column)
