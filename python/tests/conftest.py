import os

import numpy as np
import pytest

import bdl

FIXTURES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fixtures")


@pytest.fixture(autouse=True)
def _one_thread_each():
    # CTest runs other tests beside this suite: keep to the cores' share.
    bdl.set_num_threads(2)
    yield


def blobs(n=600, features=10, classes=3, seed=0):
    """Gaussian blobs: linearly separable classes."""
    rng = np.random.default_rng(seed)
    centres = rng.normal(0, 3, (classes, features))
    y = rng.integers(0, classes, n)
    x = centres[y] + rng.normal(0, 1, (n, features))
    return x.astype(np.float32), y.astype(np.int64)


@pytest.fixture
def data():
    return blobs()


def mlp(features=10, classes=3):
    from bdl.layers import Dense
    return bdl.Sequential([bdl.Input((features,)), Dense(32, activation="relu"), Dense(classes)])
