#!/usr/bin/python3
"""ONNX Runtime side of the inference comparison: runs an ONNX file that
bench/pytorch_zoo.py exported (the twin of a bdl zoo model, evaluation mode) on
random data at its best on this CPU: all graph optimisations
(ORT_ENABLE_ALL, which folds BatchNorm and fuses activations), the CPU
execution provider, THREADS intra-op threads, sequential execution. Prints
images/s after warm-up runs and the process's peak resident memory as one JSON
object. Only onnxruntime and NumPy are imported, so the memory is ORT's.

  ort_zoo.py FILE.onnx ITERATIONS THREADS
"""
import json
import resource
import sys
import time

import numpy as np
import onnxruntime as ort


def main():
    path, iterations, threads = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    options = ort.SessionOptions()
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    session = ort.InferenceSession(path, options, providers=["CPUExecutionProvider"])
    inp = session.get_inputs()[0]
    shape = inp.shape
    rng = np.random.default_rng(1)
    if "int" in inp.type:
        x = rng.integers(0, 1000, size=shape).astype(np.int64)
    else:
        x = rng.uniform(-1, 1, size=shape).astype(np.float32)
    feed = {inp.name: x}
    for _ in range(3):
        session.run(None, feed)
    start = time.perf_counter()
    for _ in range(iterations):
        session.run(None, feed)
    seconds = time.perf_counter() - start
    print(json.dumps({"framework": "onnxruntime " + ort.__version__, "batch": shape[0],
                      "threads": threads, "iterations": iterations,
                      "images_per_sec": shape[0] * iterations / seconds,
                      "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))


if __name__ == "__main__":
    main()
