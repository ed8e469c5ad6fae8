"""bdl: data-parallel deep learning on CPU clusters, from Python.

    import bdl
    from bdl.layers import Conv2D, MaxPooling2D, Flatten, Dense

    model = bdl.Sequential([bdl.Input((1, 28, 28)), Conv2D(6, 5, activation="relu"),
                            MaxPooling2D(2), Flatten(), Dense(10)])
    model.compile(optimizer=bdl.optimizers.SGD(0.05, momentum=0.9),
                  loss="cross_entropy", metrics=["accuracy"])
    model.fit(x, y, batch_size=128, epochs=5, validation_data=(x_test, y_test))

Run the same script under ``mpirun -np N python script.py`` to train on N
workers with bdl's sharded synchronous SGD. docs/python.md is the tutorial.
"""
from . import _core
from ._core import Error
from . import callbacks, datasets, layers, losses, nn, optimizers
from .models import History, Input, Model, Sequential, import_onnx, load, zoo

__version__ = _core.version()


def world() -> tuple[int, int]:
    """(rank, workers): MPI's under mpirun or srun, else (0, 1)."""
    return _core.world()


def set_num_threads(threads: int) -> None:
    """Kernel threads of this process (0: one per core)."""
    _core.set_num_threads(threads)


def zoo_names() -> list[str]:
    return list(_core.zoo_names())


__all__ = ["Error", "History", "Input", "Model", "Sequential", "callbacks", "datasets", "import_onnx",
           "layers", "load", "losses", "nn", "optimizers", "set_num_threads", "world", "zoo",
           "zoo_names"]
