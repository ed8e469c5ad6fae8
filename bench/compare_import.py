#!/usr/bin/env python3
"""Imported transformers against bdl's native layers: the network of the zoo's
bert_classifier (bench/pytorch_bert.py, the same arithmetic) exported by
PyTorch 2.x (TorchScript exporter at opset 17, dynamo exporter at opset 20) and
imported by bdl, with the importer's fusion of attention, LayerNorm and GELU
onto native layers and without it (BDL_BENCH_UNFUSED=1), side by side with the
zoo's own bert_classifier. Inference at batch 1 and 16, training at batch 16,
2 threads; rounds alternate; medians and ratios to the native model.

    .venv/bin/python bench/compare_import.py [--rounds 3] [--out FILE]
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import warnings

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "bench"))
from compare_train import bench_env  # noqa: E402

CASES = [("infer", 1, 200), ("infer", 16, 40), ("train", 16, 20)]


def export(work):
    import torch
    from pytorch_bert import Bert
    torch.manual_seed(1)
    model = Bert().eval()
    ids = torch.randint(0, 1000, (2, 64))
    paths = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        paths["ts17"] = os.path.join(work, "bert_ts17.onnx")
        torch.onnx.export(model, (ids,), paths["ts17"], dynamo=False, opset_version=17,
                          input_names=["ids"], dynamic_axes={"ids": {0: "batch"}})
        paths["dynamo"] = os.path.join(work, "bert_dynamo.onnx")
        program = torch.onnx.export(model, (ids,), dynamo=True, verbose=False,
                                    dynamic_shapes=({0: torch.export.Dim("batch")},))
        program.save(paths["dynamo"])
    return paths, torch.__version__


def run(bench, model, mode, batch, iterations, threads, unfused=False):
    env = bench_env()
    if unfused:
        env["BDL_BENCH_UNFUSED"] = "1"
    out = subprocess.run([bench, model, str(batch), "1000", mode, str(iterations), str(threads)],
                         env=env, check=True, capture_output=True, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])["images_per_sec"]


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--bench", default=os.path.join(ROOT, "build", "bench", "zoo_bench"))
    p.add_argument("--out", default=os.path.join(ROOT, "bench", "results", "import_compare.json"))
    a = p.parse_args()
    paths, torch_version = export(tempfile.mkdtemp(prefix="bdl_import_bench_"))
    variants = [("native", "bert_classifier", False)]
    for name, path in paths.items():
        variants += [(name, path, False), (name + " unfused", path, True)]
    rows = []
    for mode, batch, iterations in CASES:
        samples = {v[0]: [] for v in variants}
        for _ in range(a.rounds):
            for name, model, unfused in variants:
                samples[name].append(run(a.bench, model, mode, batch, iterations, a.threads,
                                         unfused))
        native = statistics.median(samples["native"])
        row = {"mode": mode, "batch": batch, "samples_per_sec": {}, "ratio_to_native": {},
               "rounds": samples}
        for name in samples:
            m = statistics.median(samples[name])
            row["samples_per_sec"][name] = m
            row["ratio_to_native"][name] = m / native
        rows.append(row)
        print(f"{mode:5} batch {batch:2}: " + "  ".join(
            f"{n} {row['samples_per_sec'][n]:.0f} ({row['ratio_to_native'][n]:.2f}x)"
            for n in samples), flush=True)
    os.makedirs(os.path.dirname(a.out), exist_ok=True)
    with open(a.out, "w") as f:
        json.dump({"torch": torch_version, "threads": a.threads, "rows": rows}, f, indent=1)


if __name__ == "__main__":
    main()
