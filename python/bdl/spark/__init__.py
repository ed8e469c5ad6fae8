"""bdl on Apache Spark: deep learning as standard Spark programs, trained on the
executors that hold the data.

- NNEstimator / NNClassifier: Spark ML estimators; fit(df) trains a bdl model
  on the DataFrame's partitions, one bdl worker per Spark task, synchronised with
  bdl's sharded sync over TCP (Gloo); NNModel / NNClassifierModel score a
  DataFrame on the executors. They work inside a Pipeline and save and load
  with Spark ML's persistence.
- run(train_fn, num_workers): any bdl training function as one barrier stage,
  as PySpark's TorchDistributor runs PyTorch functions.

Needs pyspark and pyarrow (pip install 'bdl[spark]').
"""
from ._barrier import run
from .ml import NNClassifier, NNClassifierModel, NNEstimator, NNModel, TrainingFailed

__all__ = ["NNClassifier", "NNClassifierModel", "NNEstimator", "NNModel", "TrainingFailed",
           "run"]
