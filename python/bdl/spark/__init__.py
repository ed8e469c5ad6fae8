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
try:
    import pyarrow  # noqa: F401
    import pyspark  # noqa: F401
except ImportError as _e:
    raise ImportError(f"bdl.spark needs {_e.name or 'pyspark and pyarrow'}, which this Python "
                      "does not have: pip install 'bdl[spark]' (this repository's .venv has "
                      "the pinned versions of python/requirements.txt)") from _e

from ._barrier import run  # noqa: E402
from .ml import NNClassifier, NNClassifierModel, NNEstimator, NNModel, TrainingFailed  # noqa: E402

__all__ = ["NNClassifier", "NNClassifierModel", "NNEstimator", "NNModel", "TrainingFailed",
           "run"]
