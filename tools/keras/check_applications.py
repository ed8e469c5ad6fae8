#!/usr/bin/env python3
"""Real Keras models into bdl: the networks of keras.applications (Keras 3 on
its PyTorch backend, random weights, no downloads), saved as .keras and as .h5,
run by `bdl predict` and compared with Keras on the same batch.

    .venv/bin/python tools/keras/check_applications.py BDL [--models NAME ...] [--json FILE]

Each model is built at a small input size (96x96, 75x75 for InceptionV3) to
keep the check short on two cores; BatchNormalization statistics are drawn
away from 0 and 1. Passes when every model that bdl imports matches Keras
within 1e-4 of the output's scale and every refusal is one the README lists.
Exit 77 when Keras is missing.
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile

os.environ.setdefault("KERAS_BACKEND", "torch")
try:
    import keras
    import numpy as np
except ImportError as e:
    print("check_applications: skipped,", e)
    sys.exit(77)

MODELS = ["MobileNetV2", "MobileNetV3Small", "MobileNetV3Large", "ResNet50", "ResNet50V2",
          "DenseNet121", "EfficientNetB0", "EfficientNetV2B0", "Xception", "InceptionV3", "VGG16",
          "ConvNeXtTiny"]
# What bdl refuses, by model, and the words its error must contain.
EXPECTED_REFUSALS = {"ConvNeXtTiny": "unsupported layers: LayerScale (x18), Sequential (a nested model)"}
TOLERANCE = 1e-4


def main():
    p = argparse.ArgumentParser()
    p.add_argument("bdl")
    p.add_argument("--models", nargs="*", default=MODELS)
    p.add_argument("--json")
    a = p.parse_args()
    rng = np.random.default_rng(0)
    work = tempfile.mkdtemp(prefix="bdl_keras_apps_")
    results, failed = [], False
    for name in a.models:
        size = 75 if name == "InceptionV3" else 96
        model = getattr(keras.applications, name)(weights=None, input_shape=(size, size, 3),
                                                  classes=10)
        for layer in model.layers:
            if isinstance(layer, keras.layers.BatchNormalization):
                w = layer.get_weights()
                w[-2] = rng.normal(0, 0.1, w[-2].shape).astype("float32")
                w[-1] = rng.uniform(0.5, 1.5, w[-1].shape).astype("float32")
                layer.set_weights(w)
        x = rng.uniform(0, 255, (2, size, size, 3)).astype("float32")
        want = keras.ops.convert_to_numpy(model(x, training=False))
        np.save(os.path.join(work, "x.npy"), x)
        for ext in ("keras", "h5"):
            path = os.path.join(work, f"{name}.{ext}")
            model.save(path)
            out = os.path.join(work, "y.npy")
            r = subprocess.run([a.bdl, "predict", "--model", path, "--input",
                                os.path.join(work, "x.npy"), "--output", out],
                               capture_output=True, text=True)
            row = {"model": name, "format": ext, "parameters": int(model.count_params())}
            if r.returncode:
                detail = r.stderr.strip().splitlines()[-1]
                row.update(outcome="refused", detail=detail)
                bad = EXPECTED_REFUSALS.get(name, "\0") not in detail
            else:
                got = np.load(out)
                err = float(np.abs(got - want).max() / np.abs(want).max())
                row.update(outcome="pass" if err <= TOLERANCE else "mismatch",
                           relative_error=err)
                bad = err > TOLERANCE
            failed |= bad
            os.remove(path)
            results.append(row)
            print(f"{name:18} {ext:6} {row['outcome']:9} "
                  f"{row.get('relative_error', ''):<24} {row.get('detail', '')}"
                  + ("  <-- FAIL" if bad else ""), flush=True)
    if a.json:
        with open(a.json, "w") as f:
            json.dump({"keras": keras.__version__, "backend": keras.backend.backend(),
                       "results": results}, f, indent=1)
    print("check_applications:", "FAIL" if failed else "PASS")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
