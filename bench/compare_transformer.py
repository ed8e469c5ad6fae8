#!/usr/bin/env python3
"""bdl's bert_classifier against the same network in PyTorch 2.x (bench/pytorch_bert.py),
side by side: inference at batch 1 and 16, training at batch 16, 2 threads,
sequences of 64 tokens. Rounds alternate the frameworks; medians are reported
with the ratio. PyTorch runs eager (its fused TransformerEncoderLayer path in
inference) and, where it helps, under torch.compile: the faster is the peer.

    .venv/bin/python bench/compare_transformer.py [--rounds 3] [--out FILE]

Both run in the environment of bench/compare_train.py (glibc keeping freed
memory, OpenBLAS variables unset).
"""
import argparse
import json
import os
import statistics
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from compare_train import bench_env  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CASES = [("infer", 1, 200), ("infer", 16, 40), ("train", 16, 20)]


def run(cmd):
    out = subprocess.run(cmd, env=bench_env(), check=True, capture_output=True, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--bench", default=os.path.join(ROOT, "build", "bench", "zoo_bench"))
    p.add_argument("--python", default=os.path.join(ROOT, ".venv", "bin", "python"))
    p.add_argument("--out", default=os.path.join(ROOT, "bench", "results",
                                                 "transformer_compare.json"))
    a = p.parse_args()
    rows = []
    for mode, batch, iterations in CASES:
        bdl, eager, compiled = [], [], []
        for _ in range(a.rounds):
            bdl.append(run([a.bench, "bert_classifier", str(batch), "0", mode, str(iterations),
                            str(a.threads)])["images_per_sec"])
            for variant, into in (("eager", eager), ("compile", compiled)):
                into.append(run([a.python, os.path.join(ROOT, "bench", "pytorch_bert.py"),
                                 str(batch), mode, str(iterations), str(a.threads),
                                 variant])["samples_per_sec"])
        best = max(statistics.median(eager), statistics.median(compiled))
        row = {"mode": mode, "batch": batch, "bdl": statistics.median(bdl),
               "pytorch_eager": statistics.median(eager),
               "pytorch_compile": statistics.median(compiled),
               "ratio_to_best": statistics.median(bdl) / best,
               "rounds": {"bdl": bdl, "eager": eager, "compile": compiled}}
        rows.append(row)
        print(f"{mode:5} batch {batch:2}: bdl {row['bdl']:8.0f}  PyTorch eager "
              f"{row['pytorch_eager']:8.0f}  compile {row['pytorch_compile']:8.0f}  "
              f"bdl / best {row['ratio_to_best']:.2f}x", flush=True)
    os.makedirs(os.path.dirname(a.out), exist_ok=True)
    with open(a.out, "w") as f:
        json.dump({"threads": a.threads, "rows": rows}, f, indent=1)


if __name__ == "__main__":
    main()
