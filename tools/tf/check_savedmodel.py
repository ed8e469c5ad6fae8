#!/usr/bin/env python3
"""A TensorFlow model into bdl through the converter TensorFlow users use:
Keras 3 on TensorFlow exports a SavedModel (model.export), tf2onnx converts it
to ONNX, and `bdl predict` runs it, compared with TensorFlow on the same batch.

    .venv/bin/python tools/tf/check_savedmodel.py BDL [--models NAME ...] [--opset 17]

TensorFlow (tensorflow-cpu) and tf2onnx come from PyPI with the peers
(python/requirements-bench.txt). Models: a small CNN, a functional network with
a residual and a concatenation, LSTM and GRU text classifiers, and
keras.applications' MobileNetV2 and ResNet50 at 96x96 with random weights.
Exit 1 on a mismatch over 1e-4 of the output's scale or an unexpected refusal,
77 when TensorFlow or tf2onnx is missing.
"""
import argparse
import os
import subprocess
import sys
import tempfile

os.environ["KERAS_BACKEND"] = "tensorflow"
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
try:
    import keras
    import numpy as np
    import tensorflow  # noqa: F401
    import tf2onnx  # noqa: F401
    from keras import layers
except ImportError as e:
    print("check_savedmodel: skipped,", e)
    sys.exit(77)

TOLERANCE = 1e-4
# What bdl refuses, and the words its error must hold: tf2onnx writes Keras 3's
# GRU (reset_after, its default) as a Loop over time steps, control flow that
# bdl does not import.
EXPECTED_REFUSALS = {"gru": "unsupported operator: Loop"}


def cnn():
    return keras.Sequential([keras.Input((28, 28, 1)),
                             layers.Conv2D(8, 3, padding="same", activation="relu"),
                             layers.MaxPooling2D(2), layers.BatchNormalization(),
                             layers.DepthwiseConv2D(3, padding="same"),
                             layers.Conv2D(16, 3, strides=2, padding="same", activation="relu"),
                             layers.Flatten(), layers.Dense(10)])


def functional():
    x = keras.Input((16, 16, 3))
    s = layers.Conv2D(8, 3, padding="same", activation="relu")(x)
    a = layers.BatchNormalization()(layers.Conv2D(8, 3, padding="same")(s))
    j = layers.Concatenate()([layers.ReLU()(layers.Add()([s, a])), layers.Conv2D(4, 1)(s)])
    return keras.Model(x, layers.Dense(5, activation="softmax")(layers.GlobalAveragePooling2D()(j)))


def text(recurrent):
    return lambda: keras.Sequential([keras.Input((12,), dtype="int32"), layers.Embedding(50, 8),
                                     recurrent(16), layers.Dense(3)])


MODELS = {
    "cnn": (cnn, "image"),
    "functional": (functional, "image"),
    "lstm": (text(layers.LSTM), "ids"),
    "gru": (text(layers.GRU), "ids"),
    "MobileNetV2": (lambda: keras.applications.MobileNetV2(
        weights=None, input_shape=(96, 96, 3), classes=10), "image"),
    "ResNet50": (lambda: keras.applications.ResNet50(
        weights=None, input_shape=(96, 96, 3), classes=10), "image"),
}


def main():
    p = argparse.ArgumentParser()
    p.add_argument("bdl")
    p.add_argument("--models", nargs="*", default=list(MODELS))
    p.add_argument("--opset", type=int, default=17)
    a = p.parse_args()
    keras.utils.set_random_seed(1)
    rng = np.random.default_rng(0)
    work = tempfile.mkdtemp(prefix="bdl_savedmodel_")
    failed = False
    for name in a.models:
        make, kind = MODELS[name]
        model = make()
        for layer in model.layers:  # statistics away from 0 and 1: every layer matters
            if isinstance(layer, layers.BatchNormalization):
                w = layer.get_weights()
                w[-2] = rng.normal(0, 0.1, w[-2].shape).astype("float32")
                w[-1] = rng.uniform(0.5, 1.5, w[-1].shape).astype("float32")
                layer.set_weights(w)
        shape = (3,) + tuple(model.inputs[0].shape[1:])
        x = (rng.integers(0, 50, shape).astype("int32") if kind == "ids"
             else rng.uniform(0, 255, shape).astype("float32"))
        want = keras.ops.convert_to_numpy(model(x, training=False))
        saved = os.path.join(work, name)
        model.export(saved, verbose=False)
        onnx_path = saved + ".onnx"
        r = subprocess.run([sys.executable, "-m", "tf2onnx.convert", "--saved-model", saved,
                            "--output", onnx_path, "--opset", str(a.opset)],
                           capture_output=True, text=True)
        if r.returncode:
            print(f"{name:12} tf2onnx failed: {r.stderr.strip().splitlines()[-1]}")
            failed = True
            continue
        np.save(os.path.join(work, "x.npy"), x.astype("int64") if kind == "ids" else x)
        out = os.path.join(work, "y.npy")
        r = subprocess.run([a.bdl, "predict", "--model", onnx_path, "--input",
                            os.path.join(work, "x.npy"), "--output", out],
                           capture_output=True, text=True)
        if r.returncode:
            detail = r.stderr.strip().splitlines()[-1]
            bad = EXPECTED_REFUSALS.get(name, "\0") not in detail
            failed |= bad
            print(f"{name:12} refused: {detail}" + ("  <-- FAIL" if bad else " (expected)"))
            continue
        err = float(np.abs(np.load(out) - want).max() / np.abs(want).max())
        bad = not err <= TOLERANCE
        failed |= bad
        print(f"{name:12} SavedModel -> tf2onnx (opset {a.opset}) -> bdl: relative error "
              f"{err:.1e}" + ("  <-- FAIL" if bad else ""), flush=True)
    print("check_savedmodel:", "FAIL" if failed else "PASS",
          f"(TensorFlow {tensorflow.__version__}, tf2onnx {tf2onnx.__version__})")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
